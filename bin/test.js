#!/usr/bin/env node
// npm test: the project's own tests, stage by stage, with a summary at the end.
//   bootstrap → type-check → unit tests → catalogue checks → feature-tag gate → Cucumber features
// Every stage runs even if an earlier one failed; the exit code is non-zero if any failed.
// Options: --only <stage,…> runs a subset (typecheck, unit, catalogue, gate, features).
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { bootstrap } = require('./bootstrap');

const ROOT = path.resolve(__dirname, '..');
const OUT = path.join(ROOT, 'reports', 'out', 'test');
const TS_REGISTER = ['--require', 'ts-node/register/transpile-only'];

function findTests(dir) {
  if (!fs.existsSync(dir)) return [];
  const found = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...findTests(p));
    else if (entry.name.endsWith('.test.ts')) found.push(p);
  }
  return found.sort();
}

/** Runs a command, streaming its output; resolves with exit code and the output tail. */
function run(cmd, args, opts = {}) {
  return new Promise((resolve) => {
    let tail = '';
    const child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (stream) => (chunk) => {
      stream.write(chunk);
      tail = (tail + chunk.toString('utf8')).slice(-20000);
    };
    child.stdout.on('data', keep(process.stdout));
    child.stderr.on('data', keep(process.stderr));
    child.on('error', (e) => resolve({ code: 127, tail: String(e) }));
    child.on('close', (code, signal) => resolve({ code: code === null ? (signal ? 130 : 1) : code, tail }));
  });
}

function tapCounts(file) {
  if (!fs.existsSync(file)) return undefined;
  const text = fs.readFileSync(file, 'utf8');
  const n = (k) => Number((new RegExp(`^# ${k} (\\d+)$`, 'm').exec(text) || [])[1] || 0);
  return { tests: n('tests'), pass: n('pass'), fail: n('fail') + n('cancelled'), skipped: n('skipped') + n('todo') };
}

function nodeTestArgs(files, tapFile) {
  return [
    ...TS_REGISTER,
    '--test',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    `--test-reporter-destination=${tapFile}`,
    ...files,
  ];
}

function describeTap(c) {
  if (!c) return 'no results';
  return `${c.pass} passed, ${c.fail} failed${c.skipped ? `, ${c.skipped} skipped` : ''}`;
}

const STAGES = {
  async typecheck() {
    const r = await run(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '-p', 'tsconfig.json']);
    const errors = (r.tail.match(/error TS\d+/g) || []).length;
    return { ok: r.code === 0, detail: r.code === 0 ? 'no type errors' : `${errors || 'some'} type errors` };
  },
  async unit() {
    const files = findTests(path.join(ROOT, 'test', 'unit')).filter((f) => !f.includes(`${path.sep}catalogue${path.sep}`));
    if (files.length === 0) return { ok: false, detail: 'no unit tests found' };
    const tap = path.join(OUT, 'unit.tap');
    const r = await run(process.execPath, nodeTestArgs(files, tap));
    const c = tapCounts(tap);
    // Skipped tests are not counted as passing: a skip fails the stage.
    return { ok: r.code === 0 && c && c.fail === 0 && c.skipped === 0, detail: `${files.length} files: ${describeTap(c)}` };
  },
  async catalogue() {
    const gen = await run(process.execPath, [path.join(ROOT, 'bin', 'run-ts.js'), 'reports/catalogue/generate.ts', '--check']);
    const files = findTests(path.join(ROOT, 'test', 'unit', 'catalogue'));
    const tap = path.join(OUT, 'catalogue.tap');
    const r = files.length ? await run(process.execPath, nodeTestArgs(files, tap)) : { code: 1 };
    const c = tapCounts(tap);
    const upToDate = gen.code === 0 ? 'generated data up to date' : 'generated data OUTDATED (npm run catalogue:generate)';
    return { ok: gen.code === 0 && r.code === 0 && c && c.fail === 0 && c.skipped === 0, detail: `${upToDate}; ${describeTap(c)}` };
  },
  async gate() {
    const r = await run(process.execPath, [path.join(ROOT, 'bin', 'run-ts.js'), 'reports/trace/gates.ts']);
    const m = /(\d+) scenarios?/.exec(r.tail);
    return { ok: r.code === 0, detail: r.code === 0 ? `tags valid${m ? ` (${m[0]})` : ''}` : 'feature tag errors (see above)' };
  },
  async features() {
    const r = await run(process.execPath, [path.join(ROOT, 'bin', 'ti-harness.js'), 'test'], { env: { FORCE_COLOR: '0' } });
    const m = /(\d+ scenarios? \([^)]*\))/.exec(r.tail);
    return { ok: r.code === 0, detail: m ? m[1] : `cucumber exited ${r.code}` };
  },
};

async function main() {
  const argv = process.argv.slice(2);
  let selected = Object.keys(STAGES);
  const onlyIdx = argv.indexOf('--only');
  if (onlyIdx >= 0) {
    selected = (argv[onlyIdx + 1] || '').split(',').filter(Boolean);
    const unknown = selected.filter((s) => !STAGES[s]);
    if (unknown.length || selected.length === 0) {
      process.stderr.write(`npm test: unknown stage(s) ${unknown.join(', ') || '(none given)'}; stages: ${Object.keys(STAGES).join(', ')}\n`);
      process.exit(2);
    }
  }
  try {
    bootstrap();
  } catch (e) {
    process.stderr.write(`[bootstrap] ${e.message}\n`);
    process.exit(e.exitCode || 1);
  }
  fs.mkdirSync(OUT, { recursive: true });
  const results = [];
  for (const name of selected) {
    process.stdout.write(`\n=== ${name} ${'='.repeat(60 - name.length)}\n`);
    const t0 = Date.now();
    let res;
    try {
      res = await STAGES[name]();
    } catch (e) {
      res = { ok: false, detail: `stage crashed: ${e.message}` };
    }
    results.push({ name, ...res, seconds: (Date.now() - t0) / 1000 });
  }
  const lines = ['', '=== npm test summary ' + '='.repeat(50)];
  for (const r of results) {
    lines.push(`  ${r.ok ? 'PASS' : 'FAIL'}  ${r.name.padEnd(10)} ${r.seconds.toFixed(1).padStart(6)} s  ${r.detail}`);
  }
  const failed = results.filter((r) => !r.ok);
  lines.push('', failed.length ? `FAILED: ${failed.map((r) => r.name).join(', ')}` : `all ${results.length} stages passed`, '');
  process.stdout.write(lines.join('\n'));
  fs.writeFileSync(path.join(OUT, 'summary.json'), JSON.stringify(results, null, 2));
  process.exit(failed.length ? 1 : 0);
}

main();
