/**
 * Steps of the message features (features/erezept/nachrichten: gemSysL_eRp UC 3.3, 3.4, 3.8, 4.6, 4.7,
 * 4.9; A_18869/A_18870/A_20261, A_18851, A_20755, A_18758): the insured write, read and delete
 * messages with the simulated E-Rezept-App (simulators/fdv/fdv.ts, logged in with the eGK through
 * PC/SC), the pharmacy with its AVS (simulators/avs/messages.ts through the VAU). Requests the apps do
 * not make on their own (a forged sender, a Reply from an insured, a DispReq from a pharmacy, the
 * Fachdienst's direct answer to an eleventh message that the app would retry) go as raw FHIR requests
 * through the same actor's VAU channel.
 *
 * Prescriptions come from the PVS step of ./versicherter.steps.ts ("die Ärztin … hat für … ausgestellt"),
 * the insured's logins from ./fdv-support.ts, the pharmacy's AVS from ./support.ts (its SMC-B goes into
 * the free slot of the pharmacy's workplace, taken out after the scenario). Every Then step verifies
 * through verify() the requirement it proves. Helpers are exported for the reference-environment and
 * retention steps.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Given, Then, When } from '@cucumber/cucumber';
import { loadPersona, type EgkPersona, type SmcbPersona } from '../../cards';
import type { Avs } from '../../simulators/avs/avs';
import { MessageRefusal, type ReceivedMessage } from '../../simulators/avs/messages';
import { FdvError } from '../../simulators/fdv/errors';
import type { Fdv } from '../../simulators/fdv/fdv';
import {
  COMMUNICATION_SYSTEM,
  buildDispReq,
  buildRepresentativeMessage,
  buildReply,
  readMessage,
  type DispReqPayload,
  type ErpMessage,
  type SupplyOption,
} from '../../simulators/lib/erp-communication';
import type { ERezeptToken } from '../../simulators/lib/erezept-token';
import { serializeFhirJson, type FhirJson, type FhirResource } from '../../simulators/lib/fhir';
import type { PrescriptionResult } from '../../simulators/pvs/pvs';
import { scenarioAfos } from '../idp/support';
import { EnvironmentError, TestDefectError } from '../support/errors';
import { verify } from '../verify';
import type { TiWorld } from '../world';
import { fdvOf, openFdv } from './fdv-support';
import { avsOf, createAvs, erpState } from './support';
import { fhirBodyOf } from '../../simulators/lib/fachdienst-answer';

// ---------------------------------------------------------------------------------------------- actors

export type ActorKind = 'insured' | 'pharmacy';

/** "Jonas Keller" → insured (eGK), "Apotheke am Markt" → pharmacy (SMC-B). */
export function actorKind(name: string): ActorKind {
  const p = loadPersona(name);
  if (p.type === 'eGK') return 'insured';
  if (p.type === 'SMC-B') return 'pharmacy';
  throw new TestDefectError(`${name} is neither an insured (eGK) nor a pharmacy (SMC-B) persona`);
}

/** The identity the Fachdienst takes from the actor's token: KVNR or Telematik-ID. */
export function identOf(name: string): string {
  const p = loadPersona(name);
  if (p.type === 'eGK') return (p as EgkPersona).insurance.kvnr;
  const tid = (p as SmcbPersona).telematikId;
  if (!tid) throw new TestDefectError(`${name} has no Telematik-ID`);
  return tid;
}

/** The pharmacy's AVS of this scenario, created (SMC-B inserted, IDP login) on first use. */
export async function pharmacyOf(world: TiWorld, pharmacy: string): Promise<Avs> {
  const known = erpState(world).avsByPharmacy.get(loadPersona(pharmacy).name);
  if (known) return known;
  try {
    const avs = await createAvs(world, { pharmacy });
    await avs.authn?.tokens.accessToken();
    return avs;
  } catch (e) {
    if (e instanceof EnvironmentError) throw e;
    throw new EnvironmentError(`the AVS of ${pharmacy} could not log in: ${(e as Error).message}`, { cause: e });
  }
}

/** The insured's app: the one of this scenario, or logged in now. */
export async function appOf(world: TiWorld, insured: string): Promise<Fdv> {
  return openFdv(world, insured);
}

// ---------------------------------------------------------------------------------------------- state

/** A refusal of the Fachdienst, from the app's or the AVS's error or a raw answer. */
export interface Refusal {
  status: number;
  text: string;
  diagnostics?: string;
}

/** One answer of the Fachdienst to a step (for the reference-environment comparison). */
export interface LoggedAnswer {
  operation: string;
  status: number;
  texts: string[];
  /** Parsed body, when FHIR. */
  body?: FhirJson;
  headers: Record<string, string>;
}

export interface SentMessage {
  from: string;
  to: string;
  message: ErpMessage;
}

export interface MessageScenarioState {
  /** Messages posted in this scenario (in order). */
  sent: SentMessage[];
  /** The last listing each actor fetched (GET /Communication). */
  listings: Map<string, ErpMessage[]>;
  /** What the pharmacies received (UC 4.6). */
  received: Map<string, ReceivedMessage[]>;
  /** Result of the last message operation a step attempted. */
  lastOk?: boolean;
  lastRefusal?: Refusal;
  /** The Warning header of the last successful deletion ('' = none). */
  lastWarning?: string;
  /** The message the last deletion was about, and who tried to delete it. */
  deleted?: SentMessage;
  deletedBy?: string;
  /** The last message read by id. */
  read?: ErpMessage;
  /** Raw answers (reference-environment comparison). */
  answers: LoggedAnswer[];
  /** Prescriptions accepted from messages. */
  accepted: Array<{ prescriptionId: string; secret?: string; status?: string }>;
}

export function msgState(world: TiWorld): MessageScenarioState {
  const extra = erpState(world).extra;
  let s = extra.get('nachrichten') as MessageScenarioState | undefined;
  if (!s) {
    s = { sent: [], listings: new Map(), received: new Map(), answers: [], accepted: [] };
    extra.set('nachrichten', s);
  }
  return s;
}

function refusalOf(e: unknown): Refusal | undefined {
  if (e instanceof FdvError && e.status >= 400 && e.status < 500) {
    return { status: e.status, text: e.text, ...(e.details.diagnostics ? { diagnostics: e.details.diagnostics } : {}) };
  }
  if (e instanceof MessageRefusal && e.status >= 400 && e.status < 500) {
    const issue = ((e.outcome?.issue as FhirJson[] | undefined) ?? [])[0];
    const diagnostics = typeof issue?.diagnostics === 'string' ? issue.diagnostics : undefined;
    return { status: e.status, text: e.texts[0] ?? '', ...(diagnostics && diagnostics !== e.texts[0] ? { diagnostics } : {}) };
  }
  return undefined;
}

/** Runs a message operation; a 4xx refusal is kept for the Then steps, anything else is thrown. */
export async function attemptMessage<T>(world: TiWorld, op: () => Promise<T>): Promise<T | undefined> {
  const s = msgState(world);
  s.lastOk = undefined;
  s.lastRefusal = undefined;
  try {
    const r = await op();
    s.lastOk = true;
    return r;
  } catch (e) {
    const refusal = refusalOf(e);
    if (!refusal) throw e;
    s.lastOk = false;
    s.lastRefusal = refusal;
    return undefined;
  }
}

/** A precondition step (Angenommen …) must succeed: a refusal there is not the scenario's finding. */
async function precondition<T>(what: string, op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (e) {
    if (e instanceof EnvironmentError || e instanceof TestDefectError) throw e;
    throw new EnvironmentError(`precondition failed (${what}): ${(e as Error).message}`, { cause: e });
  }
}

// ---------------------------------------------------------------------------------------------- raw requests

const FHIR_JSON = 'application/fhir+json';

function textsOf(body: FhirJson | undefined): string[] {
  if (body?.resourceType !== 'OperationOutcome') return [];
  return ((body.issue as FhirJson[] | undefined) ?? [])
    .map((i) => ((i.details as FhirJson | undefined)?.text ?? i.diagnostics) as unknown)
    .filter((t): t is string => typeof t === 'string' && t.length > 0);
}

/**
 * One FHIR request through an actor's VAU channel (the app's or the AVS's), answered as it is; the
 * answer is logged for the reference-environment steps. A refusal (4xx) is kept as the last refusal.
 */
export async function rawRequest(
  world: TiWorld,
  actor: string,
  method: string,
  target: string,
  opts: { body?: FhirResource; headers?: Record<string, string>; operation?: string } = {},
): Promise<LoggedAnswer> {
  const transport = actorKind(actor) === 'insured' ? (await appOf(world, actor)).fachdienst : (await pharmacyOf(world, actor)).fachdienst;
  const headers: Record<string, string> = { Accept: FHIR_JSON, ...(opts.body ? { 'Content-Type': `${FHIR_JSON}; charset=utf-8` } : {}), ...(opts.headers ?? {}) };
  const r = await transport.request(method, target, { headers, ...(opts.body ? { body: serializeFhirJson(opts.body) } : {}) });
  const body = fhirBodyOf(r);
  const answer: LoggedAnswer = { operation: opts.operation ?? `${method} ${target.split('?')[0]}`, status: r.status, texts: textsOf(body), ...(body ? { body } : {}), headers: r.headers };
  const s = msgState(world);
  s.answers.push(answer);
  s.lastOk = r.status < 400;
  s.lastRefusal = undefined;
  if (r.status >= 400 && r.status < 500) {
    const issue = ((body?.issue as FhirJson[] | undefined) ?? [])[0];
    const diagnostics = typeof issue?.diagnostics === 'string' ? issue.diagnostics : undefined;
    s.lastRefusal = { status: r.status, text: answer.texts[0] ?? '', ...(diagnostics && diagnostics !== answer.texts[0] ? { diagnostics } : {}) };
  } else if (r.status >= 500) {
    throw new EnvironmentError(`${answer.operation}: the Fachdienst answered ${r.status}: ${r.text().slice(0, 200)}`);
  }
  return answer;
}

/** A message the Fachdienst answered to a raw POST, kept as sent. */
function keepPosted(world: TiWorld, from: string, to: string, a: LoggedAnswer): void {
  if (a.status === 201 && a.body?.resourceType === 'Communication') msgState(world).sent.push({ from, to, message: readMessage(a.body) });
}

// ---------------------------------------------------------------------------------------------- prescriptions

export function prescriptionsOf(world: TiWorld, insured: string): PrescriptionResult[] {
  const kvnr = identOf(insured);
  return erpState(world).prescriptions.filter((p) => p.kvnr === kvnr);
}

export function lastPrescriptionOf(world: TiWorld, insured: string): PrescriptionResult {
  const p = prescriptionsOf(world, insured).at(-1);
  if (!p) throw new TestDefectError(`no prescription for ${insured} in this scenario`);
  return p;
}

/** UC 3.1 first (the app downloads the prescription), then the app builds the token (A_18789). */
export async function tokenInApp(world: TiWorld, insured: string): Promise<ERezeptToken> {
  const fdv = await appOf(world, insured);
  const rx = lastPrescriptionOf(world, insured);
  await precondition(`${insured} downloads ${rx.taskId}`, () => fdv.getPrescription(rx.taskId));
  return fdv.token(rx.taskId);
}

const SUPPLY: Record<string, SupplyOption> = { Abholung: 'onPremise', Versand: 'shipment', Botendienst: 'delivery' };

function supplyOption(wish: string): SupplyOption {
  const o = SUPPLY[wish];
  if (!o) throw new TestDefectError(`supply wish "${wish}": one of ${Object.keys(SUPPLY).join(', ')}`);
  return o;
}

function dispReqPayload(insured: string, wish: string): DispReqPayload {
  const p = loadPersona(insured) as EgkPersona;
  const a = p.person.address;
  return {
    version: 1,
    supplyOptionsType: supplyOption(wish),
    name: `${p.person.givenName} ${p.person.surname}`,
    ...(a ? { address: [`${a.street} ${a.houseNumber}`, `${a.postalCode} ${a.city}`] } : {}),
    hint: 'Bitte klingeln',
    phone: '0221 1234567',
  };
}

/** The last message `from` sent to `to` in this scenario (any kind). */
export function lastSent(world: TiWorld, from: string, to?: string): SentMessage {
  const f = identOf(from);
  const t = to === undefined ? undefined : identOf(to);
  const m = [...msgState(world).sent].reverse().find((x) => identOf(x.from) === f && (t === undefined || identOf(x.to) === t));
  if (!m) throw new TestDefectError(`no message from ${from}${to ? ` to ${to}` : ''} in this scenario`);
  return m;
}

async function sendDispReq(world: TiWorld, insured: string, pharmacy: string, payload?: DispReqPayload): Promise<ErpMessage | undefined> {
  const token = await tokenInApp(world, insured);
  const fdv = await appOf(world, insured);
  // the workflow profile requires a payload on a DispReq (workflow-communication-payload-1): pick-up by default
  const out = await attemptMessage(world, () => fdv.sendToPharmacy(token, identOf(pharmacy), payload ?? dispReqPayload(insured, 'Abholung')));
  if (out?.[0]) msgState(world).sent.push({ from: insured, to: pharmacy, message: out[0] });
  return out?.[0];
}

async function sendToRepresentative(world: TiWorld, insured: string, to: string, text: string): Promise<ErpMessage | undefined> {
  const token = await tokenInApp(world, insured);
  const fdv = await appOf(world, insured);
  const m = await attemptMessage(world, () => fdv.sendToRepresentative(token, identOf(to), text));
  if (m) msgState(world).sent.push({ from: insured, to, message: m });
  return m;
}

// ---------------------------------------------------------------------------------------------- Given

Given('{string} hat das letzte E-Rezept per Nachricht der {string} zugewiesen', async function (this: TiWorld, insured: string, pharmacy: string) {
  const m = await sendDispReq(this, insured, pharmacy, dispReqPayload(insured, 'Abholung'));
  if (!m) throw new EnvironmentError(`precondition failed: the DispReq of ${insured} was refused: ${JSON.stringify(msgState(this).lastRefusal)}`);
});

Given('{string} hat das letzte E-Rezept mit dem Text {string} an {string} geschickt', async function (this: TiWorld, insured: string, text: string, to: string) {
  const m = await sendToRepresentative(this, insured, to, text);
  if (!m) throw new EnvironmentError(`precondition failed: the message of ${insured} to ${to} was refused: ${JSON.stringify(msgState(this).lastRefusal)}`);
});

Given('die {string} hat die Zuweisung von {string} empfangen und angenommen', async function (this: TiWorld, pharmacy: string, insured: string) {
  const avs = await pharmacyOf(this, pharmacy);
  const rx = lastPrescriptionOf(this, insured);
  const results = await precondition(`${pharmacy} receives and accepts`, () => avs.messages.acceptReceived());
  const hit = results.find((r) => r.message.prescriptionId === rx.taskId);
  if (!hit?.accepted) throw new EnvironmentError(`precondition failed: ${pharmacy} did not accept ${rx.taskId} from its messages${hit?.error ? `: ${hit.error.message}` : ''}`);
  msgState(this).accepted.push({ prescriptionId: rx.taskId, secret: hit.accepted.secret, status: String(hit.accepted.task.status) });
});

Given('die {string} hat auf die Zuweisung von {string} mit dem Abholcode {string} geantwortet', async function (this: TiWorld, pharmacy: string, insured: string, code: string) {
  const avs = await pharmacyOf(this, pharmacy);
  const rx = lastPrescriptionOf(this, insured);
  const m = await precondition(`${pharmacy} replies`, () => avs.messages.reply(rx.taskId, identOf(insured), { version: 1, supplyOptionsType: 'onPremise', info_text: 'Ihr Arzneimittel liegt zur Abholung bereit.', pickUpCodeHR: code }));
  msgState(this).sent.push({ from: pharmacy, to: insured, message: m });
});

Given('die {string} hat das per Nachricht zugewiesene E-Rezept beliefert und den Workflow abgeschlossen', async function (this: TiWorld, pharmacy: string) {
  const avs = await pharmacyOf(this, pharmacy);
  const a = msgState(this).accepted.at(-1);
  if (!a) throw new TestDefectError('no prescription was accepted from a message in this scenario');
  await precondition(`${pharmacy} closes ${a.prescriptionId}`, () => avs.close(a.prescriptionId));
});

Given('die {string} hat das letzte E-Rezept von {string} beliefert und den Workflow abgeschlossen', async function (this: TiWorld, pharmacy: string, insured: string) {
  const avs = await pharmacyOf(this, pharmacy);
  const rx = lastPrescriptionOf(this, insured);
  await precondition(`${pharmacy} accepts and closes ${rx.taskId}`, async () => {
    if (!avs.get(rx.taskId)?.secret) await avs.accept(rx.token);
    await avs.close(rx.taskId);
  });
});

// ---------------------------------------------------------------------------------------------- When: insured

When('{string} das letzte E-Rezept per Nachricht der {string} zuweist', async function (this: TiWorld, insured: string, pharmacy: string) {
  await sendDispReq(this, insured, pharmacy);
});

When('{string} das letzte E-Rezept per Nachricht der {string} mit dem Wunsch {string} zuweist', async function (this: TiWorld, insured: string, pharmacy: string, wish: string) {
  await sendDispReq(this, insured, pharmacy, dispReqPayload(insured, wish));
});

When('{string} das letzte E-Rezept mit dem Text {string} an {string} schickt', async function (this: TiWorld, insured: string, text: string, to: string) {
  await sendToRepresentative(this, insured, to, text);
});

When(
  '{string} das letzte E-Rezept {int}-mal mit dem Text {string} an {string} schickt',
  async function (this: TiWorld, insured: string, n: number, text: string, to: string) {
    for (let i = 1; i <= n; i++) {
      const m = await sendToRepresentative(this, insured, to, `${text} (${i})`);
      if (!m) throw new EnvironmentError(`message ${i} of ${n} was refused: ${JSON.stringify(msgState(this).lastRefusal)}`);
    }
  },
);

/** The app would repeat a 429 (simulators/lib/erp-retry.ts); the Fachdienst's own answer is what counts here. */
When('{string} noch eine Nachricht zum letzten E-Rezept an {string} schickt', async function (this: TiWorld, insured: string, to: string) {
  const token = await tokenInApp(this, insured);
  const a = await rawRequest(this, insured, 'POST', '/Communication', { body: buildRepresentativeMessage({ token, kvnr: identOf(to), text: 'Noch eine Nachricht' }), operation: 'POST /Communication' });
  keepPosted(this, insured, to, a);
});

When(
  '{string} der {string} das letzte E-Rezept mit dem gefälschten Absender {string} zuweist',
  async function (this: TiWorld, insured: string, pharmacy: string, forged: string) {
    const token = await tokenInApp(this, insured);
    const body = buildDispReq({ token, telematikId: identOf(pharmacy), payload: dispReqPayload(insured, 'Abholung') });
    body.sender = { identifier: { system: COMMUNICATION_SYSTEM.kvid10, value: identOf(forged) } };
    const a = await rawRequest(this, insured, 'POST', '/Communication', { body, operation: 'POST /Communication' });
    keepPosted(this, insured, pharmacy, a);
  },
);

When('{string} versucht, zum letzten E-Rezept eine Apotheken-Antwort an {string} zu schicken', async function (this: TiWorld, insured: string, to: string) {
  const rx = lastPrescriptionOf(this, insured);
  const body = buildReply({ prescriptionId: rx.taskId, kvnr: identOf(to), payload: { version: 1, supplyOptionsType: 'onPremise', info_text: 'Abholbereit' } });
  const a = await rawRequest(this, insured, 'POST', '/Communication', { body, operation: 'POST /Communication' });
  keepPosted(this, insured, to, a);
});

When(
  /^"([^"]+)" das per Nachricht erhaltene E-Rezept der "([^"]+)" (ohne den|mit dem) AccessCode im Header zuweist$/,
  async function (this: TiWorld, rep: string, pharmacy: string, withOrWithout: string) {
    const fdv = await appOf(this, rep);
    const token = fdv.receivedTokens().at(-1);
    if (!token) throw new TestDefectError(`${rep} has received no E-Rezept-Token by message in this scenario`);
    // raw requests through the representative's VAU channel, with and without the header (the simulated
    // FdV itself always sends it for a prescription it holds as representative: test/unit/fdv)
    const headers: Record<string, string> = withOrWithout === 'mit dem' ? { 'X-AccessCode': token.accessCode } : {};
    const a = await rawRequest(this, rep, 'POST', '/Communication', { body: buildDispReq({ token, telematikId: identOf(pharmacy), payload: dispReqPayload(rep, 'Abholung') }), headers, operation: 'POST /Communication' });
    keepPosted(this, rep, pharmacy, a);
  },
);

When(/^"([^"]+)" (?:ihre|seine) Nachrichten in der App abruft$/, async function (this: TiWorld, insured: string) {
  const fdv = await appOf(this, insured);
  const r = await fdv.messages();
  msgState(this).listings.set(loadPersona(insured).name, r.items);
});

When(/^"([^"]+)" (?:ihre|seine) letzte Nachricht an "([^"]+)" löscht$/, async function (this: TiWorld, actor: string, to: string) {
  const m = lastSent(this, actor, to);
  await deleteAs(this, actor, m);
});

When(/^"([^"]+)" versucht, die letzte Nachricht von "([^"]+)" an "([^"]+)" zu löschen$/, async function (this: TiWorld, actor: string, from: string, to: string) {
  await deleteAs(this, actor, lastSent(this, from, to));
});

When(/^"([^"]+)" versucht, die letzte Nachricht von "([^"]+)" an "([^"]+)" zu lesen$/, async function (this: TiWorld, actor: string, from: string, to: string) {
  const m = lastSent(this, from, to);
  const a = await rawRequest(this, actor, 'GET', `/Communication/${m.message.id}`, { operation: 'GET /Communication/<id>' });
  if (a.status === 200 && a.body) msgState(this).read = readMessage(a.body);
});

When(/^"([^"]+)" versucht, eine nicht vorhandene Nachricht zu löschen$/, async function (this: TiWorld, actor: string) {
  const id = randomUUID();
  msgState(this).deleted = { from: actor, to: actor, message: { id, kind: 'other', resource: {} } };
  await deleteAs(this, actor, msgState(this).deleted as SentMessage, false);
});

async function deleteAs(world: TiWorld, actor: string, m: SentMessage, remember = true): Promise<void> {
  const s = msgState(world);
  if (!m.message.id) throw new TestDefectError('the message has no id');
  const id = m.message.id;
  if (remember) s.deleted = m;
  s.deletedBy = actor;
  s.lastWarning = undefined;
  const r =
    actorKind(actor) === 'insured'
      ? await attemptMessage(world, async () => (await appOf(world, actor)).deleteMessage(id))
      : await attemptMessage(world, async () => (await pharmacyOf(world, actor)).messages.delete(id));
  if (r) s.lastWarning = r.warning ?? '';
}

// ---------------------------------------------------------------------------------------------- When: pharmacy

When('die {string} ihre Nachrichten abruft', async function (this: TiWorld, pharmacy: string) {
  const avs = await pharmacyOf(this, pharmacy);
  const r = await avs.messages.receive();
  const s = msgState(this);
  s.received.set(loadPersona(pharmacy).name, r);
  s.listings.set(loadPersona(pharmacy).name, r.map((x) => x.message));
});

When('die {string} die per Nachricht zugewiesenen E-Rezepte annimmt', async function (this: TiWorld, pharmacy: string) {
  const avs = await pharmacyOf(this, pharmacy);
  const results = await avs.messages.acceptReceived();
  const s = msgState(this);
  const mine = new Set(erpState(this).prescriptions.map((p) => p.taskId));
  for (const r of results.filter((x) => mine.has(x.message.prescriptionId ?? ''))) {
    if (r.accepted) s.accepted.push({ prescriptionId: r.accepted.taskId, secret: r.accepted.secret, status: String(r.accepted.task.status) });
    else if (r.error) throw new EnvironmentError(`${pharmacy} could not accept ${r.message.prescriptionId}: ${r.error.message}`);
  }
});

When(
  /^die "([^"]+)" (?:auf die Zuweisung von "([^"]+)" )?mit dem Abholcode "([^"]+)" antwortet$/,
  async function (this: TiWorld, pharmacy: string, insuredArg: string | undefined, code: string) {
    const avs = await pharmacyOf(this, pharmacy);
    // UC 4.7: the recipient is the sender of the original message (the DispReq the pharmacy received)
    const got = msgState(this).received.get(loadPersona(pharmacy).name) ?? [];
    // the DispReq this scenario sent to the pharmacy (the Fachdienst is shared by all scenarios of a run)
    const ids = msgState(this).sent.filter((x) => identOf(x.to) === identOf(pharmacy) && (!insuredArg || identOf(x.from) === identOf(insuredArg))).map((x) => x.message.id);
    const original = [...got].reverse().find((r) => r.message.kind === 'DispReq' && ids.includes(r.message.id));
    if (!original?.message.sender || !original.message.prescriptionId) throw new TestDefectError(`${pharmacy} has received no DispReq${insuredArg ? ` of ${insuredArg}` : ''} to answer`);
    const to = original.message.sender.value;
    const m = await attemptMessage(this, () =>
      avs.messages.reply(original.message.prescriptionId as string, to, { version: 1, supplyOptionsType: 'onPremise', info_text: 'Ihr Arzneimittel liegt zur Abholung bereit.', pickUpCodeHR: code }),
    );
    const toName = insuredArg ?? personaByIdent(to);
    if (m) msgState(this).sent.push({ from: pharmacy, to: toName, message: m });
  },
);

When('die {string} versucht, {string} mit dem Abholcode {string} und dem Angebot {string} zu antworten', async function (this: TiWorld, pharmacy: string, insured: string, code: string, wish: string) {
  const avs = await pharmacyOf(this, pharmacy);
  const rx = lastPrescriptionOf(this, insured);
  const m = await attemptMessage(this, () => avs.messages.reply(rx.taskId, identOf(insured), { version: 1, supplyOptionsType: supplyOption(wish), pickUpCodeHR: code }));
  if (m) msgState(this).sent.push({ from: pharmacy, to: insured, message: m });
});

When('die {string} versucht, das letzte E-Rezept von {string} selbst per Nachricht der {string} zuzuweisen', async function (this: TiWorld, pharmacy: string, insured: string, other: string) {
  const rx = lastPrescriptionOf(this, insured);
  const a = await rawRequest(this, pharmacy, 'POST', '/Communication', { body: buildDispReq({ token: rx.token, telematikId: identOf(other), payload: { version: 1, supplyOptionsType: 'onPremise' } }), operation: 'POST /Communication' });
  keepPosted(this, pharmacy, other, a);
});

function personaByIdent(ident: string): string {
  for (const name of ['Jonas Keller', 'Anna Richter', 'Erika Mustermann', 'Claudia Neumann', 'Lena Sperber', 'Mehmet Yilmaz', 'Dr. Friedrich Hoffmann']) {
    if (identOf(name) === ident) return name;
  }
  throw new TestDefectError(`no insured persona with the KVNR ${ident}`);
}

// ---------------------------------------------------------------------------------------------- Then helpers

/** Verifies for every id of `afos` that the scenario tags (none tagged: nothing; see scenarioAfos). */
async function verifyTagged(world: TiWorld, afos: readonly string[], description: string, check: () => void | boolean | Promise<void | boolean>): Promise<void> {
  const tags = (world.scenario?.tags ?? []).map((t) => t.replace(/^@AFO-ID:/, ''));
  for (const afo of afos.filter((a) => tags.includes(a))) await verify(afo, description, check);
}

function listingOf(world: TiWorld, actor: string): ErpMessage[] {
  const l = msgState(world).listings.get(loadPersona(actor).name);
  if (!l) throw new TestDefectError(`${actor} has not fetched messages in this scenario`);
  return l;
}

const REFUSAL_AFOS = ['A_18851', 'A_20755', 'A_18869', 'A_18508', 'A_19013', 'A_20261'];

function substitute(world: TiWorld, text: string, caller?: string): string {
  const s = msgState(world);
  return text.replace(/<ID>/g, s.deleted?.message.id ?? '<ID>').replace(/<Aufrufer>/g, caller ? identOf(caller) : '<Aufrufer>');
}

// ---------------------------------------------------------------------------------------------- Then

Then('nimmt der Fachdienst die Nachricht an und setzt {string} als Absender', async function (this: TiWorld, sender: string) {
  const s = msgState(this);
  const m = s.sent.at(-1);
  const raw = s.answers.at(-1);
  await verify('A_18869', `Der Fachdienst stellt die Nachricht ein und übernimmt den Absender ${identOf(sender)} aus dem Token`, () => {
    assert.equal(s.lastOk, true, `refused: ${JSON.stringify(s.lastRefusal)}`);
    assert.ok(m, 'no message was stored');
    if (raw && raw.operation === 'POST /Communication') assert.equal(raw.status, 201);
    assert.ok(m.message.id, 'no id');
    assert.equal(m.message.sender?.value, identOf(sender));
    assert.equal(m.message.sender?.system, actorKind(sender) === 'insured' ? COMMUNICATION_SYSTEM.kvid10 : COMMUNICATION_SYSTEM.telematikId);
    assert.equal(m.message.recipient?.value, identOf(m.to));
    assert.ok(m.message.sent && !Number.isNaN(Date.parse(m.message.sent)), 'no sent time');
    assert.equal(m.message.received, undefined, 'received is set before anybody fetched it');
  });
});

Then('enthält die Zuweisung an die {string} den E-Rezept-Token und den Wunsch {string}', async function (this: TiWorld, pharmacy: string, wish: string) {
  const m = [...msgState(this).sent].reverse().find((x) => x.to === pharmacy);
  const rx = m ? prescriptionsOf(this, m.from).at(-1) : undefined;
  await verifyTagged(this, ['A_18508', 'A_18869'], `Die Zuweisung an die ${pharmacy} trägt den E-Rezept-Token (Rezept-ID und AccessCode) und den Belieferungswunsch`, () => {
    assert.ok(m && rx, 'no message to the pharmacy');
    assert.equal(m.message.kind, 'DispReq');
    assert.deepEqual(m.message.token, rx.token);
    assert.equal(m.message.json?.supplyOptionsType, supplyOption(wish));
    assert.equal(m.message.flowType, rx.taskId.slice(0, 3));
  });
});

Then(
  /^lehnt der Fachdienst die Nachricht mit (\d{3}) und dem Text "([^"]+)" ab(?: \(Diagnose "([^"]+)"\))?$/,
  async function (this: TiWorld, status: string, text: string, diagnostics: string | undefined) {
    const s = msgState(this);
    const before = s.sent.length;
    await verifyAllTagged(this, REFUSAL_AFOS, `Der Fachdienst lehnt die Nachricht mit ${status} "${text}" ab${diagnostics ? ` (${diagnostics})` : ''}`, () => {
      assert.equal(s.lastOk, false, 'the Fachdienst accepted the message');
      assert.equal(s.lastRefusal?.status, Number(status), JSON.stringify(s.lastRefusal));
      assert.equal(s.lastRefusal?.text, text);
      if (diagnostics) assert.equal(s.lastRefusal?.diagnostics, diagnostics);
      assert.equal(s.sent.length, before);
    });
  },
);

async function verifyAllTagged(world: TiWorld, candidates: readonly string[], description: string, check: () => void | boolean | Promise<void | boolean>): Promise<void> {
  for (const afo of scenarioAfos(world, candidates)) await verify(afo, description, check);
}

Then('erhält {string} die Nachricht von {string} mit dem E-Rezept-Token und dem Text {string}', async function (this: TiWorld, rep: string, insured: string, text: string) {
  const list = listingOf(this, rep);
  const rx = lastPrescriptionOf(this, insured);
  const fdv = fdvOf(this, rep);
  // the Fachdienst is shared by all scenarios of a run: the message this scenario sent, by its id
  const sentId = lastSent(this, insured, rep).message.id;
  const got = list.find((m) => m.id === sentId);
  await verify('A_18870', `${rep} ruft die an sie/ihn adressierte Nachricht von ${insured} ab (GET /Communication)`, () => {
    assert.ok(got, `messages of ${rep}: ${list.map((m) => `${m.kind} ${m.sender?.value}`).join(', ')}`);
    assert.equal(got.recipient?.value, identOf(rep));
    assert.ok(got.received, 'received is not set after the recipient fetched it');
  });
  await verifyTagged(this, ['A_18618', 'A_18508'], `Die Nachricht bringt den E-Rezept-Token und den Text in die App von ${rep}`, () => {
    assert.ok(got);
    assert.deepEqual(got.token, rx.token);
    assert.equal(got.text, text);
    assert.ok(fdv.receivedTokens().some((t) => t.prescriptionId === rx.taskId && t.accessCode === rx.token.accessCode), 'the app did not keep the token');
  });
});

Then('erhält {string} die Antwort der {string} mit dem Abholcode {string}', async function (this: TiWorld, insured: string, pharmacy: string, code: string) {
  const list = listingOf(this, insured);
  const rx = lastPrescriptionOf(this, insured);
  const sentId = lastSent(this, pharmacy, insured).message.id;
  const got = list.find((m) => m.id === sentId);
  await verify('A_18870', `${insured} ruft die Antwort der ${pharmacy} ab (GET /Communication) und der Fachdienst vermerkt den Abruf`, () => {
    assert.ok(got, `messages of ${insured}: ${list.map((m) => `${m.kind} ${m.sender?.value}`).join(', ')}`);
    assert.equal(got.recipient?.value, identOf(insured));
    assert.equal(got.sender?.system, COMMUNICATION_SYSTEM.telematikId);
    assert.ok(got.received, 'received is not set');
  });
  await verifyTagged(this, ['A_18618', 'A_19013'], `Die Antwort der ${pharmacy} zum E-Rezept mit dem Abholcode liegt in der App von ${insured}`, () => {
    assert.ok(got);
    assert.equal(got.prescriptionId, rx.taskId);
    assert.equal(got.json?.pickUpCodeHR, code);
    assert.equal(got.json?.supplyOptionsType, 'onPremise');
  });
});

Then('erhält die {string} die Zuweisung von {string} mit dem E-Rezept-Token und dem Wunsch {string}', async function (this: TiWorld, pharmacy: string, insured: string, wish: string) {
  const got = msgState(this).received.get(loadPersona(pharmacy).name) ?? [];
  const rx = lastPrescriptionOf(this, insured);
  const hit = got.find((r) => r.message.kind === 'DispReq' && r.message.prescriptionId === rx.taskId);
  await verify('A_18870', `Die ${pharmacy} ruft die an ihre Telematik-ID adressierte Zuweisung ab`, () => {
    assert.ok(hit, `the pharmacy received ${got.length} message(s), none for ${rx.taskId}`);
    assert.equal(hit.message.recipient?.value, identOf(pharmacy));
    assert.equal(hit.message.sender?.value, identOf(insured));
    assert.ok(hit.message.received, 'received is not set');
  });
  await verifyTagged(this, ['A_18758', 'A_18617'], `Das AVS der ${pharmacy} empfängt den E-Rezept-Token über den Fachdienst und prüft ihn`, () => {
    assert.ok(hit);
    assert.deepEqual(hit.token, rx.token);
    assert.equal(hit.problem, undefined);
    assert.equal(hit.message.json?.supplyOptionsType, supplyOption(wish));
  });
});

Then('hat die {string} das per Nachricht zugewiesene E-Rezept von {string} mit Secret angenommen', async function (this: TiWorld, pharmacy: string, insured: string) {
  const rx = lastPrescriptionOf(this, insured);
  const a = msgState(this).accepted.find((x) => x.prescriptionId === rx.taskId);
  const avs = avsOf(this, pharmacy);
  await verifyTagged(this, ['A_18758', 'A_18617'], `Mit dem per Nachricht empfangenen Token nimmt die ${pharmacy} das E-Rezept an ($accept)`, () => {
    assert.ok(a, `${pharmacy} accepted nothing for ${rx.taskId}`);
    assert.match(a.secret ?? '', /^[0-9a-f]{64}$/);
    assert.equal(avs.get(rx.taskId)?.status, 'in-progress');
  });
});

Then(/^sieht "([^"]+)" die Nachricht von "([^"]+)" an "([^"]+)" nicht$/, async function (this: TiWorld, actor: string, from: string, to: string) {
  const list = listingOf(this, actor);
  const m = lastSent(this, from, to);
  await verifyAllTagged(this, ['A_18870', 'A_18851'], `Der Fachdienst liefert ${actor} nur die eigenen Nachrichten, nicht die von ${from} an ${to}`, () => {
    assert.ok(!list.some((x) => x.id === m.message.id), 'the message is listed');
    for (const x of list) assert.ok([x.sender?.value, x.recipient?.value].includes(identOf(actor)), `a foreign message is listed: ${x.id}`);
  });
});

Then(/^sieht "([^"]+)" die Nachricht von "([^"]+)" an "([^"]+)" als gesendet$/, async function (this: TiWorld, actor: string, from: string, to: string) {
  const list = listingOf(this, actor);
  const m = lastSent(this, from, to);
  await verify('A_18870', `${actor} sieht die eigene gesendete Nachricht an ${to}, ohne dass sie als empfangen markiert wird`, () => {
    const x = list.find((y) => y.id === m.message.id);
    assert.ok(x, 'the sent message is not listed');
    assert.equal(x.received, undefined, 'fetching by the sender marked it received');
  });
});

Then('findet der Fachdienst die Nachricht für {string} nicht: {int} {string}', async function (this: TiWorld, _actor: string, status: number, text: string) {
  const s = msgState(this);
  await verifyAllTagged(this, ['A_18870', 'A_18851'], `Eine fremde Nachricht liest der Fachdienst nicht aus: ${status} "${text}"`, () => {
    assert.equal(s.read, undefined, 'the message was read');
    assert.equal(s.lastRefusal?.status, status);
    assert.equal(s.lastRefusal?.text, text);
  });
});

Then(/^bestätigt der Fachdienst das Löschen der Nachricht (ohne Warnung|mit der Warnung, dass sie bereits abgerufen wurde)$/, async function (this: TiWorld, which: string) {
  const s = msgState(this);
  const withWarning = which.startsWith('mit');
  const uc = s.deleted && actorKind(s.deleted.from) === 'insured' ? 'A_20260' : 'A_20776';
  const check = () => {
    assert.equal(s.lastOk, true, `refused: ${JSON.stringify(s.lastRefusal)}`);
    if (!withWarning) {
      assert.equal(s.lastWarning, '', `Warning: ${s.lastWarning}`);
      return;
    }
    const m = /^Deleted message delivered at (\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2}))$/.exec(s.lastWarning ?? '');
    assert.ok(m, `Warning: ${JSON.stringify(s.lastWarning)}`);
    const at = Date.parse(m[1]);
    const sent = Date.parse(s.deleted?.message.sent ?? '');
    assert.ok(at >= sent - 1000 && at <= Date.now() + 1000, `delivered at ${m[1]}, sent ${s.deleted?.message.sent}`);
  };
  await verify('A_20261', `Der Fachdienst löscht die Nachricht des Absenders (204) ${withWarning ? 'und meldet im Header Warning, dass der Empfänger sie schon abgerufen hat' : 'ohne Warning, weil der Empfänger sie noch nicht abgerufen hat'}`, check);
  await verifyTagged(this, [uc], `Der Absender löscht seine Nachricht${withWarning ? ' und erfährt, dass sie bereits abgerufen war' : ''}`, check);
});

Then(/^(?:erhält|sieht) "([^"]+)" die gelöschte Nachricht nicht mehr$/, async function (this: TiWorld, actor: string) {
  const s = msgState(this);
  const m = s.deleted;
  if (!m?.message.id) throw new TestDefectError('no message was deleted in this scenario');
  const list =
    actorKind(actor) === 'insured' ? (await appOf(this, actor).then((f) => f.messages())).items : (await (await pharmacyOf(this, actor)).messages.receive()).map((r) => r.message);
  const read = await rawRequest(this, actor, 'GET', `/Communication/${m.message.id}`, { operation: 'GET /Communication/<id>' });
  const uc = actorKind(m.from) === 'insured' ? 'A_20260' : 'A_20776';
  const check = () => {
    assert.ok(!list.some((x) => x.id === m.message.id), 'the deleted message is still listed');
    assert.equal(read.status, 404, `GET /Communication/<id> answered ${read.status}`);
    assert.deepEqual(read.texts, ['no Communication found for id']);
  };
  await verify('A_20261', `Die gelöschte Nachricht ist beim Fachdienst für ${actor} nicht mehr abrufbar`, check);
  await verifyTagged(this, [uc], 'Die Nachricht ist auf dem Fachdienst gelöscht', check);
});

Then(
  /^lehnt der Fachdienst das Löschen der Nachricht mit (\d{3}) und dem Text "([^"]+)" ab$/,
  async function (this: TiWorld, status: string, text: string) {
    const s = msgState(this);
    const expected = substitute(this, text, callerOfLastDelete(this));
    await verifyAllTagged(this, ['A_20261', 'A_18851'], `Der Fachdienst lehnt das Löschen mit ${status} "${text}" ab`, () => {
      assert.equal(s.lastOk, false, 'the Fachdienst deleted the message');
      assert.equal(s.lastRefusal?.status, Number(status), JSON.stringify(s.lastRefusal));
      assert.equal(s.lastRefusal?.text, expected);
    });
  },
);

function callerOfLastDelete(world: TiWorld): string | undefined {
  return msgState(world).deletedBy;
}

Then('ist die Nachricht von {string} an {string} beim Fachdienst noch vorhanden', async function (this: TiWorld, from: string, to: string) {
  const m = lastSent(this, from, to);
  const read = await rawRequest(this, from, 'GET', `/Communication/${m.message.id}`, { operation: 'GET /Communication/<id>' });
  await verifyAllTagged(this, ['A_20261', 'A_18851'], 'Die Nachricht bleibt nach dem abgelehnten Löschen beim Absender abrufbar', () => {
    assert.equal(read.status, 200);
    assert.equal(read.body?.id, m.message.id);
  });
});

