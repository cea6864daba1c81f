/**
 * The AVS's receipt check against production data: the real $accept answer and $close receipt of the
 * E2E suite (ru-dumps Apotheke/quittung_erneut_abfragen). The receipt must name the task and carry the
 * SHA-256 of the prescription the pharmacy received; a receipt for another prescription is flagged.
 * (The signature check needs a Konnektor: here none answers, so it is the "not possible" warning.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { sharedPath } from '../../../simulators/lib/shared-data';
import { offlineAvs, ScriptedFachdienst } from './helpers';

const DUMP = sharedPath('reference', 'ru-dumps', 'Apotheke', 'quittung_erneut_abfragen');
const read = (f: string) => fs.readFileSync(path.join(DUMP, f), 'utf8');
const TOKEN = { prescriptionId: '160.000.239.761.372.41', accessCode: '7f657eee931825f0c065bc4c7634b6da4e394d7381cc0d7d6609312e8833181b' };
const SECRET = '8ce935ce9c705e8d5a036c0e4e2899e2aa0faa6804d82f116ff07a9d6b68a5e2';

async function run(closeAnswer: string, againAnswer: string) {
  const fd = new ScriptedFachdienst([
    () => ({ status: 200, body: read('007_Response_Bundle.xml') }),
    () => ({ status: 200, body: closeAnswer }),
    () => ({ status: 200, body: againAnswer }),
  ]);
  const avs = await offlineAvs({ fachdienst: fd, now: () => Date.parse('2025-03-28T09:00:00Z') });
  try {
    avs.remember(TOKEN);
    const accepted = await avs.accept(TOKEN.prescriptionId);
    const receipt = await avs.close(TOKEN.prescriptionId);
    const again = await avs.receipt(TOKEN.prescriptionId);
    return { fd, accepted, receipt, again, avs };
  } finally {
    await avs.shutdown();
  }
}

test('production receipt: names the task, digest = SHA-256 of the accepted prescription; requests as production sent them', async () => {
  const { fd, accepted, receipt, again } = await run(read('009_Response_Bundle.xml'), read('010_Response_Bundle.xml'));
  assert.equal(accepted.secret, SECRET, 'the Secret of the production Task (A_18553)');
  assert.deepEqual(receipt.problems, []);
  assert.equal(receipt.referencesPrescription, true);
  assert.deepEqual(again.problems, [], 'GET Task?secret= answer (collection with the receipt)');
  assert.ok(!receipt.signatureCheck.ok && receipt.signatureCheck.warning === 'not-possible', 'no Konnektor → warning, not VALID');
  assert.deepEqual(
    fd.requests.map((r) => `${r.method} ${r.target}`),
    [`POST /Task/${TOKEN.prescriptionId}/$accept?ac=${TOKEN.accessCode}`, `POST /Task/${TOKEN.prescriptionId}/$close?secret=${SECRET}`, `GET /Task/${TOKEN.prescriptionId}?secret=${SECRET}`],
  );
  const closeBody = String(fd.requests[1].opts.body);
  assert.match(closeBody, /GEM_ERP_PR_PAR_CloseOperation_Input\|1\.6/);
  assert.match(closeBody, /<whenHandedOver value="2025-03-28"\/>/);
  assert.match(closeBody, /X110614233/, 'the KVNR of the prescription');
});

test('a receipt for another prescription (other digest and identifier) is flagged', async () => {
  const other = read('009_Response_Bundle.xml')
    .replace('of70BXlsAnigQYJcsw6bg6xx/aOQgXNMs2xUvnSOXRg=', Buffer.alloc(32, 7).toString('base64'))
    .replace(/(GEM_ERP_NS_PrescriptionId"\/>\s*<value value=")160\.000\.239\.761\.372\.41/, '$1160.000.000.000.001.31');
  const { receipt } = await run(other, read('010_Response_Bundle.xml'));
  assert.equal(receipt.referencesPrescription, false);
  assert.ok(receipt.problems.some((p) => /digest does not match/.test(p)), receipt.problems.join('; '));
  assert.ok(receipt.problems.some((p) => /identifier .* is not the task id/.test(p)), receipt.problems.join('; '));
});
