/**
 * End to end through Cucumber with the real hooks, world and verify():
 * the "no verify call" gate, the "verify not awaited" guard, and the
 * failed/broken classification as Cucumber messages, Allure results and
 * verify records show it (fixtures: test/fixtures/trace/e2e).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseMessages, type ScenarioRun } from '../../../reports/trace/messages';
import { readVerifyRecords } from '../../../reports/trace/records';

const ROOT = path.join(__dirname, '..', '..', '..');
const CUCUMBER = path.join(ROOT, 'node_modules', '@cucumber', 'cucumber', 'bin', 'cucumber.js');

test('hooks and verify() through a real Cucumber run', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'trace-e2e-'));
  try {
    const r = spawnSync(process.execPath, [CUCUMBER, '--config', 'test/fixtures/trace/e2e/cucumber.e2e.js'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: {
        ...process.env,
        E2E_OUT: out,
        TI_FEATURES_DIR: 'test/fixtures/trace/e2e/features',
        TI_VERIFY_RESULTS_DIR: path.join(out, 'results'),
        FORCE_COLOR: '0',
      },
      timeout: 120_000,
    });
    assert.equal(r.status, 1, `cucumber must fail (scenarios fail on purpose):\n${r.stdout}\n${r.stderr}`);

    const { scenarios } = parseMessages(fs.readFileSync(path.join(out, 'messages.ndjson'), 'utf8'));
    const byName = new Map<string, ScenarioRun>(scenarios.map((s) => [s.name, s]));
    const sc = (name: string) => {
      const s = byName.get(name);
      assert.ok(s, `${name} did not run:\n${r.stdout}`);
      return s;
    };
    assert.equal(sc('E2E bestanden').status, 'passed');
    assert.equal(sc('E2E ohne verify').status, 'broken');
    assert.match(sc('E2E ohne verify').message ?? '', /scenario made no verify\(\) call/);
    assert.equal(sc('E2E verify nicht abgewartet').status, 'broken');
    assert.match(sc('E2E verify nicht abgewartet').message ?? '', /still running when the step ended: await verify/);
    assert.equal(sc('E2E Konformitätsfehler').status, 'failed');
    assert.equal(sc('E2E Umgebungsfehler').status, 'broken');
    assert.equal(sc('E2E Umgebungsfehler').errorType, 'EnvironmentError');

    // Allure: the same classification, and the gate failure sits on a step so the test is not green.
    const allure = fs
      .readdirSync(path.join(out, 'allure-results'))
      .filter((f) => f.endsWith('-result.json'))
      .map((f) => JSON.parse(fs.readFileSync(path.join(out, 'allure-results', f), 'utf8')) as {
        name: string;
        status: string;
        testCaseId: string;
        links: { type: string; name: string; url: string }[];
        steps: { name: string; steps: { name: string; status: string }[] }[];
      });
    const status = Object.fromEntries(allure.map((a) => [a.name, a.status]));
    assert.deepEqual(status, {
      'E2E bestanden': 'passed',
      'E2E ohne verify': 'broken',
      'E2E verify nicht abgewartet': 'broken',
      'E2E Konformitätsfehler': 'failed',
      'E2E Umgebungsfehler': 'broken',
    });
    const passed = allure.find((a) => a.name === 'E2E bestanden')!;
    assert.equal(passed.testCaseId, 'E2E_1', '@TCID becomes the Allure testCaseId');
    assert.deepEqual(passed.links.map((l) => [l.type, l.name]), [['requirement', 'TUC_PKI_006']]);
    assert.match(passed.links[0].url, /index\.html#TUC_PKI_006$/);
    assert.deepEqual(passed.steps[0].steps.map((s) => [s.name, s.status]), [['TUC_PKI_006: E2E hält', 'passed']]);
    const failed = allure.find((a) => a.name === 'E2E Konformitätsfehler')!;
    assert.deepEqual(failed.steps[0].steps.map((s) => [s.name, s.status]), [['TUC_PKI_006: E2E hält nicht', 'failed']]);

    // verify records: one per call, joined to the run by testCaseStartedId
    const { records, problems } = readVerifyRecords(path.join(out, 'results'));
    assert.deepEqual(problems, []);
    const started = new Set(scenarios.map((s) => s.testCaseStartedId));
    assert.ok(records.every((rec) => started.has(rec.scenario.testCaseStartedId ?? '')));
    const summary = records.map((rec) => `${rec.scenario.name}|${rec.status}`).sort();
    assert.deepEqual(summary, ['E2E Konformitätsfehler|failed', 'E2E bestanden|passed', 'E2E verify nicht abgewartet|broken'].sort());
    const abandoned = records.find((rec) => rec.scenario.name === 'E2E verify nicht abgewartet');
    assert.match(abandoned?.error?.message ?? '', /was not awaited and finished after its step; result discarded/);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});
