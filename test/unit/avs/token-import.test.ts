/**
 * A_18549: the AVS imports the token file the E-Rezept-App exports (simulators/avs/token-import.ts on
 * top of simulators/fdv/token-file.ts) and accepts the imported prescriptions with their AccessCode;
 * refused files (broken, foreign flow type) import nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { exportTokens } from '../../../simulators/fdv/token-file';
import { importTokenFile, TokenFileError, TokenImportError } from '../../../simulators/avs/token-import';
import { buildPrescriptionId } from '../../../simulators/lib/erezept-token';
import { sharedPath } from '../../../simulators/lib/shared-data';
import { offlineAvs, ScriptedFachdienst } from './helpers';

const AC1 = '7f657eee931825f0c065bc4c7634b6da4e394d7381cc0d7d6609312e8833181b';
const AC2 = 'a'.repeat(64);
const T1 = { prescriptionId: '160.000.239.761.372.41', accessCode: AC1 };
const T2 = { prescriptionId: buildPrescriptionId(200, 42), accessCode: AC2 };
const DUMP = sharedPath('reference', 'ru-dumps', 'Apotheke', 'quittung_erneut_abfragen');

test('the FdV export file is imported; the tokens are kept and $accept uses the imported AccessCode', async () => {
  const fd = new ScriptedFachdienst([() => ({ status: 200, body: fs.readFileSync(path.join(DUMP, '007_Response_Bundle.xml'), 'utf8') })]);
  const avs = await offlineAvs({ fachdienst: fd });
  try {
    const imported = avs.importTokens(Buffer.from(exportTokens([T1, T2]), 'utf8'));
    assert.deepEqual(imported, [T1, T2]);
    assert.deepEqual(avs.list().map((t) => [t.taskId, t.accessCode]), [[T1.prescriptionId, AC1], [T2.prescriptionId, AC2]]);
    const accepted = await avs.accept(T1.prescriptionId);
    assert.equal(accepted.accessCode, AC1);
    assert.deepEqual(fd.requests.map((r) => `${r.method} ${r.target}`), [`POST /Task/${T1.prescriptionId}/$accept?ac=${AC1}`]);
  } finally {
    await avs.shutdown();
  }
});

test('refused files import nothing: broken JSON, a broken token, a flow type no pharmacy dispenses', async () => {
  const avs = await offlineAvs();
  try {
    assert.throws(() => avs.importTokens('{"urls":'), TokenFileError);
    assert.throws(() => avs.importTokens(JSON.stringify({ urls: [`Task/${T1.prescriptionId}/$accept?ac=${AC1}`, 'Task/160.000.000.000.001.99/$accept?ac=zz'] })), TokenFileError);
    const diga = { prescriptionId: buildPrescriptionId(162, 7), accessCode: AC2 };
    assert.throws(() => avs.importTokens(exportTokens([T1, diga])), (e: Error) => e instanceof TokenImportError && /flow type 162/.test(e.message));
    assert.deepEqual(avs.list(), [], 'nothing was imported from the refused files');
  } finally {
    await avs.shutdown();
  }
});

test('importTokenFile works on any token keeper and keeps the file order', () => {
  const kept: string[] = [];
  importTokenFile({ remember: (t) => kept.push(t.prescriptionId) }, exportTokens([T2, T1]));
  assert.deepEqual(kept, [T2.prescriptionId, T1.prescriptionId]);
});
