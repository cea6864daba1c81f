/**
 * Harness fault injection of the Fachdienst (simulators/fachdienst/faults.ts): the store hook rolls a
 * whole transaction back (A_18936), failInTransaction answers 500 with an OperationOutcome and leaves
 * nothing behind, a plain repeat succeeds (A_18826); dropResponse commits and then loses the answer
 * (connection reset or outer 5xx), a repeat names the new status; the admin API arms, lists, validates
 * and disarms; faults disarm themselves after N firings.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SimClock } from '../../../simulators/lib/clock';
import { FachdienstFaults, FAULT_TEXT } from '../../../simulators/fachdienst/faults';
import { FachdienstStore } from '../../../simulators/fachdienst/store';
import type { IssuedCertificateWithKey } from '../../../simulators/pki/hierarchy';
import { innerHttp, openResponse, OUTER_HEADERS, rawRequest, sealRequest, startFdFixture, type FdFixture } from './helpers';
import { activateParameters, berlinDay, createParameters, fhir, KBV_DIR, outcomeTexts, signWith, statusOf, substituteBundle, valueOf, practiceLogin } from './workflow-helpers';

const NS_AC = 'https://gematik.de/fhir/erp/NamingSystem/GEM_ERP_NS_AccessCode';
const GKV_BUNDLE = fs.readFileSync(path.join(KBV_DIR, 'Beispiel_12.xml'), 'utf8');

describe('FachdienstFaults without a server', () => {
  test('the store hook runs inside the outermost transaction: a throw rolls back nested writes; nested transactions do not call it', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-faults-'));
    const store = FachdienstStore.open(path.join(dir, 'db.sqlite'), { clock: new SimClock() });
    try {
      let calls = 0;
      store.beforeCommit = () => {
        calls++;
        throw new Error('injected');
      };
      assert.throws(
        () =>
          store.transaction(() => {
            store.createTask({ id: '160.000.000.000.001.23', flowType: 160 });
            store.putBinary({ taskId: '160.000.000.000.001.23', kind: 'receipt', contentType: 'text/plain', data: Buffer.from('x') });
          }),
        /injected/,
      );
      assert.equal(calls, 1, 'one call for the outermost transaction, none for the nested ones');
      assert.equal(store.getTask('160.000.000.000.001.23'), undefined);
      assert.equal(store.binariesOfTask('160.000.000.000.001.23').length, 0);
      store.beforeCommit = undefined;
      store.createTask({ id: '160.000.000.000.001.23', flowType: 160 });
      assert.equal(store.getTask('160.000.000.000.001.23')?.status, 'draft', 'the store works normally afterwards');
      assert.equal(store.auditEventCountOfTask('160.000.000.000.001.23'), 0);
    } finally {
      store.close();
    }
  });

  test('arm validates kind, operation, count and "as"; armed faults are listed; clear disarms', () => {
    const f = new FachdienstFaults({ operations: () => ['Task.$activate', 'Task.$accept'] });
    assert.throws(() => f.arm({ kind: 'explode' as never, operation: 'Task.$activate' }), /kind must be/);
    assert.throws(() => f.arm({ kind: 'failInTransaction', operation: 'Task.$nothing' }), /unknown operation/);
    assert.throws(() => f.arm({ kind: 'failInTransaction', operation: 'Task.$activate', count: 0 }), /count/);
    assert.throws(() => f.arm({ kind: 'failInTransaction', operation: 'Task.$activate', as: 502 }), /dropResponse only/);
    assert.throws(() => f.arm({ kind: 'dropResponse', operation: 'Task.$activate', as: 503 as never }), /as must be/);
    assert.deepEqual(f.arm({ kind: 'dropResponse', operation: 'Task.$accept' }), { kind: 'dropResponse', operation: 'Task.$accept', remaining: 1, fired: 0, as: 'reset' });
    f.arm({ kind: 'failInTransaction', operation: 'Task.$activate', count: 2 });
    assert.equal(f.armed().length, 2);
    assert.equal(f.clear(), 2);
    assert.deepEqual(f.armed(), []);
  });

  test('beforeCommit outside an instrumented handler never fires', () => {
    const f = new FachdienstFaults();
    f.arm({ kind: 'failInTransaction', operation: 'Task.$activate' });
    assert.doesNotThrow(() => f.beforeCommit());
    assert.equal(f.armed()[0].remaining, 1);
  });
});

describe('fault injection through the VAU', () => {
  let fx: FdFixture;
  let practice: string;
  let hba: IssuedCertificateWithKey;

  before(async () => {
    fx = await startFdFixture();
    const pki = fx.idpFx.pkiService.pki;
    practice = await practiceLogin(fx);
    hba = pki.issue({ profile: 'C.HP.QES' });
  });
  after(async () => fx?.stop());

  const adminCall = async (method: string, body?: unknown) => {
    const r = await rawRequest(fx, method, `${fx.fd.url}/__admin/faults`, { 'content-type': 'application/json' }, body === undefined ? undefined : Buffer.from(JSON.stringify(body)));
    return { status: r.status, json: JSON.parse(r.body.toString('utf8') || '{}') as Record<string, any> };
  };

  async function create(): Promise<{ id: string; ac: string }> {
    const r = await fhir(fx, practice, 'POST', '/Task/$create', createParameters(160));
    assert.equal(r.status, 201, r.body);
    return { id: /<id value="([^"]*)"/.exec(r.body)?.[1] as string, ac: valueOf(r.body, NS_AC) as string };
  }

  function activateRequest(t: { id: string; ac: string }): Buffer {
    const body = Buffer.from(activateParameters(signWith(hba, substituteBundle(GKV_BUNDLE, t.id, berlinDay(fx.fd.clock.now())), fx.fd.clock.now())), 'utf8');
    return innerHttp('POST', `/Task/${t.id}/$activate`, { Host: 'erp.ti-harness.sim', Authorization: `Bearer ${practice}`, 'User-Agent': 'ti-harness-test/1.0', 'Content-Type': 'application/fhir+xml', 'X-AccessCode': t.ac }, body);
  }

  test('admin API: validation (400), arming (201), listing, clear', async () => {
    assert.equal((await adminCall('POST', { kind: 'failInTransaction', operation: 'Task.$unknown' })).status, 400);
    assert.equal((await adminCall('POST', { kind: 'failInTransaction', operation: 'Task.$activate', extra: 1 })).status, 400);
    assert.equal((await adminCall('POST', { kind: 'dropResponse', operation: 'Task.$activate', as: 503 })).status, 400);
    assert.equal((await adminCall('POST', [1])).status, 400);
    const armed = await adminCall('POST', { kind: 'dropResponse', operation: 'Task.$accept', count: 3, as: 502 });
    assert.equal(armed.status, 201);
    assert.deepEqual(armed.json.armed, { kind: 'dropResponse', operation: 'Task.$accept', remaining: 3, fired: 0, as: 502 });
    assert.equal((await adminCall('GET')).json.armed.length, 1);
    assert.deepEqual((await adminCall('POST', { clear: true })).json.armed, []);
    await adminCall('POST', { kind: 'failInTransaction', operation: 'Task.$create' });
    assert.deepEqual((await adminCall('DELETE')).json.armed, []);
  });

  test('failInTransaction on $create: 500 with our OperationOutcome, no Task and no number used up; disarmed after one call', async () => {
    const before = await create();
    assert.equal((await adminCall('POST', { kind: 'failInTransaction', operation: 'Task.$create' })).status, 201);
    const failed = await fhir(fx, practice, 'POST', '/Task/$create', createParameters(160));
    assert.equal(failed.status, 500, failed.body);
    assert.deepEqual(outcomeTexts(failed.body), [FAULT_TEXT]);
    assert.match(failed.body, /harness fault injection: failInTransaction Task\.\$create/);
    assert.deepEqual((await adminCall('GET')).json.armed, [], 'the fault disarmed itself');
    const next = await create();
    const seq = (id: string) => BigInt(id.replace(/\./g, '').slice(3, 15));
    assert.equal(seq(next.id), seq(before.id) + 1n, 'the rolled-back $create handed out no PrescriptionID');
  });

  test('failInTransaction on $activate: 500, the Task stays draft without binaries or audit entry; the identical request then succeeds', async () => {
    const t = await create();
    await adminCall('POST', { kind: 'failInTransaction', operation: 'Task.$activate' });
    const request = activateRequest(t);
    const failed = await fhir(fx, practice, 'POST', `/Task/${t.id}/$activate`, undefined, { 'X-AccessCode': t.ac }); // no body: refused before any transaction
    assert.equal(failed.status, 400, 'a call that never reaches a commit does not consume the fault');
    assert.equal((await adminCall('GET')).json.armed[0]?.remaining, 1);
    const r1 = await rawVau(request);
    assert.equal(r1.inner?.status, 500);
    assert.deepEqual(outcomeTexts(r1.inner?.body ?? ''), [FAULT_TEXT]);
    const stored = fx.fd.store.getTask(t.id);
    assert.equal(stored?.status, 'draft');
    assert.equal(stored?.kvnr, undefined);
    assert.equal(fx.fd.store.binariesOfTask(t.id).length, 0);
    assert.equal(fx.fd.store.auditEventCountOfTask(t.id), 0);
    const r2 = await rawVau(request);
    assert.equal(r2.inner?.status, 200, r2.inner?.body);
    assert.equal(statusOf(r2.inner?.body ?? ''), 'ready');
    assert.equal(fx.fd.store.binariesOfTask(t.id).length, 2);
    assert.equal(fx.fd.store.auditEventCountOfTask(t.id), 1);
    const admin = await rawRequest(fx, 'GET', `${fx.fd.url}/__admin/tasks/${t.id}`, {});
    assert.equal(JSON.parse(admin.body.toString('utf8')).stored.auditEvents, 1);
  });

  test('dropResponse (reset) on $activate: the connection drops, the Task is ready; a repeat is answered 403 naming status ready', async () => {
    const t = await create();
    await adminCall('POST', { kind: 'dropResponse', operation: 'Task.$activate' });
    const request = activateRequest(t);
    const lost = await rawVau(request);
    assert.ok(lost.error, `expected a connection error, got outer ${lost.outer?.status}`);
    assert.match(lost.error.message, /socket hang up|ECONNRESET/);
    assert.equal(fx.fd.store.getTask(t.id)?.status, 'ready', 'the operation committed before the answer was lost');
    const again = await rawVau(request);
    assert.equal(again.inner?.status, 403);
    assert.deepEqual(outcomeTexts(again.inner?.body ?? ''), ['Task not in status draft but in status ready']);
    const fired = (await adminCall('GET')).json.fired as Array<Record<string, unknown>>;
    assert.deepEqual(fired.at(-1), { ...fired.at(-1), kind: 'dropResponse', operation: 'Task.$activate', as: 'reset' });
  });

  test('dropResponse 502 on $activate, count 1: outer 502 without inner answer, the next call answers normally', async () => {
    const t = await create();
    await adminCall('POST', { kind: 'dropResponse', operation: 'Task.$activate', as: 502 });
    const lost = await rawVau(activateRequest(t));
    assert.equal(lost.outer?.status, 502);
    assert.match(lost.outer?.body.toString('utf8') ?? '', /response lost/);
    assert.equal(fx.fd.store.getTask(t.id)?.status, 'ready');
    const t2 = await create();
    const ok = await rawVau(activateRequest(t2));
    assert.equal(ok.inner?.status, 200, 'count 1: the fault is gone');
  });

  async function rawVau(http: Buffer): Promise<{ outer?: { status: number; body: Buffer }; inner?: { status: number; body: string }; error?: Error }> {
    const sealed = sealRequest(practice, http, fx.vauPublicPoint);
    try {
      const outer = await rawRequest(fx, 'POST', `${fx.fd.url}/VAU/0`, OUTER_HEADERS, sealed.envelope);
      if (outer.status !== 200) return { outer };
      const inner = openResponse(outer.body, sealed.responseKey);
      return { outer, inner };
    } catch (e) {
      return { error: e as Error };
    }
  }
});
