// Expired access tokens, against a second ombud whose tokens live 1 s
// (OMBUD_SHORT_TTL_URL). ombud accepts a clock skew (30 s by default), so the
// suite polls until the server rejects the token instead of assuming a time.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { DATA_CONTROLLERS } from '../documents.js';
import { DxtraClient, getAuthenticatedClient, safeQuery } from '../guide.js';
import { bearerToken, countSignIns, decodeJwtPart, postGraphql, requireEnv, sleep } from '../helpers.js';

const SKEW_ALLOWANCE_MS = 45000;

process.env.OMBUD_URL = requireEnv('OMBUD_SHORT_TTL_URL');
const shortPat = requireEnv('PAT_SHORT');
const shortTtlSeconds = Number(requireEnv('OMBUD_SHORT_TTL_SECONDS'));

// Polls ombud with `token` until it responds with 401, and returns the elapsed milliseconds.
async function waitUntilRejected(token) {
  const started = Date.now();
  const deadline = started + shortTtlSeconds * 1000 + SKEW_ALLOWANCE_MS;

  while (Date.now() < deadline) {
    const response = await postGraphql(token, DATA_CONTROLLERS);
    await response.arrayBuffer();
    if (response.status === 401) {
      return Date.now() - started;
    }
    await sleep(1000);
  }

  assert.fail(`token still accepted ${Date.now() - started} ms after sign-in`);
}

describe('expired access token', { timeout: 120000 }, () => {
  let client;
  let dxtra;
  let signIns;

  before(async () => {
    signIns = countSignIns();
    client = await getAuthenticatedClient(shortPat);
    dxtra = new DxtraClient(shortPat);
    await dxtra.query(DATA_CONTROLLERS);
    await waitUntilRejected(bearerToken(client));
    await waitUntilRejected(bearerToken(dxtra.client));
  });

  after(() => {
    signIns.restore();
  });

  test('token lifetime follows configuration', async () => {
    const claims = decodeJwtPart(bearerToken(client).split('.')[1]);
    assert.equal(claims.exp - claims.iat, shortTtlSeconds);

    const response = await fetch(`${process.env.OMBUD_URL}/v1/signin/pat`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ personalAccessToken: shortPat })
    });
    const { session } = await response.json();
    assert.equal(session.accessTokenExpiresIn, shortTtlSeconds);
  });

  test('safeQuery throws authentication expired', async () => {
    await assert.rejects(
      safeQuery(client, DATA_CONTROLLERS),
      { message: 'Authentication expired. Please re-authenticate.' }
    );
  });

  test('DxtraClient signs in again after expiry', async () => {
    const expiredClient = dxtra.client;
    const countBefore = signIns.count;

    const data = await dxtra.query(DATA_CONTROLLERS);

    assert.equal(signIns.count, countBefore + 1);
    assert.notEqual(dxtra.client, expiredClient);
    assert.equal(data.dataControllers.length, 1);
  });
});
