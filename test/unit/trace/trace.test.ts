/**
 * Traceability status rules (reports/trace/model.ts) on the fixture run in
 * test/fixtures/trace/run: messages.ndjson (5 scenarios, one retried),
 * results/verify-*.ndjson (two workers, one stale record, one bad line),
 * features/ (one scenario that did not run) and the fixture catalogue.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { generateTrace } from '../../../reports/trace/generate';
import { parseFeatureDir } from '../../../reports/trace/gherkin';
import { parseMessages, readMessages } from '../../../reports/trace/messages';
import { buildTrace, verdict, type TraceReport } from '../../../reports/trace/model';
import { readVerifyRecords } from '../../../reports/trace/records';
import { fixtureCatalogue } from '../../fixtures/trace/catalogue';

const RUN = path.join(__dirname, '..', '..', 'fixtures', 'trace', 'run');

function fixtureTrace(): TraceReport {
  const { records, problems } = readVerifyRecords(path.join(RUN, 'results'));
  return buildTrace({
    catalogue: fixtureCatalogue(),
    messages: readMessages(path.join(RUN, 'messages.ndjson')),
    records,
    recordProblems: problems,
    features: parseFeatureDir(path.join(RUN, 'features'), RUN).scenarios,
    generatedAt: new Date('2027-01-15T09:00:00Z'),
  });
}

const byId = <T extends { id: string }>(list: T[], id: string): T => {
  const found = list.find((x) => x.id === id);
  assert.ok(found, `${id} missing`);
  return found;
};

test('verdict: failed beats passed, broken alone is untested', () => {
  assert.equal(verdict({ passed: 3, failed: 1, broken: 0 }), 'failed');
  assert.equal(verdict({ passed: 1, failed: 0, broken: 5 }), 'passed');
  assert.equal(verdict({ passed: 0, failed: 0, broken: 2 }), 'untested');
  assert.equal(verdict({ passed: 0, failed: 0, broken: 0 }), 'untested');
});

test('requirement statuses follow the verify records, not the tags', () => {
  const t = fixtureTrace();
  const status = (id: string) => byId(t.requirements, id).status;
  assert.equal(status('A_1'), 'passed');
  assert.equal(status('A_2'), 'passed');
  assert.equal(status('A_3'), 'failed', 'a failed assertion makes the requirement failed');
  assert.equal(status('A_4'), 'documented');
  assert.equal(status('A_5'), 'untested', 'only a broken (environment) record: nothing proven');
  assert.equal(status('A_6'), 'untested', 'tagged by a failed and a not-run scenario, never verified');
  assert.equal(status('A_7'), 'passed');
  assert.equal(status('A_8'), 'untested', 'its only record is from an older run');
  const a6 = byId(t.requirements, 'A_6').scenarios.map((s) => `${s.tcid}:${s.status}`).sort();
  assert.deepEqual(a6, ['T2:failed', 'T6:not-run']);
  assert.deepEqual(byId(t.requirements, 'A_3').assertionCounts, { passed: 0, failed: 1, broken: 0 });
});

test('infrastructure checks: own section, retried attempts and untagged verifications', () => {
  const t = fixtureTrace();
  const x1 = byId(t.infrastructure, 'TUC_X_1');
  assert.equal(x1.status, 'passed', 'the failed record belongs to a retried attempt and is ignored');
  assert.deepEqual(x1.assertionCounts, { passed: 1, failed: 0, broken: 0 });
  assert.equal(byId(t.infrastructure, 'TUC_X_2').status, 'passed');
  assert.ok(t.warnings.some((w) => w.includes('TUC_X_2 verified in') && w.includes('without an @AFO-ID:TUC_X_2 tag')));
  assert.ok(t.warnings.some((w) => /1 verify record\(s\) of retried attempts/.test(w)));
  assert.ok(t.warnings.some((w) => /1 verify record\(s\) belong to no scenario of this run/.test(w)));
  assert.ok(t.warnings.some((w) => w.includes('verify-1002.ndjson:5: not JSON')));
  assert.ok(!t.requirements.some((r) => r.id.startsWith('TUC_')), 'infrastructure checks are not requirements');
});

test('use case statuses: passed, partial, failed, documented, untested', () => {
  const t = fixtureTrace();
  const status = (id: string) => byId(t.useCases, id).status;
  assert.equal(status('UC_1'), 'passed', 'all executable requirements of UC_1 passed');
  assert.equal(status('UC_2'), 'failed');
  assert.equal(status('UC_3'), 'documented');
  assert.equal(status('UC_4'), 'untested');
  assert.equal(status('UC_5'), 'partial', 'A_7 passed, A_8 untested');
  assert.deepEqual(byId(t.useCases, 'UC_5').requirementStatus, { passed: 1, failed: 0, untested: 1, documented: 0 });
});

test('summary: coverage of executable requirements, scenario and assertion counts', () => {
  const t = fixtureTrace();
  assert.deepEqual(t.summary.executable, { total: 7, covered: 4, coveredPercent: 57.1, passed: 3, failed: 1, untested: 3 });
  assert.equal(t.summary.requirements.documented, 1);
  assert.equal(t.summary.requirements.total, 8);
  assert.deepEqual({ ...t.summary.assertions }, { passed: 5, failed: 1, broken: 1, total: 7 });
  assert.equal(t.summary.infrastructure.passed, 2);
  const sc = t.summary.scenarios;
  assert.deepEqual([sc.passed, sc.failed, sc.broken, sc['not-run'], sc.total, sc.run], [3, 1, 1, 1, 6, 5]);
  assert.equal(t.run.success, false);
  assert.equal(t.run.cucumberVersion, '12.9.0');
  assert.equal(t.schemaVersion, 1);
});

test('scenario results: failed vs broken by exception type, final attempt wins', () => {
  const t = fixtureTrace();
  const sc = (tcid: string) => {
    const s = t.scenarios.find((x) => x.tcid === tcid);
    assert.ok(s, tcid);
    return s;
  };
  assert.equal(sc('T2').status, 'failed');
  assert.equal(sc('T2').errorType, 'ConformanceAssertionError');
  assert.equal(sc('T3').status, 'broken');
  assert.match(sc('T3').message ?? '', /ECONNREFUSED/);
  assert.equal(sc('T4').status, 'passed');
  assert.equal(sc('T4').attempts, 2);
  assert.deepEqual(sc('T4').assertions.map((a) => a.description), ['TUC_X_1 zweiter Versuch']);
  assert.equal(sc('T6').status, 'not-run');
  assert.equal(sc('T1').feature, 'Fixture für den Traceability-Report');
});

test('parseMessages: an unfinished attempt is unknown, a bad line is an error', () => {
  const lines = [
    { pickle: { id: 'p', uri: 'f.feature', location: { line: 3 }, name: 'n', tags: [], astNodeIds: ['x'], steps: [] } },
    { testCase: { id: 'tc', pickleId: 'p', testSteps: [] } },
    { testCaseStarted: { id: 'a', testCaseId: 'tc', attempt: 0, timestamp: { seconds: 1, nanos: 0 } } },
  ].map((l) => JSON.stringify(l));
  assert.equal(parseMessages(lines.join('\n')).scenarios[0].status, 'unknown');
  assert.throws(() => parseMessages(`${lines[0]}\n{oops`), /line 2 is not JSON/);
});

test('generateTrace writes trace.json, trace.md and index.html with anchors', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'trace-test-'));
  try {
    const t = generateTrace({
      resultsDir: path.join(RUN, 'results'),
      cucumberMessages: path.join(RUN, 'messages.ndjson'),
      featuresDir: path.join(RUN, 'features'),
      outDir: out,
      catalogue: fixtureCatalogue(),
      catalogueSource: 'Fixture 1.0',
      baseDir: RUN,
    });
    const json = JSON.parse(fs.readFileSync(path.join(out, 'trace.json'), 'utf8')) as TraceReport;
    assert.equal(json.schemaVersion, 1);
    assert.equal(json.catalogue.source, 'Fixture 1.0');
    assert.deepEqual(json.summary, t.summary);
    const html = fs.readFileSync(path.join(out, 'index.html'), 'utf8');
    assert.match(html, /<tr id="A_3" data-status="failed">/);
    assert.match(html, /<tr id="TUC_X_1" data-status="passed">/);
    assert.match(html, /<tr id="UC_5" data-status="partial">/);
    assert.doesNotMatch(html, /<script src=|<link [^>]*href="http/, 'self-contained');
    const md = fs.readFileSync(path.join(out, 'trace.md'), 'utf8');
    assert.match(md, /\*\*4 \/ 7 \(57\.1 %\)\*\*/);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});

test('generateTrace without a messages file says how to get one', () => {
  assert.throws(
    () => generateTrace({ cucumberMessages: path.join(RUN, 'missing.ndjson'), catalogue: fixtureCatalogue(), outDir: os.tmpdir(), baseDir: RUN }),
    /no Cucumber messages .* run the features first/,
  );
});
