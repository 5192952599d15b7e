"""Helpers shared by the Python client suite."""

import base64
import hashlib
import json
import os

import pytest
import requests
from gql import gql


def require_env(name):
    """Return the environment variable NAME or fail the test with how to set it."""
    value = os.environ.get(name)
    if not value:
        pytest.fail(
            f"{name} is not set: run tests/clients/run.sh, which starts ombud "
            "and exports the credentials this suite needs"
        )
    return value


def execute(client, document, variables=None):
    """Validate DOCUMENT against the fetched schema, send it and return its data."""
    request = gql(document)
    request.variable_values = variables
    return client.execute(request)


def did_for(row_id):
    """Return the DID ombud derives from a row UUID (SHA3-256 of its 32 hex digits)."""
    digest = hashlib.sha3_256(row_id.replace("-", "").lower().encode("ascii"))
    return f"did:dep:{digest.hexdigest()}"


def decode_jwt_part(part):
    """Decode one base64url segment of a compact JWS or JWT into a dict."""
    padded = part + "=" * (-len(part) % 4)
    return json.loads(base64.urlsafe_b64decode(padded))


def sign_in(personal_access_token):
    """POST the PAT to /v1/signin/pat and return the raw response."""
    return requests.post(
        f"{require_env('OMBUD_URL')}/v1/signin/pat",
        json={"personalAccessToken": personal_access_token},
        timeout=10,
    )


def post_graphql(token, query, variables=None, role="user"):
    """POST a GraphQL document with plain requests, without gql's local parsing.

    Used where the document is not valid GraphQL, or where the test needs the
    HTTP status that gql does not expose for every outcome.
    """
    return requests.post(
        f"{require_env('OMBUD_URL')}/v1/graphql",
        headers={"Authorization": f"Bearer {token}", "X-Hasura-Role": role},
        json={"query": query, "variables": variables or {}},
        timeout=10,
    )


def bearer_token(client):
    """Return the access token that a guide-built client sends."""
    return client.transport.headers["Authorization"].removeprefix("Bearer ")
