/**
 * UC 4.1, A_18548/A_18791: the AVS reads E-Rezept-Tokens from DataMatrix codes — the real codes the
 * E2E suite printed as a pharmacy's counterpart (ru-dumps Apotheke, Allgemein) and codes with
 * several tokens — and keeps each AccessCode for the task.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { renderERezeptPng } from '../../../simulators/lib/datamatrix';
import { buildPrescriptionId } from '../../../simulators/lib/erezept-token';
import { sharedPath } from '../../../simulators/lib/shared-data';
import { AvsError } from '../../../simulators/avs/avs';
import { offlineAvs } from './helpers';

const DUMPS = sharedPath('reference', 'ru-dumps');

/** Every "DMC for <id> with AccessCode <ac>" dump of the pharmacy scenarios. */
function dumpCodes(): Array<{ file: string; prescriptionId: string; accessCode: string }> {
  const out: Array<{ file: string; prescriptionId: string; accessCode: string }> = [];
  for (const area of ['Apotheke', 'Allgemein']) {
    for (const scenario of fs.readdirSync(path.join(DUMPS, area))) {
      const index = path.join(DUMPS, area, scenario, 'index.json');
      if (!fs.existsSync(index)) continue;
      const text = fs.readFileSync(index, 'utf8');
      for (const m of text.matchAll(/"operation" : "DMC for ([0-9.]+) with AccessCode ([0-9a-f]{64})",\s*"file" : "([^"]+)"/g)) {
        out.push({ prescriptionId: m[1], accessCode: m[2], file: path.join(DUMPS, m[3]) });
      }
    }
  }
  return out;
}

const avsPromise = offlineAvs();
after(async () => (await avsPromise).shutdown());

test('every real DataMatrix code of the pharmacy dumps scans to its token and the AccessCode is kept (A_18548, A_18791)', async () => {
  const avs = await avsPromise;
  const codes = dumpCodes();
  assert.ok(codes.length >= 30, `expected the ~32 pharmacy DMC dumps, found ${codes.length}`);
  for (const c of codes) {
    const tokens = avs.scan(fs.readFileSync(c.file));
    assert.deepEqual(tokens, [{ prescriptionId: c.prescriptionId, accessCode: c.accessCode }], c.file);
    assert.equal(avs.get(c.prescriptionId)?.accessCode, c.accessCode);
    assert.equal(avs.get(c.prescriptionId)?.secret, undefined, 'no Secret before $accept');
  }
});

test('a code with three tokens gives three tasks with their own AccessCodes', async () => {
  const avs = await avsPromise;
  const tokens = [1, 2, 3].map((n) => ({ prescriptionId: buildPrescriptionId(160, 900_000 + n), accessCode: `${n}`.repeat(64) }));
  const scanned = avs.scan(renderERezeptPng(tokens));
  assert.deepEqual(scanned, tokens);
  for (const t of tokens) assert.equal(avs.get(t.prescriptionId)?.accessCode, t.accessCode);
});

test('a code scanned again replaces the AccessCode of the known task, no duplicate', async () => {
  const avs = await avsPromise;
  const id = buildPrescriptionId(160, 900_010);
  avs.scan(renderERezeptPng([{ prescriptionId: id, accessCode: 'a'.repeat(64) }]));
  avs.scan(renderERezeptPng([{ prescriptionId: id, accessCode: 'b'.repeat(64) }]));
  assert.equal(avs.list().filter((t) => t.taskId === id).length, 1);
  assert.equal(avs.get(id)?.accessCode, 'b'.repeat(64));
});

test('bad input: bytes that are no PNG → clear error; operations on unknown tasks → AvsError', async () => {
  const avs = await avsPromise;
  assert.throws(() => avs.scan(Buffer.from('not a png')), /PNG|png/);
  await assert.rejects(avs.accept('160.000.000.000.999.04'), AvsError);
  await assert.rejects(avs.reject(buildPrescriptionId(160, 900_001)), /no Secret/);
});
