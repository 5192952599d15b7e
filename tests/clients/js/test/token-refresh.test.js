// DxtraClient's refresh rule: sign in again once the token is within 5 minutes
// of its expiry. run.sh starts a second ombud whose access tokens live 305 s
// (OMBUD_REFRESH_URL), so the refresh window opens 5 s after sign-in while the
// old token is still valid for about 300 s.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';

import { DATA_CONTROLLERS } from '../documents.js';
import { DxtraClient } from '../guide.js';
import { countSignIns, requireEnv, sleep } from '../helpers.js';

const REFRESH_MARGIN_MS = 300000;

const mainUrl = requireEnv('OMBUD_URL');
const alicePat = requireEnv('PAT_A');
const refreshUrl = requireEnv('OMBUD_REFRESH_URL');
const refreshPat = requireEnv('PAT_REFRESH');
const refreshTtlSeconds = Number(requireEnv('OMBUD_REFRESH_TTL_SECONDS'));

describe('DxtraClient token refresh', () => {
  let signIns;

  beforeEach(() => {
    signIns = countSignIns();
  });

  afterEach(() => {
    signIns.restore();
    process.env.OMBUD_URL = mainUrl;
  });

  test('one-hour token is reused', async () => {
    process.env.OMBUD_URL = mainUrl;
    const dxtra = new DxtraClient(alicePat);

    await dxtra.query(DATA_CONTROLLERS);
    const firstClient = dxtra.client;
    await dxtra.query(DATA_CONTROLLERS);

    assert.equal(signIns.count, 1);
    assert.equal(dxtra.client, firstClient);
    const remainingMs = dxtra.tokenExpiry - Date.now();
    assert.ok(remainingMs > 3500000, `token expires in ${remainingMs} ms`);
    assert.ok(remainingMs <= 3600000, `token expires in ${remainingMs} ms`);
  });

  test('signs in again before expiry', async () => {
    process.env.OMBUD_URL = refreshUrl;
    const dxtra = new DxtraClient(refreshPat);

    const first = await dxtra.query(DATA_CONTROLLERS);
    const firstClient = dxtra.client;
    const firstExpiry = dxtra.tokenExpiry;
    assert.equal(signIns.count, 1);
    assert.equal(first.dataControllers.length, 1);
    assert.ok(firstExpiry - Date.now() <= refreshTtlSeconds * 1000);

    // Still outside the refresh window: the token is reused.
    await dxtra.query(DATA_CONTROLLERS);
    assert.equal(signIns.count, 1, 'signed in again outside the 5-minute window');

    const windowOpensInMs = firstExpiry - REFRESH_MARGIN_MS - Date.now();
    await sleep(Math.max(0, windowOpensInMs) + 100);

    const refreshed = await dxtra.query(DATA_CONTROLLERS);
    assert.equal(signIns.count, 2);
    assert.notEqual(dxtra.client, firstClient);
    assert.ok(dxtra.tokenExpiry > firstExpiry);
    assert.deepEqual(refreshed, first);

    // The replaced token had not expired yet: the refresh came before expiry.
    assert.ok(firstExpiry > Date.now() + 60000);
    const stillValid = await firstClient.request(DATA_CONTROLLERS);
    assert.deepEqual(stillValid, first);
  });
});
