/**
 * The simulated PVS end to end against the real stack started here: PKI service, persona cards
 * behind a private pcscd, the Konnektor (SOAP/TLS), the IDP (login with the SMC-B through the
 * Konnektor) and the Fachdienst (VAU). Covers UC 2.1 (prescribe → ready Tasks, tokens kept),
 * UC 2.5 (delete → cancelled, token gone), the three signature modes with VERIFY/PSO counted at
 * the HBA (A_18541: batch = one PIN entry, comfort = none after activation), the refusal of
 * invalid data before anything is sent (A_18612), the unsigned guard (A_18613), and the
 * printout: DataMatrix codes with at most 3 tokens that decode to the stored tokens (A_18543).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { verifySignedData } from '../../../simulators/lib/cms';
import { scanERezeptPng } from '../../../simulators/lib/datamatrix';
import { isValidAccessCode } from '../../../simulators/lib/erezept-token';
import type { Environment } from '../../../simulators/lib/config';
import { KbvBundleError, type KbvMedication } from '../../../simulators/lib/kbv-bundle';
import { FachdienstError, UnsignedPrescriptionError } from '../../../simulators/pvs/errors';
import { Pvs, type Prescription } from '../../../simulators/pvs/pvs';
import { assertSignedPrescription } from '../../../simulators/pvs/signing';
import { startFdFixture, type FdFixture } from '../fachdienst/helpers';
import { startIdpFixture } from '../idp/helpers';
import { HBA, PRACTICE_CONTEXT, SMCB, startPracticeStack, type PracticeStack } from '../konnektor-client/stack';

const IBUPROFEN: KbvMedication = { kind: 'pzn', pzn: '06313728', name: 'Ibuprofen AL 400 mg 20 Filmtabletten N1', form: 'FTA', normSize: 'N1', ingredient: { name: 'Ibuprofen', strength: { value: 400, unit: 'mg' } } };
const rx = (patient: string, medication: KbvMedication = IBUPROFEN): Prescription => ({ patient, medication, dosage: '1-0-1-0' });

let stack: PracticeStack;
let fdFx: FdFixture;
let env: Environment;
const pvsList: Pvs[] = [];

before(async () => {
  stack = await startPracticeStack({ vpcdFrom: 47200, name: 'pvs-e2e' });
  const idpFx = await startIdpFixture({ pkiService: stack.pkiService, tmp: stack.tmp });
  try {
    fdFx = await startFdFixture({ idpFx });
  } catch (e) {
    await idpFx.stop();
    throw e;
  }
  const s = stack.env.services;
  env = {
    ...stack.env,
    services: { ...s, idp: { ...s.idp, url: idpFx.idp.url }, fachdienst: { ...s.fachdienst, url: fdFx.fd.url }, konnektor: { ...s.konnektor, url: stack.konnektor.url } },
  };
});

after(async () => {
  for (const p of pvsList) await p.close().catch(() => undefined);
  await fdFx?.stop().catch(() => undefined);
  await fdFx?.idpFx.stop().catch(() => undefined);
  await stack?.stop();
});

async function openPvs(signatureMode: 'single' | 'batch' | 'comfort'): Promise<Pvs> {
  const pvs = await Pvs.open({ env, practice: SMCB, doctor: HBA, konnektor: { context: PRACTICE_CONTEXT, ca: stack.rootPem }, signatureMode });
  pvsList.push(pvs);
  return pvs;
}

const taskStatus = (id: string) => fdFx.fd.store.getTask(id)?.status;

test('UC 2.1 batch: three prescriptions → three ready Tasks, one PIN entry, tokens stored, QES by the HBA', async () => {
  const pvs = await openPvs('batch');
  const c0 = { ...stack.counter(HBA) };
  const results = await pvs.prescribe([rx('Jonas Keller'), rx('Anna Richter'), rx('Claudia Neumann')]);
  assert.equal(results.length, 3);
  assert.equal(stack.counter(HBA).verify - c0.verify, 1, 'batch: one PIN entry for three signatures');
  assert.equal(stack.counter(HBA).pso - c0.pso, 3);
  for (const r of results) {
    assert.equal(taskStatus(r.taskId), 'ready', `Task ${r.taskId} is ready at the Fachdienst`);
    assert.equal(r.task.status, 'ready');
    assert.ok(isValidAccessCode(r.token.accessCode));
    assert.ok(r.bundle.toString('utf8').includes(r.taskId), 'the PrescriptionID is in the signed bundle (A_18544)');
    assert.ok(verifySignedData(r.signature).content.equals(r.bundle));
  }
  assert.equal(results[2].taskId.slice(0, 3), '200', 'PKV patient → flow type 200');
  assert.deepEqual(pvs.tokens.redeemable(results[0].kvnr), [results[0].token], 'the tokens of one patient');
  assert.equal(pvs.tokens.redeemable().length, 3);

  // A_18543: codes with at most 3 tokens, decoding to the stored tokens.
  const fourth = await pvs.prescribe([rx('Jonas Keller', { kind: 'freetext', text: 'Metformin 500 mg, 1 Packung N2' })]);
  const tokens = pvs.tokens.redeemable();
  assert.equal(tokens.length, 4);
  const pngs = pvs.printDataMatrix(tokens);
  assert.equal(pngs.length, 2, '4 tokens → 2 codes (3 + 1)');
  assert.deepEqual(pngs.flatMap((p) => scanERezeptPng(p)), tokens);
  assert.deepEqual(scanERezeptPng(pngs[1]), [fourth[0].token]);
  const pdfs = pvs.printPdf(tokens);
  assert.equal(pdfs.length, 2, 'one sheet per code');
  for (const pdf of pdfs) assert.equal(pdf.subarray(0, 5).toString('latin1'), '%PDF-');
});

test('UC 2.5: delete → Task cancelled, token removed; deleting again is refused by the PVS', async () => {
  const pvs = await openPvs('single');
  const [r] = await pvs.prescribe([rx('Jonas Keller')]);
  assert.equal(taskStatus(r.taskId), 'ready');
  await pvs.delete(r.taskId);
  assert.equal(taskStatus(r.taskId), 'cancelled');
  assert.equal(pvs.tokens.get(r.taskId), undefined);
  await assert.rejects(pvs.delete(r.taskId), TypeError);
});

test('A_18541 single: one SignDocument and one PIN entry per prescription', async () => {
  const pvs = await openPvs('single');
  const c0 = { ...stack.counter(HBA) };
  const rs = await pvs.prescribe([rx('Jonas Keller'), rx('Anna Richter')]);
  assert.equal(stack.counter(HBA).verify - c0.verify, 2, 'single: a PIN entry per signature');
  assert.equal(stack.counter(HBA).pso - c0.pso, 2);
  for (const r of rs) assert.equal(taskStatus(r.taskId), 'ready');
});

test('A_18541 comfort: one PIN entry at activation, none for later prescriptions', async () => {
  const pvs = await openPvs('comfort');
  const c0 = { ...stack.counter(HBA) };
  await pvs.prescribe([rx('Jonas Keller'), rx('Anna Richter')]);
  assert.equal(stack.counter(HBA).verify - c0.verify, 1, 'the activation is the only PIN entry');
  const c1 = { ...stack.counter(HBA) };
  const rs = await pvs.prescribe([rx('Claudia Neumann'), rx('Jonas Keller'), rx('Anna Richter')]);
  assert.equal(stack.counter(HBA).verify - c1.verify, 0, 'no PIN entry while the comfort signature is active');
  assert.equal(stack.counter(HBA).pso - c1.pso, 3);
  for (const r of rs) assert.equal(taskStatus(r.taskId), 'ready');
});

test('A_18612: invalid prescription data is refused with the issues before any Task is created', async () => {
  const pvs = await openPvs('batch');
  const before = countTasks();
  await assert.rejects(
    pvs.prescribe([rx('Jonas Keller'), rx('Anna Richter', { ...IBUPROFEN, pzn: '' } as KbvMedication)]),
    (e: unknown) => e instanceof KbvBundleError && e.issues.some((i) => i.location === 'medication.pzn'),
  );
  await assert.rejects(
    pvs.prescribe([{ patient: { kvnr: 'X123456789', givenName: 'A', surname: 'B', birthDate: '1990-01-01' }, coverage: { type: 'GKV', payorIk: '109900019', payorName: 'Kasse' }, medication: IBUPROFEN }]),
    (e: unknown) => e instanceof KbvBundleError && e.issues.some((i) => i.location === 'patient.kvnr'),
  );
  assert.equal(countTasks(), before, 'no $create was sent');
});

test('A_18613: the guard refuses anything but a CMS of the bundle by the HBA; the Fachdienst error is typed', async () => {
  const k = stack.client();
  const cards = await k.getCards();
  const hba = cards.find((c) => c.cardType === 'HBA')?.cardHandle as string;
  const smcb = cards.find((c) => c.cardType === 'SMC-B')?.cardHandle as string;
  const qes = (await k.readCardCertificate(hba, 'C.QES')) as Buffer;
  const bundle = Buffer.from('<Bundle xmlns="http://hl7.org/fhir"><id value="x"/></Bundle>');
  const [byHba] = await k.signDocument(hba, [{ content: bundle }], { includeRevocationInfo: false });
  const [bySmcb] = await k.signDocument(smcb, [{ content: bundle }], { includeRevocationInfo: false });
  assert.doesNotThrow(() => assertSignedPrescription(byHba.signature as Buffer, bundle, qes));
  assert.throws(() => assertSignedPrescription(bundle, bundle, qes), UnsignedPrescriptionError, 'the unsigned bundle itself');
  assert.throws(() => assertSignedPrescription(Buffer.from('garbage'), bundle, qes), UnsignedPrescriptionError);
  assert.throws(() => assertSignedPrescription(bySmcb.signature as Buffer, bundle, qes), UnsignedPrescriptionError, 'signed by the SMC-B, not the HBA');
  assert.throws(() => assertSignedPrescription(byHba.signature as Buffer, Buffer.from('<Bundle/>'), qes), UnsignedPrescriptionError, 'another document');

  // A Fachdienst refusal surfaces as FachdienstError with status and production text.
  const pvs = await openPvs('batch');
  const [r] = await pvs.prescribe([rx('Jonas Keller')]);
  await pvs.delete(r.taskId);
  pvs.tokens.put({ token: r.token, kvnr: r.kvnr, status: 'ready', signedBundle: r.signature, activatedAt: new Date() });
  await assert.rejects(pvs.delete(r.taskId), (e: unknown) => e instanceof FachdienstError && e.status === 410 && e.operation === 'Task.$abort' && e.text === 'Task has already been deleted');
});

function countTasks(): number {
  return (fdFx.fd.store.db.prepare('SELECT COUNT(*) AS n FROM tasks').get() as { n: number }).n;
}
