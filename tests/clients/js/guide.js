// The integration guide's JavaScript snippets: getAuthenticatedClient,
// safeQuery and DxtraClient. They are the guide's code with two changes: the
// functions are exported, and the hosts auth.dxtra.ai and api.dxtra.ai are
// replaced by the base URL in OMBUD_URL. The URL is read on every call, so a
// test file can point the snippets at another server.
import { GraphQLClient } from 'graphql-request';

// Exchange PAT for JWT token
export async function getAuthenticatedClient(personalAccessToken) {
  const response = await fetch(`${process.env.OMBUD_URL}/v1/signin/pat`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ personalAccessToken })
  });

  if (!response.ok) {
    throw new Error(`Authentication failed: ${response.statusText}`);
  }

  const { session } = await response.json();

  return new GraphQLClient(`${process.env.OMBUD_URL}/v1/graphql`, {
    headers: {
      'Authorization': `Bearer ${session.accessToken}`,
      'X-Hasura-Role': 'user'
    }
  });
}

export async function safeQuery(client, query, variables = {}) {
  try {
    return await client.request(query, variables);
  } catch (error) {
    // Handle GraphQL errors
    if (error.response?.errors) {
      const graphqlError = error.response.errors[0];
      console.error('GraphQL error:', graphqlError.message);

      // Check for specific error types
      if (graphqlError.extensions?.code === 'access-denied') {
        throw new Error('Permission denied. Check your role permissions.');
      }

      throw new Error(`Query failed: ${graphqlError.message}`);
    }

    // Handle HTTP errors
    if (error.response?.status === 401) {
      throw new Error('Authentication expired. Please re-authenticate.');
    }

    if (error.response?.status === 429) {
      throw new Error('Rate limit exceeded. Please retry later.');
    }

    throw error;
  }
}

export class DxtraClient {
  constructor(personalAccessToken) {
    this.pat = personalAccessToken;
    this.client = null;
    this.tokenExpiry = 0;
  }

  async getClient() {
    const now = Date.now();

    // Refresh token 5 minutes before expiration
    if (!this.client || now >= this.tokenExpiry - 300000) {
      await this.refreshToken();
    }

    return this.client;
  }

  async refreshToken() {
    const response = await fetch(`${process.env.OMBUD_URL}/v1/signin/pat`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ personalAccessToken: this.pat })
    });

    if (!response.ok) {
      throw new Error('Failed to refresh token');
    }

    const { session } = await response.json();

    this.client = new GraphQLClient(`${process.env.OMBUD_URL}/v1/graphql`, {
      headers: {
        'Authorization': `Bearer ${session.accessToken}`,
        'X-Hasura-Role': 'user'
      }
    });

    // Token expires in 1 hour (3600 seconds)
    this.tokenExpiry = Date.now() + session.accessTokenExpiresIn * 1000;
  }

  async query(queryString, variables = {}) {
    const client = await this.getClient();
    return client.request(queryString, variables);
  }
}
