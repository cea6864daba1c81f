/**
 * The simulated FdV end to end against the real stack started here: PKI service, persona cards
 * behind a private pcscd (the insured's eGK is read through PC/SC), the Konnektor (the PVS signs
 * with the HBA), the IDP (the FdV logs in as client eRezeptApp with the eGK) and the Fachdienst's
 * insured API through the VAU.
 *
 * Covered: UC 5.1 (eGK login), UC 3.1 (GET /Task with paging, GET /Task/<id>, AccessCode for the
 * FdV, only one's own prescriptions), A_18789/A_18534/A_18535/A_18539 on downloaded data, UC 3.6
 * (representative with the token; without or with a wrong AccessCode 403 "AccessCode mismatch"),
 * A_20756 (Prüfkarte eGK ↔ insured refused with 400, both directions), UC 3.2 (delete → 410 on the
 * next read; in-progress refused with 403; another insured's prescription without AccessCode
 * refused), UC 3.5 (access log with the entries of these actions, filters, paging, language).
 *
 * Cards: slots 0-3 = HBA, SMC-B of the practice, Jonas Keller's eGK, the pharmacy's SMC-B. After
 * all prescriptions are signed, the HBA leaves slot 0 for Anna Richter's eGK, later for Erika
 * Mustermann's Prüfkarte.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Environment } from '../../../simulators/lib/config';
import { scanERezeptPng } from '../../../simulators/lib/datamatrix';
import type { ERezeptToken } from '../../../simulators/lib/erezept-token';
import type { KbvMedication } from '../../../simulators/lib/kbv-bundle';
import { fetchPkiTrust, type IdpTrust } from '../../../simulators/lib/idp-client';
import { Avs } from '../../../simulators/avs/avs';
import { Pvs, type PrescriptionResult } from '../../../simulators/pvs/pvs';
import { Fdv } from '../../../simulators/fdv/fdv';
import { FdvError } from '../../../simulators/fdv/errors';
import { startFdFixture, type FdFixture } from '../fachdienst/helpers';
import { startIdpFixture } from '../idp/helpers';
import { HBA, PRACTICE_CONTEXT, SMCB, startPracticeStack, type PracticeStack } from '../konnektor-client/stack';

const JONAS = 'Jonas Keller';
const ANNA = 'Anna Richter';
const ERIKA = 'Erika Mustermann';
const PHARMACY = 'Apotheke am Markt';
const IBUPROFEN: KbvMedication = { kind: 'pzn', pzn: '06313728', name: 'Ibuprofen AL 400 mg 20 Filmtabletten N1', form: 'FTA', normSize: 'N1', ingredient: { name: 'Ibuprofen', strength: { value: 400, unit: 'mg' } } };

let stack: PracticeStack;
let fdFx: FdFixture;
let env: Environment;
let trust: IdpTrust;
let pvs: Pvs;
let jonas: Fdv;
const fdvs: Fdv[] = [];
let rx: PrescriptionResult[];
let jonasRx: PrescriptionResult[];
let annaRx: PrescriptionResult;
let erikaRx: PrescriptionResult;

async function openFdv(insured: string): Promise<Fdv> {
  const f = await Fdv.open({ env, trust, insured });
  fdvs.push(f);
  return f;
}

async function swapSlot0(persona: string): Promise<void> {
  await stack.cards.remove({ slot: 0 });
  await stack.cards.insert(persona, 0);
}

async function rejectsWith(p: Promise<unknown>, status: number, text: string | RegExp): Promise<FdvError> {
  const e = await p.then(() => assert.fail(`expected FdvError ${status}`), (x: unknown) => x);
  assert.ok(e instanceof FdvError, `expected FdvError, got ${(e as Error)?.name}: ${(e as Error)?.message}`);
  assert.equal(e.status, status, e.message);
  if (typeof text === 'string') assert.equal(e.text, text);
  else assert.match(e.text, text);
  return e;
}

before(async () => {
  stack = await startPracticeStack({ vpcdFrom: 48600, personas: [HBA, SMCB, JONAS, PHARMACY, ANNA, ERIKA], insert: [HBA, SMCB, JONAS, PHARMACY], name: 'fdv-e2e' });
  const idpFx = await startIdpFixture({ pkiService: stack.pkiService, tmp: stack.tmp });
  try {
    fdFx = await startFdFixture({ idpFx });
  } catch (e) {
    await idpFx.stop();
    throw e;
  }
  const s = stack.env.services;
  env = { ...stack.env, services: { ...s, idp: { ...s.idp, url: idpFx.idp.url }, fachdienst: { ...s.fachdienst, url: fdFx.fd.url }, konnektor: { ...s.konnektor, url: stack.konnektor.url } } };
  trust = await fetchPkiTrust(env.services.pki.url);
  pvs = await Pvs.open({ env, practice: SMCB, doctor: HBA, konnektor: { context: PRACTICE_CONTEXT, ca: stack.rootPem }, signatureMode: 'batch' });
  const dose = (patient: string, dosage: string) => ({ patient, medication: IBUPROFEN, dosage });
  rx = await pvs.prescribe([dose(JONAS, '1-0-1-0'), dose(JONAS, '0-0-1-0'), dose(JONAS, '1-0-0-0'), dose(JONAS, '1-1-1-0'), dose(ANNA, '1-0-0-0'), dose(ERIKA, '1-0-0-0')]);
  jonasRx = rx.slice(0, 4);
  annaRx = rx[4];
  erikaRx = rx[5];
  jonas = await openFdv(JONAS);
});

after(async () => {
  for (const f of fdvs) await f.close().catch(() => undefined);
  await pvs?.close().catch(() => undefined);
  await fdFx?.stop().catch(() => undefined);
  await fdFx?.idpFx.stop().catch(() => undefined);
  await stack?.stop();
});

test('UC 5.1 + UC 3.1: login with the eGK through PC/SC; GET /Task pages (_count=2); each prescription with AccessCode and KBV content; only his own', async () => {
  const before = stack.counter(JONAS).pso;
  const tokens = await jonas.login();
  assert.equal(stack.counter(JONAS).pso - before, 1, 'the eGK signed the challenge (one PSO over PC/SC)');
  assert.ok(tokens.accessToken.length > 100);
  const listing = await jonas.listTasks({ count: 2 });
  assert.ok(listing.pages >= 2, `paged: ${listing.pages} pages`);
  assert.deepEqual(listing.items.map((t) => t.taskId).sort(), jonasRx.map((r) => r.taskId).sort(), 'exactly his four prescriptions, none of Anna or Erika');
  const all = await jonas.downloadAll({ count: 2 });
  for (const r of jonasRx) {
    const h = all.find((x) => x.taskId === r.taskId);
    assert.equal(h?.status, 'ready');
    assert.equal(h?.kvnr, r.kvnr);
    assert.equal(h?.accessCode, r.token.accessCode, 'A_20555: the FdV gets the AccessCode');
    assert.ok(h?.prescription, 'the KBV bundle came with GET /Task/<id>');
  }
  const c = jonas.content(jonasRx[1].taskId);
  assert.equal(c.medication.name, IBUPROFEN.name);
  assert.equal(c.dosage, '0-0-1-0');
  assert.match(c.prescriber?.name ?? '', /Hanna Ebert/);
  assert.equal(c.patient?.kvnr, jonasRx[1].kvnr);
});

test('A_18789/A_18534/A_18535: tokens of downloaded prescriptions in one DataMatrix code scan back to the PVS tokens', async () => {
  const tokens = jonasRx.slice(0, 3).map((r) => jonas.token(r.taskId));
  assert.deepEqual(tokens, jonasRx.slice(0, 3).map((r) => r.token));
  const png = jonas.dataMatrix(tokens);
  assert.deepEqual(scanERezeptPng(png), tokens);
  assert.deepEqual(jonas.scan(png), tokens);
});

test('UC 3.6: representative with the token reads the prescription; without or with a wrong AccessCode 403 "AccessCode mismatch"', async () => {
  await swapSlot0(ANNA);
  const anna = await openFdv(ANNA);
  const token: ERezeptToken = jonas.token(jonasRx[0].taskId);
  const held = await anna.retrieveAsRepresentative(token);
  assert.equal(held.asRepresentative, true);
  assert.equal(held.kvnr, jonasRx[0].kvnr);
  assert.equal(anna.content(token.prescriptionId).dosage, '1-0-1-0');
  await rejectsWith(anna.getPrescription(token.prescriptionId), 403, 'AccessCode mismatch');
  await rejectsWith(anna.getPrescription(token.prescriptionId, { accessCode: 'f'.repeat(64) }), 403, 'AccessCode mismatch');
  // another insured's prescription: Jonas cannot delete Anna's without her AccessCode
  await rejectsWith(jonas.delete(annaRx.taskId), 403, /AccessCode/);
});

test('A_20756: Prüfkarte eGK and insured cannot reach each other\'s prescriptions (400), both directions', async () => {
  await swapSlot0(ERIKA);
  const erika = await openFdv(ERIKA);
  const text = 'KVNR verification identities may not access information from insurants and vice versa';
  await rejectsWith(erika.retrieveAsRepresentative(jonasRx[3].token), 400, text);
  await rejectsWith(jonas.retrieveAsRepresentative(erikaRx.token), 400, text);
  const own = await erika.downloadAll();
  assert.deepEqual(own.map((h) => h.taskId), [erikaRx.taskId], 'the Prüfkarte sees its own prescription');
});

test('UC 3.2: delete → 204, then 410 "Task has already been deleted"; in-progress (accepted by the pharmacy) → 403', async () => {
  const gone = jonasRx[2].taskId;
  await jonas.delete(gone);
  assert.equal(jonas.heldPrescription(gone), undefined, 'the FdV forgets the prescription');
  await rejectsWith(jonas.getPrescription(gone), 410, 'Task has already been deleted');
  const avs = await Avs.create({ env, trust, pharmacy: PHARMACY, konnektor: stack.client() });
  try {
    await avs.accept(jonasRx[3].token);
    await rejectsWith(jonas.delete(jonasRx[3].taskId), 403, 'Task must not be in progress for users other than pharmacy, but is: in-progress');
  } finally {
    await avs.shutdown();
  }
});

test('UC 3.5: the access log shows the representative read, the deletion, with filters, paging and language', async () => {
  const all = await jonas.auditEvents({ sort: '-date', language: 'de' });
  assert.ok(all.items.length >= 4, `entries: ${all.items.length}`);
  const recorded = all.items.map((e) => e.recorded ?? '');
  assert.deepEqual([...recorded].sort().reverse(), recorded, '_sort=-date: newest first');
  const annaKvnr = 'R319754024';
  const repRead = all.items.find((e) => e.agentId === annaKvnr && e.prescriptionId === jonasRx[0].taskId);
  assert.ok(repRead, 'the representative\'s read is logged for Jonas (A_18497: who, what)');
  assert.ok(repRead.text && repRead.agentName, 'readable text and name');
  const deleted = await jonas.auditEvents({ subtype: 'delete' });
  assert.ok(deleted.items.length >= 1 && deleted.items.every((e) => e.action === 'D'), 'subtype=delete: only deletions');
  assert.ok(deleted.items.some((e) => e.prescriptionId === jonasRx[2].taskId));
  const paged = await jonas.auditEvents({ count: 2 });
  assert.ok(paged.pages >= 2, 'paging with _count=2');
  assert.equal(paged.items.length, all.items.length);
  const en = await jonas.auditEvents({ language: 'en', prescriptionId: jonasRx[0].taskId });
  const de = await jonas.auditEvents({ language: 'de', prescriptionId: jonasRx[0].taskId });
  assert.ok(en.items.length > 0 && en.items.every((e) => e.prescriptionId === jonasRx[0].taskId), 'entity filter');
  assert.notEqual(en.items[0].text, de.items[0].text, 'Accept-Language changes the text');
  assert.ok(all.items.every((e) => e.agentId !== undefined), 'every entry names the accessing party');
});
