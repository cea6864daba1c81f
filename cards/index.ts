/**
 * Public API of the simulated cards: personas (cards/personas/**.yaml), their keys and certificates from the
 * simulated TI-PKI, and ready-to-insert cards with the G2.1 object system of their type.
 *
 *   const card = await buildPersonaCard('Dr. Hanna Ebert');      // CardOs with the persona's HBA
 *   card.powerOn(); card.transmit(apdu);
 *
 * Details: docs/cards.md.
 */
import * as path from 'node:path';
import { loadEnvironment } from '../simulators/lib/config';
import { loadOrCreatePkiSync, type Pki } from '../simulators/pki/hierarchy';
import { defaultDataDirs, loadOrIssueIdentity, type CardIdentity } from './identity';
import { buildObjectSystem } from './objsys';
import { CardOs } from './os/card';
import type { ObjectSystem } from './os/model';
import { findPersona, loadAllPersonas, PERSONAS_DIR, type Persona } from './persona';

export type { CardType, EgkPersona, HbaPersona, Persona, PinSpec, SmcbPersona } from './persona';
export { isPruefidentitaetKvnr, isValidIknr, isValidKvnr, PersonaError } from './persona';
export { CARD_KEYS, CARD_PROFILES, type CardCertificate, type CardIdentity } from './identity';
export { AID, ATR, buildObjectSystem } from './objsys';

export interface PersonaCardOptions {
  /** An already loaded PKI (takes precedence over pkiDir). */
  pki?: Pki;
  /** Data folder of the simulated PKI (default: <dataDir of the environment>/pki). */
  pkiDir?: string;
  /** Root of the card key/certificate cache (default: <dataDir of the environment>/cards). */
  cacheDir?: string;
  /** Persona folder (default cards/personas). */
  personasDir?: string;
  /** Environment whose dataDir provides the defaults (default: TI_ENV or local). */
  env?: string;
}

/** All personas, validated (throws a PersonaError naming the file, field and problem). */
export function listPersonas(personasDir: string = PERSONAS_DIR): Persona[] {
  return loadAllPersonas(personasDir);
}

/** One persona by display name ("Dr. Hanna Ebert"), id ("hba/dr-hanna-ebert") or unique file slug. */
export function loadPersona(name: string, personasDir: string = PERSONAS_DIR): Persona {
  return findPersona(loadAllPersonas(personasDir), name);
}

function resolve(opts: PersonaCardOptions): { pki: Pki; cacheDir: string } {
  const needDefaults = !opts.cacheDir || (!opts.pki && !opts.pkiDir);
  const defaults = needDefaults ? defaultDataDirs(opts.env) : undefined;
  // A PKI loaded here writes the OCSP address of the environment's PKI service into new certificates.
  const pki = opts.pki ?? loadOrCreatePkiSync(opts.pkiDir ?? (defaults as { pkiDir: string }).pkiDir, { ocspUrl: environmentOcspUrl(opts.env) });
  return { pki, cacheDir: path.resolve(opts.cacheDir ?? (defaults as { cacheDir: string }).cacheDir) };
}

function environmentOcspUrl(env: string | undefined): string | undefined {
  try {
    return `${loadEnvironment(env).services.pki.url}/ocsp`;
  } catch {
    return undefined;
  }
}

/** The persona's keys and certificates (issued by the PKI on first use, then cached). */
export function personaIdentity(name: string, opts: PersonaCardOptions = {}): CardIdentity {
  const persona = loadPersona(name, opts.personasDir);
  const { pki, cacheDir } = resolve(opts);
  return loadOrIssueIdentity(persona, { pki, cacheDir });
}

/** A fresh object system of the persona's card (its own copy: each card mutates its PINs and counters). */
export function buildPersonaObjectSystem(name: string, opts: PersonaCardOptions = {}): ObjectSystem {
  const persona = loadPersona(name, opts.personasDir);
  const { pki, cacheDir } = resolve(opts);
  return buildObjectSystem(persona, loadOrIssueIdentity(persona, { pki, cacheDir }));
}

/** A card ready to insert: CardOs with the persona's G2.1 object system, powered off. */
export function buildPersonaCardSync(name: string, opts: PersonaCardOptions = {}): CardOs {
  return new CardOs(buildPersonaObjectSystem(name, opts));
}

export async function buildPersonaCard(name: string, opts: PersonaCardOptions = {}): Promise<CardOs> {
  return buildPersonaCardSync(name, opts);
}

/**
 * Personas as a card catalog for the cards service (structurally its CardCatalog): names, a one-line
 * description, and a fresh card per insertion. The PKI is loaded once, on first use.
 */
export function personaCatalog(opts: PersonaCardOptions = {}): {
  names(): string[];
  describe(name: string): string;
  create(name: string): CardOs;
} {
  let resolved: { pki: Pki; cacheDir: string } | undefined;
  const shared = (): PersonaCardOptions => {
    resolved ??= resolve(opts);
    return { ...opts, ...resolved };
  };
  return {
    names: () => listPersonas(opts.personasDir).map((p) => p.name).sort((a, b) => a.localeCompare(b, 'de')),
    describe: (name) => {
      const p = loadPersona(name, opts.personasDir);
      return `${p.type} · ${p.name}${p.purpose ? ` · ${p.purpose}` : ''}`;
    },
    create: (name) => buildPersonaCardSync(name, shared()),
  };
}
