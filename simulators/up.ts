/**
 * Starts and stops the simulated TI of an environment: every service that the
 * environment marks `simulated` and for which a simulator exists. External
 * services are only listed. Used by `ti-harness up`, `ti-harness test` and `npm start`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Environment, ServiceConfig } from './lib/config';
import type { ServiceName } from './lib/ports';
import type { RunningService } from './lib/service';
import { SIMULATORS, START_ORDER } from './registry';

export type ServiceState = 'running' | 'external' | 'not simulated' | 'not selected';

export interface ServiceRow {
  name: ServiceName;
  state: ServiceState;
  url: string;
  endpoints: Record<string, string>;
}

export interface SimulatedTi {
  rows: ServiceRow[];
  running: RunningService[];
  stop(): Promise<void>;
}

export class StartError extends Error {
  override name = 'StartError';
}

export interface StartOptions {
  /** Start only these services (others are "not selected"). */
  only?: ServiceName[];
  log?: (message: string) => void;
}

export async function startSimulatedTi(env: Environment, opts: StartOptions = {}): Promise<SimulatedTi> {
  const log = opts.log ?? (() => undefined);
  const running: RunningService[] = [];
  const rows: ServiceRow[] = [];
  const stop = async () => {
    for (const s of [...running].reverse()) {
      try {
        await s.stop();
      } catch (e) {
        log(`stopping ${s.name} failed: ${(e as Error).message}`);
      }
    }
    running.length = 0;
  };
  try {
    for (const name of START_ORDER) {
      const cfg: ServiceConfig = env.services[name];
      if (!cfg.simulated) {
        rows.push({ name, state: 'external', url: cfg.url, endpoints: {} });
        continue;
      }
      const load = SIMULATORS[name];
      if (!load) {
        rows.push({ name, state: 'not simulated', url: '-', endpoints: {} });
        continue;
      }
      if (opts.only && !opts.only.includes(name)) {
        rows.push({ name, state: 'not selected', url: cfg.url, endpoints: {} });
        continue;
      }
      const dataDir = path.join(env.dataDir, name);
      fs.mkdirSync(dataDir, { recursive: true });
      const started = Date.now();
      log(`starting ${name} on ${env.host}:${cfg.port} …`);
      let service: RunningService;
      try {
        const start = await load();
        service = await start({ host: env.host, port: cfg.port, dataDir, env, log: (m) => log(`${name}: ${m}`) });
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        const hint = err.code === 'EADDRINUSE' ? ` (port ${cfg.port} is in use: is another "ti-harness up" running? change services.${name}.port in ${env.source})` : '';
        throw new StartError(`${name} failed to start: ${err.message}${hint}`);
      }
      running.push(service);
      log(`${name} up in ${Date.now() - started} ms`);
      rows.push({ name, state: 'running', url: service.url, endpoints: service.endpoints ?? {} });
    }
  } catch (e) {
    await stop();
    throw e;
  }
  return { rows, running, stop };
}

export function formatServiceTable(rows: ServiceRow[]): string {
  const lines: string[][] = [['SERVICE', 'STATE', 'URL']];
  for (const r of rows) {
    lines.push([r.name, r.state, r.url]);
    for (const [k, v] of Object.entries(r.endpoints)) lines.push(['', `  ${k}`, v]);
  }
  const widths = lines[0].map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  return lines.map((l) => l.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n');
}
