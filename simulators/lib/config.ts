/**
 * Environment configuration: which TI services exist, where they are, and
 * whether the harness simulates them itself or targets an external system
 * (a vendor's product under test, a real TI reference environment).
 *
 * Files: config/environments/<name>.yaml. Selected by `--env <name>` or TI_ENV
 * (default `local`); `--env path/to/file.yaml` loads a file from anywhere. A single service URL can be overridden with
 * TI_<SERVICE>_URL (e.g. TI_PKI_URL=http://10.0.0.5:8080), which also marks that
 * service as external.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import YAML from 'yaml';
import { IDENTITY_CLAIMS, SCOPE_OPENID, type IdentityClaim } from './idp-protocol';
import { DEFAULT_PORTS, SERVICE_NAMES, type ServiceName } from './ports';

export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');
export const ENVIRONMENTS_DIR = path.join(PROJECT_ROOT, 'config', 'environments');

export interface ServiceConfig {
  name: ServiceName;
  /** true: the harness starts this simulator; false: it is an external system at `url`. */
  simulated: boolean;
  port: number;
  url: string;
}

/**
 * The virtual card terminal of the `cards` service (docs/pcsc.md): how many
 * PC/SC readers pcscd offers, where vpcd listens, and which persona cards are
 * inserted at start (in slot order: the first name goes into slot 0, …).
 */
export interface CardsConfig {
  /** Number of reader slots: 2 or 4 (vpcd's driver gives readers in pairs; a pcsc-mini client sees at most 4). */
  slots: number;
  /** vpcd listens on vpcdPort + slot (TCP, all interfaces). */
  vpcdPort: number;
  /** Persona names of the cards inserted at start, slot 0 first. */
  insert: string[];
}

export const DEFAULT_CARDS_CONFIG: CardsConfig = { slots: 4, vpcdPort: 35963, insert: [] };

/**
 * The simulated Konnektor (docs/konnektor.md): transport security and the information model
 * (Infomodell) that decides which caller may use which card terminal.
 */
export interface KonnektorConfig {
  /** Serve HTTPS with a server certificate from the simulated PKI (connector.sds TLSMandatory). */
  tls: boolean;
  /** Require a TLS client certificate from the client systems (connector.sds ClientAutMandatory; needs tls). */
  clientAuth: boolean;
  /** Largest SOAP request body in bytes (larger ones get HTTP 413). */
  maxBodyBytes: number;
  cardTerminals: KonnektorCardTerminal[];
  clientSystems: KonnektorClientSystem[];
  workplaces: KonnektorWorkplace[];
  mandants: KonnektorMandant[];
}

/** A card terminal: a group of slots (PC/SC readers) of the cards service. */
export interface KonnektorCardTerminal {
  /** CtId in the Konnektor's interfaces. */
  id: string;
  name: string;
  /** Slots of the cards service (0-based) in this terminal; SlotId = position + 1. */
  slots: number[];
  /** MacAddress reported by GetCardTerminals (aa-bb-cc-dd-ee-ff). */
  macAddress: string;
}

export interface KonnektorClientSystem {
  id: string;
  /**
   * With clientAuth: the subject CN the client system's TLS certificate must carry (any
   * certificate that chains to the simulated PKI's root when absent).
   */
  certificateCn?: string;
}

export interface KonnektorWorkplace {
  id: string;
  /** Card terminals at this workplace (PIN entry possible). */
  localTerminals: string[];
  /** Card terminals the workplace may use remotely. */
  remoteTerminals: string[];
  /** Client systems that may call on behalf of this workplace. */
  clientSystems: string[];
}

export interface KonnektorMandant {
  id: string;
  clientSystems: string[];
  workplaces: string[];
  cardTerminals: string[];
}

/**
 * The simulated IDP (docs/idp.md): which limits it applies (gematik's reference IDP or the production
 * IDP-Dienst), how consent is obtained, and the registered clients and service scopes (A_18810).
 */
export interface IdpConfig {
  profile: IdpProfileName;
  /** explicit: consent_required answer + consent endpoint; implicit: signing the challenge counts as consent. */
  consent: IdpConsentMode;
  clients: IdpClientConfig[];
  /** Service scopes (besides the built-in "openid"). */
  scopes: IdpScopeConfig[];
  /** Time the IDP waits for the PKI's OCSP responder (then error 2021). */
  ocspTimeoutMs: number;
}

export type IdpProfileName = 'reference' | 'production';
export type IdpConsentMode = 'explicit' | 'implicit';
/** OAuth 2.0 client types of A_18803: native = public client with PKCE, web = confidential client. */
export type IdpClientProfile = 'native' | 'web';

/** A registered relying party (names as in OAuth dynamic client registration). */
export interface IdpClientConfig {
  client_id: string;
  /** Exact redirect URIs; the authorization request must name one of them. */
  redirect_uris: string[];
  profile: IdpClientProfile;
  /** web clients only: the secret required at the token endpoint. */
  client_secret?: string;
  /** Receives an SSO token after a card authentication (mobile apps, A_21472). */
  sso: boolean;
}

/** A service scope: the audience its access tokens carry and the identity claims it may release (A_18856). */
export interface IdpScopeConfig {
  scope: string;
  audience: string;
  claims: IdentityClaim[];
  /** German text shown in user_consent.requested_scopes. */
  description: string;
}

/**
 * The simulated E-Rezept-Fachdienst (docs/fachdienst.md): which access tokens it accepts and how it
 * is reached.
 */
export interface FachdienstConfig {
  /** aud an access token must carry (default: the audience of the idp section's e-rezept scope). */
  audience: string;
  /** true: the FHIR interface only through the VAU (POST /VAU/…); false: plain HTTPS for diagnosis and load (logged loudly). */
  vau: boolean;
  /** Ask the IDP's introspection endpoint on every request, so logout/revocation at the IDP count at once (A_18857/58). */
  checkRevocation: boolean;
  /** Largest inner request body in bytes (larger: 413); the outer VAU message may be a little larger. */
  maxBodyBytes: number;
}

export interface Environment {
  name: string;
  host: string;
  /** Absolute directory for persistent simulator state. */
  dataDir: string;
  services: Record<ServiceName, ServiceConfig>;
  cards: CardsConfig;
  konnektor: KonnektorConfig;
  idp: IdpConfig;
  fachdienst: FachdienstConfig;
  /** Path of the file it was read from. */
  source: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

interface RawServiceConfig {
  simulated?: boolean;
  port?: number;
  url?: string;
}

interface RawCardsConfig {
  slots?: number;
  vpcdPort?: number;
  insert?: string[] | null;
}

interface RawKonnektorConfig {
  tls?: boolean;
  clientAuth?: boolean;
  maxBodyBytes?: number;
  cardTerminals?: Array<{ id?: string; name?: string; slots?: number[]; macAddress?: string }> | null;
  clientSystems?: Array<{ id?: string; certificateCn?: string } | string> | null;
  workplaces?: Array<{ id?: string; localTerminals?: string[]; remoteTerminals?: string[]; clientSystems?: string[] }> | null;
  mandants?: Array<{ id?: string; clientSystems?: string[]; workplaces?: string[]; cardTerminals?: string[] }> | null;
}

interface RawIdpConfig {
  profile?: string;
  consent?: string;
  clients?: unknown[] | null;
  scopes?: unknown[] | null;
  ocspTimeoutMs?: number;
}

interface RawFachdienstConfig {
  audience?: string;
  vau?: boolean;
  checkRevocation?: boolean;
  maxBodyBytes?: number;
}

interface RawEnvironment {
  name?: string;
  host?: string;
  dataDir?: string;
  services?: Record<string, RawServiceConfig | null>;
  cards?: RawCardsConfig | null;
  konnektor?: RawKonnektorConfig | null;
  idp?: RawIdpConfig | null;
  fachdienst?: RawFachdienstConfig | null;
}

export function environmentNames(): string[] {
  if (!fs.existsSync(ENVIRONMENTS_DIR)) return [];
  return fs
    .readdirSync(ENVIRONMENTS_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.slice(0, -'.yaml'.length))
    .sort();
}

/**
 * Loads an environment by name (config/environments/<name>.yaml) or by path
 * (anything ending in .yaml/.yml, e.g. a vendor's own file outside the repo).
 */
export function loadEnvironment(name = process.env.TI_ENV || 'local', overrides: NodeJS.ProcessEnv = process.env): Environment {
  const isPath = /\.ya?ml$/.test(name);
  const file = isPath ? path.resolve(name) : path.join(ENVIRONMENTS_DIR, `${name}.yaml`);
  if (isPath ? !fs.existsSync(file) : !/^[A-Za-z0-9_-]+$/.test(name) || !fs.existsSync(file)) {
    throw new ConfigError(
      isPath
        ? `environment file not found: ${file}`
        : `unknown environment "${name}" (known: ${environmentNames().join(', ') || 'none'}; files in ${ENVIRONMENTS_DIR})`,
    );
  }
  let raw: RawEnvironment;
  try {
    raw = (YAML.parse(fs.readFileSync(file, 'utf8')) ?? {}) as RawEnvironment;
  } catch (e) {
    throw new ConfigError(`${file}: not valid YAML: ${(e as Error).message}`);
  }
  return resolveEnvironment(raw, file, overrides);
}

export function resolveEnvironment(raw: RawEnvironment, source: string, overrides: NodeJS.ProcessEnv = {}): Environment {
  const host = raw.host ?? '127.0.0.1';
  const unknown = Object.keys(raw.services ?? {}).filter((s) => !(SERVICE_NAMES as string[]).includes(s));
  if (unknown.length) {
    throw new ConfigError(`${source}: unknown service(s) ${unknown.join(', ')} (known: ${SERVICE_NAMES.join(', ')})`);
  }
  const services = {} as Record<ServiceName, ServiceConfig>;
  for (const name of SERVICE_NAMES) {
    const rs: RawServiceConfig = raw.services?.[name] ?? {};
    const envUrl = overrides[`TI_${name.toUpperCase()}_URL`];
    const port = rs.port ?? DEFAULT_PORTS[name];
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new ConfigError(`${source}: services.${name}.port must be an integer 1..65535, got ${String(port)}`);
    }
    const simulated = envUrl ? false : rs.simulated ?? true;
    const url = envUrl ?? rs.url ?? `http://${host}:${port}`;
    if (!simulated && !rs.url && !envUrl) {
      throw new ConfigError(`${source}: services.${name} is external (simulated: false) but has no url`);
    }
    try {
      new URL(url);
    } catch {
      throw new ConfigError(`${source}: services.${name}.url is not a URL: ${url}`);
    }
    services[name] = { name, simulated, port, url: url.replace(/\/+$/, '') };
  }
  const dataDir = path.resolve(PROJECT_ROOT, raw.dataDir ?? path.join('.data', raw.name ?? 'local'));
  const cards = resolveCards(raw.cards ?? {}, source);
  const konnektor = resolveKonnektor(raw.konnektor ?? {}, cards, source);
  // A simulated Konnektor with TLS is reached over https unless a URL was given explicitly.
  const k = services.konnektor;
  if (konnektor.tls && k.simulated && !raw.services?.konnektor?.url) k.url = `https://${host}:${k.port}`;
  const idp = resolveIdp(raw.idp ?? {}, source);
  // The simulated IDP speaks HTTPS only (A_18862).
  const i = services.idp;
  if (i.simulated && !raw.services?.idp?.url) i.url = `https://${host}:${i.port}`;
  const fachdienst = resolveFachdienst(raw.fachdienst ?? {}, idp, source);
  // The simulated Fachdienst speaks HTTPS only (the VAU runs inside TLS).
  const f = services.fachdienst;
  if (f.simulated && !raw.services?.fachdienst?.url) f.url = `https://${host}:${f.port}`;
  return { name: raw.name ?? path.basename(source, '.yaml'), host, dataDir, services, cards, konnektor, idp, fachdienst, source };
}

function resolveCards(rc: RawCardsConfig, source: string): CardsConfig {
  const slots = rc.slots ?? DEFAULT_CARDS_CONFIG.slots;
  if (slots !== 2 && slots !== 4) {
    throw new ConfigError(`${source}: cards.slots must be 2 or 4, got ${String(slots)} (vpcd gives readers in pairs; a pcsc-mini client sees at most 4 readers; see docs/pcsc.md)`);
  }
  const vpcdPort = rc.vpcdPort ?? DEFAULT_CARDS_CONFIG.vpcdPort;
  if (!Number.isInteger(vpcdPort) || vpcdPort < 1024 || vpcdPort + slots - 1 > 65535) {
    throw new ConfigError(`${source}: cards.vpcdPort must be an integer 1024..${65536 - slots}, got ${String(vpcdPort)}`);
  }
  const insert = rc.insert ?? [];
  if (!Array.isArray(insert) || insert.some((p) => typeof p !== 'string' || !p.trim())) {
    throw new ConfigError(`${source}: cards.insert must be a list of persona names`);
  }
  if (insert.length > slots) {
    throw new ConfigError(`${source}: cards.insert names ${insert.length} cards but there are only ${slots} slots`);
  }
  const twice = insert.filter((p, i) => insert.indexOf(p) !== i);
  if (twice.length) throw new ConfigError(`${source}: cards.insert names ${twice.join(', ')} more than once (a card can be in one slot only)`);
  return { slots, vpcdPort, insert: insert.map((p) => p.trim()) };
}

const DEFAULT_KONNEKTOR_MAX_BODY = 16 * 1024 * 1024;

/**
 * The Konnektor section. Without one, the Konnektor has one card terminal "CT-SIM-1" with all
 * slots of the cards service, one client system, one workplace and one Mandant that may use it all
 * (the ids below), TLS on and no client-certificate authentication.
 */
export const DEFAULT_KONNEKTOR_IDS = { mandant: 'Mandant-SIM', clientSystem: 'CS-SIM', workplace: 'WP-SIM', cardTerminal: 'CT-SIM-1' } as const;

function resolveKonnektor(rk: RawKonnektorConfig, cards: CardsConfig, source: string): KonnektorConfig {
  const where = (field: string) => `${source}: konnektor.${field}`;
  const fail = (field: string, msg: string): never => {
    throw new ConfigError(`${where(field)} ${msg}`);
  };
  const tls = rk.tls ?? true;
  if (typeof tls !== 'boolean') fail('tls', 'must be true or false');
  const clientAuth = rk.clientAuth ?? false;
  if (typeof clientAuth !== 'boolean') fail('clientAuth', 'must be true or false');
  if (clientAuth && !tls) fail('clientAuth', 'needs tls: true (client certificates are part of the TLS handshake)');
  const maxBodyBytes = rk.maxBodyBytes ?? DEFAULT_KONNEKTOR_MAX_BODY;
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes < 1024) fail('maxBodyBytes', `must be an integer >= 1024, got ${String(maxBodyBytes)}`);

  const allSlots = Array.from({ length: cards.slots }, (_, i) => i);
  const ids = DEFAULT_KONNEKTOR_IDS;
  const idList = (field: string, v: unknown): string[] => {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || !x.trim() || x.length > 64)) fail(field, 'must be a list of ids (1..64 characters)');
    return (v as string[]).map((x) => x.trim());
  };
  const checkId = (field: string, id: unknown): string => {
    if (typeof id !== 'string' || !id.trim() || id.length > 64) fail(field, 'needs an id of 1..64 characters');
    return (id as string).trim();
  };

  const cardTerminals: KonnektorCardTerminal[] = (rk.cardTerminals ?? [{ id: ids.cardTerminal, slots: allSlots }]).map((t, i) => {
    const id = checkId(`cardTerminals[${i}].id`, t?.id);
    const slots = t.slots ?? [];
    if (!Array.isArray(slots) || slots.length === 0 || slots.some((s) => !Number.isInteger(s) || s < 0 || s >= cards.slots)) {
      fail(`cardTerminals[${i}].slots`, `must list slots of the cards service (0..${cards.slots - 1})`);
    }
    const macAddress = t.macAddress ?? `02-00-00-00-00-${(i + 1).toString(16).padStart(2, '0')}`;
    if (!/^[0-9a-fA-F]{2}(-[0-9a-fA-F]{2}){5}$/.test(macAddress)) fail(`cardTerminals[${i}].macAddress`, 'must look like 02-00-00-00-00-01');
    return { id, name: t.name ?? `Virtual card terminal ${id}`, slots: [...slots], macAddress };
  });
  const slotOwner = new Map<number, string>();
  for (const t of cardTerminals) {
    for (const s of t.slots) {
      if (slotOwner.has(s)) fail('cardTerminals', `slot ${s} is in both ${slotOwner.get(s)} and ${t.id}`);
      slotOwner.set(s, t.id);
    }
  }
  const clientSystems: KonnektorClientSystem[] = (rk.clientSystems ?? [{ id: ids.clientSystem }]).map((c, i) =>
    typeof c === 'string' ? { id: checkId(`clientSystems[${i}]`, c) } : { id: checkId(`clientSystems[${i}].id`, c?.id), ...(c.certificateCn ? { certificateCn: String(c.certificateCn) } : {}) },
  );
  const terminalIds = cardTerminals.map((t) => t.id);
  const workplaces: KonnektorWorkplace[] = (
    rk.workplaces ?? [{ id: ids.workplace, localTerminals: terminalIds, remoteTerminals: [], clientSystems: clientSystems.map((c) => c.id) }]
  ).map((w, i) => ({
    id: checkId(`workplaces[${i}].id`, w?.id),
    localTerminals: idList(`workplaces[${i}].localTerminals`, w.localTerminals),
    remoteTerminals: idList(`workplaces[${i}].remoteTerminals`, w.remoteTerminals),
    clientSystems: idList(`workplaces[${i}].clientSystems`, w.clientSystems ?? clientSystems.map((c) => c.id)),
  }));
  const mandants: KonnektorMandant[] = (
    rk.mandants ?? [{ id: ids.mandant, clientSystems: clientSystems.map((c) => c.id), workplaces: workplaces.map((w) => w.id), cardTerminals: terminalIds }]
  ).map((m, i) => ({
    id: checkId(`mandants[${i}].id`, m?.id),
    clientSystems: idList(`mandants[${i}].clientSystems`, m.clientSystems),
    workplaces: idList(`mandants[${i}].workplaces`, m.workplaces),
    cardTerminals: idList(`mandants[${i}].cardTerminals`, m.cardTerminals),
  }));

  const dupes = (kind: string, list: { id: string }[]) => {
    const seen = new Set<string>();
    for (const x of list) {
      if (seen.has(x.id)) fail(kind, `names "${x.id}" twice`);
      seen.add(x.id);
    }
    return seen;
  };
  const T = dupes('cardTerminals', cardTerminals);
  const C = dupes('clientSystems', clientSystems);
  const W = dupes('workplaces', workplaces);
  dupes('mandants', mandants);
  const known = (field: string, set: Set<string>, refs: string[], kind: string) => {
    for (const r of refs) if (!set.has(r)) fail(field, `names unknown ${kind} "${r}" (known: ${[...set].join(', ') || 'none'})`);
  };
  workplaces.forEach((w, i) => {
    known(`workplaces[${i}].localTerminals`, T, w.localTerminals, 'card terminal');
    known(`workplaces[${i}].remoteTerminals`, T, w.remoteTerminals, 'card terminal');
    known(`workplaces[${i}].clientSystems`, C, w.clientSystems, 'client system');
  });
  mandants.forEach((m, i) => {
    known(`mandants[${i}].clientSystems`, C, m.clientSystems, 'client system');
    known(`mandants[${i}].workplaces`, W, m.workplaces, 'workplace');
    known(`mandants[${i}].cardTerminals`, T, m.cardTerminals, 'card terminal');
  });
  return { tls, clientAuth, maxBodyBytes, cardTerminals, clientSystems, workplaces, mandants };
}

// ---------------------------------------------------------------------------
// IDP
// ---------------------------------------------------------------------------

/** Audience of the e-rezept scope (gematik ref-idp-server application.yml scopeAudienceUrls). */
export const ERP_AUDIENCE = 'https://erp-test.zentral.erp.splitdns.ti-dienste.de/';

/** Used when an environment has no idp section: the clients and scope of config/environments/local.yaml. */
export const DEFAULT_IDP_CONFIG: IdpConfig = {
  profile: 'reference',
  consent: 'explicit',
  clients: [
    { client_id: 'gematikTestPs', redirect_uris: ['http://test-ps.gematik.de/erezept'], profile: 'native', sso: false },
    { client_id: 'eRezeptApp', redirect_uris: ['https://redirect.gematik.de/erezept'], profile: 'native', sso: true },
    {
      client_id: 'ti-harness-web-pvs',
      redirect_uris: ['https://web-pvs.ti-harness.sim/callback'],
      profile: 'web',
      client_secret: 'ti-harness-web-pvs-secret-NOT-FOR-PRODUCTION',
      sso: false,
    },
  ],
  scopes: [{ scope: 'e-rezept', audience: ERP_AUDIENCE, claims: [...IDENTITY_CLAIMS], description: 'Zugriff auf die E-Rezept-Funktionalität.' }],
  ocspTimeoutMs: 5000,
};

const CLIENT_ID_PATTERN = /^[A-Za-z0-9._~-]{1,64}$/;
const SCOPE_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

function isObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

/**
 * Checks one client registration (from the environment file or the IDP's admin API) and returns it
 * normalised. Throws ConfigError with `where` in the message.
 */
export function validateIdpClient(raw: unknown, where: string): IdpClientConfig {
  const fail = (msg: string): never => {
    throw new ConfigError(`${where} ${msg}`);
  };
  if (!isObject(raw)) fail('must be an object {client_id, redirect_uris, profile, client_secret?, sso?}');
  const r = raw as Record<string, unknown>;
  const known = ['client_id', 'redirect_uris', 'profile', 'client_secret', 'sso'];
  const unknown = Object.keys(r).filter((k) => !known.includes(k));
  if (unknown.length) fail(`has unknown field(s) ${unknown.join(', ')} (known: ${known.join(', ')})`);
  const id = r.client_id;
  if (typeof id !== 'string' || !CLIENT_ID_PATTERN.test(id)) fail('client_id must be 1..64 characters of A-Z a-z 0-9 . _ ~ -');
  const uris = r.redirect_uris;
  if (!Array.isArray(uris) || uris.length === 0) fail('redirect_uris must be a non-empty list of absolute URIs');
  for (const u of uris as unknown[]) {
    if (typeof u !== 'string' || u.length > 2000) fail('redirect_uris must be strings of at most 2000 characters');
    let parsed: URL | undefined;
    try {
      parsed = new URL(u as string);
    } catch {
      fail(`redirect_uris: not an absolute URI: ${String(u)}`);
    }
    if ((parsed as URL).hash) fail(`redirect_uris: must not contain a fragment: ${String(u)}`);
  }
  const profile = r.profile ?? 'native';
  if (profile !== 'native' && profile !== 'web') fail(`profile must be "native" or "web" (A_18803: no other client profiles), got ${JSON.stringify(profile)}`);
  const secret = r.client_secret;
  if (profile === 'web' && (typeof secret !== 'string' || secret.length < 16)) fail('a web client needs a client_secret of at least 16 characters');
  if (profile === 'native' && secret !== undefined && secret !== null) fail('a native (public) client has no client_secret');
  const sso = r.sso ?? false;
  if (typeof sso !== 'boolean') fail('sso must be true or false');
  return {
    client_id: id as string,
    redirect_uris: [...new Set(uris as string[])],
    profile: profile as IdpClientProfile,
    ...(profile === 'web' ? { client_secret: secret as string } : {}),
    sso: sso as boolean,
  };
}

/** Checks one service scope registration (environment file or admin API). */
export function validateIdpScope(raw: unknown, where: string): IdpScopeConfig {
  const fail = (msg: string): never => {
    throw new ConfigError(`${where} ${msg}`);
  };
  if (!isObject(raw)) fail('must be an object {scope, audience, claims, description?}');
  const r = raw as Record<string, unknown>;
  const known = ['scope', 'audience', 'claims', 'description'];
  const unknown = Object.keys(r).filter((k) => !known.includes(k));
  if (unknown.length) fail(`has unknown field(s) ${unknown.join(', ')} (known: ${known.join(', ')})`);
  const scope = r.scope;
  if (typeof scope !== 'string' || !SCOPE_PATTERN.test(scope)) fail('scope must be 1..64 characters of A-Z a-z 0-9 . _ -');
  if (scope === SCOPE_OPENID) fail('"openid" is built in and cannot be registered as a service scope');
  const audience = r.audience;
  if (typeof audience !== 'string') fail('audience must be a URI');
  try {
    new URL(audience as string);
  } catch {
    fail(`audience is not an absolute URI: ${String(audience)}`);
  }
  const claims = r.claims ?? [];
  if (!Array.isArray(claims) || claims.some((c) => !(IDENTITY_CLAIMS as readonly unknown[]).includes(c))) {
    fail(`claims must be a list of identity claims (${IDENTITY_CLAIMS.join(', ')})`);
  }
  const description = r.description ?? `Zugriff auf ${scope as string}.`;
  if (typeof description !== 'string' || !description.trim()) fail('description must be a non-empty string');
  return { scope: scope as string, audience: audience as string, claims: [...new Set(claims as IdentityClaim[])], description: description as string };
}

function resolveIdp(ri: RawIdpConfig, source: string): IdpConfig {
  const where = (field: string) => `${source}: idp.${field}`;
  const profile = ri.profile ?? DEFAULT_IDP_CONFIG.profile;
  if (profile !== 'reference' && profile !== 'production') throw new ConfigError(`${where('profile')} must be "reference" or "production", got ${JSON.stringify(profile)}`);
  const consent = ri.consent ?? DEFAULT_IDP_CONFIG.consent;
  if (consent !== 'explicit' && consent !== 'implicit') throw new ConfigError(`${where('consent')} must be "explicit" or "implicit", got ${JSON.stringify(consent)}`);
  const ocspTimeoutMs = ri.ocspTimeoutMs ?? DEFAULT_IDP_CONFIG.ocspTimeoutMs;
  if (!Number.isInteger(ocspTimeoutMs) || ocspTimeoutMs < 100 || ocspTimeoutMs > 60_000) {
    throw new ConfigError(`${where('ocspTimeoutMs')} must be an integer 100..60000, got ${String(ocspTimeoutMs)}`);
  }
  if (ri.clients !== undefined && ri.clients !== null && !Array.isArray(ri.clients)) throw new ConfigError(`${where('clients')} must be a list`);
  if (ri.scopes !== undefined && ri.scopes !== null && !Array.isArray(ri.scopes)) throw new ConfigError(`${where('scopes')} must be a list`);
  const clients = ri.clients ? ri.clients.map((c, n) => validateIdpClient(c, where(`clients[${n}]`))) : DEFAULT_IDP_CONFIG.clients.map((c) => ({ ...c }));
  const scopes = ri.scopes ? ri.scopes.map((c, n) => validateIdpScope(c, where(`scopes[${n}]`))) : DEFAULT_IDP_CONFIG.scopes.map((c) => ({ ...c }));
  const twice = (list: string[]) => list.filter((x, n) => list.indexOf(x) !== n);
  const dupClients = twice(clients.map((c) => c.client_id));
  if (dupClients.length) throw new ConfigError(`${where('clients')} names ${dupClients.join(', ')} more than once`);
  const dupScopes = twice(scopes.map((c) => c.scope));
  if (dupScopes.length) throw new ConfigError(`${where('scopes')} names ${dupScopes.join(', ')} more than once`);
  return { profile, consent, clients, scopes, ocspTimeoutMs };
}

// ---------------------------------------------------------------------------
// Fachdienst
// ---------------------------------------------------------------------------

/** Production's request size limit of the FHIR interface (issue 6: 1 MB). */
export const DEFAULT_FACHDIENST_MAX_BODY = 1024 * 1024;

/** The audience of the IDP section's e-rezept scope, else the gematik test audience. */
export function erpAudienceOf(idp: IdpConfig): string {
  return idp.scopes.find((s) => s.scope === 'e-rezept')?.audience ?? ERP_AUDIENCE;
}

function resolveFachdienst(rf: RawFachdienstConfig, idp: IdpConfig, source: string): FachdienstConfig {
  const fail = (field: string, msg: string): never => {
    throw new ConfigError(`${source}: fachdienst.${field} ${msg}`);
  };
  const known = ['audience', 'vau', 'checkRevocation', 'maxBodyBytes'];
  const unknown = Object.keys(rf).filter((k) => !known.includes(k));
  if (unknown.length) fail(unknown.join(', '), `is not a known field (known: ${known.join(', ')})`);
  const audience = rf.audience ?? erpAudienceOf(idp);
  if (typeof audience !== 'string') fail('audience', 'must be a URI');
  try {
    new URL(audience);
  } catch {
    fail('audience', `is not an absolute URI: ${String(audience)}`);
  }
  const vau = rf.vau ?? true;
  if (typeof vau !== 'boolean') fail('vau', 'must be true or false');
  const checkRevocation = rf.checkRevocation ?? true;
  if (typeof checkRevocation !== 'boolean') fail('checkRevocation', 'must be true or false');
  const maxBodyBytes = rf.maxBodyBytes ?? DEFAULT_FACHDIENST_MAX_BODY;
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes < 1024 || maxBodyBytes > 64 * 1024 * 1024) fail('maxBodyBytes', `must be an integer 1024..67108864, got ${String(maxBodyBytes)}`);
  return { audience, vau, checkRevocation, maxBodyBytes };
}
