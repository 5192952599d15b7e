// Every GraphQL operation of the integration guide, sent by graphql-request
// through the guide's getAuthenticatedClient, safeQuery and DxtraClient.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';

import {
  CREATE_PURPOSE,
  DATA_CONTROLLERS,
  GET_DATA_CONTROLLER_DETAILS,
  GET_DATA_SUBJECT_WITH_CONSENTS,
  GET_DATA_SUBJECTS,
  GET_RIGHTS_REQUESTS,
  INSERT_SUBJECT,
  SUBMIT_RIGHTS_REQUEST,
  UPSERT_CONSENTS_INPUT_OBJECT,
  UPSERT_CONSENTS_THREE_ARGUMENTS
} from '../documents.js';
import { DxtraClient, getAuthenticatedClient, safeQuery } from '../guide.js';
import { didFor, requireEnv } from '../helpers.js';

const alice = {
  userId: requireEnv('USER_A'),
  pat: requireEnv('PAT_A'),
  controllerId: requireEnv('CONTROLLER_A'),
  controllerDid: requireEnv('CONTROLLER_DID_A'),
  secondControllerId: requireEnv('CONTROLLER_A2')
};
const bobControllerId = requireEnv('CONTROLLER_B');

describe('guide operations as Alice', () => {
  let client;
  let purposeIds;
  let subjectId;
  let createdByUpsert;

  before(async () => {
    client = await getAuthenticatedClient(alice.pat);

    purposeIds = [];
    for (const title of ['Order updates', 'Partner offers']) {
      const data = await safeQuery(client, CREATE_PURPOSE, { controllerId: alice.controllerId, title });
      purposeIds.push(data.insertDataControllerProcessingPurpose.id);
    }

    // Without dataSubjectId the action creates a new pseudonymous subject.
    const created = await safeQuery(client, UPSERT_CONSENTS_THREE_ARGUMENTS, {
      dataControllerId: alice.controllerId,
      dataSubjectId: null,
      purposes: { [purposeIds[0]]: true, [purposeIds[1]]: false }
    });
    createdByUpsert = created.upsertDataSubjectConsents;
    subjectId = createdByUpsert.data.dataSubjectId;
  });

  test('dataControllers lists own controllers', async () => {
    const data = await client.request(DATA_CONTROLLERS);

    const titles = Object.fromEntries(data.dataControllers.map((row) => [row.id, row.title]));
    assert.deepEqual(titles, {
      [alice.controllerId]: 'Alice Shop',
      [alice.secondControllerId]: 'Alice Outlet'
    });
    assert.equal(titles[bobControllerId], undefined);
  });

  test('DxtraClient usage snippet', async () => {
    assert.equal(process.env.DXTRA_PAT, alice.pat);

    // Usage
    const dxtra = new DxtraClient(process.env.DXTRA_PAT);
    const data = await dxtra.query('{ dataControllers { id title } }');

    const ids = data.dataControllers.map((row) => row.id).sort();
    assert.deepEqual(ids, [alice.controllerId, alice.secondControllerId].sort());
  });

  test('GetDataControllerDetails', async () => {
    const data = await client.request(GET_DATA_CONTROLLER_DETAILS, {
      id: alice.controllerId
    });

    const controller = data.dataController;
    assert.equal(controller.id, alice.controllerId);
    assert.equal(controller.title, 'Alice Shop');
    assert.equal(controller.did, alice.controllerDid);
    assert.equal(controller.did, didFor(alice.controllerId));
    assert.ok(!Number.isNaN(Date.parse(controller.createdAt)), controller.createdAt);
    assert.ok(!Number.isNaN(Date.parse(controller.updatedAt)), controller.updatedAt);
    // bootstrap creates the controller with its user as the owner.
    assert.deepEqual(controller.users, [{ userId: alice.userId, role: 'owner' }]);
  });

  test('upsert without subject creates one', () => {
    assert.equal(createdByUpsert.status, 'success');
    assert.equal(createdByUpsert.message, 'upsertDataSubjectConsents');
    assert.match(subjectId, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.equal(createdByUpsert.data.upsertedCount, 2);
    assert.equal(createdByUpsert.data.consentCookie.split('.').length, 3);
  });

  test('UpsertConsents with input object', async () => {
    const data = await client.request(UPSERT_CONSENTS_INPUT_OBJECT, {
      input: {
        dataControllerId: alice.controllerId,
        dataSubjectId: subjectId,
        purposes: {
          [purposeIds[0]]: false,
          [purposeIds[1]]: true
        }
      }
    });

    const result = data.upsertDataSubjectConsents;
    assert.equal(result.status, 'success');
    assert.equal(result.message, 'upsertDataSubjectConsents');
    assert.equal(result.data.dataSubjectId, subjectId);
    assert.equal(result.data.upsertedCount, 2);
    const cookieParts = result.data.consentCookie.split('.');
    assert.equal(cookieParts.length, 3);
    assert.ok(cookieParts.every((part) => part.length > 0));
  });

  test('GetDataSubjects', async () => {
    const inserted = await client.request(INSERT_SUBJECT, { controllerId: alice.controllerId });
    const insertedId = inserted.insertDataSubject.id;
    assert.equal(inserted.insertDataSubject.did, didFor(insertedId));

    const data = await client.request(GET_DATA_SUBJECTS, {
      controllerId: alice.controllerId,
      limit: 100
    });

    const ids = data.dataSubjects.map((row) => row.id);
    assert.ok(ids.includes(subjectId), `${subjectId} missing from ${ids}`);
    assert.ok(ids.includes(insertedId), `${insertedId} missing from ${ids}`);
    for (const row of data.dataSubjects) {
      assert.equal(row.did, didFor(row.id));
      assert.equal(typeof row.doNotTrack, 'boolean');
      assert.equal(typeof row.globalPrivacyControl, 'boolean');
      assert.ok(!Number.isNaN(Date.parse(row.updatedAt)), row.updatedAt);
    }
    const created = data.dataSubjects.map((row) => Date.parse(row.createdAt));
    assert.deepEqual(created, [...created].sort((a, b) => b - a));
  });

  test('GetDataSubjectWithConsents', async () => {
    await client.request(UPSERT_CONSENTS_THREE_ARGUMENTS, {
      dataControllerId: alice.controllerId,
      dataSubjectId: subjectId,
      purposes: { [purposeIds[0]]: true, [purposeIds[1]]: false }
    });

    const data = await client.request(GET_DATA_SUBJECT_WITH_CONSENTS, {
      dataSubjectId: subjectId
    });

    assert.equal(data.dataSubject.id, subjectId);
    assert.equal(data.dataSubject.did, didFor(subjectId));
    assert.equal(data.dataSubject.doNotTrack, false);
    assert.equal(data.dataSubject.globalPrivacyControl, false);
    const values = Object.fromEntries(
      data.dataSubjectConsentFormValues.map((row) => [row.dataControllerProcessingPurposeId, row.value])
    );
    assert.deepEqual(values, { [purposeIds[0]]: 'true', [purposeIds[1]]: 'false' });
  });

  test('SubmitRightsRequest and GetRightsRequests', async () => {
    const submitted = await client.request(SUBMIT_RIGHTS_REQUEST, {
      input: {
        dataSubjectId: subjectId,
        requestType: 'access', // access, erasure, rectification, portability
        status: 'submitted'
      }
    });

    const request = submitted.insertDataSubjectRightsRequest;
    assert.equal(request.requestType, 'access');
    assert.equal(request.status, 'submitted');
    assert.ok(!Number.isNaN(Date.parse(request.createdAt)), request.createdAt);

    const listed = await client.request(GET_RIGHTS_REQUESTS, {
      dataSubjectId: subjectId
    });

    const rows = listed.dataSubjectRightsRequests;
    const row = rows.find((candidate) => candidate.id === request.id);
    assert.ok(row, `request ${request.id} missing from ${JSON.stringify(rows)}`);
    assert.equal(row.requestType, 'access');
    assert.equal(row.status, 'submitted');
    assert.equal(row.verified, false);
  });

  test('safeQuery returns data on success', async () => {
    const data = await safeQuery(client, GET_DATA_CONTROLLER_DETAILS, { id: alice.controllerId });
    assert.equal(data.dataController.title, 'Alice Shop');
  });

  test('other controller invisible', async () => {
    const data = await safeQuery(client, GET_DATA_CONTROLLER_DETAILS, { id: bobControllerId });
    assert.equal(data.dataController, null);

    const subjects = await safeQuery(client, GET_DATA_SUBJECTS, { controllerId: bobControllerId });
    assert.deepEqual(subjects.dataSubjects, []);
  });
});
