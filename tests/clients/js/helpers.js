// Environment access and small utilities shared by the JavaScript client suite.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';

// Returns the environment variable `name` or throws with how to set it.
export function requireEnv(name) {
  const value = process.env[name];
  assert.ok(value, `${name} is not set: run tests/clients/run.sh, which starts ombud and exports it`);
  return value;
}

// Returns the DID ombud derives from a row UUID: SHA3-256 of its 32 hex digits.
export function didFor(rowId) {
  const hex = rowId.replaceAll('-', '').toLowerCase();
  return `did:dep:${createHash('sha3-256').update(hex).digest('hex')}`;
}

export function sleep(milliseconds) {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

// Returns the access token a guide-built GraphQLClient sends.
export function bearerToken(client) {
  return client.requestConfig.headers.Authorization.replace(/^Bearer /, '');
}

export function decodeJwtPart(part) {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
}

// Changes one character of the JWT signature, keeping it valid base64url.
export function tamperSignature(token) {
  const [header, payload, signature] = token.split('.');
  const middle = Math.floor(signature.length / 2);
  const replacement = signature[middle] === 'A' ? 'B' : 'A';
  return `${header}.${payload}.${signature.slice(0, middle)}${replacement}${signature.slice(middle + 1)}`;
}

// Wraps globalThis.fetch to count PAT sign-ins until restore() is called.
export function countSignIns() {
  const originalFetch = globalThis.fetch;
  const counter = { count: 0 };

  globalThis.fetch = (url, init) => {
    if (String(url).endsWith('/v1/signin/pat')) {
      counter.count += 1;
    }
    return originalFetch(url, init);
  };
  counter.restore = () => {
    globalThis.fetch = originalFetch;
  };

  return counter;
}

// POSTs a GraphQL document with `token` and returns the fetch Response.
export function postGraphql(token, query, role = 'user') {
  return fetch(`${requireEnv('OMBUD_URL')}/v1/graphql`, {
    method: 'POST',
    headers: {
      'Authorization': `Bearer ${token}`,
      'X-Hasura-Role': role,
      'Content-Type': 'application/json'
    },
    body: JSON.stringify({ query })
  });
}
