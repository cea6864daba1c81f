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

export interface Environment {
  name: string;
  host: string;
  /** Absolute directory for persistent simulator state. */
  dataDir: string;
  services: Record<ServiceName, ServiceConfig>;
  cards: CardsConfig;
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

interface RawEnvironment {
  name?: string;
  host?: string;
  dataDir?: string;
  services?: Record<string, RawServiceConfig | null>;
  cards?: RawCardsConfig | null;
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
  return { name: raw.name ?? path.basename(source, '.yaml'), host, dataDir, services, cards, source };
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
