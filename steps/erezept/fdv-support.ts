/**
 * Scenario support for the insured's features (features/erezept/versicherter): the insured's
 * E-Rezept-App (simulators/fdv/fdv.ts) built from the environment and an eGK persona. The eGK is read
 * through PC/SC (the cards service's pcscd); an eGK that is not in a reader yet is inserted into a
 * free slot through the cards admin API (@simulator-only) and taken out by steps/idp/support.ts's
 * After hook. The apps are closed after the scenario.
 */
import { After } from '@cucumber/cucumber';
import { loadPersona } from '../../cards';
import { Fdv, type HeldPrescription } from '../../simulators/fdv/fdv';
import { FdvError } from '../../simulators/fdv/errors';
import type { AuditEntry } from '../../simulators/fdv/audit';
import type { ERezeptToken } from '../../simulators/lib/erezept-token';
import { insertCard, pkiTrust } from '../idp/support';
import { Cleanup } from '../support/cleanup';
import { EnvironmentError, TestDefectError } from '../support/errors';
import type { TiWorld } from '../world';

export interface FdvScenarioState {
  apps: Map<string, Fdv>;
  /** The last answer of a download, per insured. */
  downloads: Map<string, { items: HeldPrescription[]; pages: number }>;
  /** Tokens an insured passed on (by DataMatrix code) and the one who received them. */
  passedOn?: { from: string; to: string; tokens: ERezeptToken[]; png: Buffer };
  /** The last refusal of the Fachdienst an FdV step kept for the Then steps. */
  lastError?: FdvError;
  lastOk?: boolean;
  /** The last access log read. */
  audit?: { items: AuditEntry[]; pages: number; language?: string };
  /** The last prescription read as representative. */
  represented?: HeldPrescription;
}

/** Start of this scenario, whole seconds, one second early: the lower bound of listings (modified/date ≥). */
export function scenarioSince(world: TiWorld): Date {
  return new Date(Math.floor(world.startedAt.getTime() / 1000) * 1000 - 1000);
}

export function fdvState(world: TiWorld): FdvScenarioState {
  let s = world.state.get('fdv') as FdvScenarioState | undefined;
  if (!s) {
    s = { apps: new Map(), downloads: new Map() };
    world.state.set('fdv', s);
  }
  return s;
}

/** The insured's app, logged in with the eGK (UC 5.1); the card is inserted first when needed. */
export async function openFdv(world: TiWorld, insured: string): Promise<Fdv> {
  const s = fdvState(world);
  const name = loadPersona(insured).name;
  const known = s.apps.get(name);
  if (known) return known;
  try {
    await insertCard(world, name);
    const fdv = await Fdv.open({ env: world.env, insured: name, trust: await pkiTrust(world) });
    s.apps.set(name, fdv);
    await fdv.login();
    return fdv;
  } catch (e) {
    throw new EnvironmentError(`the E-Rezept-App of ${name} could not log in with the eGK: ${(e as Error).message}`, { cause: e });
  }
}

export function fdvOf(world: TiWorld, insured: string): Fdv {
  const f = fdvState(world).apps.get(loadPersona(insured).name);
  if (!f) throw new TestDefectError(`no E-Rezept-App of ${insured} in this scenario yet: a login step must come first`);
  return f;
}

/** Runs an FdV operation; a refusal of the Fachdienst is kept for the Then steps, anything else is thrown. */
export async function attempt<T>(world: TiWorld, op: () => Promise<T>): Promise<T | undefined> {
  const s = fdvState(world);
  s.lastError = undefined;
  s.lastOk = undefined;
  try {
    const r = await op();
    s.lastOk = true;
    return r;
  } catch (e) {
    if (e instanceof FdvError && e.status >= 400 && e.status < 500) {
      s.lastError = e;
      s.lastOk = false;
      return undefined;
    }
    throw e;
  }
}

After({ name: 'fdv: close the insured apps' }, async function (this: TiWorld) {
  const s = this.state.get('fdv') as FdvScenarioState | undefined;
  if (!s) return;
  const cleanup = new Cleanup();
  for (const [name, f] of s.apps) await cleanup.attempt(`close the E-Rezept-App of ${name}`, () => f.close());
  cleanup.finish();
});
