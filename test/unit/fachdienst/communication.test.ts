/**
 * Messages of the Fachdienst through the VAU with real IDP tokens: DispReq, Reply, Representative;
 * every refusal of production's CommunicationPostHandler with its status and text; GET with search,
 * paging and `received`; DELETE with Warning; deletion with the task ($close through the workflow,
 * cancel/complete by status). Tasks for the rule tests are put into the store directly (status, KVNR,
 * AccessCode); the lifecycle test runs the real $create … $close.
 */
import { strict as assert } from 'node:assert';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildPrescriptionId } from '../../../simulators/lib/erezept-token';
import type { TaskStatus } from '../../../simulators/fachdienst/store';
import type { IssuedCertificateWithKey, Pki } from '../../../simulators/pki/hierarchy';
import { startFdFixture, type FdFixture } from './helpers';
import { activateParameters, berlinDay, createParameters, fhir, KBV_DIR, signWith, substituteBundle, valueOf, type Reply, practiceLogin, pharmacyLogin, insuredLogin } from './workflow-helpers';

const PROFILE = (t: string, v = '1.4') => `https://gematik.de/fhir/erp/StructureDefinition/GEM_ERP_PR_Communication_${t}|${v}`;
const KVID = 'http://fhir.de/sid/gkv/kvid-10';
const TID = 'https://gematik.de/fhir/sid/telematik-id';
const JSON_CT = { 'Content-Type': 'application/fhir+json', Accept: 'application/fhir+json' };

let fx: FdFixture;
let pki: Pki;
let practice: string;
let pharmacy: string;
let pharmacyId: string;
let pharmacy2: string;
let hba: IssuedCertificateWithKey;
const insured: Record<'a' | 'b' | 'pruef', { token: string; kvnr: string }> = {} as never;
let seq = 90_000;

const insuredToken = (kvnr?: string) => insuredLogin(fx, kvnr ? { kvnr } : {});

before(async () => {
  fx = await startFdFixture();
  pki = fx.idpFx.pkiService.pki;
  practice = await practiceLogin(fx);
  ({ token: pharmacy, telematikId: pharmacyId } = await pharmacyLogin(fx));
  pharmacy2 = (await pharmacyLogin(fx)).token;
  hba = pki.issue({ profile: 'C.HP.QES' });
  insured.a = await insuredToken();
  insured.b = await insuredToken();
  insured.pruef = await insuredToken('X000000012');
});
after(async () => {
  await fx?.stop();
});

/** A task in the store with the given status for `kvnr` (ExpiryDate in 3 months unless given). */
function task(status: TaskStatus, kvnr = insured.a.kvnr, expiryDate?: string): { id: string; ac: string } {
  const id = buildPrescriptionId(160, seq++);
  const ac = crypto.randomBytes(32).toString('hex');
  const now = fx.fd.clock.now();
  const exp = expiryDate ?? berlinDay(new Date(now.getTime() + 90 * 86400_000));
  fx.fd.store.createTask({ id, flowType: 160, status, accessCode: ac, ...(status === 'draft' ? {} : { kvnr, expiryDate: exp }) });
  return { id, ac };
}

function communication(type: 'DispReq' | 'Reply' | 'Representative', o: { ref: string; recipient: { system: string; value: string }; payload?: string | null; profile?: string; extra?: Record<string, unknown> }): string {
  const res: Record<string, unknown> = {
    resourceType: 'Communication',
    meta: { profile: [o.profile ?? PROFILE(type)] },
    ...(type === 'DispReq' ? { extension: [{ url: 'https://gematik.de/fhir/erp/StructureDefinition/GEM_ERP_EX_PrescriptionType', valueCoding: { system: 'https://gematik.de/fhir/erp/CodeSystem/GEM_ERP_CS_FlowType', code: '160' } }] } : {}),
    basedOn: [{ reference: o.ref }],
    status: 'unknown',
    recipient: [{ identifier: o.recipient }],
    ...(o.payload === null ? {} : { payload: [{ contentString: o.payload ?? (type === 'DispReq' ? '{"version":1,"supplyOptionsType":"onPremise","hint":"Bitte zurücklegen"}' : type === 'Reply' ? '{"version":1,"supplyOptionsType":"onPremise","info_text":"liegt bereit"}' : 'Bitte hol mein Rezept ab.') }] }),
    ...(o.extra ?? {}),
  };
  return JSON.stringify(res);
}

const dispReq = (t: { id: string; ac: string }, opts: { ac?: string | null; payload?: string | null; to?: string } = {}) =>
  communication('DispReq', { ref: `Task/${t.id}/$accept${opts.ac === null ? '' : `?ac=${opts.ac ?? t.ac}`}`, recipient: { system: TID, value: opts.to ?? pharmacyId }, payload: opts.payload });
const reply = (t: { id: string }, to: string, payload?: string) => communication('Reply', { ref: `Task/${t.id}`, recipient: { system: KVID, value: to }, payload });
const representative = (t: { id: string; ac: string }, to: string, withAc = true) =>
  communication('Representative', { ref: `Task/${t.id}/$accept${withAc ? `?ac=${t.ac}` : ''}`, recipient: { system: KVID, value: to } });

async function post(token: string, body: string, headers: Record<string, string> = {}): Promise<Reply> {
  return fhir(fx, token, 'POST', '/Communication', body, { ...JSON_CT, ...headers });
}

function outcomeText(r: Reply): string {
  const j = JSON.parse(r.body) as { issue: Array<{ details?: { text: string }; diagnostics?: string }> };
  return j.issue[0].details?.text ?? '';
}
function diagnostics(r: Reply): string {
  return (JSON.parse(r.body) as { issue: Array<{ diagnostics?: string }> }).issue[0].diagnostics ?? '';
}
function refused(r: Reply, status: number, text: string, diag?: string | RegExp): void {
  assert.equal(r.status, status, r.body);
  assert.equal(outcomeText(r), text, r.body);
  if (typeof diag === 'string') assert.equal(diagnostics(r), diag);
  else if (diag) assert.match(diagnostics(r), diag);
}
function created(r: Reply): Record<string, any> {
  assert.equal(r.status, 201, r.body);
  return JSON.parse(r.body) as Record<string, any>;
}
async function search(token: string, query = ''): Promise<Record<string, any>> {
  const r = await fhir(fx, token, 'GET', `/Communication${query}`, undefined, { Accept: 'application/fhir+json' });
  assert.equal(r.status, 200, r.body);
  return JSON.parse(r.body) as Record<string, any>;
}
const ids = (bundle: Record<string, any>): string[] => ((bundle.entry ?? []) as Array<{ resource: { id: string } }>).map((e) => e.resource.id);

describe('Fachdienst messages: sending and receiving (A_18869, A_18870, UC 3.3/3.4/4.6/4.7)', () => {
  test('DispReq insured → pharmacy: 201, Location, id, sent, sender from the token; production basedOn forms', async () => {
    const t = task('ready');
    const r = await post(insured.a.token, dispReq(t));
    const c = created(r);
    assert.match(c.id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.equal(r.headers.location, `http://prescriptionserver.telematik/Communication/${c.id}`);
    assert.deepEqual(c.sender, { identifier: { system: KVID, value: insured.a.kvnr } });
    assert.equal(c.sent, fx.fd.store.getCommunication(c.id)!.sent.replace(/Z$/, '+00:00'), 'sent = the SimClock at POST');
    assert.match(c.sent, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+00:00$/);
    assert.equal(c.received, undefined);
    assert.equal(c.basedOn[0].reference, `${t.id}/$accept?ac=${t.ac}`, 'POST answer: production drops "Task/"');
    assert.equal(c.meta.profile[0], PROFILE('DispReq'));
  });

  test('the pharmacy receives it (received set at the first fetch, ?received=NULL then empty); the sender sees it unmarked', async () => {
    const t = task('ready');
    const c = created(await post(insured.a.token, dispReq(t)));
    const mine = await search(pharmacy, '?received=NULL&_sort=-sent');
    assert.ok(ids(mine).includes(c.id));
    const entry = (mine.entry as Array<{ fullUrl: string; resource: Record<string, any> }>).find((e) => e.resource.id === c.id)!;
    assert.equal(entry.fullUrl, `${fx.fd.url}/Communication/${c.id}`);
    assert.match(entry.resource.received, /\+00:00$/);
    assert.equal(entry.resource.basedOn[0].reference, `/Task/${t.id}/$accept?ac=${t.ac}`, 'read form: "/Task/…"');
    assert.ok(!ids(await search(pharmacy, '?received=NULL')).includes(c.id), 'received now');
    assert.ok(ids(await search(pharmacy, '?received=neNULL')).includes(c.id));
    assert.ok(!ids(await search(pharmacy2)).includes(c.id), 'another pharmacy sees nothing');
    const own = await search(insured.a.token);
    assert.ok(ids(own).includes(c.id), 'the sender sees what it sent');
    assert.ok(fx.fd.store.getCommunication(c.id)?.received, 'stored as received');
  });

  test('a fetch by the sender does not mark the message received', async () => {
    const t = task('ready');
    const c = created(await post(insured.a.token, dispReq(t)));
    await search(insured.a.token);
    const byId = await fhir(fx, insured.a.token, 'GET', `/Communication/${c.id}`, undefined, { Accept: 'application/fhir+json' });
    assert.equal(byId.status, 200);
    assert.equal(fx.fd.store.getCommunication(c.id)?.received, undefined);
  });

  test('Reply pharmacy → insured; Representative insured → representative (AccessCode in basedOn) and back (X-AccessCode)', async () => {
    const t = task('ready');
    const rp = created(await post(pharmacy, reply(t, insured.a.kvnr)));
    assert.deepEqual(rp.sender, { identifier: { system: TID, value: pharmacyId } });
    assert.equal(rp.basedOn[0].reference, `Task/${t.id}`);
    const rep = created(await post(insured.a.token, representative(t, insured.b.kvnr)));
    assert.ok(ids(await search(insured.b.token, '?received=NULL')).includes(rep.id));
    const back = created(await post(insured.b.token, representative(t, insured.a.kvnr, false), { 'X-AccessCode': t.ac }));
    assert.ok(ids(await search(insured.a.token)).includes(back.id));
    assert.ok(ids(await search(insured.a.token)).includes(rp.id));
  });

  test('GET /Communication/{id}: own messages only (404 "no Communication found for id"), 400 for a malformed id', async () => {
    const t = task('ready');
    const c = created(await post(insured.a.token, dispReq(t)));
    refused(await fhir(fx, insured.b.token, 'GET', `/Communication/${c.id}`, undefined, { Accept: 'application/fhir+json' }), 404, 'no Communication found for id');
    refused(await fhir(fx, insured.b.token, 'GET', '/Communication/not-a-uuid', undefined, { Accept: 'application/fhir+json' }), 400, 'Invalid format of communication id');
  });

  test('search: sender/recipient filters, sent=gt/lt, _sort, paging with _count/__offset, total and links', async () => {
    const rep = await insuredToken();
    const t = task('ready', rep.kvnr);
    const sent: string[] = [];
    for (let i = 0; i < 3; i++) {
      sent.push(created(await post(pharmacy2, reply(t, rep.kvnr))).id);
      fx.fd.clock.advance(1000);
    }
    const page1 = await search(rep.token, '?_sort=sent&_count=2');
    assert.equal(page1.total, 3);
    assert.deepEqual(ids(page1), sent.slice(0, 2));
    const next = (page1.link as Array<{ relation: string; url: string }>).find((l) => l.relation === 'next');
    assert.ok(next, JSON.stringify(page1.link));
    assert.equal(next.url, `${fx.fd.url}/Communication?_sort=sent&_count=2&__offset=2`);
    const page2 = await search(rep.token, '?_sort=sent&_count=2&__offset=2');
    assert.deepEqual(ids(page2), sent.slice(2));
    assert.deepEqual(ids(await search(rep.token, '?_sort=-sent')), [...sent].reverse());
    const second = fx.fd.store.getCommunication(sent[1])!.sent;
    assert.deepEqual(ids(await search(rep.token, `?sent=gt${second}&_sort=sent`)), [sent[2]]);
    assert.deepEqual(ids(await search(rep.token, `?sent=lt${second}&_sort=sent`)), [sent[0]]);
    assert.equal(ids(await search(rep.token, `?sender=${encodeURIComponent(pharmacyId)}`)).length, 0);
    assert.equal(ids(await search(rep.token, `?recipient=${rep.kvnr}`)).length, 3);
    refused(await fhir(fx, rep.token, 'GET', '/Communication?sent=gtyesterday', undefined, { Accept: 'application/fhir+json' }), 400, 'invalid search argument sent=gtyesterday');
  });
});

describe('Fachdienst messages: refusals of POST /Communication (production texts)', () => {
  test('profile: missing, unknown version, unknown profile', async () => {
    const t = task('ready');
    const noProfile = JSON.parse(dispReq(t)) as Record<string, any>;
    delete noProfile.meta;
    refused(await post(insured.a.token, JSON.stringify(noProfile)), 400, 'Profile missing in Communication message.');
    const body = communication('DispReq', { ref: `Task/${t.id}/$accept?ac=${t.ac}`, recipient: { system: TID, value: pharmacyId }, profile: PROFILE('DispReq', '1.1') });
    refused(await post(insured.a.token, body), 400, 'Invalid request body', /^invalid profile https:\/\/gematik\.de\/fhir\/erp\/StructureDefinition\/GEM_ERP_PR_Communication_DispReq\|1\.1 must be one of: /);
  });

  test('FHIR: body not a Communication / not parsable → 400 "parsing / validation error"', async () => {
    refused(await post(insured.a.token, '{"resourceType":"Task"}'), 400, 'parsing / validation error');
    refused(await post(insured.a.token, '{nope'), 400, 'parsing / validation error');
  });

  test('sender role per type; recipient form per type; unknown task', async () => {
    const t = task('ready');
    refused(await post(pharmacy, dispReq(t)), 400, 'Invalid sender profession oid in communication message');
    refused(await post(insured.a.token, reply(t, insured.b.kvnr)), 400, 'Invalid sender profession oid in communication reply message');
    refused(await post(insured.a.token, dispReq(t, { to: 'X' })), 400, 'A valid Telematic ID must contain at least one "-"');
    const toKvnr = communication('DispReq', { ref: `Task/${t.id}/$accept?ac=${t.ac}`, recipient: { system: KVID, value: insured.b.kvnr } });
    // the profile binds the recipient's system, so validation refuses first (as production's parseAndValidateRequestBody)
    refused(await post(insured.a.token, toKvnr), 400, 'parsing / validation error', /Communication\.recipient\[0\]\.identifier\.system/);
    const missing = { id: buildPrescriptionId(160, 999_999), ac: t.ac };
    refused(await post(insured.a.token, dispReq(missing)), 400, `Task for prescription id ${missing.id} is missing`);
    refused(await post(insured.a.token, communication('DispReq', { ref: 'Task/abc', recipient: { system: TID, value: pharmacyId } })), 400, 'Invalid request body', 'Failed to parse prescription ID from reference');
  });

  test('DispReq: only ready and unexpired tasks (A_26320/A_26321); AccessCode in basedOn; representative needs X-AccessCode', async () => {
    refused(await post(insured.a.token, dispReq(task('in-progress'))), 400, 'Task has invalid status.');
    refused(await post(insured.a.token, dispReq(task('completed'))), 400, 'Task has invalid status.');
    const yesterday = berlinDay(new Date(fx.fd.clock.nowMs() - 86400_000));
    refused(await post(insured.a.token, dispReq(task('ready', insured.a.kvnr, yesterday))), 400, 'Task is expired.');
    created(await post(insured.a.token, dispReq(task('ready', insured.a.kvnr, berlinDay(fx.fd.clock.now())))));
    const t = task('ready');
    refused(await post(insured.a.token, dispReq(t, { ac: null })), 400, 'Dispense request must contain an access code in payload');
    refused(await post(insured.b.token, dispReq(t)), 400, 'Header must contain an access code');
    refused(await post(insured.b.token, dispReq(t), { 'X-AccessCode': 'f'.repeat(64) }), 400, 'Access code of header not equal to access code of referenced task');
    created(await post(insured.b.token, dispReq(t), { 'X-AccessCode': t.ac }));
  });

  test('Representative: AccessCode required from the insured, only ready/in-progress (A_20230), never to self (A_20231)', async () => {
    const t = task('ready');
    refused(await post(insured.a.token, representative(t, insured.b.kvnr, false)), 400, 'Representative message sent by insurant must contain an access code in payload');
    refused(await post(insured.a.token, representative(t, insured.a.kvnr)), 400, 'messages to self are not permitted');
    created(await post(insured.a.token, representative(task('in-progress'), insured.b.kvnr)));
    const done = task('completed');
    refused(await post(insured.a.token, representative(done, insured.b.kvnr)), 400, "Messages between KVNR's are restricted to prescriptions that are ready or in-progress");
    refused(await post(insured.a.token, representative(task('draft'), insured.b.kvnr)), 400, 'Referenced task does not contain a KVNR');
    const toTid = communication('Representative', { ref: `Task/${t.id}/$accept?ac=${t.ac}`, recipient: { system: TID, value: pharmacyId } });
    refused(await post(insured.a.token, toTid), 400, 'parsing / validation error', /Communication\.recipient\[0\]\.identifier\.system/);
  });

  test('A_20229-01: ten Representative messages per task and pair (both directions), the 11th is 429', async () => {
    const t = task('ready');
    for (let i = 0; i < 10; i++) {
      const r = i % 2 === 0 ? await post(insured.a.token, representative(t, insured.b.kvnr)) : await post(insured.b.token, representative(t, insured.a.kvnr, false), { 'X-AccessCode': t.ac });
      created(r);
    }
    const eleventh = await post(insured.a.token, representative(t, insured.b.kvnr));
    refused(eleventh, 429, 'there are already 10 KVNR to KVNR messages');
    assert.equal((JSON.parse(eleventh.body) as { issue: Array<{ code: string }> }).issue[0].code, 'transient');
    // another task of the same pair is counted separately
    created(await post(insured.a.token, representative(task('ready'), insured.b.kvnr)));
  });

  test('A_20755/A_20752/A_20753: no messages between a Prüfkarte identity and insured, in either direction', async () => {
    const own = task('ready');
    refused(await post(insured.a.token, representative(own, insured.pruef.kvnr)), 400, 'KVNR verification identities may not access information from insurants and vice versa');
    const pruefTask = task('ready', insured.pruef.kvnr);
    refused(await post(insured.pruef.token, representative(pruefTask, insured.a.kvnr)), 400, 'KVNR verification identities may not access information from insurants and vice versa');
    refused(await post(pharmacy, reply(own, insured.pruef.kvnr)), 400, 'KVNR verification identities may not access information from insurants and vice versa');
    const pruef2 = await insuredToken('X000000020');
    created(await post(insured.pruef.token, representative(pruefTask, pruef2.kvnr)));
  });

  test('payload: one contentString, ≤ 10240 bytes, DispReq/Reply JSON per production schema, Reply pick-up code only onPremise', async () => {
    const t = task('ready');
    refused(await post(insured.a.token, dispReq(t, { payload: 'kein JSON' })), 400, 'Invalid request body', 'Invalid JSON in payload.contentString');
    refused(await post(insured.a.token, dispReq(t, { payload: '{"version":1,"supplyOptionsType":"onPremise","extra":1}' })), 400, 'Invalid request body', /^Invalid payload: does not conform to expected JSON schema: .*extra/);
    refused(await post(insured.a.token, dispReq(t, { payload: '{"version":2,"supplyOptionsType":"onPremise"}' })), 400, 'Invalid request body', /^Invalid payload: does not conform to expected JSON schema: /);
    refused(await post(insured.a.token, dispReq(t, { payload: '{"version":1}' })), 400, 'Invalid request body', /supplyOptionsType/);
    const prefix = '{"version":1,"supplyOptionsType":"delivery","address":["';
    const fill = (n: number) => {
      const parts: string[] = [];
      let left = n - prefix.length - 3;
      while (left > 0) {
        const len = Math.min(500, left);
        parts.push('x'.repeat(len));
        left -= len + 3;
      }
      const s = `${prefix}${parts.join('","')}"]}`;
      return s + ' '.repeat(n - s.length);
    };
    assert.equal(Buffer.byteLength(fill(10240)), 10240);
    created(await post(insured.a.token, dispReq(t, { payload: fill(10240) })));
    refused(await post(insured.a.token, dispReq(t, { payload: fill(10241) })), 400, 'Invalid request body', 'Payload must not exceed 10 KB.');
    refused(await post(pharmacy, reply(t, insured.a.kvnr, '{"version":1,"supplyOptionsType":"shipment","pickUpCodeHR":"12341234"}')), 400, 'Invalid request body', "Invalid payload: Value of 'supplyOptionsType' must be 'onPremise'");
    created(await post(pharmacy, reply(t, insured.a.kvnr, '{"version":1,"supplyOptionsType":"onPremise","pickUpCodeHR":"12341234"}')));
    refused(await post(pharmacy, reply(t, insured.a.kvnr, '{"version":1,"supplyOptionsType":"onPremise","url":"kein url"}')), 400, 'Invalid request body', 'Invalid payload: URL not valid.');
    const two = JSON.parse(dispReq(t)) as Record<string, any>;
    two.payload = [{ contentString: '{"version":1,"supplyOptionsType":"onPremise"}' }, { contentString: 'x' }];
    assert.notEqual((await post(insured.a.token, JSON.stringify(two))).status, 201);
  });
});

describe('Fachdienst messages: deletion (A_20261, UC 3.8/4.9) and with the task', () => {
  test('DELETE by the sender: 204 without Warning while unread, with "Deleted message delivered at …" once received', async () => {
    const t = task('ready');
    const unread = created(await post(pharmacy, reply(t, insured.a.kvnr)));
    const d1 = await fhir(fx, pharmacy, 'DELETE', `/Communication/${unread.id}`);
    assert.equal(d1.status, 204, d1.body);
    assert.equal(d1.headers.warning, undefined);
    assert.equal(fx.fd.store.getCommunication(unread.id), undefined);
    const read = created(await post(pharmacy, reply(t, insured.a.kvnr)));
    await search(insured.a.token, '?received=NULL');
    const received = fx.fd.store.getCommunication(read.id)!.received!;
    const d2 = await fhir(fx, pharmacy, 'DELETE', `/Communication/${read.id}`);
    assert.equal(d2.status, 204);
    assert.equal(d2.headers.warning, `Deleted message delivered at ${received.replace(/Z$/, '+00:00')}`);
  });

  test('DELETE: only the sender (401 "<id> is not allowed …"), 404 for unknown ids, 400 for malformed ids', async () => {
    const t = task('ready');
    const c = created(await post(insured.a.token, dispReq(t)));
    refused(await fhir(fx, pharmacy, 'DELETE', `/Communication/${c.id}`, undefined, { Accept: 'application/fhir+json' }), 401, `${pharmacyId} is not allowed to delete communication for id ${c.id}`);
    assert.ok(fx.fd.store.getCommunication(c.id), 'still there');
    const unknown = crypto.randomUUID();
    refused(await fhir(fx, insured.a.token, 'DELETE', `/Communication/${unknown}`), 404, `No communication found for id ${unknown}`);
    refused(await fhir(fx, insured.a.token, 'DELETE', '/Communication/123'), 400, 'Invalid format of communication id');
  });

  test('a task completed or cancelled takes its messages along (store triggers); other tasks keep theirs', async () => {
    const t1 = task('in-progress');
    const t2 = task('ready');
    const m1 = created(await post(pharmacy, reply(t1, insured.a.kvnr)));
    const m2 = created(await post(pharmacy, reply(t2, insured.a.kvnr)));
    fx.fd.store.updateTask(t1.id, { status: 'completed' });
    assert.equal(fx.fd.store.getCommunication(m1.id), undefined);
    assert.ok(fx.fd.store.getCommunication(m2.id));
    fx.fd.store.updateTask(t2.id, { status: 'cancelled' });
    assert.equal(fx.fd.store.getCommunication(m2.id), undefined);
  });

  test('lifecycle: DispReq → pharmacy reads → Reply → $accept → $dispense → $close: the insured has no message of the task left (ERP_EE_NACHRICHTEN_06)', async () => {
    const c = await fhir(fx, practice, 'POST', '/Task/$create', createParameters(160));
    assert.equal(c.status, 201, c.body);
    const id = /<id value="([^"]*)"/.exec(c.body)![1];
    const ac = valueOf(c.body, 'https://gematik.de/fhir/erp/NamingSystem/GEM_ERP_NS_AccessCode')!;
    const xml = substituteBundle(fs.readFileSync(path.join(KBV_DIR, 'Beispiel_12.xml'), 'utf8'), id, berlinDay(fx.fd.clock.now()));
    const act = await fhir(fx, practice, 'POST', `/Task/${id}/$activate`, activateParameters(signWith(hba, xml, fx.fd.clock.now())), { 'X-AccessCode': ac });
    assert.equal(act.status, 200, act.body);
    const kvnr = valueOf(act.body, KVID)!;
    const patient = await insuredToken(kvnr);
    const req = created(await post(patient.token, dispReq({ id, ac })));
    assert.ok(ids(await search(pharmacy, '?received=NULL')).includes(req.id));
    const answer = created(await post(pharmacy, reply({ id }, kvnr)));
    const acc = await fhir(fx, pharmacy, 'POST', `/Task/${id}/$accept?ac=${ac}`);
    assert.equal(acc.status, 200, acc.body);
    const secret = valueOf(acc.body, 'https://gematik.de/fhir/erp/NamingSystem/GEM_ERP_NS_Secret')!;
    const dispense = `<Parameters xmlns="http://hl7.org/fhir"><parameter><name value="rxDispensation"/><part><name value="medicationDispense"/><resource><MedicationDispense><id value="md1"/><identifier><system value="https://gematik.de/fhir/erp/NamingSystem/GEM_ERP_NS_PrescriptionId"/><value value="${id}"/></identifier><status value="completed"/><medicationReference><reference value="urn:uuid:5fe6e06c-8725-46d5-aecd-e65e041ca3af"/></medicationReference><subject><identifier><system value="${KVID}"/><value value="${kvnr}"/></identifier></subject><performer><actor><identifier><system value="${TID}"/><value value="${pharmacyId}"/></identifier></actor></performer><whenHandedOver value="${berlinDay(fx.fd.clock.now())}"/></MedicationDispense></resource></part><part><name value="medication"/><resource><Medication><id value="5fe6e06c-8725-46d5-aecd-e65e041ca3af"/><code><coding><system value="http://fhir.de/CodeSystem/ifa/pzn"/><code value="12345678"/></coding></code></Medication></resource></part></parameter></Parameters>`;
    assert.equal((await fhir(fx, pharmacy, 'POST', `/Task/${id}/$dispense?secret=${secret}`, dispense)).status, 200);
    assert.ok(ids(await search(patient.token)).includes(answer.id), 'before $close the insured has the reply');
    const close = await fhir(fx, pharmacy, 'POST', `/Task/${id}/$close?secret=${secret}`);
    assert.equal(close.status, 200, close.body);
    const after = await search(patient.token);
    assert.deepEqual(ids(after).filter((x) => x === req.id || x === answer.id), []);
    assert.equal(fx.fd.store.getCommunication(req.id), undefined);
    assert.equal(fx.fd.store.getCommunication(answer.id), undefined);
  });
});
