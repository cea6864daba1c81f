/**
 * Steps of features/erezept/fachdienst/loeschfristen.feature: the Fachdienst's retention periods
 * (A_18525 with TAB_SYSLERP_021, A_18788, A_18937). Time passes through the harness-only clock admin
 * API (@simulator-only): the IDP's and the Fachdienst's SimClocks are set to the same instant (the
 * Fachdienst runs its retention job on every clock change), the insured then log in again with an app
 * whose own clock is shifted by the same amount (tokens issued by the moved IDP, checked by the moved
 * Fachdienst). The PKI and the Konnektor have no clock admin API; the IDP does not check OCSP freshness
 * and the card certificates are valid for 5 years, so +100 days and +3 years stay inside them.
 *
 * Whether something is stored is checked twice: through the insured's API (GET /Task/<id>,
 * GET /Communication, GET /AuditEvent) and in the database itself — the Fachdienst's SQLite file read
 * READ-ONLY by the harness's storage scanner (simulators/fachdienst/testing/storage-scan.ts, test
 * support; not a TI interface). Every clock is reset after the scenario.
 */
import assert from 'node:assert/strict';
import { After, Given, Then, When } from '@cucumber/cucumber';
import { loadPersona } from '../../cards';
import { fachdienstDatabaseFile, scanStorage, type StorageHit } from '../../simulators/fachdienst/testing/storage-scan';
import { Fdv } from '../../simulators/fdv/fdv';
import type { AuditEntry } from '../../simulators/fdv/audit';
import { buildRepresentativeMessage, readMessage, type ErpMessage } from '../../simulators/lib/erp-communication';
import { parseFhir, serializeFhirXml, type FhirJson } from '../../simulators/lib/fhir';
import type { KbvMedication } from '../../simulators/lib/kbv-bundle';
import { ERP_NS } from '../../simulators/pvs/pvs';
import { insertCard, pkiTrust } from '../idp/support';
import { Cleanup } from '../support/cleanup';
import { EnvironmentError, TestDefectError } from '../support/errors';
import { verify } from '../verify';
import type { TiWorld } from '../world';
import { fdvOf } from './fdv-support';
import { identOf, lastPrescriptionOf, tokenInApp } from './nachrichten.steps';
import { createAvs, erpState, openPvs } from './support';

const DAY_MS = 24 * 3600 * 1000;
const HOUR_MS = 3600 * 1000;
const MEDICATION: KbvMedication = { kind: 'pzn', pzn: '06313728', name: 'Ibuprofen AL 400 mg', normSize: 'N1', ingredient: { name: 'Ibuprofen', strength: { value: 400, unit: 'mg' } } };

/** TAB_SYSLERP_021 status names (German, as in the table) → Task.status. */
const STATUS: Record<string, string> = { initialisiert: 'draft', offen: 'ready', 'in Abgabe': 'in-progress', quittiert: 'completed', gelöscht: 'cancelled' };

interface StoredRecord {
  taskId: string;
  accessCode: string;
  status: string;
  /** Client time right after the status change (the Fachdienst's time of it is at most this). */
  changedAt: number;
}

interface RetentionState {
  /** The offset of the IDP and Fachdienst clocks from system time (ms), as last set. */
  offsetMs: number;
  clockMoved: boolean;
  /** Apps logged in at the shifted time, per insured (closed after the scenario). */
  apps: Map<string, { fdv: Fdv; offsetMs: number }>;
  record?: StoredRecord;
  messages: ErpMessage[];
  audit: AuditEntry[];
}

function lf(world: TiWorld): RetentionState {
  const extra = erpState(world).extra;
  let s = extra.get('loeschfristen') as RetentionState | undefined;
  if (!s) {
    s = { offsetMs: 0, clockMoved: false, apps: new Map(), messages: [], audit: [] };
    extra.set('loeschfristen', s);
  }
  return s;
}

function recordOf(world: TiWorld): StoredRecord {
  const r = lf(world).record;
  if (!r) throw new TestDefectError('no prescription data set in this scenario yet');
  return r;
}

// ---------------------------------------------------------------------------------------------- clocks

/** Sets the IDP's and the Fachdienst's clocks to `at` (the Fachdienst last: its retention run sees the final time). */
async function setClocks(world: TiWorld, at: number): Promise<void> {
  const s = lf(world);
  if (at < Date.now() + s.offsetMs - 1000) throw new TestDefectError(`the scenario's time only moves forward (to ${new Date(at).toISOString()})`);
  s.clockMoved = true;
  const iso = new Date(at).toISOString();
  await world.admin('idp', '/clock', { set: iso });
  await world.admin('fachdienst', '/clock', { set: iso });
  s.offsetMs = at - Date.now();
}

/** The insured's app at the scenario's current time: logged in again with the eGK whenever the clocks moved. */
async function appNow(world: TiWorld, insured: string): Promise<Fdv> {
  const s = lf(world);
  const name = loadPersona(insured).name;
  if (s.offsetMs === 0) return fdvOf(world, insured);
  const known = s.apps.get(name);
  if (known && known.offsetMs === s.offsetMs) return known.fdv;
  if (known) await known.fdv.close();
  const offset = s.offsetMs;
  try {
    await insertCard(world, name);
    const fdv = await Fdv.open({ env: world.env, insured: name, trust: await pkiTrust(world), clock: () => Date.now() + offset });
    s.apps.set(name, { fdv, offsetMs: offset });
    await fdv.login();
    return fdv;
  } catch (e) {
    throw new EnvironmentError(`the E-Rezept-App of ${name} could not log in at the moved time ${new Date(Date.now() + offset).toISOString()}: ${(e as Error).message}`, { cause: e });
  }
}

/** 00:00 Europe/Berlin of a calendar day "YYYY-MM-DD" (DST-aware). */
function berlinMidnight(day: string): number {
  const [y, m, d] = day.split('-').map(Number);
  for (const offsetH of [1, 2]) {
    const t = Date.UTC(y, m - 1, d) - offsetH * HOUR_MS;
    const parts = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Berlin', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', day: '2-digit' }).formatToParts(new Date(t));
    if (parts.find((p) => p.type === 'hour')?.value === '00' && Number(parts.find((p) => p.type === 'day')?.value) === d) return t;
  }
  throw new TestDefectError(`no Berlin midnight for ${day}`);
}

function plusDays(day: string, n: number): string {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
}

function plusYears(at: number, years: number): number {
  const d = new Date(at);
  d.setUTCFullYear(d.getUTCFullYear() + years);
  return d.getTime();
}

// ---------------------------------------------------------------------------------------------- storage

/** Hits of the needles in the Fachdienst's database (read-only), optionally without some tables. */
function stored(world: TiWorld, needles: string[], ignoreTables: string[] = []): StorageHit[] {
  try {
    return scanStorage(fachdienstDatabaseFile(world.env.dataDir), needles, { ignoreTables });
  } catch (e) {
    throw new EnvironmentError(`the Fachdienst database could not be read: ${(e as Error).message}`, { cause: e });
  }
}

const where = (hits: StorageHit[]) => [...new Set(hits.map((h) => `${h.table}.${h.column}`))].join(', ');

/** GET /Task/<id> as the insured (at the scenario's time): status and OperationOutcome text. */
async function insuredRead(world: TiWorld, insured: string, taskId: string): Promise<{ status: number; text?: string }> {
  const fdv = await appNow(world, insured);
  const r = await fdv.fachdienst.request('GET', `/Task/${taskId}`, { headers: { Accept: 'application/fhir+json' } });
  let text: string | undefined;
  try {
    const oo = parseFhir(r.text(), r.headers['content-type']);
    if (oo.resourceType === 'OperationOutcome') text = ((oo.issue as FhirJson[])[0]?.details as FhirJson | undefined)?.text as string | undefined;
  } catch {
    // not FHIR
  }
  if (r.status >= 500) throw new EnvironmentError(`GET /Task/<id> answered ${r.status}: ${r.text().slice(0, 200)}`);
  return { status: r.status, ...(text ? { text } : {}) };
}

// ---------------------------------------------------------------------------------------------- Given

Given('ein E-Rezept von {string} im Status {string} liegt beim Fachdienst vor', async function (this: TiWorld, insured: string, statusDe: string) {
  const status = STATUS[statusDe];
  if (!status) throw new TestDefectError(`status "${statusDe}": one of ${Object.keys(STATUS).join(', ')}`);
  const s = lf(this);
  const pvs = await openPvs(this, {});
  try {
    if (status === 'draft') {
      const body = serializeFhirXml({ resourceType: 'Parameters', parameter: [{ name: 'workflowType', valueCoding: { system: ERP_NS.flowType, code: '160' } }] }, { declaration: true });
      const r = await pvs.fachdienst.request('POST', '/Task/$create', { headers: { 'Content-Type': 'application/fhir+xml; charset=utf-8', Accept: 'application/fhir+xml' }, body });
      if (r.status !== 201) throw new Error(`$create answered ${r.status}`);
      const task = parseFhir(r.text(), r.headers['content-type']);
      const ids = (task.identifier as FhirJson[] | undefined) ?? [];
      const taskId = ids.find((i) => i.system === ERP_NS.prescriptionId)?.value as string;
      const accessCode = ids.find((i) => i.system === ERP_NS.accessCode)?.value as string;
      s.record = { taskId, accessCode, status, changedAt: Date.now() };
      return;
    }
    const [rx] = await pvs.prescribe([{ patient: insured, medication: MEDICATION, dosage: '1-0-1-0' }]);
    erpState(this).prescriptions.push(rx);
    s.record = { taskId: rx.taskId, accessCode: rx.token.accessCode, status: 'ready', changedAt: Date.now() };
    if (status === 'ready') return;
    if (status === 'cancelled') {
      const fdv = fdvOf(this, insured);
      await fdv.delete(rx.taskId);
      s.record = { ...s.record, status, changedAt: Date.now() };
      return;
    }
    const avs = await createAvs(this, {});
    await avs.accept(rx.token);
    s.record = { ...s.record, status: 'in-progress', changedAt: Date.now() };
    if (status === 'completed') {
      await avs.close(rx.taskId);
      s.record = { ...s.record, status, changedAt: Date.now() };
    }
  } catch (e) {
    if (e instanceof EnvironmentError || e instanceof TestDefectError) throw e;
    throw new EnvironmentError(`precondition failed (a prescription of ${insured} in status ${statusDe}): ${(e as Error).message}`, { cause: e });
  }
});

Given('die Ärztin hat für {string} eine Mehrfachverordnung ausgestellt, die {int} Tage gültig ist', async function (this: TiWorld, insured: string, days: number) {
  const pvs = await openPvs(this, {});
  const today = new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/Berlin' }).format(new Date());
  try {
    const [rx] = await pvs.prescribe([{ patient: insured, medication: MEDICATION, dosage: '1-0-1-0', multiplePrescription: { numerator: 1, denominator: 2, start: today, end: plusDays(today, days) } }]);
    erpState(this).prescriptions.push(rx);
    lf(this).record = { taskId: rx.taskId, accessCode: rx.token.accessCode, status: 'ready', changedAt: Date.now() };
  } catch (e) {
    throw new EnvironmentError(`precondition failed (a Mehrfachverordnung for ${insured}): ${(e as Error).message}`, { cause: e });
  }
});

Given('{string} hat das Zugriffsprotokoll zu dem E-Rezept abgerufen', async function (this: TiWorld, insured: string) {
  const rx = lastPrescriptionOf(this, insured);
  const r = await fdvOf(this, insured).auditEvents({ prescriptionId: rx.taskId });
  if (r.items.length === 0) throw new EnvironmentError(`precondition failed: no access log entries about ${rx.taskId}`);
  lf(this).audit = r.items;
});

// ---------------------------------------------------------------------------------------------- When

When(/^seit dem Statuswechsel (\d+) (Stunden|Tage) vergangen sind$/, async function (this: TiWorld, n: string, unit: string) {
  await setClocks(this, recordOf(this).changedAt + Number(n) * (unit === 'Tage' ? DAY_MS : HOUR_MS));
});

When(/^der (\d+)\. Tag nach dem Ablauf der Gültigkeit (zu Ende geht|beginnt)$/, async function (this: TiWorld, n: string, which: string) {
  const rec = recordOf(this);
  const held = await appNow(this, 'Jonas Keller').then((f) => f.getPrescription(rec.taskId)).catch((e: Error) => {
    throw new EnvironmentError(`the expiry date of ${rec.taskId} could not be read: ${e.message}`);
  });
  if (!held.expiryDate) throw new EnvironmentError(`${rec.taskId} has no ExpiryDate`);
  const day = plusDays(held.expiryDate, Number(n));
  // 23:59 of that day, or one minute after its start (Berlin time)
  await setClocks(this, which === 'beginnt' ? berlinMidnight(day) + 60_000 : berlinMidnight(plusDays(day, 1)) - 60_000);
});

When('{string} nach {int} Tagen noch eine Nachricht zu dem E-Rezept an {string} schickt', async function (this: TiWorld, insured: string, days: number, to: string) {
  const s = lf(this);
  const first = s.messages[0];
  if (!first?.sent) throw new TestDefectError('no first message in this scenario');
  await setClocks(this, Date.parse(first.sent) + days * DAY_MS);
  const fdv = await appNow(this, insured);
  const rx = lastPrescriptionOf(this, insured);
  const r = await fdv.fachdienst.request('POST', '/Communication', {
    headers: { 'Content-Type': 'application/fhir+json; charset=utf-8', Accept: 'application/fhir+json' },
    body: JSON.stringify(buildRepresentativeMessage({ token: rx.token, kvnr: identOf(to), text: `Nachricht nach ${days} Tagen` })),
  });
  if (r.status !== 201) throw new EnvironmentError(`precondition failed: the second message was refused with ${r.status}: ${r.text().slice(0, 200)}`);
  s.messages.push(readMessage(parseFhir(r.text(), r.headers['content-type'])));
});

When('{string} das letzte E-Rezept an {string} schickt und sich die Nachricht merkt', async function (this: TiWorld, insured: string, to: string) {
  const token = await tokenInApp(this, insured);
  const m = await fdvOf(this, insured).sendToRepresentative(token, identOf(to), 'Bitte für mich abholen').catch((e: Error) => {
    throw new EnvironmentError(`precondition failed: the message was refused: ${e.message}`);
  });
  lf(this).messages.push(m);
});

When(/^seit der ersten Nachricht (\d+) Tage vergangen sind$/, async function (this: TiWorld, days: string) {
  const first = lf(this).messages[0];
  if (!first?.sent) throw new TestDefectError('no first message in this scenario');
  await setClocks(this, Date.parse(first.sent) + Number(days) * DAY_MS);
});

When(/^seit dem (ersten|letzten) Protokolleintrag zu dem E-Rezept 3 Jahre (weniger|und) ein(?:en)? Tag vergangen sind$/, async function (this: TiWorld, which: string, sign: string) {
  const times = lf(this).audit.map((e) => Date.parse(e.recorded ?? '')).filter((t) => !Number.isNaN(t));
  if (!times.length) throw new TestDefectError('no access log entries with a time in this scenario');
  const base = which === 'ersten' ? Math.min(...times) : Math.max(...times);
  await setClocks(this, plusYears(base, 3) + (sign === 'und' ? DAY_MS : -DAY_MS));
});

// ---------------------------------------------------------------------------------------------- Then

/** The insured's answer to GET /Task/<id> while the record is stored, per status. */
const WHILE_STORED: Record<string, { status: number; text?: string }> = {
  draft: { status: 403, text: 'Status draft is not allowed for this operation' },
  ready: { status: 200 },
  'in-progress': { status: 200 },
  completed: { status: 200 },
  cancelled: { status: 410, text: 'Task has already been deleted' },
};

Then('ist das E-Rezept beim Fachdienst noch gespeichert', async function (this: TiWorld) {
  const rec = recordOf(this);
  const read = await insuredRead(this, 'Jonas Keller', rec.taskId);
  const hits = stored(this, [rec.taskId], ['audit_events']);
  await verify('A_18525', `Vor Ablauf der Löschfrist (Status ${rec.status}) ist das E-Rezept noch gespeichert: die Schnittstelle antwortet ${WHILE_STORED[rec.status].status}, die Datenbank enthält den Task`, () => {
    assert.deepEqual(read, WHILE_STORED[rec.status]);
    assert.ok(hits.some((h) => h.table === 'tasks'), `the task is not in the database (hits: ${where(hits) || 'none'})`);
  });
});

Then('ist das E-Rezept gelöscht, auch in der Datenbank des Fachdienstes', async function (this: TiWorld) {
  const rec = recordOf(this);
  const read = await insuredRead(this, 'Jonas Keller', rec.taskId);
  const hits = stored(this, [rec.taskId, rec.accessCode], ['audit_events']);
  await verify('A_18525', `Nach Ablauf der Löschfrist (Status ${rec.status}) ist das E-Rezept physisch gelöscht: 404 an der Schnittstelle, weder Rezept-ID noch AccessCode in irgendeiner Tabelle (außer dem Zugriffsprotokoll)`, () => {
    assert.deepEqual(read, { status: 404, text: 'Task not found in DB' });
    assert.deepEqual(hits, [], `still stored in ${where(hits)}`);
  });
});

Then(/^sind (beide Nachrichten|nur noch die zweite Nachricht) beim Fachdienst gespeichert, auch in der Datenbank$/, async function (this: TiWorld, which: string) {
  const s = lf(this);
  const [first, second] = s.messages;
  if (!first?.id || !second?.id) throw new TestDefectError('two messages must have been sent in this scenario');
  const both = which === 'beide Nachrichten';
  const listing = (await (await appNow(this, 'Jonas Keller')).messages()).items.map((m) => m.id);
  const firstHits = stored(this, [first.id]);
  const secondHits = stored(this, [second.id]);
  await verify('A_18788', both ? 'Vor Ablauf von 100 Tagen sind beide Nachrichten gespeichert (Schnittstelle und Datenbank)' : '100 Tage nach dem Einstellen ist die erste Nachricht physisch gelöscht, die zwei Tage jüngere noch gespeichert (Schnittstelle und Datenbank)', () => {
    assert.equal(listing.includes(first.id), both, `first message listed: ${listing.includes(first.id)}`);
    assert.equal(firstHits.length > 0, both, `first message in the database: ${where(firstHits) || 'nowhere'}`);
    assert.ok(listing.includes(second.id), 'the second message is not listed');
    assert.ok(secondHits.some((h) => h.table === 'communications'), 'the second message is not in the database');
  });
});

Then(/^enthält das Zugriffsprotokoll von "([^"]+)" (noch alle|keinen der) Einträge zu dem E-Rezept(?:, auch nicht die Datenbank)?$/, async function (this: TiWorld, insured: string, which: string) {
  const s = lf(this);
  const rx = lastPrescriptionOf(this, insured);
  const ids = s.audit.map((e) => e.id).filter((x): x is string => !!x);
  if (!ids.length) throw new TestDefectError('no access log entries with ids in this scenario');
  const now = (await (await appNow(this, insured)).auditEvents({ prescriptionId: rx.taskId })).items.map((e) => e.id);
  const keep = which === 'noch alle';
  const hits = stored(this, keep ? ids : [...ids, rx.taskId]);
  await verify('A_18937', keep ? 'Einen Tag vor Ablauf von 3 Jahren sind alle Protokolleinträge zu dem E-Rezept noch abrufbar und gespeichert' : '3 Jahre nach ihrer Erzeugung sind die Protokolleinträge physisch gelöscht: nicht mehr abrufbar, weder ihre IDs noch die Rezept-ID in der Datenbank', () => {
    if (keep) {
      for (const id of ids) assert.ok(now.includes(id), `entry ${id} is no longer listed`);
      assert.deepEqual([...new Set(hits.map((h) => h.needle))].sort(), [...ids].sort(), 'not every entry is in the database');
    } else {
      assert.deepEqual(now.filter((id) => id && ids.includes(id)), [], 'old entries are still listed');
      assert.deepEqual(hits, [], `still stored in ${where(hits)}`);
    }
  });
});

// ---------------------------------------------------------------------------------------------- After

After({ name: 'loeschfristen: reset the IDP and Fachdienst clocks, close the apps of the moved time' }, async function (this: TiWorld) {
  const s = (this.state.get('erezept') as { extra?: Map<string, unknown> } | undefined)?.extra?.get('loeschfristen') as RetentionState | undefined;
  if (!s) return;
  const cleanup = new Cleanup();
  for (const [name, a] of s.apps) await cleanup.attempt(`close the app of ${name}`, () => a.fdv.close());
  if (s.clockMoved) {
    await cleanup.attempt('reset the Fachdienst clock', () => this.admin('fachdienst', '/clock', { reset: true }));
    await cleanup.attempt('reset the IDP clock', () => this.admin('idp', '/clock', { reset: true }));
  }
  cleanup.finish();
});
