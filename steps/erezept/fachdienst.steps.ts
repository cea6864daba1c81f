/**
 * Steps of features/erezept/fachdienst: access to the E-Rezept-Fachdienst and its error answers
 * (authentication by IDP token, role checks, invalid call parameters, the Secret of $accept).
 *
 * Every request goes through the VAU (simulators/lib/vau-client.ts) with an access token the
 * client system obtained from the IDP over the real login (steps/idp/support.ts createActor/login:
 * SMC-B via the Konnektor, eGK over PC/SC). Forged or placeholder tokens are built here from such a
 * token. Only @simulator-only scenarios move the simulated clocks (admin API); the After hook of
 * this module puts the Fachdienst's clock back, the one of steps/idp/support.ts the IDP's.
 */
import * as assert from 'node:assert/strict';
import { After, Given, Then, When } from '@cucumber/cucumber';
import { generateBp256KeyPair } from '../../simulators/lib/bp256';
import { serializeFhirXml } from '../../simulators/lib/fhir';
import { buildPrescriptionId, isValidPrescriptionId } from '../../simulators/lib/erezept-token';
import { decodeJws, signJws } from '../../simulators/lib/jose';
import { VauClient, type VauResponse } from '../../simulators/lib/vau-client';
import { ERP_NS } from '../../simulators/pvs/pvs';
import { NS_SECRET } from '../../simulators/avs/avs';
import { actorOf, advanceClock, createActor, lastTokens, login, pkiTrust, scenarioAfos } from '../idp/support';
import { EnvironmentError, TestDefectError } from '../support/errors';
import { verify } from '../verify';
import type { TiWorld } from '../world';
import { avsOf, insertCardAt, lastPrescription, PHARMACY_CONTEXT, PRACTICE_CONTEXT } from './support';

/** Production's WWW-Authenticate value on token errors (docs/fachdienst.md, VauRequestHandler). */
const WWW_AUTHENTICATE_INVALID_TOKEN = "Bearer realm='prescriptionserver.telematik', error='invalACCESS_TOKEN'";
const FHIR_XML_BODY = { 'Content-Type': 'application/fhir+xml; charset=utf-8', Accept: 'application/fhir+json' };

interface FdScenarioState {
  /** Answers of the scenario's Fachdienst calls, in order. */
  answers: Array<{ what: string; response: VauResponse }>;
  /** The PrescriptionID of the last $create that succeeded before the call under test. */
  previousId?: string;
  fdClockMoved: boolean;
  /** Secrets the pharmacy received, in order. */
  secrets: string[];
  /** The scenario made the IDP issue access tokens with another acr (reset in After). */
  idpAcrInjected?: boolean;
}

function fdState(world: TiWorld): FdScenarioState {
  let s = world.state.get('fachdienst') as FdScenarioState | undefined;
  if (!s) {
    s = { answers: [], fdClockMoved: false, secrets: [] };
    world.state.set('fachdienst', s);
  }
  return s;
}

type TokenKind = 'valid' | 'placeholder' | 'forged';

/** A VAU client of the scenario's client system with the given kind of token. */
async function vauClient(world: TiWorld, kind: TokenKind): Promise<VauClient> {
  const actor = actorOf(world);
  const real = lastTokens(world).accessToken;
  const token = kind === 'valid' ? real : kind === 'placeholder' ? 'kein-AuthN-Token' : forgeToken(real);
  return new VauClient({
    fachdienstUrl: world.env.services.fachdienst.url,
    trust: await pkiTrust(world),
    accessToken: async () => token,
    user: actor.kind === 'FdV' ? 'v' : 'l',
    userAgent: 'ti-harness-steps/1.0',
  });
}

/** The same header and claims as the IDP's token, signed with a fresh brainpoolP256r1 key outside the TI. */
function forgeToken(jws: string): string {
  const d = decodeJws(jws);
  const claims = JSON.parse(d.payload.toString('utf8')) as Record<string, unknown>;
  return signJws(claims, generateBp256KeyPair().privateKey, { ...d.header });
}

function createParameters(codes: string[]): string {
  return serializeFhirXml(
    { resourceType: 'Parameters', parameter: codes.map((code) => ({ name: 'workflowType', valueCoding: { system: ERP_NS.flowType, code } })) },
    { declaration: true },
  );
}

async function call(world: TiWorld, what: string, kind: TokenKind, method: string, target: string, body?: string): Promise<VauResponse> {
  const client = await vauClient(world, kind);
  let response: VauResponse;
  try {
    response = await client.request(method, target, body === undefined ? { headers: { Accept: 'application/fhir+json' } } : { headers: FHIR_XML_BODY, body });
  } catch (e) {
    throw new EnvironmentError(`Fachdienst: ${method} ${target} over the VAU failed: ${(e as Error).message}`, { cause: e });
  }
  fdState(world).answers.push({ what, response });
  return response;
}

function lastAnswer(world: TiWorld): VauResponse {
  const a = fdState(world).answers.at(-1);
  if (!a) throw new TestDefectError('no Fachdienst call in this scenario yet');
  return a.response;
}

function answerOf(world: TiWorld, what: string): VauResponse {
  const a = [...fdState(world).answers].reverse().find((x) => x.what === what);
  if (!a) throw new TestDefectError(`no Fachdienst call "${what}" in this scenario yet`);
  return a.response;
}

type Json = Record<string, unknown>;

function jsonOf(r: VauResponse): Json {
  return JSON.parse(r.text()) as Json;
}

function createdTaskId(r: VauResponse): string | undefined {
  if (r.status !== 201) return undefined;
  const task = jsonOf(r);
  return typeof task.id === 'string' ? task.id : undefined;
}

function sequenceOf(prescriptionId: string): bigint {
  return BigInt(prescriptionId.replace(/\./g, '').slice(3, 15));
}

/** Descriptions of what a refusal proves, per requirement the scenario is about. */
const REFUSAL_MEANS: Record<string, string> = {
  A_18793: 'Ohne AuthN-Token des IDP authentifiziert der Fachdienst niemanden',
  A_18889: 'Der Fachdienst authentifiziert nur mit einer vom IDP ausgestellten Identitätsbestätigung',
  A_18794: 'Ohne erfolgreiche Authentifizierung gewährt der Fachdienst keinen Zugang',
  A_18839: 'Der Fachdienst validiert den AuthN-Token und bricht mit qualifizierter Fehlermeldung ab',
  A_18739: 'Der Fachdienst setzt die Zugangsberechtigungen nach TAB_SYSLERP_040 anhand der professionOID um',
  A_18569: 'Nur zum Einstellen berechtigte Leistungserbringer erhalten eine E-Rezept-ID',
  A_18496: 'Der Fachdienst bricht bei ungültigen Aufrufparametern mit qualifizierter Fehlermeldung ab',
  A_18498: 'Die Fehlermeldung nennt die Ursache interoperabel (OperationOutcome mit Text)',
  A_18923: 'Der Fachdienst lehnt einen AuthN-Token unterhalb des Authentisierungsniveaus "hoch" ab',
};

// ------------------------------------------------------------------------------------------- Given

Given('die Praxis {string} ist mit ihrer SMC-B beim IDP angemeldet', async function (this: TiWorld, practice: string) {
  await createActor(this, { kind: 'PVS', owner: practice, card: practice, context: PRACTICE_CONTEXT });
  await loginOrFail(this);
});

Given('die Apotheke {string} ist mit ihrer SMC-B beim IDP angemeldet', async function (this: TiWorld, pharmacy: string) {
  await insertCardAt(this, pharmacy, PHARMACY_CONTEXT.workplaceId);
  await createActor(this, { kind: 'AVS', owner: pharmacy, card: pharmacy, context: PHARMACY_CONTEXT });
  await loginOrFail(this);
});

Given('{string} ist im FdV mit seiner eGK beim IDP angemeldet', async function (this: TiWorld, insured: string) {
  await createActor(this, { kind: 'FdV', owner: insured, card: insured });
  await loginOrFail(this);
});

async function loginOrFail(world: TiWorld): Promise<void> {
  const attempt = await login(world);
  if (!attempt.tokens) throw new EnvironmentError(`the IDP login of the client system failed: ${(attempt.error as Error | undefined)?.message}`);
}

Given('der IDP stellt AuthN-Token mit dem Vertrauensniveau {string} aus', async function (this: TiWorld, acr: string) {
  fdState(this).idpAcrInjected = true;
  await this.admin('idp', '/faults', { acr }); // harness-only (@simulator-only): otherwise valid, signed and encrypted tokens
});

Given('der AuthN-Token trägt das Vertrauensniveau {string}', function (this: TiWorld, acr: string) {
  const claims = JSON.parse(decodeJws(lastTokens(this).accessToken).payload.toString('utf8')) as Record<string, unknown>;
  if (claims.acr !== acr) throw new EnvironmentError(`precondition: the IDP's access token carries acr ${JSON.stringify(claims.acr)}, not ${acr}`);
});

Given('das Primärsystem hat mit dem AuthN-Token eine E-Rezept-ID des Workflows {string} erhalten', async function (this: TiWorld, flow: string) {
  const r = await call(this, '$create', 'valid', 'POST', '/Task/$create', createParameters([flow]));
  const id = createdTaskId(r);
  if (!id) throw new EnvironmentError(`Fachdienst: $create answered ${r.status}: ${r.text().slice(0, 200)}`);
  fdState(this).previousId = id;
});

// -------------------------------------------------------------------------------------------- When

When(
  /^das (?:Primärsystem|FdV) (mit dem AuthN-Token|ohne AuthN-Token \(Platzhalter statt JWT\)|mit einem von fremdem Schlüssel signierten Token) eine E-Rezept-ID des Workflows "(\d+)" anfordert$/,
  async function (this: TiWorld, how: string, flow: string) {
    const kind: TokenKind = how.startsWith('mit dem AuthN') ? 'valid' : how.startsWith('ohne') ? 'placeholder' : 'forged';
    await call(this, '$create', kind, 'POST', '/Task/$create', createParameters([flow]));
  },
);

When('das Primärsystem mit dem AuthN-Token das CapabilityStatement des Fachdienstes abruft', async function (this: TiWorld) {
  await call(this, 'metadata', 'valid', 'GET', '/metadata');
});

When('das Primärsystem eine E-Rezept-ID mit zwei Parametern workflowType {string} und {string} anfordert', async function (this: TiWorld, a: string, b: string) {
  await call(this, '$create', 'valid', 'POST', '/Task/$create', createParameters([a, b]));
});

When('das Primärsystem eine E-Rezept-ID mit einem nicht wohlgeformten XML-Dokument anfordert', async function (this: TiWorld) {
  const broken = createParameters(['160']).replace('</Parameters>', '');
  await call(this, '$create', 'valid', 'POST', '/Task/$create', broken);
});

When('die Uhren von Fachdienst und IDP um {int} Sekunden vorgestellt werden', async function (this: TiWorld, seconds: number) {
  const s = fdState(this);
  s.fdClockMoved = true;
  await this.admin('fachdienst', '/clock', { advanceMs: seconds * 1000 });
  await advanceClock(this, seconds); // the IDP's clock; reset by the After hook of steps/idp/support.ts
});

When('die Apotheke {string} das E-Rezept zurückgibt und erneut annimmt', async function (this: TiWorld, pharmacy: string) {
  const avs = avsOf(this, pharmacy);
  const p = lastPrescription(this);
  await avs.reject(p.taskId);
  const again = await avs.accept(p.token);
  fdState(this).secrets.push(again.secret);
});

// -------------------------------------------------------------------------------------------- Then

Then('legt der Fachdienst den Task mit 201 und einer gültigen E-Rezept-ID an', async function (this: TiWorld) {
  const r = answerOf(this, '$create');
  const check = () => {
    assert.equal(r.status, 201, `$create answered ${r.status}: ${r.text().slice(0, 200)}`);
    const task = jsonOf(r);
    assert.equal(task.resourceType, 'Task');
    assert.equal(task.status, 'draft');
    assert.ok(isValidPrescriptionId(task.id), `Task.id ${String(task.id)} is no valid PrescriptionID`);
  };
  await verify('A_18793', 'Mit dem AuthN-Token des IDP ist die Praxis authentifiziert: $create antwortet 201 mit einem Task', check);
  await verify('A_18889', 'Der Fachdienst nimmt die vom IDP ausgestellte Identitätsbestätigung an und legt den Task an', check);
  await verify('A_18794', 'Nach erfolgreicher Authentifizierung gewährt der Fachdienst Zugang zu $create', check);
});

Then('nimmt der Fachdienst den AuthN-Token mit dem Vertrauensniveau {string} an', async function (this: TiWorld, acr: string) {
  const r = answerOf(this, '$create');
  const claims = JSON.parse(decodeJws(lastTokens(this).accessToken).payload.toString('utf8')) as Record<string, unknown>;
  await verify('A_18923', `Ein AuthN-Token mit dem Authentisierungsniveau "${acr}" (Smartcard) wird angenommen: $create antwortet 201`, () => {
    assert.equal(claims.acr, acr);
    assert.equal(r.status, 201, `$create answered ${r.status}: ${r.text().slice(0, 200)}`);
    assert.equal(jsonOf(r).resourceType, 'Task');
  });
});

Then('liefert der Fachdienst das CapabilityStatement mit 200', async function (this: TiWorld) {
  const r = answerOf(this, 'metadata');
  await verify('A_18794', 'Nach erfolgreicher Authentifizierung liefert GET /metadata 200 mit dem CapabilityStatement', () => {
    assert.equal(r.status, 200, `GET /metadata answered ${r.status}`);
    assert.equal(jsonOf(r).resourceType, 'CapabilityStatement');
  });
});

Then('weist der Fachdienst den Aufruf mit {int} und der OperationOutcome {string} ab', async function (this: TiWorld, status: number, text: string) {
  const r = lastAnswer(this);
  for (const afo of scenarioAfos(this, Object.keys(REFUSAL_MEANS))) {
    await verify(afo, `${REFUSAL_MEANS[afo]}: ${status} mit OperationOutcome "${text}"`, () => {
      assert.equal(r.status, status, `answered ${r.status}: ${r.text().slice(0, 300)}`);
      const oo = jsonOf(r);
      assert.equal(oo.resourceType, 'OperationOutcome');
      const issues = (oo.issue as Json[] | undefined) ?? [];
      assert.ok(issues.length > 0, 'the OperationOutcome has no issue');
      assert.equal(issues[0].severity, 'error');
      assert.equal((issues[0].details as Json | undefined)?.text, text);
    });
  }
});

Then('fordert der Fachdienst im Kopf WWW-Authenticate zur Anmeldung mit gültigem Token auf', async function (this: TiWorld) {
  const r = lastAnswer(this);
  for (const afo of scenarioAfos(this, ['A_18794', 'A_18839', 'A_18923'])) {
    await verify(afo, `Die 401-Antwort trägt den WWW-Authenticate-Kopf der Produktion: ${WWW_AUTHENTICATE_INVALID_TOKEN}`, () => {
      assert.equal(r.status, 401);
      assert.equal(r.headers['www-authenticate'], WWW_AUTHENTICATE_INVALID_TOKEN);
    });
  }
});

Then('hat der Fachdienst dabei keinen Task angelegt: die nächste E-Rezept-ID folgt unmittelbar auf die vorige', async function (this: TiWorld) {
  const s = fdState(this);
  const before = s.previousId;
  if (!before) throw new TestDefectError('no PrescriptionID before the call under test: a step "hat … eine E-Rezept-ID … erhalten" must come first');
  const next = createdTaskId(await call(this, '$create', 'valid', 'POST', '/Task/$create', createParameters([before.slice(0, 3)])));
  await verify('A_18496', 'Der abgewiesene Aufruf hat keinen Zustand verändert: keine E-Rezept-ID wurde dafür vergeben', () => {
    assert.ok(next, 'the $create after the refusal did not succeed');
    assert.equal(next, buildPrescriptionId(before.slice(0, 3), sequenceOf(before) + 1n), `after ${before} the next id is ${next}`);
  });
});

Then('erhält die Apotheke beim Annehmen ein Secret aus 32 Zufallsbytes in 64 Hexadezimalzeichen', async function (this: TiWorld) {
  const p = lastPrescription(this);
  const task = avsOf(this).get(p.taskId);
  const secret = task?.secret;
  if (secret) fdState(this).secrets.unshift(secret);
  await verify('A_18524', 'Der Fachdienst erzeugt beim Übergang "offen" → "in Abgabe" ein Secret (32 Byte, 64 Hex-Zeichen) und übermittelt es der Apotheke', () => {
    assert.equal(task?.status, 'in-progress');
    assert.match(secret ?? '', /^[0-9a-f]{64}$/);
    const ids = ((task?.task?.identifier as Json[] | undefined) ?? []).filter((i) => i.system === NS_SECRET);
    assert.equal(ids.length, 1, 'the Task carries exactly one Secret identifier');
  });
});

Then('erhält die Apotheke beim erneuten Annehmen ein neues, anderes Secret', async function (this: TiWorld) {
  const [first, second] = fdState(this).secrets;
  await verify('A_18524', 'Jeder Übergang nach "in Abgabe" erhält ein eigenes Secret: das zweite unterscheidet sich vom ersten', () => {
    assert.match(second ?? '', /^[0-9a-f]{64}$/);
    assert.ok(first, 'no Secret of the first acceptance');
    assert.notEqual(second, first);
  });
});

After({ name: 'fachdienst: reset the Fachdienst clock and the IDP acr fault' }, async function (this: TiWorld) {
  const s = this.state.get('fachdienst') as FdScenarioState | undefined;
  if (s?.fdClockMoved) await this.admin('fachdienst', '/clock', { reset: true });
  if (s?.idpAcrInjected) await this.admin('idp', '/faults', { acr: null });
});
