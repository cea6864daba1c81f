/**
 * Scenario support for features/erezept/authentisierung and features/erezept/idp: the client systems
 * of a scenario (PVS/AVS with the SMC-B behind the Konnektor, FdV with the eGK in the device's card
 * reader), each with its Authentisierungsmodul, and the harness controls those scenarios use.
 *
 * Everything goes over the real interfaces: the IDP over HTTPS (endpoints from its signed discovery
 * document), the Konnektor over SOAP, the eGK over PC/SC. The client code is the harness's own
 * simulated client side (simulators/lib/idp-client.ts, simulators/authenticator), which a vendor's
 * PVS/AVS/FdV replaces when it is the system under test. Admin APIs (/__admin: clock, consents,
 * registrations, OCSP log, Konnektor call log, card insertion) are used only by @simulator-only
 * scenarios, and every change they make is undone in the After hook.
 */
import { After } from '@cucumber/cucumber';
import { loadPersona, type Persona } from '../../cards';
import { createClientSystemAuthn, KNOWN_CLIENTS, type ClientSystemAuthn } from '../../simulators/authenticator/client-wiring';
import type { ConsentDecision, ConsentPolicy } from '../../simulators/authenticator/consent';
import { EgkPcscSigner } from '../../simulators/authenticator/signers/egk-pcsc';
import { KonnektorSmcbSigner } from '../../simulators/authenticator/signers/konnektor-smcb';
import type { ChallengeSigner } from '../../simulators/authenticator/signer';
import { DeviceSsoStore } from '../../simulators/authenticator/sso-store';
import { fetchPkiTrust, type AuthorizationRequest, type IdpRelyingParty, type IdpTrust, type TokenSet } from '../../simulators/lib/idp-client';
import { KonnektorClient } from '../../simulators/lib/konnektor-client';
import { EnvironmentError, TestDefectError } from '../support/errors';
import { Cleanup } from '../support/cleanup';
import { verify } from '../verify';
import type { TiWorld } from '../world';

export type ClientKind = 'PVS' | 'AVS' | 'FdV';

/** A card signer that counts what the Authentisierungsmodul asked the card for. */
export class CountingSigner implements ChallengeSigner {
  certificateReads = 0;
  signatures = 0;
  constructor(readonly inner: ChallengeSigner) {}
  get kind() {
    return this.inner.kind;
  }
  get label() {
    return this.inner.label;
  }
  async autCertificate(): Promise<Buffer> {
    this.certificateReads++;
    return this.inner.autCertificate();
  }
  async signDigest(digest: Buffer): Promise<Buffer> {
    this.signatures++;
    return this.inner.signDigest(digest);
  }
  async close(): Promise<void> {
    await this.inner.close?.();
  }
}

/** One client system of the scenario with its Authentisierungsmodul and card. */
export interface IdpActor {
  kind: ClientKind;
  /** Owner of the client system (practice, pharmacy or insured person). */
  owner: Persona;
  /** The card that answers the IDP's challenge. */
  card: Persona;
  signer: CountingSigner;
  authn: ClientSystemAuthn;
  relyingParty: IdpRelyingParty;
  /** The simulated user's next consent answer. */
  consent: ConsentDecision | 'grant-all';
  konnektor?: KonnektorClient;
}

/** The outcome of one complete or attempted login. */
export interface LoginAttempt {
  relyingParty: IdpRelyingParty;
  request?: AuthorizationRequest;
  /** The module's result (code, state, method, consent asked). */
  result?: Awaited<ReturnType<ClientSystemAuthn['authenticator']['authenticate']>>;
  tokens?: TokenSet;
  error?: unknown;
  /** Card signatures before / after the attempt. */
  signaturesBefore: number;
  signaturesAfter: number;
  /** When it started (ISO, system time; filters the OCSP and Konnektor logs). */
  startedAt: string;
}

export interface IdpScenarioState {
  actor?: IdpActor;
  /** Simulated time offset the client side applies (the IDP's clock is moved by the same amount). */
  offsetMs: number;
  clockMoved: boolean;
  logins: LoginAttempt[];
  /** Last IDP error answer a step provoked (HTTP or redirect), or any other thrown error. */
  lastError?: unknown;
  /** Last raw HTTP answer of a step that talked to the IDP directly. */
  lastResponse?: { status: number; body: string; headers: Record<string, unknown> };
  /** Serial numbers this scenario revoked in the PKI (reinstated afterwards). */
  revoked: string[];
  /** Clients and scopes this scenario registered at the IDP (removed afterwards). */
  registeredClients: string[];
  registeredScopes: string[];
  /** Personas whose cards this scenario inserted (taken out afterwards). */
  inserted: string[];
  extra: Map<string, unknown>;
}

export function idpState(world: TiWorld): IdpScenarioState {
  let s = world.state.get('idp') as IdpScenarioState | undefined;
  if (!s) {
    s = { offsetMs: 0, clockMoved: false, logins: [], revoked: [], registeredClients: [], registeredScopes: [], inserted: [], extra: new Map() };
    world.state.set('idp', s);
  }
  return s;
}

export function actorOf(world: TiWorld): IdpActor {
  const a = idpState(world).actor;
  if (!a) throw new TestDefectError('no client system in this scenario yet: a step "… nutzt das Authentisierungsmodul …" must come first');
  return a;
}

let trust: Promise<IdpTrust> | undefined;
/** The PKI's trust anchors (root and issuing CAs), fetched once per process from the PKI's /certs. */
export function pkiTrust(world: TiWorld): Promise<IdpTrust> {
  trust ??= fetchPkiTrust(world.env.services.pki.url).catch((e) => {
    trust = undefined;
    throw new EnvironmentError(`PKI: cannot fetch the trust anchors from ${world.env.services.pki.url}/certs: ${(e as Error).message}`);
  });
  return trust;
}

/** The PEM of the PKI root (TLS trust anchor for every TI service). */
export function rootPem(world: TiWorld): Promise<string> {
  return world.tiRootPem();
}

function consentPolicy(actor: () => IdpActor): ConsentPolicy {
  return (request) => {
    const c = actor().consent;
    if (c === 'grant-all') return { decision: 'granted', claims: Object.keys(request.requestedClaims) };
    return c;
  };
}

/** The client-side clock of the scenario: system time plus the offset the scenario moved the IDP by. */
export function scenarioClock(s: IdpScenarioState): () => number {
  return () => Date.now() + s.offsetMs;
}

export interface ActorSpec {
  kind: ClientKind;
  owner: string;
  card: string;
  /** Konnektor call context (PVS/AVS). */
  context?: { mandantId: string; clientSystemId: string; workplaceId: string };
}

export async function createActor(world: TiWorld, spec: ActorSpec): Promise<IdpActor> {
  const s = idpState(world);
  if (s.actor) {
    // A scenario's own client system replaces the one of the feature's Grundlage.
    const previous = s.actor;
    s.actor = undefined;
    await previous.authn.close();
    await previous.konnektor?.close();
  }
  const owner = loadPersona(spec.owner);
  const card = loadPersona(spec.card);
  let konnektor: KonnektorClient | undefined;
  let inner: ChallengeSigner;
  if (spec.kind === 'FdV') {
    inner = new EgkPcscSigner({ persona: card.name, vpcdPort: world.env.cards.vpcdPort });
  } else {
    if (!spec.context) throw new TestDefectError('a PVS/AVS needs a Konnektor call context');
    konnektor = new KonnektorClient({ url: world.env.services.konnektor.url, context: spec.context, ca: await rootPem(world) });
    // A card that is not an SMC-B (a user picking the wrong card) is located by its ICCSN only.
    inner = new KonnektorSmcbSigner({ konnektor, ...(card.type === 'SMC-B' ? { persona: card.name } : { iccsn: card.iccsn }), findTimeoutMs: 10_000 });
  }
  const signer = new CountingSigner(inner);
  const relyingParty: IdpRelyingParty = spec.kind === 'FdV' ? { ...KNOWN_CLIENTS.insured } : { ...KNOWN_CLIENTS.practice };
  let actor: IdpActor | undefined;
  const authn = await createClientSystemAuthn({
    env: world.env,
    signer,
    relyingParty,
    consent: consentPolicy(() => actor as IdpActor),
    ssoStore: new DeviceSsoStore({ clock: scenarioClock(s) }),
    clock: scenarioClock(s),
    trust: await pkiTrust(world),
  });
  actor = { kind: spec.kind, owner, card, signer, authn, relyingParty, consent: 'grant-all', konnektor };
  s.actor = actor;
  return actor;
}

/** Runs the whole flow once (authorization request → module → token endpoint); errors are kept, not thrown. */
export async function login(
  world: TiWorld,
  opts: { relyingParty?: IdpRelyingParty; forceLogin?: boolean; redeem?: boolean } = {},
): Promise<LoginAttempt> {
  const s = idpState(world);
  const a = actorOf(world);
  const rp = opts.relyingParty ?? a.relyingParty;
  const attempt: LoginAttempt = { relyingParty: rp, signaturesBefore: a.signer.signatures, signaturesAfter: a.signer.signatures, startedAt: new Date().toISOString() };
  try {
    attempt.request = await a.authn.idp.createAuthorizationRequest(rp, opts.forceLogin ? { prompt: 'login' } : {});
    attempt.result = await a.authn.authenticator.authenticate(attempt.request.url, { forceLogin: opts.forceLogin });
    if (opts.redeem !== false) {
      attempt.tokens = await a.authn.idp.redeemCode({ relyingParty: rp, code: attempt.result.code, codeVerifier: attempt.request.codeVerifier, nonce: attempt.request.nonce });
    }
  } catch (e) {
    if (e instanceof EnvironmentError) throw e;
    attempt.error = e;
    s.lastError = e;
  }
  attempt.signaturesAfter = a.signer.signatures;
  s.logins.push(attempt);
  return attempt;
}

export function lastLogin(world: TiWorld): LoginAttempt {
  const l = idpState(world).logins.at(-1);
  if (!l) throw new TestDefectError('no login attempt in this scenario yet');
  return l;
}

/** The last login that produced tokens. */
export function lastTokens(world: TiWorld): TokenSet {
  const l = [...idpState(world).logins].reverse().find((x) => x.tokens);
  if (!l?.tokens) {
    const err = lastLogin(world).error;
    throw new TestDefectError(`no AuthN token in this scenario${err ? ` (last attempt failed: ${(err as Error).message})` : ''}`);
  }
  return l.tokens;
}

/** Moves the IDP's simulated clock (admin API) and the scenario's client clock by the same amount. */
export async function advanceClock(world: TiWorld, seconds: number): Promise<void> {
  const s = idpState(world);
  await world.admin('idp', '/clock', { advanceMs: seconds * 1000 });
  s.offsetMs += seconds * 1000;
  s.clockMoved = true;
}

/**
 * The @AFO-IDs of the running scenario among `candidates`: a generic step (e.g. "antwortet mit dem
 * Fehlercode …") proves whatever requirement its scenario is about.
 */
export function scenarioAfos(world: TiWorld, candidates: readonly string[]): string[] {
  const tags = (world.scenario?.tags ?? []).filter((t) => t.startsWith('@AFO-ID:')).map((t) => t.slice('@AFO-ID:'.length));
  const hit = candidates.filter((c) => tags.includes(c));
  if (hit.length === 0) throw new TestDefectError(`the step proves one of ${candidates.join(', ')}, but the scenario is tagged with none of them`);
  return hit;
}

export async function verifyAll(world: TiWorld, candidates: readonly string[], description: string, check: () => void | boolean | Promise<void | boolean>): Promise<void> {
  for (const afo of scenarioAfos(world, candidates)) await verify(afo, description, check);
}

/** Inserts a persona's card into a free slot of the given slots (cards admin API); taken out after the scenario. */
export async function insertCard(world: TiWorld, name: string, slots?: number[]): Promise<void> {
  const persona = loadPersona(name);
  const res = await world.http(world.serviceUrl('cards', '/__admin/cards'), { service: 'cards' });
  if (res.status !== 200) throw new EnvironmentError(`cards service: GET /__admin/cards answered ${res.status}`);
  const overview = res.json<{ slots: Array<{ slot: number; persona: string | null }> }>();
  if (overview.slots.some((x) => x.persona === persona.name)) return;
  const free = overview.slots.find((x) => x.persona === null && (!slots || slots.includes(x.slot)))?.slot;
  if (free === undefined) throw new EnvironmentError(`no free card reader slot${slots ? ` among ${slots.join(', ')}` : ''} for ${persona.name}`);
  await world.admin('cards', '/cards/insert', { persona: persona.name, slot: free });
  idpState(world).inserted.push(persona.name);
}

/** Slots of the card terminals local to a workplace of the Konnektor's information model. */
export function workplaceSlots(world: TiWorld, workplaceId: string): number[] {
  const model = world.env.konnektor;
  const wp = model.workplaces.find((w) => w.id === workplaceId);
  if (!wp) throw new TestDefectError(`workplace ${workplaceId} is not in the environment's information model`);
  return model.cardTerminals.filter((t) => wp.localTerminals.includes(t.id)).flatMap((t) => t.slots);
}

async function deleteAdmin(world: TiWorld, service: 'idp', path: string): Promise<void> {
  const res = await world.http(world.serviceUrl(service, `/__admin${path}`), { method: 'DELETE', ca: await rootPem(world), service });
  if (res.status >= 300 && res.status !== 404) throw new EnvironmentError(`${service}: DELETE /__admin${path} answered ${res.status}: ${res.text().slice(0, 200)}`);
}

export { deleteAdmin };

After({ name: 'idp: close the client systems, undo harness changes' }, async function (this: TiWorld) {
  const s = this.state.get('idp') as IdpScenarioState | undefined;
  if (!s) return;
  const cleanup = new Cleanup();
  const attempt = (what: string, fn: () => Promise<unknown>) => cleanup.attempt(what, fn);
  if (s.actor) {
    const a = s.actor;
    await attempt('close the card signer', () => a.authn.close());
    if (a.konnektor) await attempt('close the Konnektor client', () => a.konnektor!.close());
  }
  if (s.clockMoved) await attempt('reset the IDP clock', () => this.admin('idp', '/clock', { reset: true }));
  for (const serial of s.revoked) await attempt(`reinstate ${serial}`, () => this.admin('pki', `/certificates/${serial}/reinstate`, {}));
  for (const id of s.registeredClients) await attempt(`remove client ${id}`, () => deleteAdmin(this, 'idp', `/clients/${encodeURIComponent(id)}`));
  for (const scope of s.registeredScopes) await attempt(`remove scope ${scope}`, () => deleteAdmin(this, 'idp', `/scopes/${encodeURIComponent(scope)}`));
  for (const name of s.inserted) await attempt(`take out ${name}`, () => this.admin('cards', '/cards/remove', { persona: name }));
  cleanup.finish();
});
