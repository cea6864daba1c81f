/**
 * One conformance run: make sure the environment's simulated services are up,
 * run Cucumber as a child process, stop what was started.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Environment } from '../simulators/lib/config';
import { canConnect } from '../simulators/lib/net-probe';
import { SIMULATORS } from '../simulators/registry';
import { startSimulatedTi, type SimulatedTi } from '../simulators/up';
import type { ServiceName } from '../simulators/lib/ports';
import { PER_RUN_DIRS, PROJECT_ROOT } from '../reports/paths';

export const CUCUMBER_BIN = path.join(PROJECT_ROOT, 'node_modules', '@cucumber', 'cucumber', 'bin', 'cucumber.js');

export function clearRunOutput(): void {
  for (const dir of PER_RUN_DIRS) {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
  }
}

export function isPortOpen(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return canConnect({ host, port }, timeoutMs);
}

/**
 * Starts the simulated services of `env` that are not already listening
 * (a running `ti-harness up` is reused). Returns the started TI, if any.
 */
export async function ensureServices(env: Environment, log: (m: string) => void): Promise<SimulatedTi | undefined> {
  const toStart: ServiceName[] = [];
  for (const [name, cfg] of Object.entries(env.services) as [ServiceName, Environment['services'][ServiceName]][]) {
    if (!cfg.simulated || !SIMULATORS[name]) continue;
    if (await isPortOpen(env.host, cfg.port)) log(`${name}: already listening on ${env.host}:${cfg.port}, using it`);
    else toStart.push(name);
  }
  if (toStart.length === 0) return undefined;
  return startSimulatedTi(env, { only: toStart, log });
}

export interface CucumberRun {
  exitCode: number;
  /** Scenario counts parsed from Cucumber's summary line, when printed. */
  scenarios?: Record<string, number> & { total: number };
}

/** Parses Cucumber's "N scenarios (a passed, b failed)" summary line. */
export function parseScenarioSummary(output: string): CucumberRun['scenarios'] {
  const m = /(\d+) scenarios? \(([^)]*)\)/.exec(output);
  if (!m) return /0 scenarios/.test(output) ? { total: 0 } : undefined;
  const counts: Record<string, number> & { total: number } = { total: Number(m[1]) };
  for (const part of m[2].split(',')) {
    const pm = /(\d+) (\w+)/.exec(part.trim());
    if (pm) counts[pm[2]] = Number(pm[1]);
  }
  return counts;
}

/** Cucumber options that take a value (the value is not a feature path). */
const VALUE_OPTIONS = new Set(['--tags', '-t', '--name', '--profile', '-p', '--parallel', '--format', '-f', '--format-options', '--require', '-r', '--import', '-i', '--require-module', '--world-parameters', '--retry', '--retry-tag-filter', '--language', '--order', '--config', '-c']);

/** True when the arguments name feature files or folders (positional arguments). */
export function namesFeaturePaths(args: string[]): boolean {
  return args.some((a, i) => !a.startsWith('-') && !(i > 0 && VALUE_OPTIONS.has(args[i - 1])));
}

export function runCucumber(env: Environment, args: string[]): Promise<CucumberRun> {
  if (!fs.existsSync(CUCUMBER_BIN)) {
    return Promise.reject(new Error(`Cucumber is not installed (${CUCUMBER_BIN}); run npm start or npm ci`));
  }
  return new Promise((resolve, reject) => {
    let tail = '';
    const child = spawn(process.execPath, [CUCUMBER_BIN, '--config', 'cucumber.js', ...args], {
      cwd: PROJECT_ROOT,
      env: {
        ...process.env,
        TI_ENV: env.source,
        TI_CUCUMBER_CLI_PATHS: namesFeaturePaths(args) ? '1' : '0',
        FORCE_COLOR: process.stdout.isTTY ? '1' : '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const forward = (stream: NodeJS.WriteStream) => (chunk: Buffer) => {
      stream.write(chunk);
      tail = (tail + chunk.toString('utf8')).slice(-4000);
    };
    child.stdout.on('data', forward(process.stdout));
    child.stderr.on('data', forward(process.stderr));
    const onSignal = () => child.kill('SIGTERM');
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      // eslint-disable-next-line no-control-regex
      const plain = tail.replace(/\u001b\[[0-9;]*m/g, '');
      resolve({ exitCode: code ?? (signal ? 130 : 1), scenarios: parseScenarioSummary(plain) });
    });
  });
}
