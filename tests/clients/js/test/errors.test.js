// The guide's safeQuery against ombud's error responses: each error must land
// in the branch that throws the message the guide promises.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';

import {
  DATA_CONTROLLERS,
  INPUT_OBJECT_FORM,
  THREE_ARGUMENT_FORM,
  UPSERT_CONSENTS_AS_PUBLISHED
} from '../documents.js';
import { getAuthenticatedClient, safeQuery } from '../guide.js';
import { bearerToken, postGraphql, requireEnv, tamperSignature } from '../helpers.js';

const alicePat = requireEnv('PAT_A');
const aliceControllerId = requireEnv('CONTROLLER_A');

describe('safeQuery error branches', () => {
  let client;

  before(async () => {
    client = await getAuthenticatedClient(alicePat);
  });

  test('tampered token throws authentication expired', async () => {
    const tampered = await getAuthenticatedClient(alicePat);
    tampered.setHeader('Authorization', `Bearer ${tamperSignature(bearerToken(tampered))}`);

    await assert.rejects(
      safeQuery(tampered, DATA_CONTROLLERS),
      { message: 'Authentication expired. Please re-authenticate.' }
    );
  });

  test('tampered token gets HTTP 401 invalid-jwt', async () => {
    const response = await postGraphql(tamperSignature(bearerToken(client)), DATA_CONTROLLERS);

    assert.equal(response.status, 401);
    const body = await response.json();
    // safeQuery reaches its 401 branch only when the body has no "errors" key.
    assert.equal(body.errors, undefined, JSON.stringify(body));
    assert.equal(body.error, 'invalid-jwt', JSON.stringify(body));
  });

  test('role outside allowed roles throws permission denied', async () => {
    const admin = await getAuthenticatedClient(alicePat);
    admin.setHeader('X-Hasura-Role', 'admin');

    await assert.rejects(
      safeQuery(admin, DATA_CONTROLLERS),
      { message: 'Permission denied. Check your role permissions.' }
    );
  });

  test('published upsert document error shows both forms', async () => {
    const variables = {
      input: {
        dataControllerId: aliceControllerId,
        purposes: {}
      }
    };

    const error = await client.request(UPSERT_CONSENTS_AS_PUBLISHED, variables).then(
      () => assert.fail('the published document must be rejected'),
      (rejection) => rejection
    );
    const message = error.response?.errors?.[0]?.message;
    assert.ok(message, `no GraphQL error in ${error.message}`);
    assert.ok(message.includes(THREE_ARGUMENT_FORM), message);
    assert.ok(message.includes(INPUT_OBJECT_FORM), message);

    await assert.rejects(
      safeQuery(client, UPSERT_CONSENTS_AS_PUBLISHED, variables),
      { message: `Query failed: ${message}` }
    );
  });
});
