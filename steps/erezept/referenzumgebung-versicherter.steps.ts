/**
 * Steps of features/erezept/referenzumgebung/versicherter.feature and fachdienst.feature: gematik's
 * reference-environment scenarios of the insured and of the Fachdienst that use the insured's
 * operations (GET /Task, GET /Task/<id>, $abort by the insured or a representative, Communication),
 * named by the scenario tag @RU-Dump:<Hauptdarsteller>/<dir>, replayed with our personas. The insured
 * act through their E-Rezept-App's VAU channel (raw FHIR requests, so the exact status is visible), the
 * pharmacy through its AVS; every answer is logged in order and the Then step compares the last ones
 * with the answers the dump recorded at the named step numbers (status and OperationOutcome texts, read
 * from the dump files by ./ru-dump.ts).
 *
 * Actors come from ./nachrichten.steps.ts (apps, AVS, raw requests and their answer log).
 */
import assert from 'node:assert/strict';
import { Given, Then, When } from '@cucumber/cucumber';
import { loadPersona, type EgkPersona } from '../../cards';
import { FachdienstRefusal, type Avs } from '../../simulators/avs/avs';
import { fachdienstDatabaseFile, scanStorage } from '../../simulators/fachdienst/testing/storage-scan';
import { buildDispReq, buildRepresentativeMessage, readMessage } from '../../simulators/lib/erp-communication';
import type { ERezeptToken } from '../../simulators/lib/erezept-token';
import type { FhirJson } from '../../simulators/lib/fhir';
import type { KbvMedication } from '../../simulators/lib/kbv-bundle';
import { idpState } from '../idp/support';
import { EnvironmentError, TestDefectError } from '../support/errors';
import { verify } from '../verify';
import type { TiWorld } from '../world';
import { appOf, identOf, lastPrescriptionOf, msgState, pharmacyOf, rawRequest, type LoggedAnswer } from './nachrichten.steps';
import { loadRuDump, type RuDump } from './ru-dump';
import { scenarioSince } from './fdv-support';
import { erpState, openPvs } from './support';

const MEDICATION: KbvMedication = { kind: 'pzn', pzn: '06313728', name: 'Ibuprofen AL 400 mg', normSize: 'N1', ingredient: { name: 'Ibuprofen', strength: { value: 400, unit: 'mg' } } };
const NS_ACCESS_CODE = 'https://gematik.de/fhir/erp/NamingSystem/GEM_ERP_NS_AccessCode';

function scenarioDump(world: TiWorld): RuDump {
  const ref = (world.scenario?.tags ?? []).map((t) => /^@RU-Dump:(.+)$/.exec(t)?.[1]).find((v): v is string => !!v);
  if (!ref) throw new TestDefectError('the scenario carries no @RU-Dump:<Hauptdarsteller>/<dir> tag');
  return loadRuDump(ref);
}

/** Runs an AVS operation; its Fachdienst answers join the scenario's answer log (a refusal is an answer, not an error). */
async function viaAvs(world: TiWorld, avs: Avs, op: () => Promise<unknown>): Promise<boolean> {
  const t0 = process.hrtime.bigint();
  let ok = true;
  try {
    await op();
  } catch (e) {
    if (!(e instanceof FachdienstRefusal)) throw e;
    ok = false;
  }
  for (const a of avs.answers.filter((x) => x.at > t0)) msgState(world).answers.push({ operation: a.operation, status: a.status, texts: a.texts, headers: {} });
  return ok;
}

/** The Task of the prescription in a GET /Task answer of the insured. */
function taskIn(answer: LoggedAnswer, taskId: string): FhirJson | undefined {
  const entries = ((answer.body?.entry as FhirJson[] | undefined) ?? []).map((e) => e.resource as FhirJson);
  return entries.find((r) => r?.resourceType === 'Task' && r.id === taskId);
}

function accessCodeOf(task: FhirJson | undefined): string | undefined {
  return ((task?.identifier as FhirJson[] | undefined) ?? []).find((i) => i.system === NS_ACCESS_CODE)?.value as string | undefined;
}

function lastAnswer(world: TiWorld, operation?: string): LoggedAnswer {
  const a = [...msgState(world).answers].reverse().find((x) => !operation || x.operation === operation);
  if (!a) throw new TestDefectError(`no Fachdienst answer${operation ? ` to ${operation}` : ''} in this scenario`);
  return a;
}

// ---------------------------------------------------------------------------------------------- Given

Given(
  /^die Ärztin hat "([^"]+)" ein E-Rezept ausgestellt und es der "([^"]+)" direkt zugewiesen$/,
  async function (this: TiWorld, insured: string, pharmacy: string) {
    const p = loadPersona(insured) as EgkPersona;
    const flowType = p.insurance.type === 'PKV' ? '209' : '169';
    const pvs = await openPvs(this, {});
    try {
      const [rx] = await pvs.prescribe([{ patient: insured, medication: MEDICATION, dosage: '1-0-1-0', flowType }]);
      erpState(this).prescriptions.push(rx);
      // direct assignment: the practice hands the token to the pharmacy (its AVS takes it when it starts: see the accept step)
      erpState(this).avsByPharmacy.get(loadPersona(pharmacy).name)?.remember(rx.token);
    } catch (e) {
      if (e instanceof EnvironmentError) throw e;
      throw new EnvironmentError(`precondition failed (flow ${flowType} for ${insured}): ${(e as Error).message}`, { cause: e });
    }
  },
);

/**
 * GET /Task narrowed to what changed since this scenario began: the Fachdienst is shared by all
 * scenarios of a run (and keeps its data between runs), so an unfiltered first page may not hold
 * this scenario's prescriptions. The filter changes nothing of what the dump comparison checks.
 */
function ownTasksSinceScenarioStart(world: TiWorld): string {
  return `/Task?modified=ge${encodeURIComponent(scenarioSince(world).toISOString().replace(/\.\d{3}Z$/, 'Z'))}`;
}

/**
 * The insured's app needs the eGK only for its IDP login (the challenge signature): afterwards its access
 * token (renewed through the SSO token) is enough. Taking the card out frees the slot for the pharmacy's
 * SMC-B: the pharmacy's workplace reaches slots 2 and 3 only, and slot 2 holds the eGK the environment
 * inserts at start. Every later request of the app then shows that the login holds without the card.
 */
Given(
  /^"([^"]+)" hat sich mit der eGK in der E-Rezept-App angemeldet und die eGK wieder aus dem Kartenleser genommen$/,
  async function (this: TiWorld, insured: string) {
    const name = loadPersona(insured).name;
    await appOf(this, insured);
    const inserted = idpState(this).inserted;
    const at = inserted.indexOf(name);
    // a card the environment inserted at start stays where it is (the scenario must not change the environment)
    if (at < 0) throw new TestDefectError(`the eGK of ${name} was not inserted by this scenario: use an insured whose card is not inserted at start`);
    await this.admin('cards', '/cards/remove', { persona: name });
    inserted.splice(at, 1);
  },
);

// ---------------------------------------------------------------------------------------------- When: insured

When(/^"([^"]+)" (?:ihre|seine) E-Rezepte in der App anzeigt$/, async function (this: TiWorld, insured: string) {
  await rawRequest(this, insured, 'GET', ownTasksSinceScenarioStart(this), { operation: 'GET /Task' });
});

When(/^"([^"]+)" (?:ihr|sein) letztes E-Rezept in der App anzeigt$/, async function (this: TiWorld, insured: string) {
  await rawRequest(this, insured, 'GET', `/Task/${lastPrescriptionOf(this, insured).taskId}`, { operation: 'GET /Task/<id>' });
});

When(
  /^"([^"]+)" (?:ihr|sein) letztes E-Rezept per Nachricht an den Vertreter "([^"]+)" schickt$/,
  async function (this: TiWorld, insured: string, rep: string) {
    // as the app does it: the token from the insured's own listing (UC 3.1), then the message (UC 3.3)
    const rx = lastPrescriptionOf(this, insured);
    const list = await rawRequest(this, insured, 'GET', ownTasksSinceScenarioStart(this), { operation: 'GET /Task' });
    const ac = accessCodeOf(taskIn(list, rx.taskId));
    if (!ac) throw new EnvironmentError(`the insured's listing has no AccessCode for ${rx.taskId}`);
    const a = await rawRequest(this, insured, 'POST', '/Communication', {
      body: buildRepresentativeMessage({ token: { prescriptionId: rx.taskId, accessCode: ac }, kvnr: identOf(rep), text: 'Kannst du das Rezept für mich einlösen?' }),
      operation: 'POST /Communication',
    });
    if (a.status === 201 && a.body) msgState(this).sent.push({ from: insured, to: rep, message: readMessage(a.body) });
  },
);

When(
  /^"([^"]+)" (?:ihr|sein) letztes E-Rezept per Nachricht der "([^"]+)" zuweist$/,
  async function (this: TiWorld, insured: string, pharmacy: string) {
    const rx = lastPrescriptionOf(this, insured);
    const list = await rawRequest(this, insured, 'GET', ownTasksSinceScenarioStart(this), { operation: 'GET /Task' });
    const ac = accessCodeOf(taskIn(list, rx.taskId));
    if (!ac) throw new EnvironmentError(`the insured's listing has no AccessCode for ${rx.taskId}`);
    const a = await rawRequest(this, insured, 'POST', '/Communication', {
      body: buildDispReq({ token: { prescriptionId: rx.taskId, accessCode: ac }, telematikId: identOf(pharmacy), payload: { version: 1, supplyOptionsType: 'onPremise' } }),
      operation: 'POST /Communication',
    });
    if (a.status === 201 && a.body) msgState(this).sent.push({ from: insured, to: pharmacy, message: readMessage(a.body) });
  },
);

When(/^"([^"]+)" (?:ihre|seine) Nachrichten beim Fachdienst abfragt$/, async function (this: TiWorld, actor: string) {
  await rawRequest(this, actor, 'GET', '/Communication', { operation: 'GET /Communication' });
});

When(/^"([^"]+)" (?:ihr|sein) letztes E-Rezept in der App löscht und die Antwort festhält$/, async function (this: TiWorld, insured: string) {
  await rawRequest(this, insured, 'POST', `/Task/${lastPrescriptionOf(this, insured).taskId}/$abort`, { operation: '$abort' });
});

/** The representative's app takes the token from the message it received (UC 3.4) and uses its AccessCode. */
async function tokenFromMessage(world: TiWorld, rep: string, owner: string): Promise<ERezeptToken> {
  const rx = lastPrescriptionOf(world, owner);
  const fdv = await appOf(world, rep);
  await fdv.messages();
  const token = fdv.receivedTokens().find((t) => t.prescriptionId === rx.taskId);
  if (!token) throw new EnvironmentError(`the app of ${rep} took no E-Rezept-Token for ${rx.taskId} from its messages`);
  return token;
}

When(
  /^der Vertreter "([^"]+)" das E-Rezept von "([^"]+)" (ohne|mit dem) AccessCode aus der Nachricht löscht$/,
  async function (this: TiWorld, rep: string, owner: string, how: string) {
    const rx = lastPrescriptionOf(this, owner);
    const headers: Record<string, string> = how === 'ohne' ? {} : { 'X-AccessCode': (await tokenFromMessage(this, rep, owner)).accessCode };
    await rawRequest(this, rep, 'POST', `/Task/${rx.taskId}/$abort`, { headers, operation: '$abort' });
  },
);

When('der Vertreter {string} das E-Rezept von {string} mit dem Token aus der Nachricht anzeigt', async function (this: TiWorld, rep: string, owner: string) {
  const token = await tokenFromMessage(this, rep, owner);
  await rawRequest(this, rep, 'GET', `/Task/${token.prescriptionId}`, { headers: { 'X-AccessCode': token.accessCode }, operation: 'GET /Task/<id>' });
});

// ---------------------------------------------------------------------------------------------- When: pharmacy

When('die {string} das letzte E-Rezept von {string} mit dem Token annimmt', async function (this: TiWorld, pharmacy: string, insured: string) {
  const avs = await pharmacyOf(this, pharmacy);
  const rx = lastPrescriptionOf(this, insured);
  // 160: the insured shows the DataMatrix code (the token); 169/209: the practice handed it over
  await viaAvs(this, avs, () => avs.accept(avs.get(rx.taskId) ? rx.taskId : rx.token));
});

When('die {string} das letzte E-Rezept von {string} beliefert und den Workflow abschließt', async function (this: TiWorld, pharmacy: string, insured: string) {
  const avs = await pharmacyOf(this, pharmacy);
  await viaAvs(this, avs, () => avs.close(lastPrescriptionOf(this, insured).taskId));
});

When('die {string} die Zuweisung von {string} per Nachricht empfängt, annimmt und beantwortet', async function (this: TiWorld, pharmacy: string, insured: string) {
  const avs = await pharmacyOf(this, pharmacy);
  const rx = lastPrescriptionOf(this, insured);
  await rawRequest(this, pharmacy, 'GET', '/Communication', { operation: 'GET /Communication' });
  const got = (await avs.messages.receive()).find((m) => m.token?.prescriptionId === rx.taskId);
  if (!got?.token) throw new EnvironmentError(`the AVS of ${pharmacy} took no E-Rezept-Token for ${rx.taskId} from its messages`);
  const token = got.token;
  await viaAvs(this, avs, () => avs.accept(token));
  const sender = got.message.sender?.value ?? identOf(insured);
  const before = msgState(this).answers.length;
  try {
    const m = await avs.messages.reply(rx.taskId, sender, { version: 1, supplyOptionsType: 'onPremise', info_text: 'Wir haben Ihr Rezept erhalten.' });
    msgState(this).sent.push({ from: pharmacy, to: insured, message: m });
    msgState(this).answers.push({ operation: 'POST /Communication', status: 201, texts: [], headers: {} });
  } catch (e) {
    if (msgState(this).answers.length === before) throw new EnvironmentError(`the reply of ${pharmacy} failed: ${(e as Error).message}`, { cause: e });
  }
});

// ---------------------------------------------------------------------------------------------- Then

/**
 * The last k answers of the Fachdienst in this scenario (k = number of steps named) against the answers the
 * dump recorded at those steps, in order: the same HTTP status and the same OperationOutcome texts.
 */
Then(
  /^antwortet der Fachdienst den Versicherten wie in der Referenzumgebung aufgezeichnet \(Schritte? ((?:\d{3}, )*\d{3}); ((?:A_\d+, )*A_\d+)\)$/,
  async function (this: TiWorld, stepList: string, afoList: string) {
    const dump = scenarioDump(this);
    const steps = stepList.split(',').map((x) => Number(x.trim()));
    const recorded = steps.map((n) => dump.response(n));
    const answers = msgState(this).answers.slice(-steps.length);
    const expected = recorded.map((r) => ({ status: r.status, texts: r.texts }));
    const actual = answers.map((a) => ({ status: a.status, texts: a.texts }));
    const what = recorded.map((r) => `Schritt ${String(r.number).padStart(3, '0')}: ${r.status}${r.texts.length ? ` "${r.texts.join('" + "')}"` : ''}`).join('; ');
    for (const afo of afoList.split(', ')) {
      await verify(afo, `Der Fachdienst antwortet wie in der Referenzumgebung (${dump.ref}): ${what}`, () => {
        assert.equal(answers.length, steps.length, `the scenario has ${answers.length} Fachdienst answers, ${steps.length} expected`);
        assert.deepEqual(actual, expected, `operations: ${answers.map((a) => a.operation).join(', ')}`);
      });
    }
  },
);

Then('bestätigt der Fachdienst das Löschen des E-Rezepts durch {string} ohne Inhalt', async function (this: TiWorld, actor: string) {
  const a = lastAnswer(this, '$abort');
  await verify('A_18565', `Der Fachdienst nimmt das Löschen durch ${actor} an ($abort, 204 ohne Inhalt)`, () => {
    assert.equal(a.status, 204, `$abort answered ${a.status} ${a.texts.join('; ')}`);
    assert.equal(a.body, undefined);
  });
});

Then('zeigt die App von {string} das direkt zugewiesene E-Rezept ohne AccessCode an', async function (this: TiWorld, insured: string) {
  const rx = lastPrescriptionOf(this, insured);
  const a = lastAnswer(this, 'GET /Task');
  const task = taskIn(a, rx.taskId);
  await verify('A_18868', 'GET /Task liefert dem Versicherten das direkt zugewiesene E-Rezept, aber ohne AccessCode', () => {
    assert.equal(a.status, 200);
    assert.ok(task, `${rx.taskId} is not listed`);
    assert.equal(task.status, 'ready');
    assert.equal(accessCodeOf(task), undefined, 'the AccessCode of a direct assignment is shown to the insured');
  });
});

Then('listet die App von {string} das gelöschte E-Rezept nicht mehr', async function (this: TiWorld, insured: string) {
  const rx = lastPrescriptionOf(this, insured);
  const a = lastAnswer(this, 'GET /Task');
  await verify('A_18868', 'GET /Task liefert dem Versicherten das gelöschte E-Rezept nicht mehr', () => {
    assert.equal(a.status, 200);
    assert.equal(a.body?.resourceType, 'Bundle');
    assert.equal(taskIn(a, rx.taskId), undefined, `${rx.taskId} is still listed`);
  });
});

Then('enthält die Nachrichtenliste von {string} keine Nachricht zu dem E-Rezept mehr, auch nicht die Datenbank', async function (this: TiWorld, insured: string) {
  const rx = lastPrescriptionOf(this, insured);
  const a = lastAnswer(this, 'GET /Communication');
  const ids = msgState(this).sent.map((m) => m.message.id).filter((x): x is string => !!x);
  if (ids.length < 2) throw new TestDefectError('the scenario sent fewer than two messages');
  const about = ((a.body?.entry as FhirJson[] | undefined) ?? []).map((e) => readMessage(e.resource as FhirJson)).filter((m) => m.prescriptionId === rx.taskId || ids.includes(m.id ?? ''));
  const hits = scanStorage(fachdienstDatabaseFile(this.env.dataDir), ids);
  await verify('A_18870', 'Nach dem Einlösen liefert GET /Communication keine Nachricht zu dem E-Rezept mehr; die Nachrichten sind auch in der Datenbank gelöscht', () => {
    assert.equal(a.status, 200);
    assert.deepEqual(about.map((m) => m.id), []);
    assert.deepEqual(hits, [], `still stored in ${hits.map((h) => `${h.table}.${h.column}`).join(', ')}`);
  });
});
