/** verify(): recording, throwing and classification (steps/verify.ts), with a fake report and sink. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConformanceAssertionError, EnvironmentError, TestDefectError } from '../../../steps/support/errors';
import { Verifier, fileSink, type ScenarioRef, type VerifyRecord } from '../../../steps/verify';

const SCENARIO: ScenarioRef = {
  id: 'pickle-1',
  name: 'Ein Szenario',
  uri: 'features/x.feature',
  line: 7,
  tags: ['@AFO-ID:A_1'],
  testCaseStartedId: 'attempt-1',
};

function setup() {
  const records: VerifyRecord[] = [];
  const steps: { name: string; error?: Error }[] = [];
  const links: string[] = [];
  let clock = 1_800_000_000_000;
  const v = new Verifier({
    classify: (id) => (id.startsWith('A_') ? 'requirement' : id.startsWith('TUC_') ? 'infrastructure' : undefined),
    sink: (r) => records.push(r),
    reporter: {
      async step(name, body) {
        const entry: { name: string; error?: Error } = { name };
        steps.push(entry);
        try {
          await body();
        } catch (e) {
          entry.error = e as Error;
          throw e;
        }
      },
      async requirementLink(id) {
        links.push(id);
      },
    },
    now: () => (clock += 5),
  });
  v.beginScenario(SCENARIO);
  return { v, records, steps, links };
}

test('a check that holds is recorded passed, shown as step "<id>: <description>" and linked once', async () => {
  const { v, records, steps, links } = setup();
  await v.verify('A_1', 'Status ist 201', () => true);
  await v.verify('A_1', 'Body ist ein Task', () => undefined);
  assert.deepEqual(
    records.map((r) => [r.afoId, r.kind, r.status, r.description]),
    [
      ['A_1', 'requirement', 'passed', 'Status ist 201'],
      ['A_1', 'requirement', 'passed', 'Body ist ein Task'],
    ],
  );
  assert.deepEqual(records[0].scenario, SCENARIO);
  assert.equal(records[0].timestamp, new Date(1_800_000_000_005).toISOString());
  assert.equal(records[0].durationMs, 5);
  assert.equal(records[0].pid, process.pid);
  assert.equal(records[0].error, undefined);
  assert.deepEqual(steps.map((s) => s.name), ['A_1: Status ist 201', 'A_1: Body ist ein Task']);
  assert.deepEqual(links, ['A_1']);
  assert.equal(v.current?.records.length, 2);
});

test('false is a conformance failure: recorded failed, thrown as ConformanceAssertionError', async () => {
  const { v, records, steps } = setup();
  await assert.rejects(v.verify('A_1', 'Status ist 201', () => false), (e: unknown) => {
    assert.ok(e instanceof ConformanceAssertionError);
    assert.equal(e.afoId, 'A_1');
    assert.match(e.message, /^A_1 not met: Status ist 201$/);
    return true;
  });
  assert.equal(records[0].status, 'failed');
  assert.deepEqual(records[0].error, { type: 'ConformanceAssertionError', message: 'A_1 not met: Status ist 201' });
  assert.ok(steps[0].error instanceof ConformanceAssertionError, 'the report step fails with the same error');
});

test('an async check resolving to false fails too', async () => {
  const { v, records } = setup();
  await assert.rejects(v.verify('A_1', 'async', async () => false), ConformanceAssertionError);
  assert.equal(records[0].status, 'failed');
});

test('a failed node:assert assertion is a conformance failure and keeps actual/expected', async () => {
  const { v, records } = setup();
  await assert.rejects(
    v.verify('A_1', 'Status ist 201', () => assert.equal(400, 201)),
    (e: unknown) => e instanceof ConformanceAssertionError && (e as { actual?: unknown }).actual === 400 && (e as { expected?: unknown }).expected === 201,
  );
  assert.equal(records[0].status, 'failed');
  assert.match(records[0].error?.message ?? '', /A_1 not met: Status ist 201: .*400.*201/s);
});

test('a network fault inside the check is broken (EnvironmentError), not a conformance failure', async () => {
  const { v, records } = setup();
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8443'), { code: 'ECONNREFUSED' });
  await assert.rejects(v.verify('A_1', 'Fachdienst antwortet', async () => {
    throw new TypeError('fetch failed', { cause: refused });
  }), (e: unknown) => e instanceof EnvironmentError && /environment fault: fetch failed: connect ECONNREFUSED/.test(e.message));
  assert.equal(records[0].status, 'broken');
  assert.equal(records[0].error?.type, 'EnvironmentError');
});

test('any other exception in the check is broken (TestDefectError): the check could not be evaluated', async () => {
  const { v, records } = setup();
  await assert.rejects(v.verify('TUC_PKI_1', 'x', () => {
    throw new RangeError('index out of range');
  }), (e: unknown) => e instanceof TestDefectError && /the check threw RangeError: index out of range/.test(e.message));
  assert.equal(records[0].status, 'broken');
  assert.equal(records[0].kind, 'infrastructure');
});

test('an unknown id throws at once: nothing runs, nothing is recorded', () => {
  const { v, records, steps } = setup();
  let ran = false;
  assert.throws(
    () => v.verify('X_18498', 'x', () => {
      ran = true;
    }),
    (e: unknown) => e instanceof TestDefectError && /"X_18498" is neither a requirement nor an infrastructure check/.test(e.message),
  );
  assert.equal(ran, false);
  assert.equal(records.length, 0);
  assert.equal(steps.length, 0);
});

test('verify() outside a scenario and without a description are test defects', () => {
  const { v } = setup();
  assert.throws(() => v.verify('A_1', '  ', () => true), /the description must say what is checked/);
  v.endScenario();
  assert.throws(() => v.verify('A_1', 'x', () => true), /called outside a running scenario/);
});

test('pending counts running checks (the AfterStep hook fails steps that did not await verify)', async () => {
  const { v } = setup();
  let release!: () => void;
  const p = v.verify('A_1', 'slow', () => new Promise<void>((r) => (release = r)));
  assert.equal(v.current?.pending, 1);
  await new Promise((r) => setImmediate(r));
  release();
  await p;
  assert.equal(v.current?.pending, 0);
});

test('fileSink appends one JSON line per record to verify-<pid>.ndjson', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'verify-sink-'));
  try {
    const sink = fileSink(path.join(dir, 'nested'));
    const rec = { afoId: 'A_1', description: 'd', status: 'passed' } as VerifyRecord;
    sink(rec);
    sink({ ...rec, status: 'failed' });
    const file = path.join(dir, 'nested', `verify-${process.pid}.ndjson`);
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as VerifyRecord);
    assert.deepEqual(lines.map((l) => l.status), ['passed', 'failed']);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a verify() that outlives its step is recorded broken, not reported and not thrown', async () => {
  const { v, records, steps } = setup();
  let release!: (held: boolean) => void;
  const p = v.verify('A_1', 'nicht abgewartet', () => new Promise<boolean>((r) => (release = r)));
  await new Promise((r) => setImmediate(r));
  v.abandonPending(); // what the AfterStep hook does when a step ends with pending checks
  release(false);
  await p; // resolves: nobody could catch a rejection any more
  assert.equal(records[0].status, 'broken');
  assert.match(records[0].error?.message ?? '', /was not awaited .* result discarded \(A_1 not met: nicht abgewartet\)/);
  assert.equal(steps.length, 0, 'no report after the step ended');
});
