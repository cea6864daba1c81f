/**
 * Steps of features/erezept/fachdienst/robustheit.feature: the Fachdienst under system errors
 * (A_18936 Transaktionssicherheit, A_18824 konsistenter Zustand ohne Eingriff, A_18825 Fehlererkennung
 * für Anwender, A_18826 Vorgangswiederholung).
 *
 * Faults are injected through the Fachdienst's harness-only admin API (/__admin/faults, docs/fachdienst.md;
 * @simulator-only): `failInTransaction` (the handler's transaction fails before its commit) and
 * `dropResponse` (the operation commits, the answer is lost). The actors are the simulated PVS and AVS
 * (steps/erezept/support.ts) with their own retry rules (simulators/lib/erp-retry.ts); the steps watch
 * what they send by wrapping their Fachdienst client, and read what the Fachdienst stored only through
 * the harness-only task view GET /__admin/tasks/:id (status and which data exist, never the data).
 * The After hook disarms every fault the scenario armed.
 */
import assert from 'node:assert/strict';
import { After, Given, Then, When } from '@cucumber/cucumber';
import { FachdienstRefusal, type Avs } from '../../simulators/avs/avs';
import type { KbvMedication } from '../../simulators/lib/kbv-bundle';
import type { VauClient, VauRequestOptions, VauResponse } from '../../simulators/lib/vau-client';
import { FachdienstError } from '../../simulators/pvs/errors';
import type { Pvs } from '../../simulators/pvs/pvs';
import { verifyAll } from '../idp/support';
import { EnvironmentError, TestDefectError } from '../support/errors';
import type { TiWorld } from '../world';
import { avsOf, createAvs, erpState, lastPrescription, pvsOf } from './support';

const IBUPROFEN: KbvMedication = {
  kind: 'pzn',
  pzn: '06313728',
  name: 'Ibuprofen AL 400 mg',
  normSize: 'N1',
  ingredient: { name: 'Ibuprofen', strength: { value: 400, unit: 'mg' } },
};

/** The Fachdienst's harness-only view of a stored task (service.ts GET /__admin/tasks/:id). */
interface StoredTask {
  id: string;
  status: string;
  lastStatusChange: string;
  stored: { kvnr: boolean; accessCode: boolean; secret: boolean; owner: boolean; binaries: Record<string, number>; auditEvents: number };
}

/** One request a client system sent to the Fachdienst for the operation under test. */
interface SentCall {
  method: string;
  target: string;
  opts: VauRequestOptions;
  taskId: string;
  status?: number;
  error?: string;
}

interface RobustnessState {
  /** Faults armed by this scenario (disarmed in After). */
  armed: boolean;
  /** Operation the fault was armed for ("Task.$activate", "Task.$accept"). */
  operation?: string;
  /** Requests of that operation the client system sent, in order. */
  calls: SentCall[];
  /** Stored state of the task right before the first such request. */
  before?: StoredTask;
  /** What the client system reported to its user for the first attempt. */
  firstError?: unknown;
  /** The client system's result of the repeated call. */
  repeat?: { response?: VauResponse; error?: unknown };
  /** Secret recovery after the lost answer (GET /Task/<id>?ac=, A_24179) and a $reject with that Secret. */
  recovery?: { secret?: string; error?: unknown; rejected?: boolean; rejectError?: unknown };
  /** Clients already observed. */
  observed: Set<object>;
}

function rState(world: TiWorld): RobustnessState {
  const s = erpState(world);
  let r = s.extra.get('robustheit') as RobustnessState | undefined;
  if (!r) {
    r = { armed: false, calls: [], observed: new Set() };
    s.extra.set('robustheit', r);
  }
  return r;
}

const OPERATION_PATH: Record<string, RegExp> = {
  'Task.$activate': /^\/Task\/([^/?]+)\/\$activate(?:\?|$)/,
  'Task.$accept': /^\/Task\/([^/?]+)\/\$accept(?:\?|$)/,
};

async function storedTask(world: TiWorld, id: string): Promise<StoredTask> {
  const res = await world.http(world.serviceUrl('fachdienst', `/__admin/tasks/${encodeURIComponent(id)}`), { ca: await world.tiRootPem(), service: 'fachdienst' });
  if (res.status !== 200) throw new EnvironmentError(`Fachdienst: GET /__admin/tasks/${id} answered ${res.status}: ${res.text().slice(0, 200)}`);
  return res.json<StoredTask>();
}

/**
 * Watches the client system's Fachdienst requests of the operation under test: records each and
 * takes the stored state of the task right before the first one.
 */
function observe(world: TiWorld, client: Pick<VauClient, 'request'>): void {
  const r = rState(world);
  if (r.observed.has(client)) return;
  r.observed.add(client);
  const request = client.request.bind(client);
  client.request = async (method: string, target: string, opts: VauRequestOptions = {}) => {
    const pattern = r.operation ? OPERATION_PATH[r.operation] : undefined;
    const m = pattern?.exec(target);
    if (!m) return request(method, target, opts);
    const call: SentCall = { method, target, opts, taskId: decodeURIComponent(m[1]) };
    if (!r.before) r.before = await storedTask(world, call.taskId);
    r.calls.push(call);
    try {
      const res = await request(method, target, opts);
      call.status = res.status;
      return res;
    } catch (e) {
      call.error = (e as Error).message;
      throw e;
    }
  };
}

function callsUnderTest(world: TiWorld): SentCall[] {
  const r = rState(world);
  if (!r.calls.length) throw new TestDefectError(`the client system sent no ${r.operation ?? 'call under test'} in this scenario`);
  return r.calls;
}

async function arm(world: TiWorld, body: Record<string, unknown>): Promise<void> {
  const r = rState(world);
  r.armed = true;
  r.operation = String(body.operation);
  if (!OPERATION_PATH[r.operation]) throw new TestDefectError(`robustheit steps know the operations ${Object.keys(OPERATION_PATH).join(', ')}, not ${r.operation}`);
  await world.admin('fachdienst', '/faults', body);
}

function outcomeTextsOfError(e: unknown): { status: number; texts: string[] } | undefined {
  if (e instanceof FachdienstError) return { status: e.status, texts: [e.text] };
  if (e instanceof FachdienstRefusal) return { status: e.status, texts: e.texts };
  return undefined;
}

// ------------------------------------------------------------------------------------------- Given

Given('beim Fachdienst scheitert das nächste {string} in seiner Datenbanktransaktion vor dem Commit', async function (this: TiWorld, operation: string) {
  await arm(this, { kind: 'failInTransaction', operation, count: 1 });
});

Given('beim Fachdienst geht die Antwort auf das nächste {string} nach dem Commit durch einen Verbindungsabbruch verloren', async function (this: TiWorld, operation: string) {
  await arm(this, { kind: 'dropResponse', operation, count: 1, as: 'reset' });
});

Given('beim Fachdienst geht die Antwort auf das nächste {string} nach dem Commit verloren: die VAU antwortet mit {int}', async function (this: TiWorld, operation: string, status: number) {
  await arm(this, { kind: 'dropResponse', operation, count: 1, as: status });
});

// -------------------------------------------------------------------------------------------- When

When('die Ärztin für {string} ein E-Rezept ausstellt', async function (this: TiWorld, patient: string) {
  const pvs: Pvs = pvsOf(this);
  observe(this, pvs.fachdienst);
  try {
    erpState(this).prescriptions.push(...(await pvs.prescribe([{ patient, medication: IBUPROFEN, dosage: '1-0-1-0' }])));
  } catch (e) {
    rState(this).firstError = e;
  }
});

When('die Apotheke {string} versucht, das E-Rezept anzunehmen', async function (this: TiWorld, pharmacy: string) {
  const avs: Avs = await createAvs(this, { pharmacy });
  observe(this, avs.fachdienst);
  try {
    await avs.accept(lastPrescription(this).token);
  } catch (e) {
    rState(this).firstError = e;
  }
});

When('das PVS den gescheiterten Aufruf unverändert wiederholt', async function (this: TiWorld) {
  const r = rState(this);
  const first = callsUnderTest(this)[0];
  try {
    r.repeat = { response: await pvsOf(this).fachdienst.request(first.method, first.target, first.opts) };
  } catch (e) {
    r.repeat = { error: e };
  }
});

When('die Apotheke {string} die Annahme erneut versucht', async function (this: TiWorld, pharmacy: string) {
  const r = rState(this);
  try {
    await avsOf(this, pharmacy).accept(lastPrescription(this).token);
    r.repeat = {};
  } catch (e) {
    r.repeat = { error: e };
  }
});

When('die Apotheke {string} ihr Secret mit dem AccessCode beim Fachdienst erneut abruft und das E-Rezept damit zurückgibt', async function (this: TiWorld, pharmacy: string) {
  const r = rState(this);
  const avs = avsOf(this, pharmacy);
  const id = lastPrescription(this).taskId;
  r.recovery = {};
  try {
    r.recovery.secret = (await avs.recover(id)).secret;
  } catch (e) {
    r.recovery.error = e;
    return;
  }
  try {
    await avs.reject(id);
    r.recovery.rejected = true;
  } catch (e) {
    r.recovery.rejectError = e;
  }
});

// -------------------------------------------------------------------------------------------- Then

Then('meldet das PVS der Ärztin den Fehler {int} des Fachdienstes mit dem Text {string}', async function (this: TiWorld, status: number, text: string) {
  const r = rState(this);
  const calls = callsUnderTest(this);
  await verifyAll(this, ['A_18825'], `Die Ärztin erkennt das Scheitern: das PVS meldet ${status} "${text}" und hat kein E-Rezept-Token erhalten`, () => {
    assert.ok(r.firstError instanceof FachdienstError, `the PVS reported ${r.firstError ? (r.firstError as Error).message : 'success'}`);
    assert.equal(r.firstError.status, status);
    assert.equal(r.firstError.text, text);
    assert.equal(erpState(this).prescriptions.length, 0, 'no prescription may appear as issued');
    assert.equal(calls.length, 1, `the PVS must not repeat a failed ${r.operation} by itself (it sent ${calls.length})`);
  });
});

Then('meldet das PVS der Ärztin, dass der Fachdienst nicht antwortete \\(Status {int})', async function (this: TiWorld, status: number) {
  const r = rState(this);
  const calls = callsUnderTest(this);
  await verifyAll(this, ['A_18825'], `Die Ärztin erkennt, dass der Abschluss nicht bestätigt ist: das PVS meldet ${status} ohne Ergebnis`, () => {
    assert.ok(r.firstError instanceof FachdienstError, `the PVS reported ${r.firstError ? (r.firstError as Error).message : 'success'}`);
    assert.equal(r.firstError.status, status);
    assert.equal(erpState(this).prescriptions.length, 0, 'no prescription may appear as issued without an answer');
    assert.equal(calls.length, 1, `the PVS must not repeat ${r.operation} blindly after an unknown outcome (it sent ${calls.length})`);
  });
});

Then('meldet das AVS der Apotheke den Fehler {int} des Fachdienstes mit dem Text {string}', async function (this: TiWorld, status: number, text: string) {
  const r = rState(this);
  const calls = callsUnderTest(this);
  await verifyAll(this, ['A_18825'], `Die Apotheke erkennt das Scheitern: das AVS meldet ${status} "${text}"`, () => {
    const got = outcomeTextsOfError(r.firstError);
    assert.ok(got, `the AVS reported ${r.firstError ? (r.firstError as Error).message : 'success'}`);
    assert.equal(got.status, status);
    assert.deepEqual(got.texts, [text]);
    assert.equal(calls.length, 1, `the AVS must not repeat a failed ${r.operation} by itself (it sent ${calls.length})`);
  });
});

Then('meldet das AVS der Apotheke, dass die Verbindung abbrach, ohne die Annahme zu wiederholen', async function (this: TiWorld) {
  const r = rState(this);
  const calls = callsUnderTest(this);
  await verifyAll(this, ['A_18825'], 'Die Apotheke erkennt, dass die Annahme nicht bestätigt ist: das AVS meldet den Verbindungsabbruch', () => {
    assert.ok(r.firstError, 'the AVS reported success although no answer arrived');
    assert.match((r.firstError as Error).message, /socket hang up|ECONNRESET|closed/i);
    assert.equal(calls.length, 1, `the AVS must not repeat ${r.operation} blindly after an unknown outcome (it sent ${calls.length})`);
    assert.equal(calls[0].status, undefined, 'the call under test got no answer');
  });
});

Then('hat der Fachdienst vom gescheiterten Aufruf nichts gespeichert: der Task ist unverändert im Status {string}', async function (this: TiWorld, status: string) {
  const r = rState(this);
  const before = r.before;
  if (!before) throw new TestDefectError('no stored state before the call under test');
  const after = await storedTask(this, before.id);
  await verifyAll(
    this,
    ['A_18936', 'A_18824'],
    `Kein Teilzustand: Task ${before.id} ist nach dem Systemfehler ohne administrativen Eingriff genau wie vorher (Status "${status}", gespeicherte Daten, Protokoll)`,
    () => {
      assert.equal(before.status, status, `precondition: the task was ${before.status} before the call`);
      assert.deepEqual(after, before);
    },
  );
});

Then('hat der Fachdienst den Aufruf vollständig ausgeführt: der Task ist im Status {string} mit {int} Protokolleintrag/Protokolleinträgen', async function (this: TiWorld, status: string, audit: number) {
  const r = rState(this);
  const id = callsUnderTest(this)[0].taskId;
  const after = await storedTask(this, id);
  await verifyAll(this, ['A_18936'], `Der Aufruf ist ganz oder gar nicht ausgeführt: Task ${id} im Status "${status}" mit allen Daten und ${audit} Protokolleintrag/-einträgen`, () => {
    assert.notEqual(r.before?.status, status, 'precondition: the status was another before the call');
    assert.equal(after.status, status);
    assert.equal(after.stored.auditEvents, audit);
    if (status === 'ready') assert.deepEqual(after.stored.binaries, { 'signed-prescription': 1, 'server-signed-prescription': 1 });
    if (status === 'in-progress') assert.ok(after.stored.secret && after.stored.owner, 'Secret and owner stored together with the status');
  });
});

Then('stellt der Fachdienst bei der Wiederholung das E-Rezept ein: 200 mit Status {string}', async function (this: TiWorld, status: string) {
  const r = rState(this);
  const id = callsUnderTest(this)[0].taskId;
  const res = r.repeat?.response;
  const after = await storedTask(this, id);
  await verifyAll(this, ['A_18826', 'A_18824'], `Ein einfaches "erneut versuchen" mit demselben Aufruf gelingt: 200, Task ${id} im Status "${status}", genau eine Verordnung gespeichert`, () => {
    assert.ok(res, `the repeated call failed: ${(r.repeat?.error as Error | undefined)?.message}`);
    assert.equal(res.status, 200, res.text().slice(0, 300));
    assert.match(res.text(), new RegExp(`<status value="${status}"/>|"status":"${status}"`));
    assert.equal(after.status, status);
    assert.deepEqual(after.stored.binaries, { 'signed-prescription': 1, 'server-signed-prescription': 1 });
    assert.equal(after.stored.auditEvents, 1);
  });
});

Then('erhält die Apotheke bei der Wiederholung das E-Rezept mit einem Secret', async function (this: TiWorld) {
  const r = rState(this);
  const id = lastPrescription(this).taskId;
  const task = avsOf(this).get(id);
  const after = await storedTask(this, id);
  await verifyAll(this, ['A_18826', 'A_18824'], `Ein einfaches "erneut versuchen" der Annahme gelingt: Task ${id} in-progress, die Apotheke hält das Secret`, () => {
    assert.equal(r.repeat?.error, undefined, `the repeated $accept failed: ${(r.repeat?.error as Error | undefined)?.message}`);
    assert.equal(task?.status, 'in-progress');
    assert.match(task?.secret ?? '', /^[0-9a-f]{64}$/);
    assert.equal(after.status, 'in-progress');
    assert.equal(after.stored.auditEvents, 2, 'one entry for $activate, one for the successful $accept');
  });
});

Then('weist der Fachdienst die Wiederholung mit {int} und dem Text {string} ab', async function (this: TiWorld, status: number, text: string) {
  const r = rState(this);
  const fromPvs = r.repeat?.response;
  let got: { status: number; texts: string[] } | undefined;
  if (fromPvs) {
    const m = [...fromPvs.text().matchAll(/<text value="([^"]*)"\/>|"text":"([^"]*)"/g)].map((x) => x[1] ?? x[2]);
    got = { status: fromPvs.status, texts: m };
  } else got = outcomeTextsOfError(r.repeat?.error);
  await verifyAll(this, ['A_18826'], `Die Wiederholung nach verlorener Antwort ist gefahrlos und eindeutig: ${status} "${text}" nennt den erreichten Status`, () => {
    assert.ok(got, `the repeat was answered with ${(r.repeat?.error as Error | undefined)?.message ?? 'success'}`);
    assert.equal(got.status, status);
    assert.equal(got.texts[0], text);
  });
});

Then('nennt der Fachdienst bei der Wiederholung zusätzlich den Text {string}', async function (this: TiWorld, text: string) {
  const r = rState(this);
  const got = outcomeTextsOfError(r.repeat?.error);
  await verifyAll(this, ['A_18826'], `Die Antwort auf die Wiederholung sagt der Apotheke, dass sie selbst das E-Rezept bereits hält: "${text}"`, () => {
    assert.ok(got, 'the repeat was not refused');
    assert.ok(got.texts.includes(text), `texts: ${got.texts.join(' | ')}`);
  });
});

Then('erhält die Apotheke das Secret der unbeantworteten Annahme und kann mit ihm weiterarbeiten', async function (this: TiWorld) {
  const rec = rState(this).recovery;
  const id = lastPrescription(this).taskId;
  const after = await storedTask(this, id);
  await verifyAll(this, ['A_18826'], `Nach der verlorenen Antwort setzt die Apotheke den Vorgang fort: sie erhält das gespeicherte Secret (GET /Task/${id}?ac=) und gibt das E-Rezept damit zurück (204, wieder "ready")`, () => {
    assert.ok(rec, 'no recovery attempt');
    assert.equal(rec.error, undefined, `the Secret could not be recovered: ${(rec.error as Error | undefined)?.message}`);
    assert.match(rec.secret ?? '', /^[0-9a-f]{64}$/);
    assert.equal(rec.rejected, true, `$reject with the recovered Secret failed: ${(rec.rejectError as Error | undefined)?.message}`);
    assert.equal(after.status, 'ready');
    assert.equal(after.stored.secret, false);
  });
});

After({ name: 'robustheit: disarm the Fachdienst faults' }, async function (this: TiWorld) {
  const r = (this.state.get('erezept') as { extra?: Map<string, unknown> } | undefined)?.extra?.get('robustheit') as RobustnessState | undefined;
  if (r?.armed) await this.admin('fachdienst', '/faults', { clear: true });
});
