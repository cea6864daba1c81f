/**
 * Benchmark runner: `npm run bench [name…]`.
 *
 * Discovers bench/*.bench.ts (each exports `benchmark: Benchmark`), runs the selected
 * ones one after another and prints one JSON object per figure on stdout:
 *
 *   {"bench":"cards.apdu","metric":"latency_median","value":0.41,"unit":"ms"}
 *
 * Progress and notes go to stderr. All figures of the run are also written to
 * reports/out/bench/latest.json. Ratios compare figures taken in the same run.
 * Exit code 1 when a benchmark failed, 2 for an unknown name.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isPortFree } from '../cards/pcscd/system';

/**
 * The vpcd port range benchmarks run their private pcscd on: chosen once per
 * process (two free consecutive ports from 47101, away from a running
 * `ti-harness up` on 35963) and then reused. A process binds its PC/SC client
 * to one pcscd socket, and the socket path follows from the vpcd port, so every
 * benchmark of one run must use the same range (each stops its pcscd before
 * the next starts).
 */
let benchVpcdBase: number | undefined;
export async function benchVpcdPorts(): Promise<number> {
  if (benchVpcdBase !== undefined) return benchVpcdBase;
  for (let base = 47101; base < 48000; base += 2) {
    if ((await isPortFree(base)) && (await isPortFree(base + 1))) {
      benchVpcdBase = base;
      return base;
    }
  }
  throw new Error('no two free consecutive TCP ports in 47101..47999 for vpcd');
}

export interface BenchFigure {
  /** "<area>.<what>", e.g. cards.apdu */
  bench: string;
  metric: string;
  value: number;
  unit: string;
  /** Name of the figure this one is compared with (taken in the same run). */
  baseline?: string;
  ratio?: number;
}

export interface BenchContext {
  /** Records (and prints) one figure. */
  emit(figure: BenchFigure): void;
  /** A progress or explanation line on stderr. */
  log(message: string): void;
}

export interface Benchmark {
  /** Short name used on the command line (defaults to the file name without .bench.ts). */
  name?: string;
  description: string;
  run(ctx: BenchContext): Promise<void>;
}

export const BENCH_DIR = __dirname;
export const PROJECT_ROOT = path.resolve(__dirname, '..');
export const BENCH_OUT = path.join(PROJECT_ROOT, 'reports', 'out', 'bench', 'latest.json');

export interface DiscoveredBenchmark extends Benchmark {
  name: string;
  file: string;
}

export function discoverBenchmarks(dir = BENCH_DIR): DiscoveredBenchmark[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.bench.ts'))
    .sort()
    .map((f) => {
      const file = path.join(dir, f);
      const mod = require(file) as { benchmark?: Benchmark };
      if (!mod.benchmark || typeof mod.benchmark.run !== 'function') {
        throw new Error(`${file} does not export "benchmark" ({ description, run(ctx) })`);
      }
      return { ...mod.benchmark, name: mod.benchmark.name ?? f.slice(0, -'.bench.ts'.length), file };
    });
}

export interface BenchReport {
  startedAt: string;
  finishedAt: string;
  machine: { node: string; platform: string; cpus: number; cpuModel: string };
  benchmarks: { name: string; ok: boolean; seconds: number; error?: string }[];
  figures: BenchFigure[];
}

export async function runBenchmarks(
  selected: DiscoveredBenchmark[],
  out: { stdout: (line: string) => void; stderr: (line: string) => void } = {
    stdout: (l) => process.stdout.write(`${l}\n`),
    stderr: (l) => process.stderr.write(`${l}\n`),
  },
): Promise<BenchReport> {
  const report: BenchReport = {
    startedAt: new Date().toISOString(),
    finishedAt: '',
    machine: { node: process.version, platform: `${process.platform}-${process.arch}`, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown' },
    benchmarks: [],
    figures: [],
  };
  for (const b of selected) {
    out.stderr(`[bench] ${b.name}: ${b.description}`);
    const t0 = Date.now();
    const ctx: BenchContext = {
      emit(figure) {
        if (typeof figure.value !== 'number' || !Number.isFinite(figure.value)) throw new Error(`${figure.bench} ${figure.metric}: value must be a finite number`);
        report.figures.push(figure);
        out.stdout(JSON.stringify(figure));
      },
      log: (m) => out.stderr(`[bench] ${b.name}: ${m}`),
    };
    try {
      await b.run(ctx);
      report.benchmarks.push({ name: b.name, ok: true, seconds: (Date.now() - t0) / 1000 });
    } catch (e) {
      const error = (e as Error)?.stack ?? String(e);
      out.stderr(`[bench] ${b.name} FAILED: ${error}`);
      report.benchmarks.push({ name: b.name, ok: false, seconds: (Date.now() - t0) / 1000, error: (e as Error)?.message ?? String(e) });
    }
  }
  report.finishedAt = new Date().toISOString();
  return report;
}

export function writeReport(report: BenchReport, file = BENCH_OUT): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
}

/** Percentile (0..100) of already sorted numbers, nearest-rank. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) throw new Error('percentile of no samples');
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

/** Rounds to `digits` significant digits, for readable figures. */
export function round(value: number, digits = 4): number {
  return Number(value.toPrecision(digits));
}

/** `npm run bench [name…]` (bin/bench.js). */
export async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    const names = discoverBenchmarks().map((b) => `  ${b.name.padEnd(12)} ${b.description}`);
    process.stdout.write(`Usage: npm run bench [name…]\n\nBenchmarks (bench/*.bench.ts):\n${names.join('\n')}\n\nFigures: one JSON object per line on stdout; all of them in ${path.relative(PROJECT_ROOT, BENCH_OUT)}\n`);
    return 0;
  }
  const all = discoverBenchmarks();
  const unknown = argv.filter((n) => !all.some((b) => b.name === n));
  if (unknown.length) {
    process.stderr.write(`npm run bench: unknown benchmark(s) ${unknown.join(', ')} (known: ${all.map((b) => b.name).join(', ')})\n`);
    return 2;
  }
  const selected = argv.length ? all.filter((b) => argv.includes(b.name)) : all;
  const report = await runBenchmarks(selected);
  writeReport(report);
  process.stderr.write(`[bench] ${report.figures.length} figures written to ${path.relative(PROJECT_ROOT, BENCH_OUT)}\n`);
  return report.benchmarks.every((b) => b.ok) ? 0 : 1;
}
