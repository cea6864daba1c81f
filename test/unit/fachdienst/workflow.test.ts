/**
 * The prescription workflow through the VAU with real IDP tokens: lifecycle 160 with a real KBV bundle,
 * the receipt checked with openssl against our root, every state-machine refusal with production's
 * status and text, the A_18556 checks of $activate, AccessCode/Secret, roles, abort and deletion.
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseFhirXml, type FhirJson } from '../../../simulators/lib/fhir';
import { PROFESSION_OID } from '../../../simulators/fachdienst/roles';
import { isAllowedTransition } from '../../../simulators/fachdienst/workflow/state-machine';
import { PROFESSION } from '../../../simulators/pki/oids';
import type { IssuedCertificateWithKey, Pki } from '../../../simulators/pki/hierarchy';
import { startFdFixture, type FdFixture } from './helpers';
import {
  activateParameters,
  berlinDay,
  createParameters,
  fhir,
  KBV_DIR,
  outcomeTexts,
  signWith,
  statusOf,
  substituteBundle,
  valueOf, practiceLogin, pharmacyLogin } from './workflow-helpers';

const NS = {
  ac: 'https://gematik.de/fhir/erp/NamingSystem/GEM_ERP_NS_AccessCode',
  secret: 'https://gematik.de/fhir/erp/NamingSystem/GEM_ERP_NS_Secret',
  kvnr: 'http://fhir.de/sid/gkv/kvid-10',
};
const GKV_BUNDLE = fs.readFileSync(path.join(KBV_DIR, 'Beispiel_12.xml'), 'utf8');
const DISPENSE = (id: string, kvnr: string, telematikId: string) =>
  `<Parameters xmlns="http://hl7.org/fhir"><parameter><name value="rxDispensation"/><part><name value="medicationDispense"/><resource><MedicationDispense><id value="md1"/><identifier><system value="https://gematik.de/fhir/erp/NamingSystem/GEM_ERP_NS_PrescriptionId"/><value value="${id}"/></identifier><status value="completed"/><medicationReference><reference value="urn:uuid:5fe6e06c-8725-46d5-aecd-e65e041ca3af"/></medicationReference><subject><identifier><system value="${NS.kvnr}"/><value value="${kvnr}"/></identifier></subject><performer><actor><identifier><system value="https://gematik.de/fhir/sid/telematik-id"/><value value="${telematikId}"/></identifier></actor></performer><whenHandedOver value="2025-01-01"/></MedicationDispense></resource></part><part><name value="medication"/><resource><Medication><id value="5fe6e06c-8725-46d5-aecd-e65e041ca3af"/><code><coding><system value="http://fhir.de/CodeSystem/ifa/pzn"/><code value="12345678"/></coding></code></Medication></resource></part></parameter></Parameters>`;

let fx: FdFixture;
let pki: Pki;
let practice: string;
let pharmacy: string;
let pharmacyId: string;
let pharmacy2: string;
let hba: IssuedCertificateWithKey;

before(async () => {
  fx = await startFdFixture();
  pki = fx.idpFx.pkiService.pki;
  practice = await practiceLogin(fx);
  ({ token: pharmacy, telematikId: pharmacyId } = await pharmacyLogin(fx));
  pharmacy2 = (await pharmacyLogin(fx)).token;
  hba = pki.issue({ profile: 'C.HP.QES' });
});
after(async () => {
  await fx?.stop();
});

async function create(flowType: number | string = 160): Promise<{ id: string; ac: string }> {
  const r = await fhir(fx, practice, 'POST', '/Task/$create', createParameters(flowType));
  assert.equal(r.status, 201, r.body);
  const id = /<id value="([^"]*)"/.exec(r.body)?.[1] as string;
  return { id, ac: valueOf(r.body, NS.ac) as string };
}

function signedBundle(id: string, opts: { key?: IssuedCertificateWithKey; signingTime?: Date; xml?: string; authoredOn?: string } = {}): Buffer {
  const now = opts.signingTime ?? fx.fd.clock.now();
  const xml = substituteBundle(opts.xml ?? GKV_BUNDLE, id, opts.authoredOn ?? berlinDay(fx.fd.clock.now()));
  return signWith(opts.key ?? hba, xml, now);
}

async function activate(t: { id: string; ac: string }, cms: Buffer = signedBundle(t.id)) {
  return fhir(fx, practice, 'POST', `/Task/${t.id}/$activate`, activateParameters(cms), { 'X-AccessCode': t.ac });
}

async function prescribe(): Promise<{ id: string; ac: string; kvnr: string }> {
  const t = await create();
  const r = await activate(t);
  assert.equal(r.status, 200, r.body);
  return { ...t, kvnr: valueOf(r.body, NS.kvnr) as string };
}

async function accept(t: { id: string; ac: string }, token = pharmacy) {
  return fhir(fx, token, 'POST', `/Task/${t.id}/$accept?ac=${t.ac}`);
}

async function acceptOk(t: { id: string; ac: string }): Promise<string> {
  const r = await accept(t);
  assert.equal(r.status, 200, r.body);
  return valueOf(r.body, NS.secret) as string;
}

describe('Fachdienst workflow: lifecycle 160', () => {
  test('create → activate → accept → dispense → close; receipt verifies with openssl against our root; GET receipt again', async () => {
    const t = await create();
    assert.match(t.id, /^160\.\d{3}\.\d{3}\.\d{3}\.\d{3}\.\d{2}$/);
    assert.match(t.ac, /^[0-9a-f]{64}$/);
    assert.equal(fx.fd.store.getTask(t.id)?.status, 'draft');

    const act = await activate(t);
    assert.equal(act.status, 200, act.body);
    assert.equal(statusOf(act.body), 'ready');
    const task = parseFhirXml(act.body);
    const exts = (task.extension as FhirJson[]).map((e) => e.url as string);
    assert.ok(exts.some((u) => u.endsWith('GEM_ERP_EX_ExpiryDate')) && exts.some((u) => u.endsWith('GEM_ERP_EX_AcceptDate')));
    const kvnr = valueOf(act.body, NS.kvnr) as string;
    assert.match(kvnr, /^[A-Z]\d{9}$/);
    const stored = fx.fd.store.getTask(t.id);
    assert.equal(stored?.kvnr, kvnr);
    assert.equal(fx.fd.store.binariesOfTask(t.id, 'signed-prescription').length, 1);
    assert.equal(fx.fd.store.binariesOfTask(t.id, 'server-signed-prescription').length, 1);

    const acc = await accept(t);
    assert.equal(acc.status, 200, acc.body);
    assert.match(acc.body, /<type value="collection"\/>/);
    const secret = valueOf(acc.body, NS.secret) as string;
    assert.match(secret, /^[0-9a-f]{64}$/);
    const binData = /<data value="([^"]*)"/.exec(acc.body)?.[1] as string;
    assert.deepEqual(Buffer.from(binData, 'base64'), fx.fd.store.binariesOfTask(t.id, 'signed-prescription')[0].data);

    const disp = await fhir(fx, pharmacy, 'POST', `/Task/${t.id}/$dispense?secret=${secret}`, DISPENSE(t.id, kvnr, pharmacyId));
    assert.equal(disp.status, 200, disp.body);
    assert.match(disp.body, /<MedicationDispense/);

    const close = await fhir(fx, pharmacy, 'POST', `/Task/${t.id}/$close?secret=${secret}`);
    assert.equal(close.status, 200, close.body);
    assert.equal(fx.fd.store.getTask(t.id)?.status, 'completed');
    const receipt = parseFhirXml(close.body);
    assert.equal((receipt.identifier as FhirJson).value, t.id);
    const sig = Buffer.from((receipt.signature as FhirJson).data as string, 'base64');
    const dir = fs.mkdtempSync(path.join(fx.idpFx.tmp, 'receipt-'));
    fs.writeFileSync(path.join(dir, 'sig.der'), sig);
    fs.writeFileSync(path.join(dir, 'root.pem'), pki.rootCertificatePem);
    fs.writeFileSync(path.join(dir, 'chain.pem'), pki.chainOf('komp-ca').join('\n'));
    const content = execFileSync('openssl', ['cms', '-verify', '-inform', 'DER', '-in', path.join(dir, 'sig.der'), '-CAfile', path.join(dir, 'root.pem'), '-certfile', path.join(dir, 'chain.pem'), '-purpose', 'any'], { stdio: ['ignore', 'pipe', 'pipe'] }).toString('utf8');
    assert.match(content, new RegExp(`<value value="${t.id.replace(/\./g, '\\.')}"/>`));
    assert.match(content, /<title value="Quittung"\/>/);

    const again = await fhir(fx, pharmacy, 'GET', `/Task/${t.id}?secret=${secret}`);
    assert.equal(again.status, 200, again.body);
    assert.ok(again.body.includes((receipt.signature as FhirJson).data as string), 'the same signed receipt is returned');

    const events = fx.fd.store.auditEventsOfInsured(kvnr).filter((e) => e.taskId === t.id).map((e) => e.description);
    assert.deepEqual(events, ['POST_Task_activate', 'POST_Task_accept', 'POST_Task_dispense', 'POST_Task_close', 'GET_Task_id_pharmacy']);
  });

  test('$create: prescription IDs are sequential per flow type and never reused; bad Parameters are refused', async () => {
    const a = await create();
    const b = await create();
    assert.notEqual(a.id, b.id);
    assert.equal(Number(b.id.replace(/\D/g, '').slice(3, 15)), Number(a.id.replace(/\D/g, '').slice(3, 15)) + 1);
    assert.match((await create(209)).id, /^209\./);
    const bad = await fhir(fx, practice, 'POST', '/Task/$create', createParameters(165));
    assert.equal(bad.status, 400);
    assert.deepEqual(outcomeTexts(bad.body), ['Invalid workFlowType in incoming parameters']);
    const two = createParameters(160).replace('</Parameters>', '<parameter><name value="workflowType"/><valueString value="x"/></parameter></Parameters>');
    assert.deepEqual(outcomeTexts((await fhir(fx, practice, 'POST', '/Task/$create', two)).body), ['unexpected number of parameters']);
    const noSystem = await fhir(fx, practice, 'POST', '/Task/$create', createParameters(160, 'urn:other'));
    assert.deepEqual([noSystem.status, outcomeTexts(noSystem.body)], [400, ['missing workflow system']]);
    const garbage = await fhir(fx, practice, 'POST', '/Task/$create', '<nope');
    assert.equal(garbage.status, 400);
  });
});

describe('Fachdienst workflow: $activate checks (A_18556)', () => {
  const refused = async (t: { id: string; ac: string }, cms: Buffer, text: string | RegExp) => {
    const r = await activate(t, cms);
    assert.equal(r.status, 400, r.body);
    const texts = outcomeTexts(r.body);
    if (typeof text === 'string') assert.equal(texts[0], text);
    else assert.match(texts[0], text);
    assert.equal(fx.fd.store.getTask(t.id)?.status, 'draft', 'task stays draft');
    return r;
  };

  test('unsigned bundle', async () => {
    const t = await create();
    const r = await refused(t, Buffer.from(substituteBundle(GKV_BUNDLE, t.id, berlinDay(fx.fd.clock.now()))), /not a CMS SignedData/);
    assert.equal(r.vauErrorCode, 'invalid_prescription');
  });

  test('tampered content', async () => {
    const t = await create();
    const cms = signedBundle(t.id);
    const i = cms.indexOf(Buffer.from('<Bundle'));
    cms[i + 1] = 'b'.charCodeAt(0);
    await refused(t, cms, /signature verification failed/);
  });

  test('signer without prescriber profession (Apotheker QES)', async () => {
    const t = await create();
    const apotheker = pki.issue({ profile: 'C.HP.QES', professionOid: PROFESSION.apotheker.oid });
    await refused(t, signedBundle(t.id, { key: apotheker }), 'The QES-Certificate does not have expected ProfessionOID.');
  });

  test('signer certificate not a C.HP.QES (C.HP.AUT) and revoked HBA', async () => {
    const t = await create();
    await refused(t, signedBundle(t.id, { key: pki.issue({ profile: 'C.HP.AUT' }) }), /not a C\.HP\.QES/);
    const revoked = pki.issue({ profile: 'C.HP.QES' });
    pki.revoke(revoked.serialNumber, 'keyCompromise');
    await refused(t, signedBundle(t.id, { key: revoked }), 'The signer certificate is revoked');
  });

  test('signing day differs from authoredOn', async () => {
    const t = await create();
    const r = await refused(t, signedBundle(t.id, { authoredOn: '2020-01-01' }), 'Ausstellungsdatum und Signaturzeitpunkt weichen voneinander ab, müssen aber taggleich sein');
    assert.match(r.body, /authoredOn=2020-01-01/);
  });

  test('bundle identifier ≠ task id', async () => {
    const t = await create();
    const other = await create();
    await refused(t, signedBundle(other.id), 'PrescriptionId mismatch between Task and QES-Bundle');
  });

  test('bundle invalid against kbv.ita.erp', async () => {
    const t = await create();
    const broken = GKV_BUNDLE.replace(/<type value="document"\s*\/>/, '<type value="collection" />');
    await refused(t, signedBundle(t.id, { xml: broken }), 'parsing / validation error');
  });

  test('PKV flow type with a GKV coverage', async () => {
    const t = await create(200);
    await refused(t, signedBundle(t.id), 'Coverage "PKV" not set for flowtype 200/209');
  });

  test('wrong AccessCode: 403 AccessCode mismatch with VAU-Error-Code brute_force', async () => {
    const t = await create();
    const r = await activate({ id: t.id, ac: 'f'.repeat(64) });
    assert.deepEqual([r.status, outcomeTexts(r.body), r.vauErrorCode], [403, ['AccessCode mismatch'], 'brute_force']);
  });

  test('repeated $activate after success answers 403 naming status ready (A_18825)', async () => {
    const t = await prescribe();
    const r = await activate(t);
    assert.deepEqual([r.status, outcomeTexts(r.body)], [403, ['Task not in status draft but in status ready']]);
  });
});

describe('Fachdienst workflow: state machine refusals (TAB_SYSLERP_006, A_18522)', () => {
  test('the transition table', () => {
    assert.ok(isAllowedTransition('accept', 'ready', 'pharmacy'));
    assert.ok(!isAllowedTransition('accept', 'in-progress', 'pharmacy'));
    assert.ok(isAllowedTransition('abort', 'in-progress', 'pharmacy'));
    assert.ok(!isAllowedTransition('abort', 'in-progress', 'prescriber'));
    assert.ok(!isAllowedTransition('close', 'ready', 'pharmacy'));
  });

  test('accept: draft 409, twice by the same pharmacy 409 + "processed by requesting institution", by a second pharmacy 409', async () => {
    const draft = await create();
    const d = await accept(draft);
    assert.deepEqual([d.status, outcomeTexts(d.body)], [409, ['Task has invalid status draft']]);
    const t = await prescribe();
    await acceptOk(t);
    const same = await accept(t);
    assert.deepEqual([same.status, outcomeTexts(same.body)], [409, ['Task has invalid status in-progress', 'Task is processed by requesting institution']]);
    const other = await accept(t, pharmacy2);
    assert.deepEqual([other.status, outcomeTexts(other.body)], [409, ['Task has invalid status in-progress']]);
    const wrongAc = await accept({ id: t.id, ac: '0'.repeat(64) }, pharmacy2);
    assert.deepEqual([wrongAc.status, wrongAc.vauErrorCode], [403, 'brute_force']);
  });

  test('close/dispense/reject on ready; wrong secret; close without dispense; close after completed', async () => {
    const t = await prescribe();
    const c = await fhir(fx, pharmacy, 'POST', `/Task/${t.id}/$close?secret=x`);
    assert.deepEqual([c.status, outcomeTexts(c.body)], [403, ['Task has to be in progress, but is: ready']]);
    // production DispenseTaskHandler checks the secret first (a ready task has none), dump zeitnahe_…_erst_nach_akzeptieren
    const d = await fhir(fx, pharmacy, 'POST', `/Task/${t.id}/$dispense?secret=x`, DISPENSE(t.id, t.kvnr, pharmacyId));
    assert.deepEqual([d.status, outcomeTexts(d.body)], [403, ['No or invalid secret provided for Task']]);
    const rj = await fhir(fx, pharmacy, 'POST', `/Task/${t.id}/$reject?secret=x`);
    assert.deepEqual([rj.status, outcomeTexts(rj.body)], [403, ['Task not in status in progress, is: ready']]);
    const secret = await acceptOk(t);
    const wrong = await fhir(fx, pharmacy, 'POST', `/Task/${t.id}/$close?secret=fgdkjfgd`);
    assert.deepEqual([wrong.status, outcomeTexts(wrong.body), wrong.vauErrorCode], [403, ['No or invalid secret provided for Task'], 'brute_force']);
    const none = await fhir(fx, pharmacy, 'POST', `/Task/${t.id}/$close?secret=${secret}`);
    assert.deepEqual([none.status, outcomeTexts(none.body)], [403, ['Medication dispense does not exist.']]);
    const ok = await fhir(fx, pharmacy, 'POST', `/Task/${t.id}/$close?secret=${secret}`, DISPENSE(t.id, t.kvnr, pharmacyId));
    assert.equal(ok.status, 200, ok.body);
    const again = await fhir(fx, pharmacy, 'POST', `/Task/${t.id}/$close?secret=${secret}`);
    assert.deepEqual([again.status, outcomeTexts(again.body)], [403, ['Task has to be in progress, but is: completed']]);
  });

  test('reject returns the task to ready, drops secret and dispense data; another pharmacy can accept', async () => {
    const t = await prescribe();
    const secret = await acceptOk(t);
    assert.equal((await fhir(fx, pharmacy, 'POST', `/Task/${t.id}/$dispense?secret=${secret}`, DISPENSE(t.id, t.kvnr, pharmacyId))).status, 200);
    const r = await fhir(fx, pharmacy, 'POST', `/Task/${t.id}/$reject?secret=${secret}`);
    assert.equal(r.status, 204, r.body);
    const s = fx.fd.store.getTask(t.id);
    assert.deepEqual([s?.status, s?.secret, s?.owner], ['ready', undefined, undefined]);
    assert.equal(fx.fd.store.binariesOfTask(t.id, 'medication-dispense').length, 0);
    assert.equal((await accept(t, pharmacy2)).status, 200);
  });

  test('abort: draft 403; pharmacy on ready 403; prescriber on in-progress 403; wrong secret 403', async () => {
    const draft = await create();
    const d = await fhir(fx, practice, 'POST', `/Task/${draft.id}/$abort`, undefined, { 'X-AccessCode': draft.ac });
    assert.deepEqual([d.status, outcomeTexts(d.body)], [403, ['Abort not expected for newly created Task']]);
    const t = await prescribe();
    const ph = await fhir(fx, pharmacy, 'POST', `/Task/${t.id}/$abort?secret=x`);
    assert.deepEqual([ph.status, outcomeTexts(ph.body)], [403, ['Task must be in progress for user pharmacy, is: ready']]);
    await acceptOk(t);
    const dr = await fhir(fx, practice, 'POST', `/Task/${t.id}/$abort`, undefined, { 'X-AccessCode': t.ac });
    assert.deepEqual([dr.status, outcomeTexts(dr.body)], [403, ['Task must not be in progress for users other than pharmacy, but is: in-progress']]);
    const ws = await fhir(fx, pharmacy, 'POST', `/Task/${t.id}/$abort?secret=fgdkjfgd`);
    assert.deepEqual([ws.status, outcomeTexts(ws.body), ws.vauErrorCode], [403, ['No or invalid secret provided for user pharmacy'], 'brute_force']);
  });
});

describe('Fachdienst workflow: abort, deletion (A_18820) and 410 (A_18952); roles', () => {
  test('prescriber abort deletes personal and medical data; later calls answer 410', async () => {
    const t = await prescribe();
    const wrong = await fhir(fx, practice, 'POST', `/Task/${t.id}/$abort`, undefined, { 'X-AccessCode': '1'.repeat(64) });
    assert.deepEqual([wrong.status, outcomeTexts(wrong.body)], [403, ['AccessCode mismatch']]);
    const r = await fhir(fx, practice, 'POST', `/Task/${t.id}/$abort`, undefined, { 'X-AccessCode': t.ac });
    assert.equal(r.status, 204, r.body);
    const s = fx.fd.store.getTask(t.id);
    assert.deepEqual([s?.status, s?.kvnr, s?.accessCode, s?.secret, s?.owner], ['cancelled', undefined, undefined, undefined, undefined]);
    assert.equal(fx.fd.store.binariesOfTask(t.id).length, 0);
    const acc = await accept(t);
    assert.deepEqual([acc.status, outcomeTexts(acc.body)], [410, ['Task meanwhile deleted for prescription id']]);
    const cl = await fhir(fx, pharmacy, 'POST', `/Task/${t.id}/$close?secret=x`);
    assert.deepEqual([cl.status, outcomeTexts(cl.body)], [410, ['Task has already been deleted']]);
    assert.ok(fx.fd.store.auditEventsOfInsured(t.kvnr).some((e) => e.taskId === t.id && e.action === 'D'));
  });

  test('pharmacy abort of an accepted task', async () => {
    const t = await prescribe();
    const secret = await acceptOk(t);
    const r = await fhir(fx, pharmacy, 'POST', `/Task/${t.id}/$abort?secret=${secret}`);
    assert.equal(r.status, 204, r.body);
    assert.equal(fx.fd.store.getTask(t.id)?.status, 'cancelled');
    assert.equal(fx.fd.store.binariesOfTask(t.id).length, 0);
  });

  test('roles: a pharmacy may not create, a practice may not accept; unknown task 404', async () => {
    const c = await fhir(fx, pharmacy, 'POST', '/Task/$create', createParameters(160));
    assert.deepEqual([c.status, outcomeTexts(c.body)], [403, [`endpoint is forbidden for professionOID ${PROFESSION_OID.oeffentlicheApotheke}`]]);
    const t = await prescribe();
    const a = await accept(t, practice);
    assert.equal(a.status, 403);
    const missing = await accept({ id: '160.999.999.999.999.38', ac: t.ac });
    assert.equal(missing.status, 404);
    const badId = await accept({ id: 'nope', ac: t.ac });
    assert.deepEqual([badId.status, outcomeTexts(badId.body)], [404, ['Failed to parse prescription ID from URL parameter']]);
  });
});
