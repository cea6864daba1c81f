/**
 * A_18747: a refused status change names the current status (from the production OperationOutcome
 * texts of ru-dumps); the production retry rules (simulators/lib/erp-retry.ts) as the AVS applies them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildPrescriptionId } from '../../../simulators/lib/erezept-token';
import { isRetryableStatus, retryAfterMs, withErpRetry, type RetryableResponse } from '../../../simulators/lib/erp-retry';
import { VauClientError } from '../../../simulators/lib/vau-client';
import { FachdienstRefusal, statusFromOutcomeText } from '../../../simulators/avs/avs';
import { offlineAvs, outcomeXml, ScriptedFachdienst } from './helpers';

test('statusFromOutcomeText: the production texts of ru-dumps name the status', () => {
  const cases: Array<[string, string | undefined]> = [
    ['Task has invalid status in-progress', 'in-progress'],
    ['Task must be in progress for user pharmacy, is: ready', 'ready'],
    ['Task has to be in progress, but is: completed', 'completed'],
    ['Task has to be in progress, but is: ready', 'ready'],
    ['Task not in status draft but in status ready', 'ready'],
    ['Task must not be in progress for users other than pharmacy, but is: in-progress', 'in-progress'],
    ['Task has already been deleted', 'cancelled'],
    ['No or invalid secret provided for Task', undefined],
    ['Task is processed by requesting institution', undefined],
  ];
  for (const [text, status] of cases) assert.equal(statusFromOutcomeText(text), status, text);
});

test('a refused $accept becomes a FachdienstRefusal with status, text and the current status (A_18747)', async () => {
  const id = buildPrescriptionId(160, 910_001);
  const fd = new ScriptedFachdienst([() => ({ status: 409, body: outcomeXml('conflict', 'Task has invalid status in-progress') })]);
  const avs = await offlineAvs({ fachdienst: fd });
  avs.remember({ prescriptionId: id, accessCode: 'c'.repeat(64) });
  const err = await avs.accept(id).then(
    () => assert.fail('accept must fail'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof FachdienstRefusal);
  assert.equal(err.status, 409);
  assert.deepEqual(err.texts, ['Task has invalid status in-progress']);
  assert.equal(err.currentStatus, 'in-progress');
  assert.match(err.hint, /aktueller Status des E-Rezepts: in-progress/);
  assert.equal(fd.requests[0].method, 'POST');
  assert.equal(fd.requests[0].target, `/Task/${id}/$accept?ac=${'c'.repeat(64)}`);
  assert.equal(avs.get(id)?.secret, undefined, 'no Secret kept after a refusal');
  await avs.shutdown();
});

test('retry rules: which statuses are repeated for which requests', () => {
  for (const s of [408, 429, 503]) {
    assert.equal(isRetryableStatus(s, false), true, `${s} POST`);
    assert.equal(isRetryableStatus(s, true), true, `${s} GET`);
  }
  for (const s of [500, 502, 504]) {
    assert.equal(isRetryableStatus(s, false), false, `${s} POST`);
    assert.equal(isRetryableStatus(s, true), true, `${s} GET`);
  }
  for (const s of [200, 204, 400, 401, 403, 404, 409, 410]) assert.equal(isRetryableStatus(s, true), false, `${s}`);
  assert.equal(retryAfterMs('3', 0), 3000);
  assert.equal(retryAfterMs('Thu, 01 Jan 1970 00:00:05 GMT', 1000), 4000);
  assert.equal(retryAfterMs('soon', 0), undefined);
  assert.equal(retryAfterMs(undefined, 0), undefined);
});

function scripted(statuses: Array<number | Error>, headers: Record<string, string> = {}) {
  let calls = 0;
  const waits: number[] = [];
  const send = async (): Promise<RetryableResponse> => {
    const s = statuses[Math.min(calls++, statuses.length - 1)];
    if (s instanceof Error) throw s;
    return { status: s, headers };
  };
  return { send, waits, calls: () => calls, sleep: async (ms: number) => void waits.push(ms) };
}

test('withErpRetry: backoff 250·2^n, Retry-After honoured and capped, at most maxRetries repetitions', async () => {
  const a = scripted([503, 503, 200]);
  assert.equal((await withErpRetry(a.send, { idempotent: false, policy: { sleep: a.sleep } })).status, 200);
  assert.deepEqual(a.waits, [250, 500]);
  const b = scripted([429, 200], { 'retry-after': '2' });
  await withErpRetry(b.send, { idempotent: false, policy: { sleep: b.sleep } });
  assert.deepEqual(b.waits, [2000]);
  const c = scripted([429], { 'retry-after': '3600' });
  assert.equal((await withErpRetry(c.send, { idempotent: false, policy: { sleep: c.sleep } })).status, 429);
  assert.deepEqual(c.waits, [10_000, 10_000, 10_000]);
  assert.equal(c.calls(), 4);
  const d = scripted([500, 200]);
  assert.equal((await withErpRetry(d.send, { idempotent: false, policy: { sleep: d.sleep } })).status, 500, 'a POST is not repeated after 500');
  assert.equal(d.calls(), 1);
  const e = scripted([500, 200]);
  assert.equal((await withErpRetry(e.send, { idempotent: true, policy: { sleep: e.sleep } })).status, 200, 'a GET is repeated after 500');
  const transport = new VauClientError('transport', 'connection refused');
  const f = scripted([transport, 200]);
  await assert.rejects(withErpRetry(f.send, { idempotent: false, policy: { sleep: f.sleep }, isTransportError: () => true }), /connection refused/);
  const g = scripted([transport, 200]);
  assert.equal((await withErpRetry(g.send, { idempotent: true, policy: { sleep: g.sleep }, isTransportError: () => true })).status, 200);
});

test('the AVS repeats a $accept answered 503 and then succeeds; a 409 is not repeated', async () => {
  const id = buildPrescriptionId(160, 910_002);
  const waits: number[] = [];
  const fd = new ScriptedFachdienst([
    () => ({ status: 503, body: outcomeXml('transient', 'Service Unavailable') }),
    () => ({ status: 409, body: outcomeXml('conflict', 'Task has invalid status completed') }),
  ]);
  const avs = await offlineAvs({ fachdienst: fd, retry: { sleep: async (ms) => void waits.push(ms) } });
  avs.remember({ prescriptionId: id, accessCode: 'd'.repeat(64) });
  await assert.rejects(avs.accept(id), (e: unknown) => e instanceof FachdienstRefusal && e.status === 409 && e.currentStatus === 'completed');
  assert.equal(fd.requests.length, 2);
  assert.deepEqual(waits, [250]);
  await avs.shutdown();
});
