/**
 * The Fachdienst's harness-only request log (simulators/fachdienst/request-log.ts): what the router
 * records per dispatch (operation, status, transport headers, caller identity, never secret values),
 * the filters, the ring buffer and the admin API GET/DELETE /__admin/requests.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FhirRouter } from '../../../simulators/fachdienst/fhir-router';
import { RequestLog, requestLogAdminRoutes } from '../../../simulators/fachdienst/request-log';
import type { AccessTokenClaims } from '../../../simulators/fachdienst/access-token';
import type { InnerHttpRequest } from '../../../simulators/lib/http-message';
import { startHttpServer } from '../../../simulators/lib/http';

const PRACTICE_OID = '1.2.276.0.76.4.50';
const INSURED_OID = '1.2.276.0.76.4.49';

function request(method: string, target: string, headers: Record<string, string> = {}): InnerHttpRequest {
  const url = new URL(target, 'http://x');
  return { method, target, path: url.pathname, query: url.searchParams, headers: { authorization: 'Bearer t', ...headers }, body: Buffer.alloc(0) };
}

/** A router with two routes and a verifier that accepts tokens "t-<oid>-<idNummer>". */
function routerWithLog(log: RequestLog): FhirRouter {
  const router = new FhirRouter({
    verifier: {
      verify: async (token: string) => {
        const [, oid, id] = token.split('-');
        if (!oid) throw Object.assign(new Error('bad token'), {});
        return { sub: `sub-${id}`, professionOID: oid, idNummer: id, client_id: 'gematikTestPs', iss: 'https://idp.test' } as unknown as AccessTokenClaims;
      },
    },
    context: { clock: undefined as never, store: undefined as never, baseUrl: '', log: () => undefined },
    onDispatched: (req, result, transport) => log.record(req, result, transport),
  });
  router.register(
    { method: 'POST', pattern: '/Task/$create', roles: [PRACTICE_OID], operation: 'Task.$create', handler: () => ({ status: 201 }) },
    { method: 'GET', pattern: '/Task/:id', roles: [INSURED_OID], operation: 'Task.read', handler: () => ({ status: 200 }) },
  );
  return router;
}

test('the router records operation, status, transport and caller identity of every dispatch', async () => {
  let now = Date.parse('2025-03-01T10:00:00Z');
  const log = new RequestLog(() => new Date(now));
  const router = routerWithLog(log);
  const tokenPractice = `t-${PRACTICE_OID}-1-2-3`;
  const create = request('POST', '/Task/$create', { authorization: `Bearer ${tokenPractice}`, 'user-agent': 'inner-agent' });
  await router.dispatch(create, tokenPractice, { erpUser: 'l', userAgent: 'PVS-X/2.1' });
  now += 1000;
  const tokenInsured = `t-${INSURED_OID}-X110000001`;
  const read = request('GET', '/Task/160.000.000.000.001.05?ac=SECRETAC&_format=json', { authorization: `Bearer ${tokenInsured}`, 'x-accesscode': 'ABC', 'user-agent': 'FdV/1' });
  await router.dispatch(read, tokenInsured);
  // forbidden: the insured calls $create (403 after the token verified); unknown route: 405
  await router.dispatch(request('POST', '/Task/$create', { authorization: `Bearer ${tokenInsured}` }), tokenInsured, { erpUser: 'v', userAgent: 'FdV/1' });
  await router.dispatch(request('GET', '/Nothing', { authorization: `Bearer ${tokenInsured}` }), tokenInsured, { erpUser: 'v', userAgent: 'FdV/1' });

  const all = log.list();
  assert.equal(all.length, 4);
  assert.deepEqual(all[0], {
    id: 1,
    time: '2025-03-01T10:00:00.000Z',
    method: 'POST',
    path: '/Task/$create',
    operation: 'Task.$create',
    status: 201,
    erpUser: 'l',
    userAgent: 'PVS-X/2.1',
    professionOID: PRACTICE_OID,
    idNummer: '1',
    clientId: 'gematikTestPs',
    issuer: 'https://idp.test',
    queryParams: [],
    accessCode: false,
  });
  assert.equal(all[1].operation, 'Task.read');
  assert.equal(all[1].userAgent, 'FdV/1', 'without transport info the inner User-Agent is recorded');
  assert.equal(all[1].erpUser, undefined);
  assert.deepEqual(all[1].queryParams, ['ac', '_format']);
  assert.equal(all[1].accessCode, true);
  assert.ok(!JSON.stringify(all).includes('SECRETAC') && !JSON.stringify(all).includes('"ABC"'), 'no AccessCode values in the log');
  assert.equal(all[2].status, 403);
  assert.equal(all[2].operation, 'Task.$create');
  assert.equal(all[3].status, 405);
  assert.equal(all[3].operation, undefined);
  assert.equal(all[3].idNummer, undefined, 'no identity before the token was verified');

  assert.deepEqual(log.list({ since: '2025-03-01T10:00:01Z' }).map((e) => e.id), [2, 3, 4]);
  assert.deepEqual(log.list({ after: 2 }).map((e) => e.id), [3, 4]);
  assert.deepEqual(log.list({ operation: 'Task.$create' }).map((e) => e.id), [1, 3]);
  assert.deepEqual(log.list({ idNummer: 'X110000001' }).map((e) => e.id), [2, 3]);
  assert.deepEqual(log.list({ idNummer: 'X110000001', limit: 1 }).map((e) => e.id), [3]);
  assert.throws(() => log.list({ since: 'yesterday' }), RangeError);
});

test('the ring buffer keeps the newest entries; clear empties it and ids keep counting', async () => {
  const log = new RequestLog(() => new Date(0), 3);
  const router = routerWithLog(log);
  for (let i = 0; i < 5; i++) await router.dispatch(request('GET', '/Nothing'), 't');
  assert.deepEqual(log.list().map((e) => e.id), [3, 4, 5]);
  log.clear();
  assert.deepEqual(log.list(), []);
  await router.dispatch(request('GET', '/Nothing'), 't');
  assert.deepEqual(log.list().map((e) => e.id), [6]);
});

test('admin API: GET /__admin/requests with filters, 400 for bad filters, DELETE clears', async (t) => {
  const log = new RequestLog(() => new Date('2025-03-01T10:00:00Z'));
  const router = routerWithLog(log);
  const token = `t-${PRACTICE_OID}-1-2-3`;
  await router.dispatch(request('POST', '/Task/$create', { authorization: `Bearer ${token}` }), token, { erpUser: 'l', userAgent: 'PVS' });
  await router.dispatch(request('GET', '/Nothing'), 't');
  const server = await startHttpServer({ host: '127.0.0.1', port: 0, routes: requestLogAdminRoutes(log), log: () => undefined, name: 'test' });
  t.after(() => server.close());
  const get = async (q: string) => {
    const r = await fetch(`${server.url}/__admin/requests${q}`);
    return { status: r.status, body: (await r.json()) as { requests?: Array<{ id: number; operation?: string }> } };
  };
  assert.deepEqual((await get('')).body.requests?.map((e) => e.id), [1, 2]);
  assert.deepEqual((await get('?operation=Task.%24create')).body.requests?.map((e) => e.id), [1]);
  assert.deepEqual((await get('?after=1')).body.requests?.map((e) => e.id), [2]);
  assert.deepEqual((await get('?since=2025-03-01T10:00:01Z')).body.requests, []);
  assert.equal((await get('?since=gestern')).status, 400);
  assert.equal((await get('?limit=0')).status, 400);
  assert.equal((await get('?after=-1')).status, 400);
  const del = await fetch(`${server.url}/__admin/requests`, { method: 'DELETE' });
  assert.equal(del.status, 200);
  assert.deepEqual((await get('')).body.requests, []);
});
