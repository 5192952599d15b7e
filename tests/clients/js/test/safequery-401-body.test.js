// Which HTTP 401 bodies send the guide's safeQuery to its 401 branch, measured
// on the pinned graphql-request against a mock server on 127.0.0.1.
//
// graphql-request 7.3.4 and later parse a non-2xx JSON body and copy its
// "errors" into ClientError.response (build/legacy/helpers/runRequest.js), so a
// 401 whose body has an "errors" array takes safeQuery's GraphQL-error branch and
// never reaches `error.response?.status === 401`. Versions 7.2.0 to 7.3.3
// returned a ClientError without the body for every non-2xx response. This file
// pins the behaviour of the installed version that ombud's 401 body must suit.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';

import { GraphQLClient } from 'graphql-request';

import { safeQuery } from '../guide.js';

const RESPONSES = {
  '/hasura-errors': {
    contentType: 'application/json',
    body: { errors: [{ message: 'Could not verify JWT: JWSError JWSInvalidSignature', extensions: { code: 'invalid-jwt', path: '$' } }] }
  },
  '/auth-error': {
    contentType: 'application/json',
    body: { status: 401, error: 'invalid-jwt', message: 'Could not verify JWT: JWSError JWSInvalidSignature' }
  },
  '/empty-errors': {
    contentType: 'application/json',
    body: { errors: [] }
  },
  '/plain-text': {
    contentType: 'text/plain',
    body: 'invalid-jwt'
  }
};

describe('safeQuery on HTTP 401 bodies', () => {
  let server;
  let baseUrl;

  before(async () => {
    server = createServer((request, response) => {
      const reply = RESPONSES[request.url];
      const body = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
      response.writeHead(401, { 'Content-Type': reply.contentType });
      response.end(body);
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${server.address().port}`;
  });

  after(() => new Promise((resolve) => server.close(resolve)));

  function clientFor(path) {
    return new GraphQLClient(`${baseUrl}${path}`, { headers: { 'X-Hasura-Role': 'user' } });
  }

  test('errors array takes the GraphQL branch', async () => {
    await assert.rejects(
      safeQuery(clientFor('/hasura-errors'), '{ dataControllers { id } }'),
      { message: 'Query failed: Could not verify JWT: JWSError JWSInvalidSignature' }
    );
  });

  test('body without errors takes the 401 branch', async () => {
    await assert.rejects(
      safeQuery(clientFor('/auth-error'), '{ dataControllers { id } }'),
      { message: 'Authentication expired. Please re-authenticate.' }
    );
  });

  test('empty errors array crashes the GraphQL branch', async () => {
    // An empty array is truthy, so safeQuery reads errors[0].message of undefined.
    await assert.rejects(
      safeQuery(clientFor('/empty-errors'), '{ dataControllers { id } }'),
      TypeError
    );
  });

  test('non-JSON body takes the 401 branch', async () => {
    await assert.rejects(
      safeQuery(clientFor('/plain-text'), '{ dataControllers { id } }'),
      { message: 'Authentication expired. Please re-authenticate.' }
    );
  });
});
