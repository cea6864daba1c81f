/**
 * Scenario support for the E-Rezept workflow features (features/erezept/verordnen, features/erezept/abgeben):
 * the actors of a scenario — the practice's PVS (simulators/pvs/pvs.ts) and the pharmacy's AVS
 * (simulators/avs/avs.ts) — built from the environment, the personas and a Konnektor call context,
 * the scenario state they share, and the After hook that closes them.
 *
 * The actors talk to the TI only over its real interfaces (Konnektor SOAP, IDP, Fachdienst through
 * the VAU). Cards a scenario inserts go through steps/idp/support.ts insertCard (cards admin API,
 * @simulator-only) and are taken out by that module's After hook.
 */
import { After } from '@cucumber/cucumber';
import { loadPersona } from '../../cards';
import { Avs } from '../../simulators/avs/avs';
import { createPracticeAuthn as createPharmacyAuthn } from '../../simulators/avs/authn';
import { KonnektorSmcbSigner } from '../../simulators/authenticator/signers/konnektor-smcb';
import type { ClientSystemAuthn } from '../../simulators/authenticator/client-wiring';
import { KonnektorClient, type KonnektorCallContext } from '../../simulators/lib/konnektor-client';
import { Pvs, type PrescriptionResult } from '../../simulators/pvs/pvs';
import type { SignatureMode } from '../../simulators/pvs/signing';
import { insertCard, pkiTrust, rootPem, workplaceSlots } from '../idp/support';
import { EnvironmentError, TestDefectError } from '../support/errors';
import { Cleanup } from '../support/cleanup';
import type { TiWorld } from '../world';

/** Call context of the practice's PVS in the environment's Konnektor information model. */
export const PRACTICE_CONTEXT: KonnektorCallContext = { mandantId: 'Praxis-Ebert', clientSystemId: 'PVS-SIM', workplaceId: 'Arbeitsplatz-1' };
/** Call context of the pharmacy's AVS. */
export const PHARMACY_CONTEXT: KonnektorCallContext = { mandantId: 'Apotheke-am-Markt', clientSystemId: 'AVS-SIM', workplaceId: 'Apotheke-HV-1' };

export const DEFAULT_PRACTICE = 'Praxis Dr. Hanna Ebert';
export const DEFAULT_DOCTOR = 'Dr. Hanna Ebert';
export const DEFAULT_PHARMACY = 'Apotheke am Markt';

/** How long a signer waits for a card that was just inserted to show up at the Konnektor. */
const CARD_FIND_TIMEOUT_MS = 10_000;

export interface ErpScenarioState {
  /** PVS instances of the scenario by practice persona name (the last opened is `pvs`). */
  pvsByPractice: Map<string, Pvs>;
  pvs?: Pvs;
  /** AVS instances by pharmacy persona name (the last created is `avs`). */
  avsByPharmacy: Map<string, Avs>;
  avs?: Avs;
  /** Konnektor clients and logins the support module opened itself (closed in After). */
  owned: Array<{ close(): Promise<void> }>;
  /** Prescriptions the scenario issued, in order. */
  prescriptions: PrescriptionResult[];
  /** The last error a step kept instead of throwing (e.g. a refusal the next Then step checks). */
  lastError?: unknown;
  /** Free-form values of the feature's steps. */
  extra: Map<string, unknown>;
}

export function erpState(world: TiWorld): ErpScenarioState {
  let s = world.state.get('erezept') as ErpScenarioState | undefined;
  if (!s) {
    s = { pvsByPractice: new Map(), avsByPharmacy: new Map(), owned: [], prescriptions: [], extra: new Map() };
    world.state.set('erezept', s);
  }
  return s;
}

export interface PvsSpec {
  practice?: string;
  doctor?: string;
  context?: KonnektorCallContext;
  signatureMode?: SignatureMode;
}

/** A Konnektor client in the given call context (TLS trust: the PKI root); closed after the scenario. */
export async function konnektorClient(world: TiWorld, context: KonnektorCallContext): Promise<KonnektorClient> {
  const k = new KonnektorClient({ url: world.env.services.konnektor.url, context, ca: await rootPem(world) });
  erpState(world).owned.push(k);
  return k;
}

/** Opens the practice's PVS (SMC-B login via the Konnektor, HBA for the QES); closed after the scenario. */
export async function openPvs(world: TiWorld, spec: PvsSpec = {}): Promise<Pvs> {
  const s = erpState(world);
  const practice = loadPersona(spec.practice ?? DEFAULT_PRACTICE).name;
  const doctor = loadPersona(spec.doctor ?? DEFAULT_DOCTOR).name;
  const previous = s.pvsByPractice.get(practice);
  if (previous) {
    s.pvsByPractice.delete(practice);
    await previous.close();
  }
  const konnektor = await konnektorClient(world, spec.context ?? PRACTICE_CONTEXT);
  let pvs: Pvs;
  try {
    pvs = await Pvs.open({ env: world.env, practice, doctor, konnektor, ...(spec.signatureMode ? { signatureMode: spec.signatureMode } : {}) });
  } catch (e) {
    throw new EnvironmentError(`the PVS of ${practice} could not be opened: ${(e as Error).message}`, { cause: e });
  }
  s.pvsByPractice.set(practice, pvs);
  s.pvs = pvs;
  return pvs;
}

export function pvsOf(world: TiWorld, practice?: string): Pvs {
  const s = erpState(world);
  const p = practice ? s.pvsByPractice.get(loadPersona(practice).name) : s.pvs;
  if (!p) throw new TestDefectError(`no PVS${practice ? ` of ${practice}` : ''} in this scenario yet: a step opening the practice's PVS must come first`);
  return p;
}

export interface AvsSpec {
  pharmacy?: string;
  pharmacist?: string;
  context?: KonnektorCallContext;
  /** Insert the pharmacy's SMC-B into a free slot of the workplace first (cards admin API; default true). */
  insertSmcb?: boolean;
}

/**
 * Creates the pharmacy's AVS: inserts its SMC-B into a free card slot of the pharmacy's workplace
 * (taken out after the scenario), logs in with it and opens the VAU channel; closed after the scenario.
 */
export async function createAvs(world: TiWorld, spec: AvsSpec = {}): Promise<Avs> {
  const s = erpState(world);
  const context = spec.context ?? PHARMACY_CONTEXT;
  const pharmacy = loadPersona(spec.pharmacy ?? DEFAULT_PHARMACY).name;
  if (spec.insertSmcb !== false) await insertCardAt(world, pharmacy, context.workplaceId);
  const previous = s.avsByPharmacy.get(pharmacy);
  if (previous) {
    s.avsByPharmacy.delete(pharmacy);
    await previous.shutdown();
  }
  const konnektor = await konnektorClient(world, context);
  const trust = await pkiTrust(world);
  let authn: ClientSystemAuthn | undefined;
  try {
    authn = await createPharmacyAuthn({
      env: world.env,
      trust,
      signer: new KonnektorSmcbSigner({ konnektor, persona: pharmacy, findTimeoutMs: CARD_FIND_TIMEOUT_MS }),
    });
    s.owned.push(authn);
    const avs = await Avs.create({ env: world.env, pharmacy, konnektor, authn, trust, ...(spec.pharmacist ? { pharmacist: spec.pharmacist } : {}) });
    s.avsByPharmacy.set(pharmacy, avs);
    s.avs = avs;
    return avs;
  } catch (e) {
    throw new EnvironmentError(`the AVS of ${pharmacy} could not be created: ${(e as Error).message}`, { cause: e });
  }
}

export function avsOf(world: TiWorld, pharmacy?: string): Avs {
  const s = erpState(world);
  const a = pharmacy ? s.avsByPharmacy.get(loadPersona(pharmacy).name) : s.avs;
  if (!a) throw new TestDefectError(`no AVS${pharmacy ? ` of ${pharmacy}` : ''} in this scenario yet: a step creating the pharmacy's AVS must come first`);
  return a;
}

/** Inserts a persona's card into a free slot of a workplace's card terminals (taken out after the scenario). */
export async function insertCardAt(world: TiWorld, persona: string, workplaceId: string): Promise<void> {
  await insertCard(world, persona, workplaceSlots(world, workplaceId));
}

/** The last prescription the scenario issued. */
export function lastPrescription(world: TiWorld): PrescriptionResult {
  const p = erpState(world).prescriptions.at(-1);
  if (!p) throw new TestDefectError('no prescription in this scenario yet');
  return p;
}

After({ name: 'erezept: close PVS and AVS' }, async function (this: TiWorld) {
  const s = this.state.get('erezept') as ErpScenarioState | undefined;
  if (!s) return;
  const cleanup = new Cleanup();
  const attempt = (what: string, fn: () => Promise<unknown>) => cleanup.attempt(what, fn);
  for (const [name, pvs] of s.pvsByPractice) await attempt(`close the PVS of ${name}`, () => pvs.close());
  for (const [name, avs] of s.avsByPharmacy) await attempt(`shut down the AVS of ${name}`, () => avs.shutdown());
  for (const o of s.owned.reverse()) await attempt('close a client', () => o.close());
  cleanup.finish();
});
