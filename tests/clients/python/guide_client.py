"""The integration guide's Python authentication snippet.

The function body is the guide's code unchanged except that the two hosts
(auth.dxtra.ai and api.dxtra.ai) are replaced by the base URL in OMBUD_URL,
read on every call so that one test process can target several servers.
"""

import os

import requests
from gql import Client
from gql.transport.requests import RequestsHTTPTransport


def get_authenticated_client(personal_access_token):
    """Exchange PAT for JWT and create GraphQL client."""
    response = requests.post(
        f'{os.environ["OMBUD_URL"]}/v1/signin/pat',
        json={'personalAccessToken': personal_access_token}
    )
    response.raise_for_status()
    session = response.json()['session']
    transport = RequestsHTTPTransport(
        url=f'{os.environ["OMBUD_URL"]}/v1/graphql',
        headers={
            'Authorization': f'Bearer {session["accessToken"]}',
            'X-Hasura-Role': 'user'
        }
    )
    return Client(transport=transport, fetch_schema_from_transport=True)
