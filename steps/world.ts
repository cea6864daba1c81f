/**
 * The Cucumber World: one instance per scenario (so every scenario starts
 * with fresh state), holding the environment, the scenario's own state, the
 * HTTP helpers and the verify() records of the scenario.
 */
import { World, setWorldConstructor, type IWorldOptions } from '@cucumber/cucumber';
import { loadEnvironment, type Environment } from '../simulators/lib/config';
import { ADMIN_PATH, type ServiceName } from '../simulators/lib/ports';
import { EnvironmentError, TestDefectError } from './support/errors';
import { adminJson, httpRequest, type HttpRequestOptions, type HttpResponse } from './support/http';
import { verifier, type ScenarioRef, type VerifyCheck, type VerifyRecord } from './verify';

let environment: Environment | undefined;
let tiRoot: Promise<string> | undefined;

/** The environment of this run (TI_ENV, default "local"), loaded once per process. */
export function runEnvironment(): Environment {
  environment ??= loadEnvironment();
  return environment;
}

export class TiWorld extends World {
  readonly env: Environment;
  /** Per-scenario state shared between steps (see remember/recall). */
  readonly state = new Map<string, unknown>();
  /** When this scenario began (wall clock): steps narrow listings of shared services to "since then". */
  readonly startedAt = new Date();
  /** Set by the Before hook. */
  scenario: ScenarioRef | undefined;

  constructor(options: IWorldOptions) {
    super(options);
    this.env = runEnvironment();
  }

  /** Base URL of a service of the environment, plus an optional path. */
  serviceUrl(service: ServiceName, path = ''): string {
    return `${this.env.services[service].url}${path}`;
  }

  /** HTTP request to a TI interface; network faults become EnvironmentError, statuses are returned as they are. */
  http(url: string, opts: HttpRequestOptions = {}): Promise<HttpResponse> {
    return httpRequest(url, opts);
  }

  /**
   * POST to a simulator's harness-only admin API (`/__admin<path>`); scenarios
   * that use it must be tagged @simulator-only. Failures are environment faults.
   */
  async admin<T>(service: ServiceName, path: string, payload: unknown = {}): Promise<T> {
    const url = this.serviceUrl(service, `${ADMIN_PATH}${path}`);
    return adminJson<T>(url, payload, { service, ...(url.startsWith('https:') ? { ca: await this.tiRootPem() } : {}) });
  }

  /**
   * The TI-PKI's root certificate (PEM), the TLS trust anchor of every TI service; fetched once per
   * process from the PKI's public GET /certs/root.pem.
   */
  tiRootPem(): Promise<string> {
    tiRoot ??= (async () => {
      const res = await this.http(this.serviceUrl('pki', '/certs/root.pem'), { service: 'PKI' });
      if (res.status !== 200 || !res.text().includes('BEGIN CERTIFICATE')) {
        throw new EnvironmentError(`PKI: GET /certs/root.pem answered ${res.status}, no certificate`);
      }
      return res.text();
    })().catch((e) => {
      tiRoot = undefined;
      throw e;
    });
    return tiRoot;
  }

  /** verify() bound to this scenario (same as the free function). */
  verify(afoId: string, description: string, check: VerifyCheck): Promise<void> {
    return verifier().verify(afoId, description, check);
  }

  /** The verify() records of this scenario so far. */
  get verifications(): readonly VerifyRecord[] {
    const cur = verifier().current;
    return cur && cur.ref.id === this.scenario?.id ? cur.records : [];
  }

  remember<T>(key: string, value: T): T {
    this.state.set(key, value);
    return value;
  }

  /** A value an earlier step remembered; a missing one is a defect of the scenario. */
  recall<T>(key: string): T {
    if (!this.state.has(key)) {
      throw new TestDefectError(`no "${key}" in the scenario state: a step that provides it must come first`);
    }
    return this.state.get(key) as T;
  }
}

setWorldConstructor(TiWorld);
