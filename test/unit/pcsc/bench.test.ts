import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { discoverBenchmarks, percentile, round, runBenchmarks, writeReport, type BenchReport } from '../../../bench/run';
// Pulls the benchmarks into the type check (tsconfig.json does not include bench/ yet).
import type * as CardsBench from '../../../bench/cards.bench';

const cardsBench: typeof CardsBench.benchmark | undefined = undefined;
void cardsBench;

test('percentile (nearest rank) and rounding', () => {
  const s = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(percentile(s, 50), 50);
  assert.equal(percentile(s, 99), 99);
  assert.equal(percentile(s, 100), 100);
  assert.equal(percentile([7], 99), 7);
  assert.throws(() => percentile([], 50), /no samples/);
  assert.equal(round(0.123456), 0.1235);
  assert.equal(round(4589.7), 4590);
});

test('the runner discovers bench/*.bench.ts, prints one JSON object per figure and records failures', async () => {
  const all = discoverBenchmarks();
  assert.ok(all.some((b) => b.name === 'cards'), 'bench/cards.bench.ts is found');

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ti-bench-'));
  try {
    fs.writeFileSync(
      path.join(dir, 'good.bench.ts'),
      `export const benchmark = { description: 'good', async run(ctx: any) { ctx.emit({ bench: 'x.y', metric: 'throughput', value: 2, unit: '1/s', baseline: 'x.z', ratio: 0.5 }); ctx.log('note'); } };`,
    );
    fs.writeFileSync(path.join(dir, 'bad.bench.ts'), `export const benchmark = { description: 'bad', async run(ctx: any) { ctx.emit({ bench: 'x.bad', metric: 'm', value: NaN, unit: 'ms' }); } };`);
    const found = discoverBenchmarks(dir);
    assert.deepEqual(found.map((b) => b.name), ['bad', 'good']);
    const stdout: string[] = [];
    const stderr: string[] = [];
    const report = await runBenchmarks(found, { stdout: (l) => stdout.push(l), stderr: (l) => stderr.push(l) });
    assert.deepEqual(stdout.map((l) => JSON.parse(l)), [{ bench: 'x.y', metric: 'throughput', value: 2, unit: '1/s', baseline: 'x.z', ratio: 0.5 }]);
    assert.deepEqual(report.benchmarks.map((b) => [b.name, b.ok]), [['bad', false], ['good', true]]);
    assert.match(report.benchmarks[0].error ?? '', /value must be a finite number/);
    assert.ok(stderr.some((l) => l.includes('[bench] good: note')));
    const file = path.join(dir, 'out', 'latest.json');
    writeReport(report, file);
    const back = JSON.parse(fs.readFileSync(file, 'utf8')) as BenchReport;
    assert.equal(back.figures.length, 1);
    assert.equal(back.machine.node, process.version);
    fs.writeFileSync(path.join(dir, 'empty.bench.ts'), 'export const nothing = 1;');
    assert.throws(() => discoverBenchmarks(dir), /does not export "benchmark"/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('all benchmarks of one process share one vpcd range (one PC/SC socket per process)', async () => {
  const { benchVpcdPorts } = await import('../../../bench/run');
  const first = await benchVpcdPorts();
  assert.ok(first >= 47101 && first < 48000, `range ${first}`);
  assert.equal(await benchVpcdPorts(), first, 'a second benchmark must get the same range');
});
