/**
 * Steps of the insured's features (features/erezept/versicherter, UC 3.1, 3.2, 3.5, 3.6): the
 * practice prescribes through the simulated PVS, the insured acts through the simulated E-Rezept-App
 * (steps/erezept/fdv-support.ts), the pharmacy through the simulated AVS. Every Then step checks
 * through verify() the requirement it proves.
 */
import { Given, Then, When } from '@cucumber/cucumber';
import assert from 'node:assert/strict';
import { loadPersona, type EgkPersona } from '../../cards';
import type { KbvMedication } from '../../simulators/lib/kbv-bundle';
import { scanERezeptPng } from '../../simulators/lib/datamatrix';
import { formatToken } from '../../simulators/lib/erezept-token';
import type { PrescriptionResult } from '../../simulators/pvs/pvs';
import { verifyAll } from '../idp/support';
import { TestDefectError } from '../support/errors';
import { verify } from '../verify';
import type { TiWorld } from '../world';
import { attempt, fdvOf, fdvState, openFdv, scenarioSince } from './fdv-support';
import { createAvs, erpState, openPvs } from './support';

const IBUPROFEN: KbvMedication = { kind: 'pzn', pzn: '06313728', name: 'Ibuprofen AL 400 mg 20 Filmtabletten N1', form: 'FTA', normSize: 'N1', ingredient: { name: 'Ibuprofen', strength: { value: 400, unit: 'mg' } } };
const DOSAGE = '1-0-1-0';

const kvnrOf = (insured: string) => (loadPersona(insured) as EgkPersona).insurance.kvnr;

function issuedFor(world: TiWorld, insured: string): PrescriptionResult[] {
  const kvnr = kvnrOf(insured);
  const list = erpState(world).prescriptions.filter((p) => p.kvnr === kvnr);
  if (!list.length) throw new TestDefectError(`no prescription for ${insured} in this scenario`);
  return list;
}

const lastFor = (world: TiWorld, insured: string) => issuedFor(world, insured).at(-1) as PrescriptionResult;

// ---------------------------------------------------------------------------------------------- Given

Given('die Ärztin {string} hat für {string} {int} E-Rezept(e) ausgestellt', async function (this: TiWorld, doctor: string, insured: string, n: number) {
  const pvs = await openPvs(this, { doctor });
  const results = await pvs.prescribe(Array.from({ length: n }, () => ({ patient: insured, medication: IBUPROFEN, dosage: DOSAGE })));
  erpState(this).prescriptions.push(...results);
});

Given('{string} ist mit der eGK in der E-Rezept-App angemeldet', async function (this: TiWorld, insured: string) {
  await openFdv(this, insured);
});

Given('die {string} hat das letzte E-Rezept von {string} abgerufen', async function (this: TiWorld, pharmacy: string, insured: string) {
  const avs = await createAvs(this, { pharmacy });
  await avs.accept(lastFor(this, insured).token);
});

Given('{string} hat das letzte E-Rezept als DataMatrix-Code an {string} weitergegeben', async function (this: TiWorld, from: string, to: string) {
  const owner = fdvOf(this, from);
  await owner.downloadAll({ modifiedSince: scenarioSince(this) });
  const token = owner.token(lastFor(this, from).taskId);
  const png = owner.dataMatrix([token]);
  const tokens = fdvOf(this, to).scan(png);
  fdvState(this).passedOn = { from, to, tokens, png };
});

// ---------------------------------------------------------------------------------------------- When

When('{string} in der App alle E-Rezepte seitenweise zu je {int} abruft', async function (this: TiWorld, insured: string, count: number) {
  const fdv = fdvOf(this, insured);
  // the Fachdienst is shared by every scenario of the run: the listing is narrowed to what changed since
  // this scenario began, so earlier scenarios' prescriptions of the same persona do not count
  const since = scenarioSince(this);
  const listing = await fdv.listTasks({ count, modifiedSince: since });
  const items = await fdv.downloadAll({ count, modifiedSince: since });
  fdvState(this).downloads.set(loadPersona(insured).name, { items, pages: listing.pages });
});

When('{string} das letzte E-Rezept in der App löscht', async function (this: TiWorld, insured: string) {
  const fdv = fdvOf(this, insured);
  await attempt(this, () => fdv.delete(lastFor(this, insured).taskId));
});

When('{string} versucht, das letzte E-Rezept von {string} ohne AccessCode zu löschen', async function (this: TiWorld, insured: string, owner: string) {
  await attempt(this, () => fdvOf(this, insured).delete(lastFor(this, owner).taskId));
});

When('{string} das weitergegebene E-Rezept als Vertreter abruft', async function (this: TiWorld, rep: string) {
  const p = fdvState(this).passedOn;
  if (!p) throw new TestDefectError('no E-Rezept was passed on in this scenario');
  const held = await attempt(this, () => fdvOf(this, rep).retrieveAsRepresentative(p.tokens[0]));
  if (held) fdvState(this).represented = held;
});

When('{string} versucht, das letzte E-Rezept von {string} ohne AccessCode abzurufen', async function (this: TiWorld, rep: string, owner: string) {
  await attempt(this, () => fdvOf(this, rep).getPrescription(lastFor(this, owner).taskId));
});

When('{string} versucht, das letzte E-Rezept von {string} mit dessen AccessCode abzurufen', async function (this: TiWorld, rep: string, owner: string) {
  await attempt(this, () => fdvOf(this, rep).retrieveAsRepresentative(lastFor(this, owner).token));
});

When(/^"([^"]+)" das Zugriffsprotokoll in der App (?:auf (Deutsch|Englisch) )?abruft$/, async function (this: TiWorld, insured: string, lang?: string) {
  const language = lang === 'Englisch' ? 'en' : 'de';
  const r = await fdvOf(this, insured).auditEvents({ sort: '-date', language, count: 5, since: scenarioSince(this) });
  fdvState(this).audit = { items: r.items, pages: r.pages, language };
});

When('{string} das Zugriffsprotokoll nach Löschungen gefiltert abruft', async function (this: TiWorld, insured: string) {
  const r = await fdvOf(this, insured).auditEvents({ subtype: 'delete', since: scenarioSince(this) });
  fdvState(this).audit = { items: r.items, pages: r.pages };
});

// ---------------------------------------------------------------------------------------------- Then

Then('sieht {string} genau die für sie/ihn ausgestellten E-Rezepte mit Status und AccessCode', async function (this: TiWorld, insured: string) {
  const got = fdvState(this).downloads.get(loadPersona(insured).name);
  const issued = issuedFor(this, insured);
  await verifyAll(this, ['A_18506', 'A_18868'], 'Das FdV lädt alle E-Rezepte des Versicherten (GET /Task seitenweise, GET /Task/<id>) und nur diese', () => {
    assert.ok(got, 'no download in this scenario');
    // the Fachdienst is shared by the whole run: the listing (narrowed to "modified since this scenario
    // began", second precision) may hold a prescription of an earlier scenario, but every one listed must
    // be this insured's, none of another insured's, and all issued in this scenario must be there
    const listed = got.items.map((h) => h.taskId);
    for (const r of issued) assert.ok(listed.includes(r.taskId), `${r.taskId} issued in this scenario is missing`);
    const kvnr = kvnrOf(insured);
    for (const h of got.items) assert.equal(h.kvnr, kvnr, `${h.taskId} of ${h.kvnr} was listed for ${kvnr}`);
    const othersIssued = erpState(this).prescriptions.filter((p) => p.kvnr !== kvnr).map((p) => p.taskId);
    assert.ok(othersIssued.length > 0, 'the scenario must issue a prescription for another insured too');
    for (const id of othersIssued) assert.ok(!listed.includes(id), `another insured's prescription ${id} was listed`);
    assert.ok(got.pages >= 2 || issued.length <= 1, `the listing came in ${got.pages} page(s)`);
    for (const r of issued) assert.equal(got.items.find((h) => h.taskId === r.taskId)?.status, 'ready', r.taskId);
  });
  await verifyAll(this, ['A_20555'], 'Das E-Rezept-FdV erhält den AccessCode zum Erstellen des E-Rezept-Tokens', () => {
    for (const r of issued) assert.equal(got?.items.find((h) => h.taskId === r.taskId)?.accessCode, r.token.accessCode);
  });
});

Then('zeigt die App den Inhalt des E-Rezepts von {string} an', async function (this: TiWorld, insured: string) {
  const fdv = fdvOf(this, insured);
  const r = lastFor(this, insured);
  const persona = loadPersona(insured) as EgkPersona;
  await verify('A_18539', 'Das FdV zeigt die fachlichen Inhalte des E-Rezepts an (Arzneimittel, Dosierung, Menge, Verordnende, Patient)', () => {
    const c = fdv.content(r.taskId);
    assert.equal(c.prescriptionId, r.taskId);
    assert.equal(c.medication.name, IBUPROFEN.name);
    assert.equal(c.medication.pzn, '06313728');
    assert.equal(c.dosage, DOSAGE);
    assert.equal(c.quantity, 1);
    assert.match(c.prescriber?.name ?? '', /Hanna Ebert/);
    assert.equal(c.patient?.kvnr, persona.insurance.kvnr);
    assert.ok(c.authoredOn, 'no date of issue');
  });
});

Then('erzeugt die App für alle E-Rezepte von {string} die E-Rezept-Token in einem DataMatrix-Code, der sich wieder einscannen lässt', async function (this: TiWorld, insured: string) {
  const fdv = fdvOf(this, insured);
  const issued = issuedFor(this, insured);
  const tokens = issued.map((r) => fdv.token(r.taskId));
  await verify('A_18789', 'Der E-Rezept-Token des FdV enthält Rezept-ID und AccessCode', () => {
    assert.deepEqual(tokens, issued.map((r) => r.token));
    for (const t of tokens) assert.equal(fdv.tokenText(t.prescriptionId), `Task/${t.prescriptionId}/$accept?ac=${t.accessCode}`);
  });
  const png = fdv.dataMatrix(tokens);
  await verify('A_18534', `Ein DataMatrix-Code (ISO/IEC 16022) trägt die ${tokens.length} E-Rezept-Token`, () => {
    assert.deepEqual(scanERezeptPng(png), tokens);
  });
  await verify('A_18535', 'Das FdV scannt den DataMatrix-Code ein und dekodiert die E-Rezept-Token', () => {
    assert.deepEqual(fdv.scan(png), tokens);
  });
});

Then('exportiert die App die E-Rezept-Token von {string} als Datei, die {string} importieren kann', async function (this: TiWorld, insured: string, other: string) {
  const tokens = issuedFor(this, insured).map((r) => fdvOf(this, insured).token(r.taskId));
  await verify('A_18537', 'Das FdV exportiert E-Rezept-Token in eine Datei und importiert sie wieder', () => {
    const file = fdvOf(this, insured).exportTokens(tokens);
    assert.deepEqual(JSON.parse(file).urls, tokens.map(formatToken));
    assert.deepEqual(fdvOf(this, other).importTokens(Buffer.from(file, 'utf8')), tokens);
  });
});

const REFUSAL_AFOS = ['A_18507', 'A_18565', 'A_18781', 'A_18564', 'A_20756', 'A_20557'];

Then('lehnt der Fachdienst den Zugriff der App mit HTTP-Status {int} und dem Text {string} ab', async function (this: TiWorld, status: number, text: string) {
  const s = fdvState(this);
  await verifyAll(this, REFUSAL_AFOS, `Der Fachdienst lehnt mit ${status} "${text}" ab`, () => {
    assert.equal(s.lastOk, false, 'the Fachdienst accepted the operation');
    assert.equal(s.lastError?.status, status, s.lastError?.message);
    assert.equal(s.lastError?.text, text);
  });
});

Then('ist das letzte E-Rezept von {string} gelöscht und kann nicht mehr abgerufen werden', async function (this: TiWorld, insured: string) {
  const s = fdvState(this);
  const fdv = fdvOf(this, insured);
  const r = lastFor(this, insured);
  const after = await attempt(this, () => fdv.getPrescription(r.taskId));
  const listed = await fdv.listTasks({ modifiedSince: scenarioSince(this) });
  await verifyAll(this, ['A_18507', 'A_18565'], 'Nach dem Löschen durch den Versicherten antwortet der Fachdienst 410 und das FdV hält das E-Rezept nicht mehr', () => {
    assert.equal(after, undefined, 'the deleted prescription can still be read');
    assert.equal(s.lastError?.status, 410);
    assert.equal(s.lastError?.text, 'Task has already been deleted');
    assert.ok(!listed.items.some((t) => t.taskId === r.taskId && t.status !== 'cancelled'), 'the Task is still listed as redeemable');
  });
});

Then('sieht {string} als Vertreter den Inhalt des E-Rezepts von {string}', async function (this: TiWorld, rep: string, owner: string) {
  const s = fdvState(this);
  const r = lastFor(this, owner);
  await verifyAll(this, ['A_18781', 'A_18564'], 'Der Vertreter ruft mit dem AccessCode das E-Rezept des Versicherten ab', () => {
    assert.equal(s.lastOk, true, s.lastError?.message);
    assert.equal(s.represented?.taskId, r.taskId);
    assert.equal(s.represented?.kvnr, r.kvnr);
    assert.equal(s.represented?.asRepresentative, true);
    assert.equal(fdvOf(this, rep).content(r.taskId).patient?.kvnr, r.kvnr);
  });
});

Then('enthält das Zugriffsprotokoll von {string} die Zugriffe auf das E-Rezept mit Zeit, Art und Name des Zugreifenden', async function (this: TiWorld, insured: string) {
  const a = fdvState(this).audit;
  const r = lastFor(this, insured);
  const about = a?.items.filter((e) => e.prescriptionId === r.taskId) ?? [];
  await verifyAll(this, ['A_18510', 'A_18871'], 'Das FdV ruft die Protokolleinträge des Versicherten ab (GET /AuditEvent, seitenweise, neueste zuerst)', () => {
    assert.ok(a && a.items.length >= 2, 'no access log entries');
    assert.ok(a.pages >= 2 || a.items.length <= 5, `pages: ${a.pages}`);
    const t = a.items.map((e) => e.recorded ?? '');
    assert.deepEqual([...t].sort().reverse(), t, 'not newest first');
  });
  await verifyAll(this, ['A_18497', 'A_18526'], 'Jeder Eintrag nennt Zeit, Art des Zugriffs, Name und Kennung des Zugreifenden und die Rezept-ID', () => {
    assert.ok(about.length >= 2, `entries about ${r.taskId}: ${about.length}`);
    for (const e of about) {
      assert.ok(e.recorded && e.action && e.agentName && e.agentId, `incomplete entry ${JSON.stringify({ ...e, resource: undefined })}`);
    }
  });
  await verifyAll(this, ['A_18573'], 'Das FdV kann die Protokolleinträge als lesbaren Text anzeigen', () => {
    for (const e of about) assert.ok(e.text && e.text.length > 10, 'no readable text');
  });
});

Then('enthält das gefilterte Zugriffsprotokoll von {string} nur die Löschung des E-Rezepts', async function (this: TiWorld, insured: string) {
  const a = fdvState(this).audit;
  const r = lastFor(this, insured);
  await verifyAll(this, ['A_18510', 'A_18871'], 'Der Filter subtype=delete liefert nur Löschungen', () => {
    assert.ok(a && a.items.length >= 1, 'no entries');
    assert.ok(a.items.every((e) => e.action === 'D'), `actions: ${a.items.map((e) => e.action).join(',')}`);
    assert.ok(a.items.some((e) => e.prescriptionId === r.taskId));
  });
});

Then('nennt das Zugriffsprotokoll von {string} den Vertreter {string} als Zugreifenden', async function (this: TiWorld, insured: string, rep: string) {
  const r = lastFor(this, insured);
  const log = await fdvOf(this, insured).auditEvents({ prescriptionId: r.taskId });
  await verifyAll(this, ['A_18497', 'A_18526'], 'Der Zugriff des Vertreters wird für den Versicherten protokolliert', () => {
    assert.ok(log.items.some((e) => e.agentId === kvnrOf(rep)), `agents: ${log.items.map((e) => e.agentId).join(', ')}`);
  });
});
