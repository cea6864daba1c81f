/**
 * The insured's API of the Fachdienst (issue 7) through the VAU with real IDP tokens: GET /Task (list,
 * search, paging), GET /Task/{id} (insured, representative with X-AccessCode, 169/209, Prüfkarte,
 * deleted/draft), $abort by the insured and the representative, GET /MedicationDispense, GET
 * /AuditEvent (own entries only, de/en texts, filters, paging). Status codes and texts as production.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { errorsOf, validateResource, type FhirJson } from '../../../simulators/lib/fhir';
import { parseSignedData } from '../../../simulators/lib/cms';
import { buildPrescriptionId } from '../../../simulators/lib/erezept-token';
import type { IssuedCertificateWithKey, Pki } from '../../../simulators/pki/hierarchy';
import { APP_CLIENT } from '../idp/helpers';
import { startFdFixture, type FdFixture } from './helpers';
import { activateParameters, berlinDay, createParameters, fhir, KBV_DIR, signWith, substituteBundle, valueOf, type Reply, practiceLogin, pharmacyLogin, insuredLogin } from './workflow-helpers';

const NS = {
  ac: 'https://gematik.de/fhir/erp/NamingSystem/GEM_ERP_NS_AccessCode',
  secret: 'https://gematik.de/fhir/erp/NamingSystem/GEM_ERP_NS_Secret',
  pid: 'https://gematik.de/fhir/erp/NamingSystem/GEM_ERP_NS_PrescriptionId',
  kvnr: 'http://fhir.de/sid/gkv/kvid-10',
};
const BUNDLE_KVNR = 'P223331978';
const GKV_BUNDLE = fs.readFileSync(path.join(KBV_DIR, 'Beispiel_12.xml'), 'utf8');
const PRUEF_KVNR = 'X000000012';
const UNKNOWN_ID = buildPrescriptionId(160, 999_999_999);
const DISPENSE = (id: string, kvnr: string, telematikId: string, handedOver: string) =>
  `<Parameters xmlns="http://hl7.org/fhir"><parameter><name value="rxDispensation"/><part><name value="medicationDispense"/><resource><MedicationDispense><id value="md1"/><identifier><system value="${NS.pid}"/><value value="${id}"/></identifier><status value="completed"/><medicationReference><reference value="urn:uuid:5fe6e06c-8725-46d5-aecd-e65e041ca3af"/></medicationReference><subject><identifier><system value="${NS.kvnr}"/><value value="${kvnr}"/></identifier></subject><performer><actor><identifier><system value="https://gematik.de/fhir/sid/telematik-id"/><value value="${telematikId}"/></identifier></actor></performer><whenHandedOver value="${handedOver}"/></MedicationDispense></resource></part><part><name value="medication"/><resource><Medication><id value="5fe6e06c-8725-46d5-aecd-e65e041ca3af"/><code><coding><system value="http://fhir.de/CodeSystem/ifa/pzn"/><code value="12345678"/></coding></code></Medication></resource></part></parameter></Parameters>`;

let fx: FdFixture;
let pki: Pki;
let practice: string;
let pharmacy: string;
let pharmacyId: string;
let hba: IssuedCertificateWithKey;
/** The insured of the bundle, logged in with the FdV (client eRezeptApp). */
let insured: string;
/** The same insured through another client (gematikTestPs): no AccessCode. */
let insuredOtherClient: string;
/** A representative (another real KVNR) with the FdV. */
let representative: string;
let representativeKvnr: string;
/** A Prüfidentität (test card) with the FdV. */
let pruefInsured: string;

const insuredToken = (kvnr?: string, client = APP_CLIENT) => insuredLogin(fx, { ...(kvnr ? { kvnr } : {}), client });

before(async () => {
  fx = await startFdFixture();
  pki = fx.idpFx.pkiService.pki;
  practice = await practiceLogin(fx);
  ({ token: pharmacy, telematikId: pharmacyId } = await pharmacyLogin(fx));
  hba = pki.issue({ profile: 'C.HP.QES' });
  insured = (await insuredToken(BUNDLE_KVNR)).token;
  insuredOtherClient = (await insuredToken(BUNDLE_KVNR, { client_id: 'gematikTestPs', redirect_uri: 'http://test-ps.gematik.de/erezept' })).token;
  const rep = await insuredToken();
  representative = rep.token;
  representativeKvnr = rep.kvnr;
  pruefInsured = (await insuredToken(PRUEF_KVNR)).token;
});
after(async () => {
  await fx?.stop();
});

interface Rx {
  id: string;
  ac: string;
  kvnr: string;
}

async function prescribe(opts: { flowType?: number; kvnr?: string } = {}): Promise<Rx> {
  const c = await fhir(fx, practice, 'POST', '/Task/$create', createParameters(opts.flowType ?? 160));
  assert.equal(c.status, 201, c.body);
  const id = /<id value="([^"]*)"/.exec(c.body)?.[1] as string;
  const ac = valueOf(c.body, NS.ac) as string;
  let xml = substituteBundle(GKV_BUNDLE, id, berlinDay(fx.fd.clock.now()));
  if (opts.kvnr) xml = xml.split(BUNDLE_KVNR).join(opts.kvnr);
  const a = await fhir(fx, practice, 'POST', `/Task/${id}/$activate`, activateParameters(signWith(hba, xml, fx.fd.clock.now())), { 'X-AccessCode': ac });
  assert.equal(a.status, 200, a.body);
  return { id, ac, kvnr: opts.kvnr ?? BUNDLE_KVNR };
}

async function acceptAndDispense(t: Rx, handedOver = '2025-01-01'): Promise<string> {
  const acc = await fhir(fx, pharmacy, 'POST', `/Task/${t.id}/$accept?ac=${t.ac}`);
  assert.equal(acc.status, 200, acc.body);
  const secret = valueOf(acc.body, NS.secret) as string;
  const d = await fhir(fx, pharmacy, 'POST', `/Task/${t.id}/$dispense?secret=${secret}`, DISPENSE(t.id, t.kvnr, pharmacyId, handedOver));
  assert.equal(d.status, 200, d.body);
  return secret;
}

function json(r: Reply): FhirJson {
  return JSON.parse(r.body) as FhirJson;
}

function text(r: Reply): string {
  const o = json(r);
  return ((o.issue as FhirJson[])[0].details as FhirJson).text as string;
}

function entries(r: Reply): FhirJson[] {
  return ((json(r).entry as FhirJson[] | undefined) ?? []).map((e) => e.resource as FhirJson);
}

function identifierValue(task: FhirJson, system: string): string | undefined {
  return (task.identifier as FhirJson[]).find((i) => i.system === system)?.value as string | undefined;
}

function links(r: Reply): Record<string, string> {
  return Object.fromEntries(((json(r).link as FhirJson[] | undefined) ?? []).map((l) => [l.relation as string, l.url as string]));
}

describe('GET /Task (insured)', () => {
  test('own tasks only, without draft and cancelled, AccessCode for the FdV, searchset of Tasks with total; no protocol entry', async () => {
    const other = await insuredToken();
    const mine = await prescribe();
    const foreign = await prescribe({ kvnr: other.kvnr });
    const gone = await prescribe();
    assert.equal((await fhir(fx, insured, 'POST', `/Task/${gone.id}/$abort`)).status, 204);
    await fhir(fx, practice, 'POST', '/Task/$create', createParameters(160)); // a draft (no KVNR yet)
    const auditBefore = fx.fd.store.auditEventsOfInsured(BUNDLE_KVNR).length;

    const r = await fhir(fx, insured, 'GET', '/Task');
    assert.equal(r.status, 200, r.body);
    assert.match(r.headers['content-type'], /application\/fhir\+json/);
    const b = json(r);
    assert.equal(b.type, 'searchset');
    const tasks = entries(r);
    const ids = tasks.map((t) => t.id);
    assert.ok(ids.includes(mine.id));
    assert.ok(!ids.includes(foreign.id), 'another insured’s task');
    assert.ok(!ids.includes(gone.id), 'cancelled task');
    assert.ok(tasks.every((t) => t.resourceType === 'Task' && t.status !== 'draft' && t.status !== 'cancelled'));
    assert.equal(b.total, tasks.length);
    assert.ok(((b.entry as FhirJson[])[0].search as FhirJson).mode === 'match');
    assert.equal(identifierValue(tasks.find((t) => t.id === mine.id) as FhirJson, NS.ac), mine.ac);
    assert.ok(tasks.every((t) => identifierValue(t, NS.secret) === undefined));
    assert.equal(fx.fd.store.auditEventsOfInsured(BUNDLE_KVNR).length, auditBefore, 'GET /Task writes no protocol entry (production ERP-8507)');

    const theirs = entries(await fhir(fx, other.token, 'GET', '/Task')).map((t) => t.id);
    assert.deepEqual(theirs, [foreign.id]);
  });

  test('another client of the insured (not the FdV) gets the tasks without AccessCode (A_20702-03, A_20555)', async () => {
    const t = await prescribe();
    const r = await fhir(fx, insuredOtherClient, 'GET', '/Task');
    assert.equal(r.status, 200, r.body);
    const task = entries(r).find((x) => x.id === t.id) as FhirJson;
    assert.ok(task, 'the task is listed');
    assert.equal(identifierValue(task, NS.ac), undefined);
    const one = await fhir(fx, insuredOtherClient, 'GET', `/Task/${t.id}`);
    assert.equal(one.status, 200, one.body);
    assert.equal(identifierValue(entries(one)[0], NS.ac), undefined);
  });

  test('paging with _count and __offset: total, self/next/prev/first/last links, boundaries, bad values', async () => {
    const p = await insuredToken();
    const rx = [await prescribe({ kvnr: p.kvnr }), await prescribe({ kvnr: p.kvnr }), await prescribe({ kvnr: p.kvnr })];
    const first = await fhir(fx, p.token, 'GET', '/Task?_count=2');
    assert.equal(first.status, 200, first.body);
    assert.equal(json(first).total, 3);
    assert.deepEqual(entries(first).map((t) => t.id), [rx[0].id, rx[1].id], 'default sort authored-on ascending');
    const l1 = links(first);
    assert.deepEqual(Object.keys(l1).sort(), ['first', 'last', 'next', 'self']);
    assert.match(l1.next, /\/Task\?_count=2&__offset=2$/);
    assert.match(l1.first, /\/Task\?_count=2&__offset=0$/);
    assert.match(l1.last, /\/Task\?_count=2&__offset=2$/);
    assert.match(l1.self, /\/Task\?_count=2&__offset=0$/);

    const second = await fhir(fx, p.token, 'GET', new URL(l1.next).pathname + new URL(l1.next).search);
    assert.deepEqual(entries(second).map((t) => t.id), [rx[2].id]);
    const l2 = links(second);
    assert.ok(!('next' in l2), 'no next on the last page');
    assert.match(l2.prev, /\/Task\?_count=2&__offset=0$/);

    const exact = await fhir(fx, p.token, 'GET', '/Task?_count=3');
    assert.ok(!('next' in links(exact)), 'exactly one full page: no next');
    assert.match(links(exact).last, /__offset=0$/);

    const desc = await fhir(fx, p.token, 'GET', '/Task?_sort=-authored-on&_count=1');
    assert.deepEqual(entries(desc).map((t) => t.id), [rx[2].id]);
    assert.match(links(desc).self, /\/Task\?_sort=-authored-on&_count=1&__offset=0$/);

    const cases: Array<[string, string]> = [
      ['_count=0', '_count zero is not supported'],
      ['_count=-1', '_count can not be negative'],
      ['_count=abc', 'invalid numeric format in _count'],
      ['_count=2x', 'trailing characters are not permitted in a numerical argument: _count'],
      ['__offset=-5', '__offset can not be negative'],
    ];
    for (const [q, t] of cases) {
      const r = await fhir(fx, p.token, 'GET', `/Task?${q}`);
      assert.equal(r.status, 400, q);
      assert.equal(text(r), t, q);
    }
    assert.equal(entries(await fhir(fx, p.token, 'GET', '/Task?_count=500')).length, 3, '_count above 50 is capped, not refused');
  });

  test('search: status, authored-on and modified with prefixes', async () => {
    const p = await insuredToken();
    const a = await prescribe({ kvnr: p.kvnr });
    fx.fd.clock.advance(2000); // b is modified two seconds after a
    const b = await prescribe({ kvnr: p.kvnr });
    await acceptAndDispense(b);
    const today = berlinDay(fx.fd.clock.now());
    const ids = async (q: string) => {
      const r = await fhir(fx, p.token, 'GET', `/Task?${q}`);
      assert.equal(r.status, 200, `${q}: ${r.body}`);
      return entries(r).map((t) => t.id).sort();
    };
    assert.deepEqual(await ids('status=ready'), [a.id]);
    assert.deepEqual(await ids('status=in-progress'), [b.id]);
    assert.deepEqual(await ids('status=ready,in-progress'), [a.id, b.id].sort());
    assert.deepEqual(await ids(`authored-on=ge${today}`), [a.id, b.id].sort());
    assert.deepEqual(await ids(`authored-on=${today}`), [a.id, b.id].sort());
    assert.deepEqual(await ids(`authored-on=lt${today}`), []);
    assert.deepEqual(await ids('authored-on=le2000-01-01'), []);
    const bModified = fx.fd.store.getTask(b.id)?.lastModified as string;
    assert.deepEqual(await ids(`modified=ge${bModified.replace(/\.\d+Z$/, 'Z')}`), [b.id]);
    const bad = await fhir(fx, p.token, 'GET', '/Task?modified=ge2025-13-45');
    assert.equal(bad.status, 400);
    const badStatus = await fhir(fx, p.token, 'GET', '/Task?status=nonsense');
    assert.equal(badStatus.status, 400);
  });
});

describe('GET /Task/{id} (insured, representative)', () => {
  test('own task: Task (AccessCode, patient confirmation only, no Secret) and the server-signed prescription; protocol entry', async () => {
    const t = await prescribe();
    const r = await fhir(fx, insured, 'GET', `/Task/${t.id}`);
    assert.equal(r.status, 200, r.body);
    const b = json(r);
    assert.equal(b.type, 'collection');
    assert.match((b.link as FhirJson[])[0].url as string, new RegExp(`/Task/${t.id.replace(/\./g, '\\.')}$`));
    const [task, kbv] = entries(r);
    assert.equal(task.resourceType, 'Task');
    assert.equal(identifierValue(task, NS.ac), t.ac);
    assert.equal(identifierValue(task, NS.secret), undefined);
    const inputs = (task.input as FhirJson[]).map((i) => ((i.type as FhirJson).coding as FhirJson[])[0].code);
    assert.deepEqual(inputs, ['2']);
    assert.equal(kbv.resourceType, 'Bundle');
    assert.equal((kbv.identifier as FhirJson).value, t.id);
    assert.equal(kbv.id, ((task.input as FhirJson[])[0].valueReference as FhirJson).reference);
    const sig = kbv.signature as FhirJson;
    const stored = fx.fd.store.binariesOfTask(t.id, 'server-signed-prescription')[0].data;
    assert.deepEqual(Buffer.from(sig.data as string, 'base64'), stored, 'the copy the Fachdienst signed at $activate');
    assert.ok(parseSignedData(stored).content?.toString('utf8').includes(t.id));
    const ev = fx.fd.store.auditEventsOfInsured(t.kvnr).filter((e) => e.taskId === t.id).map((e) => e.description);
    assert.deepEqual(ev, ['POST_Task_activate', 'GET_Task_id_insurant']);
  });

  test('representative: 403 AccessCode mismatch without or with a wrong X-AccessCode (brute_force), 200 with the right one', async () => {
    const t = await prescribe();
    const none = await fhir(fx, representative, 'GET', `/Task/${t.id}`);
    assert.equal(none.status, 403);
    assert.equal(text(none), 'AccessCode mismatch');
    assert.equal(none.vauErrorCode, 'brute_force');
    const wrong = await fhir(fx, representative, 'GET', `/Task/${t.id}`, undefined, { 'X-AccessCode': 'ab'.repeat(32) });
    assert.equal(wrong.status, 403);
    const ok = await fhir(fx, representative, 'GET', `/Task/${t.id}`, undefined, { 'X-AccessCode': t.ac });
    assert.equal(ok.status, 200, ok.body);
    assert.equal(entries(ok)[0].id, t.id);
    const ev = fx.fd.store.auditEventsOfInsured(t.kvnr).find((e) => e.taskId === t.id && e.description === 'GET_Task_id_representative');
    assert.equal(ev?.agentId, representativeKvnr);
  });

  test('flow type 169: the insured sees no AccessCode; a representative is refused (A_21360, A_26148)', async () => {
    const t = await prescribe({ flowType: 169 });
    const own = await fhir(fx, insured, 'GET', `/Task/${t.id}`);
    assert.equal(own.status, 200, own.body);
    assert.equal(identifierValue(entries(own)[0], NS.ac), undefined);
    const rep = await fhir(fx, representative, 'GET', `/Task/${t.id}`, undefined, { 'X-AccessCode': t.ac });
    assert.equal(rep.status, 403);
    assert.equal(text(rep), 'Insurant representatives may not access directly assigned tasks');
  });

  test('Prüfkarte (A_20756): no representative access from a test identity to a real insured nor the other way', async () => {
    const real = await prescribe();
    const a = await fhir(fx, pruefInsured, 'GET', `/Task/${real.id}`, undefined, { 'X-AccessCode': real.ac });
    assert.equal(a.status, 400);
    assert.equal(text(a), 'KVNR verification identities may not access information from insurants and vice versa');
    const test = await prescribe({ kvnr: PRUEF_KVNR });
    const b = await fhir(fx, representative, 'GET', `/Task/${test.id}`, undefined, { 'X-AccessCode': test.ac });
    assert.equal(b.status, 400);
    assert.equal(text(b), 'KVNR verification identities may not access information from insurants and vice versa');
    assert.equal((await fhir(fx, pruefInsured, 'GET', `/Task/${test.id}`)).status, 200, 'the test identity reads its own task');
  });

  test('unknown 404, draft 403, deleted 410 with production texts', async () => {
    const unknown = await fhir(fx, insured, 'GET', `/Task/${UNKNOWN_ID}`);
    assert.equal(unknown.status, 404);
    assert.equal(text(unknown), 'Task not found in DB');
    const bad = await fhir(fx, insured, 'GET', '/Task/160.000.000.000.001.99');
    assert.equal(bad.status, 404);
    assert.equal(text(bad), 'Failed to parse prescription ID from URL parameter');
    const c = await fhir(fx, practice, 'POST', '/Task/$create', createParameters(160));
    const draftId = /<id value="([^"]*)"/.exec(c.body)?.[1] as string;
    const draft = await fhir(fx, insured, 'GET', `/Task/${draftId}`);
    assert.equal(draft.status, 403);
    assert.equal(text(draft), 'Status draft is not allowed for this operation');
    const t = await prescribe();
    assert.equal((await fhir(fx, insured, 'POST', `/Task/${t.id}/$abort`)).status, 204);
    const gone = await fhir(fx, insured, 'GET', `/Task/${t.id}`);
    assert.equal(gone.status, 410);
    assert.equal(text(gone), 'Task has already been deleted');
  });
});

describe('$abort by the insured and the representative', () => {
  test('own ready task: 204, personal and medical data deleted (A_18820), protocol entry; again 410', async () => {
    const t = await prescribe();
    const r = await fhir(fx, insured, 'POST', `/Task/${t.id}/$abort`);
    assert.equal(r.status, 204, r.body);
    const stored = fx.fd.store.getTask(t.id);
    assert.equal(stored?.status, 'cancelled');
    assert.equal(stored?.kvnr, undefined);
    assert.equal(stored?.accessCode, undefined);
    assert.equal(stored?.prescriberId, undefined);
    assert.equal(fx.fd.store.binariesOfTask(t.id).length, 0);
    assert.ok(fx.fd.store.auditEventsOfInsured(t.kvnr).some((e) => e.taskId === t.id && e.description === 'POST_Task_abort_insurant' && e.action === 'D'));
    const again = await fhir(fx, insured, 'POST', `/Task/${t.id}/$abort`);
    assert.equal(again.status, 410);
    assert.equal(text(again), 'Task has already been deleted');
  });

  test('in-progress: 403 (dump löschen_von_akzeptierten_e_rezepten_durch_den_versicherten_nicht_möglich); completed: 204', async () => {
    const t = await prescribe();
    const secret = await acceptAndDispense(t);
    const r = await fhir(fx, insured, 'POST', `/Task/${t.id}/$abort`);
    assert.equal(r.status, 403);
    assert.equal(text(r), 'Task must not be in progress for users other than pharmacy, but is: in-progress');
    assert.equal((await fhir(fx, pharmacy, 'POST', `/Task/${t.id}/$close?secret=${secret}`)).status, 200);
    assert.equal((await fhir(fx, insured, 'POST', `/Task/${t.id}/$abort`)).status, 204);
    assert.equal(fx.fd.store.binariesOfTask(t.id).length, 0, 'receipt and dispense data deleted too');
  });

  test('representative: 403 AccessCode mismatch without X-AccessCode, 204 with it (dump löschen_des_e_rezepts_als_vertreter_nur_mit_accesscode_möglich)', async () => {
    const t = await prescribe();
    const r = await fhir(fx, representative, 'POST', `/Task/${t.id}/$abort`);
    assert.equal(r.status, 403);
    assert.equal(text(r), 'AccessCode mismatch');
    assert.equal(fx.fd.store.getTask(t.id)?.status, 'ready');
    const ok = await fhir(fx, representative, 'POST', `/Task/${t.id}/$abort`, undefined, { 'X-AccessCode': t.ac });
    assert.equal(ok.status, 204, ok.body);
    const ev = fx.fd.store.auditEventsOfInsured(t.kvnr).find((e) => e.taskId === t.id && e.description === 'POST_Task_abort_representative');
    assert.equal(ev?.agentId, representativeKvnr);
  });

  test('flow type 169 before completion: 403 (dump löschen_nicht_möglich_bis_nach_der_dispensierung)', async () => {
    const t = await prescribe({ flowType: 169 });
    const r = await fhir(fx, insured, 'POST', `/Task/${t.id}/$abort`);
    assert.equal(r.status, 403);
    assert.equal(text(r), 'Abort for patient in workflow types 169 / 209 only allowed for completed Task');
    assert.equal(fx.fd.store.getTask(t.id)?.status, 'ready');
  });
});

describe('GET /MedicationDispense (insured)', () => {
  test('own dispense by PrescriptionID and whenhandedover, the Task shows the last dispense; others and the pharmacy get nothing', async () => {
    const t = await prescribe();
    await acceptAndDispense(t, '2025-02-03');
    const r = await fhir(fx, insured, 'GET', `/MedicationDispense?identifier=${NS.pid}|${t.id}`);
    assert.equal(r.status, 200, r.body);
    const b = json(r);
    assert.equal(b.type, 'searchset');
    const res = entries(r);
    assert.deepEqual(res.map((x) => x.resourceType), ['MedicationDispense', 'Medication']);
    assert.equal(res[0].id, t.id);
    assert.ok(String((b.entry as FhirJson[])[0].fullUrl).endsWith(`/MedicationDispense/${t.id}`));
    const old = await fhir(fx, insured, 'GET', `/MedicationDispense?identifier=https://gematik.de/fhir/NamingSystem/PrescriptionID|${t.id}`);
    assert.equal(entries(old)[0].id, t.id, 'the old naming system as in the issue');
    assert.equal(entries(await fhir(fx, insured, 'GET', `/MedicationDispense?identifier=${NS.pid}|${t.id}&whenhandedover=gt2025-02-03`)).length, 0);
    assert.equal(entries(await fhir(fx, insured, 'GET', `/MedicationDispense?identifier=${NS.pid}|${t.id}&whenhandedover=2025-02-03`)).length, 2);

    const one = await fhir(fx, insured, 'GET', `/MedicationDispense/${t.id}`);
    assert.equal(one.status, 200, one.body);
    assert.equal(json(one).resourceType, 'MedicationDispense');
    const missing = await fhir(fx, insured, 'GET', `/MedicationDispense/${UNKNOWN_ID}`);
    assert.equal(missing.status, 404);
    assert.equal(text(missing), `No Medication Dispense found for Id ${UNKNOWN_ID}`);
    const badId = await fhir(fx, insured, 'GET', '/MedicationDispense/nonsense');
    assert.equal(badId.status, 400);
    assert.equal(text(badId), 'bad path-id parameter');

    const task = entries(await fhir(fx, insured, 'GET', `/Task/${t.id}`))[0];
    const last = (task.extension as FhirJson[]).find((e) => String(e.url).endsWith('GEM_ERP_EX_LastMedicationDispense'));
    assert.ok(last?.valueInstant, 'Task carries GEM_ERP_EX_LastMedicationDispense');

    assert.equal(entries(await fhir(fx, representative, 'GET', `/MedicationDispense?identifier=${NS.pid}|${t.id}`)).length, 0, 'another KVNR sees nothing');
    assert.equal((await fhir(fx, representative, 'GET', `/MedicationDispense/${t.id}`)).status, 404);
    const ph = await fhir(fx, pharmacy, 'GET', '/MedicationDispense');
    assert.equal(ph.status, 403);
    assert.match(ph.body, /endpoint is forbidden for professionOID 1\.2\.276\.0\.76\.4\.54/);
    const ev = fx.fd.store.auditEventsOfInsured(t.kvnr).filter((e) => e.taskId === t.id).map((e) => e.description);
    assert.ok(ev.includes('GET_MedicationDispense') && ev.includes('GET_MedicationDispense_id'));
  });
});

describe('GET /AuditEvent (insured)', () => {
  test('every workflow step of a prescription is protocolled for its insured only, readable name, identifier, ID, de/en texts, valid profile', async () => {
    const p = await insuredToken();
    const t = await prescribe({ kvnr: p.kvnr });
    assert.equal((await fhir(fx, p.token, 'GET', `/Task/${t.id}`)).status, 200);
    const secret = await acceptAndDispense(t);
    assert.equal((await fhir(fx, pharmacy, 'POST', `/Task/${t.id}/$close?secret=${secret}`)).status, 200);
    assert.equal((await fhir(fx, pharmacy, 'GET', `/Task/${t.id}?secret=${secret}`)).status, 200);
    assert.equal((await fhir(fx, p.token, 'POST', `/Task/${t.id}/$abort`)).status, 204);

    const r = await fhir(fx, p.token, 'GET', '/AuditEvent');
    assert.equal(r.status, 200, r.body);
    const b = json(r);
    assert.equal(b.type, 'searchset');
    assert.equal(b.total, undefined, 'production sends no total');
    const events = entries(r);
    const texts = events.map((e) => String((e.text as FhirJson).div).replace(/<[^>]+>/g, ''));
    const actions = events.map((e) => e.action);
    assert.deepEqual(actions, ['C', 'R', 'U', 'U', 'U', 'R', 'D']);
    assert.ok(texts.every((x) => x.includes(t.id)), 'every entry names the prescription');
    assert.match(texts[0], /hat das Rezept mit der ID .* eingestellt\.$/);
    assert.match(texts[2], /hat das Rezept mit der ID .* angenommen\.$/);
    assert.match(texts[4], /hat das Rezept mit der ID .* beliefert\.$/);
    assert.match(texts[6], /gelöscht\.$/);
    const accept = events[2];
    const agent = (accept.agent as FhirJson[])[0];
    assert.equal(((agent.who as FhirJson).identifier as FhirJson).value, pharmacyId);
    assert.equal(((agent.who as FhirJson).identifier as FhirJson).system, 'https://gematik.de/fhir/sid/telematik-id');
    assert.ok(typeof agent.name === 'string' && agent.name.length > 0 && agent.name !== 'unbekannt');
    const self = (events[1].agent as FhirJson[])[0];
    assert.equal(((self.who as FhirJson).identifier as FhirJson).value, p.kvnr);
    assert.ok(typeof events[0].recorded === 'string' && /T\d{2}:\d{2}/.test(events[0].recorded as string));
    assert.equal(((events[0].entity as FhirJson[])[0].what as FhirJson).identifier && (((events[0].entity as FhirJson[])[0].what as FhirJson).identifier as FhirJson).value, t.id);
    assert.deepEqual(errorsOf(validateResource(events[0])), [], 'GEM_ERP_PR_AuditEvent');

    const en = await fhir(fx, p.token, 'GET', '/AuditEvent', undefined, { 'Accept-Language': 'en-US,en;q=0.9' });
    const enTexts = entries(en).map((e) => String((e.text as FhirJson).div));
    assert.match(enTexts[0], /activated a prescription/);
    assert.equal(entries(en)[0].language, 'en');
    const fr = await fhir(fx, p.token, 'GET', '/AuditEvent', undefined, { 'Accept-Language': 'fr' });
    assert.match(String((entries(fr)[0].text as FhirJson).div), /eingestellt/, 'unsupported language: German');

    assert.deepEqual(entries(await fhir(fx, p.token, 'GET', '/AuditEvent?subtype=delete')).map((e) => e.action), ['D']);
    const desc = entries(await fhir(fx, p.token, 'GET', '/AuditEvent?_sort=-date'));
    assert.equal(desc[0].action, 'D');
    assert.equal(entries(await fhir(fx, p.token, 'GET', '/AuditEvent?date=lt2000-01-01')).length, 0);

    const page = await fhir(fx, p.token, 'GET', '/AuditEvent?_count=3');
    assert.equal(entries(page).length, 3);
    const l = links(page);
    assert.match(l.next, /\/AuditEvent\?_count=3&__offset=3$/);
    assert.ok(!('last' in l), 'no last link');
    const lastPage = await fhir(fx, p.token, 'GET', '/AuditEvent?_count=3&__offset=6');
    assert.equal(entries(lastPage).length, 1);
    assert.ok(!('next' in links(lastPage)));

    const one = await fhir(fx, p.token, 'GET', `/AuditEvent/${String(events[0].id)}`);
    assert.equal(one.status, 200);
    assert.equal(json(one).id, events[0].id);
    const foreignRead = await fhir(fx, insured, 'GET', `/AuditEvent/${String(events[0].id)}`);
    assert.equal(foreignRead.status, 404);
    assert.equal(text(foreignRead), 'No AuditEvent found for id');
    assert.ok(!entries(await fhir(fx, insured, 'GET', '/AuditEvent')).some((e) => JSON.stringify(e).includes(t.id)), 'another insured sees none of these');
    assert.equal((await fhir(fx, pharmacy, 'GET', '/AuditEvent')).status, 403);
  });
});
