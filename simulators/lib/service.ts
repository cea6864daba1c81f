import type { Environment } from './config';

/** What the orchestrator hands to a simulator when it starts it. */
export interface ServiceStartOptions {
  host: string;
  port: number;
  /** Directory for this service's persistent state (keys, caches, databases). */
  dataDir: string;
  env: Environment;
  log: (message: string) => void;
}

/** A simulator that is up and listening. */
export interface RunningService {
  name: string;
  /** Base URL of the service's TI interface. */
  url: string;
  /** Further named endpoints to show in the service table (e.g. OCSP, TSL, admin). */
  endpoints?: Record<string, string>;
  stop(): Promise<void>;
}

export type ServiceStarter = (opts: ServiceStartOptions) => Promise<RunningService>;
