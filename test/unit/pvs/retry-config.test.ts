/**
 * The PVS under the production retry rules (simulators/lib/erp-retry.ts) with a scripted
 * Fachdienst client, and the signature mode default (A_18541).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveEnvironment } from '../../../simulators/lib/config';
import { buildPrescriptionId } from '../../../simulators/lib/erezept-token';
import { KonnektorClient } from '../../../simulators/lib/konnektor-client';
import type { VauClient, VauResponse } from '../../../simulators/lib/vau-client';
import { FachdienstError } from '../../../simulators/pvs/errors';
import { defaultSignatureMode, DEFAULT_SIGNATURE_MODE, Pvs, SIGNATURE_MODE_ENV } from '../../../simulators/pvs/pvs';

const OUTCOME = (text: string) =>
  `<OperationOutcome xmlns="http://hl7.org/fhir"><issue><severity value="error"/><code value="processing"/><details><text value="${text}"/></details></issue></OperationOutcome>`;

function answer(status: number, body = '', headers: Record<string, string> = {}): VauResponse {
  const b = Buffer.from(body);
  return { status, headers: { 'content-type': 'application/fhir+xml', ...headers }, body: b, text: () => body, outer: { status: 200, headers: {} } };
}

/** A Pvs whose Fachdienst answers from `script` (one answer per request), recording the requests and waits. */
async function scriptedPvs(script: VauResponse[]) {
  const requests: Array<{ method: string; target: string; headers: Record<string, string> }> = [];
  const waits: number[] = [];
  const fachdienst = {
    async request(method: string, target: string, opts: { headers?: Record<string, string> } = {}) {
      requests.push({ method, target, headers: opts.headers ?? {} });
      const next = script.shift();
      if (!next) throw new Error('script exhausted');
      return next;
    },
  } as unknown as VauClient;
  const env = resolveEnvironment({ name: 'pvs-retry', dataDir: '/tmp' }, '/tmp/pvs-retry.yaml');
  const konnektor = new KonnektorClient({ url: 'https://127.0.0.1:1', context: { mandantId: 'M', clientSystemId: 'C', workplaceId: 'W' } });
  const pvs = await Pvs.open({ env, practice: 'Praxis Dr. Hanna Ebert', doctor: 'Dr. Hanna Ebert', konnektor, fachdienst, signatureMode: 'single', retry: { sleep: async (ms) => void waits.push(ms) } });
  const id = buildPrescriptionId(160, 5);
  const token = { prescriptionId: id, accessCode: 'a'.repeat(64) };
  pvs.tokens.put({ token, kvnr: 'X110000000', status: 'ready', signedBundle: Buffer.alloc(0), activatedAt: new Date() });
  return { pvs, requests, waits, id, close: async () => { await pvs.close(); await konnektor.close(); } };
}

test('delete ($abort) is repeated after 503 and 429 (Retry-After), with X-AccessCode each time', async () => {
  const s = await scriptedPvs([answer(503), answer(429, '', { 'retry-after': '2' }), answer(204)]);
  await s.pvs.delete(s.id);
  assert.equal(s.requests.length, 3);
  for (const r of s.requests) {
    assert.equal(r.target, `/Task/${s.id}/$abort`);
    assert.equal(r.headers['X-AccessCode'], 'a'.repeat(64));
  }
  assert.deepEqual(s.waits, [250, 2000], 'exponential backoff, then the Retry-After seconds');
  assert.equal(s.pvs.tokens.get(s.id), undefined, 'token removed');
  await s.close();
});

test('a final refusal is a FachdienstError with the OperationOutcome text; the token stays', async () => {
  const s = await scriptedPvs([answer(403, OUTCOME('Task must be ready for doctor, but is: in-progress'))]);
  await assert.rejects(s.pvs.delete(s.id), (e: unknown) => e instanceof FachdienstError && e.status === 403 && e.text === 'Task must be ready for doctor, but is: in-progress');
  assert.equal(s.requests.length, 1, '403 is not repeated');
  assert.ok(s.pvs.tokens.get(s.id), 'the token is kept: the prescription still exists');
  await s.close();
});

test('retries end after maxRetries; the last answer becomes the error', async () => {
  const s = await scriptedPvs([answer(503), answer(503), answer(503), answer(503), answer(503)]);
  await assert.rejects(s.pvs.delete(s.id), (e: unknown) => e instanceof FachdienstError && e.status === 503);
  assert.equal(s.requests.length, 4, 'first attempt + 3 repetitions (erp-retry default)');
  await s.close();
});

test('signature mode default: configurable through the environment, invalid values refused', () => {
  assert.equal(defaultSignatureMode({}), DEFAULT_SIGNATURE_MODE);
  assert.equal(defaultSignatureMode({ [SIGNATURE_MODE_ENV]: 'comfort' }), 'comfort');
  assert.equal(defaultSignatureMode({ [SIGNATURE_MODE_ENV]: 'single' }), 'single');
  assert.throws(() => defaultSignatureMode({ [SIGNATURE_MODE_ENV]: 'fast' }), TypeError);
});
