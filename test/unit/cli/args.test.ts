import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgs, UsageError } from '../../../cli/args';
import { parseOnly } from '../../../cli/commands/up';
import { parseScenarioSummary } from '../../../cli/conformance';
import { formatServiceTable } from '../../../simulators/up';

test('known options are parsed, unknown ones pass through in order', () => {
  const { flags, rest } = parseArgs(['--env', 'local', '--tags', '@x', '--no-start', 'f.feature'], { env: true, 'no-start': false }, true);
  assert.equal(flags.get('env'), 'local');
  assert.equal(flags.get('no-start'), true);
  assert.deepEqual(rest, ['--tags', '@x', 'f.feature']);
});

test('--name=value form and missing values', () => {
  assert.equal(parseArgs(['--env=ru'], { env: true }).flags.get('env'), 'ru');
  assert.throws(() => parseArgs(['--env'], { env: true }), UsageError);
  assert.throws(() => parseArgs(['--env', '--json'], { env: true, json: false }), /needs a value/);
  assert.throws(() => parseArgs(['--bogus'], { env: true }), /unknown option --bogus/);
});

test('--only accepts known service names only', () => {
  assert.deepEqual(parseOnly('pki, idp'), ['pki', 'idp']);
  assert.equal(parseOnly(undefined), undefined);
  assert.throws(() => parseOnly('pki,nope'), /unknown service\(s\) in --only: nope/);
});

test('Cucumber summary line is parsed into counts', () => {
  const out = 'blah\n5 scenarios (1 failed, 1 undefined, 3 passed)\n20 steps (…)\n';
  assert.deepEqual(parseScenarioSummary(out), { total: 5, failed: 1, undefined: 1, passed: 3 });
  assert.deepEqual(parseScenarioSummary('1 scenario (1 passed)'), { total: 1, passed: 1 });
  assert.deepEqual(parseScenarioSummary('0 scenarios\n0 steps'), { total: 0 });
  assert.equal(parseScenarioSummary('nothing'), undefined);
});

test('service table lists services, states and endpoints in aligned columns', () => {
  const table = formatServiceTable([
    { name: 'pki', state: 'running', url: 'http://127.0.0.1:8440', endpoints: { ocsp: 'http://127.0.0.1:8440/ocsp' } },
    { name: 'idp', state: 'not simulated', url: '-', endpoints: {} },
  ]);
  const lines = table.split('\n');
  assert.match(lines[0], /^SERVICE\s+STATE\s+URL$/);
  assert.match(lines[1], /^pki\s+running\s+http:\/\/127\.0\.0\.1:8440$/);
  assert.match(lines[2], /^\s+ocsp\s+http:\/\/127\.0\.0\.1:8440\/ocsp$/);
  assert.equal(lines[1].indexOf('http'), lines[0].indexOf('URL'));
});

test('feature paths among Cucumber options are recognised, option values are not', () => {
  const { namesFeaturePaths } = require('../../../cli/conformance') as typeof import('../../../cli/conformance');
  assert.equal(namesFeaturePaths(['features/karten']), true);
  assert.equal(namesFeaturePaths(['--tags', '@AFO-ID:A_18816', '--parallel', '2']), false);
  assert.equal(namesFeaturePaths(['--name', 'OCSP', 'features/infrastruktur/pki-ocsp.feature:12']), true);
  assert.equal(namesFeaturePaths([]), false);
});

test('up --only with services that have no simulator yet is refused with the list of simulated ones', () => {
  const { spawnSync } = require('node:child_process') as typeof import('node:child_process');
  const path = require('node:path') as typeof import('node:path');
  const r = spawnSync(process.execPath, [path.resolve(__dirname, '..', '..', '..', 'bin', 'ti-harness.js'), 'up', '--only', 'vzd,zeta'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 2, r.stdout + r.stderr);
  assert.match(r.stderr, /no simulator exists yet for vzd, zeta \(simulated today: [a-z, ]*\bpki\b[a-z, ]*\)/);
});
