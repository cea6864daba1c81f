/**
 * Allure report from the run's Allure results (written by allure-cucumberjs).
 *
 *   await generateAllureReport()   → reports/out/allure/index.html
 *
 * Runs the bundled allure-commandline 2.x (Java 17: `default-jre-headless`)
 * with `generate --clean --single-file`, so index.html opens straight from
 * disk (file://) without `allure open`. Before that it writes
 * categories.json (reports/allure/categories.json: Konformitätsfehler,
 * Umgebungsfehler, Testdefekte, Sonstige Abbrüche) and environment.properties
 * into the results directory.
 *
 * CLI: node bin/run-ts.js reports/allure/generate.ts
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadEnvironment } from '../../simulators/lib/config';
import { OUTPUT, PROJECT_ROOT } from '../paths';
import { isEntryPoint } from '../trace/entry-point';

export const CATEGORIES_FILE = path.join(__dirname, 'categories.json');
export const ALLURE_BIN = path.join(PROJECT_ROOT, 'node_modules', 'allure-commandline', 'dist', 'bin', 'allure');

export class AllureReportError extends Error {
  override name = 'AllureReportError';
}

export interface GenerateAllureOptions {
  /** Default reports/out/allure-results. */
  resultsDir?: string;
  /** Default reports/out/allure. */
  outDir?: string;
  /** Extra entries for environment.properties (added to the defaults). */
  environment?: Record<string, string>;
  /** Report title (default "TI-Harness Konformität"). */
  reportName?: string;
  /** Where to find java (default: $JAVA_HOME/bin/java, else `java` on PATH). */
  javaCommand?: string;
}

function javaCommand(explicit?: string): string {
  if (explicit) return explicit;
  if (process.env.JAVA_HOME) return path.join(process.env.JAVA_HOME, 'bin', 'java');
  return 'java';
}

/** Throws AllureReportError with the install hint if Java cannot run. Returns its version line. */
export function checkJava(command = javaCommand()): string {
  const r = spawnSync(command, ['-version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new AllureReportError(
      `Java is needed for the Allure report but "${command} -version" failed (${r.error ? r.error.message : `exit ${r.status}`}): ` +
        'install default-jre-headless (apt-get install default-jre-headless), or set JAVA_HOME',
    );
  }
  return (r.stderr || r.stdout).split('\n')[0].trim();
}

/** environment.properties: key=value lines, escaped as java.util.Properties reads them. */
export function propertiesText(entries: Record<string, string>): string {
  const escape = (s: string, isKey: boolean) =>
    s
      .replace(/\\/g, '\\\\')
      .replace(/\n/g, '\\n')
      .replace(/[=:#!]/g, (c) => `\\${c}`)
      .replace(/ /g, isKey ? '\\ ' : ' ')
      .replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return Object.entries(entries)
    .map(([k, v]) => `${escape(k, true)}=${escape(v, false)}`)
    .join('\n')
    .concat('\n');
}

function defaultEnvironment(): Record<string, string> {
  const env: Record<string, string> = {
    TI_ENV: process.env.TI_ENV || 'local',
    Node: process.version,
    Platform: `${process.platform} ${process.arch}`,
  };
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version?: string; dependencies?: Record<string, string> };
    env.Harness = pkg.version ?? '?';
    if (pkg.dependencies?.['@cucumber/cucumber']) env.Cucumber = pkg.dependencies['@cucumber/cucumber'];
  } catch {
    /* informational only */
  }
  try {
    const e = loadEnvironment(env.TI_ENV);
    for (const s of Object.values(e.services)) env[`service.${s.name}`] = `${s.url}${s.simulated ? ' (simuliert)' : ' (extern)'}`;
  } catch {
    /* informational only */
  }
  return env;
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (c: Buffer) => {
      output = (output + c.toString('utf8')).slice(-8000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

/** Writes categories.json and environment.properties, runs `allure generate`, returns the index.html path. */
export async function generateAllureReport(options: GenerateAllureOptions = {}): Promise<string> {
  const resultsDir = options.resultsDir ? path.resolve(PROJECT_ROOT, options.resultsDir) : OUTPUT.allureResults;
  const outDir = options.outDir ? path.resolve(PROJECT_ROOT, options.outDir) : OUTPUT.allureReport;
  if (!fs.existsSync(resultsDir) || !fs.readdirSync(resultsDir).some((f) => f.endsWith('-result.json'))) {
    throw new AllureReportError(`no Allure results in ${resultsDir}: run the features first (ti-harness test)`);
  }
  if (!fs.existsSync(ALLURE_BIN)) {
    throw new AllureReportError(`allure-commandline is not installed (${ALLURE_BIN}): run npm ci`);
  }
  const java = javaCommand(options.javaCommand);
  checkJava(java);

  fs.copyFileSync(CATEGORIES_FILE, path.join(resultsDir, 'categories.json'));
  fs.writeFileSync(path.join(resultsDir, 'environment.properties'), propertiesText({ ...defaultEnvironment(), ...options.environment }));

  const env: NodeJS.ProcessEnv = { ...process.env, ALLURE_NO_ANALYTICS: 'true' };
  if (options.javaCommand) env.JAVA_HOME = path.dirname(path.dirname(options.javaCommand));
  const args = ['generate', '--clean', '--single-file', '--name', options.reportName ?? 'TI-Harness Konformität', '-o', outDir, resultsDir];
  const r = await run(ALLURE_BIN, args, env);
  const index = path.join(outDir, 'index.html');
  if (r.code !== 0 || !fs.existsSync(index)) {
    throw new AllureReportError(`allure generate failed (exit ${r.code}):\n${r.output.trim()}`);
  }
  return index;
}

if (isEntryPoint(module, __filename)) {
  generateAllureReport().then(
    (index) => process.stdout.write(`Allure report: ${path.relative(process.cwd(), index)}\n`),
    (e: Error) => {
      process.stderr.write(`allure: ${e.message}\n`);
      process.exit(1);
    },
  );
}
