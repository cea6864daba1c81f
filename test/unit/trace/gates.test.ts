/** The static tag gate (reports/trace/gates.ts) on the fixture features of test/fixtures/trace/gate. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { checkFeatureTags, formatGateResult } from '../../../reports/trace/gates';
import { fixtureCatalogue } from '../../fixtures/trace/catalogue';

const GATE = path.join(__dirname, '..', '..', 'fixtures', 'trace', 'gate');
const ROOT = path.join(__dirname, '..', '..', '..');
const check = (dir: string) => checkFeatureTags(path.join(GATE, dir), fixtureCatalogue(), ROOT);

/** The errors that mention `needle`. */
const about = (errors: string[], needle: string) => errors.filter((e) => e.includes(needle));

test('valid features pass (outline rows share a TCID, @UC:none for infrastructure)', () => {
  const r = check('valid');
  assert.deepEqual(r.errors, []);
  assert.equal(r.scenarios, 4, 'one scenario, two outline rows, one infrastructure scenario');
  assert.equal(r.files, 2);
  assert.match(formatGateResult(r), /^feature tags OK: 4 scenarios in 2 feature files/);
});

test('unknown requirement and unknown use case are reported with file and line', () => {
  const r = check('unknown-ids');
  assert.equal(r.errors.length, 2, r.errors.join('\n'));
  assert.match(r.errors[0], /unknown\.feature:6 "Unbekannte Anforderung": @AFO-ID:A_99999 is neither a requirement nor an infrastructure check/);
  assert.match(r.errors[1], /unknown\.feature:10 "Unbekannter Anwendungsfall": @UC:UC_9\.9 is not a use case/);
});

test('every mandatory tag is demanded', () => {
  const r = check('missing-tags');
  for (const tag of ['@AFO-ID:', '@UC:', '@TCID:', '@TESTFALL:', '@PRODUKT:', '@Hauptdarsteller:']) {
    assert.equal(about(r.errors, `missing ${tag}`).length, 1, `expected a "missing ${tag}" error in:\n${r.errors.join('\n')}`);
  }
  assert.equal(r.errors.length, 6);
});

test('a TCID used by two scenarios (in different files) is an error', () => {
  const r = check('duplicate-tcid');
  assert.equal(r.errors.length, 1, r.errors.join('\n'));
  assert.match(r.errors[0], /@TCID:DUP_001 is not unique: used by .*a\.feature:6 .*b\.feature:6/);
});

test('@UC:none with a use-case requirement, feature-level TCID, typos and unknown vocabulary', () => {
  const r = check('misc');
  assert.equal(about(r.errors, '@UC:none is not allowed: A_1 → UC_1').length, 1);
  assert.equal(about(r.errors, '@TCID:MISC_FEATURE_LEVEL is written on the Funktionalität').length, 3, 'one per scenario');
  assert.equal(about(r.errors, 'unknown tag key in @AFO:A_2').length, 1);
  assert.equal(about(r.errors, '@PRODUKT:Kaffeemaschine is not a known product type').length, 1);
  assert.equal(about(r.errors, '@Hauptdarsteller:Zuschauer is not a known main actor').length, 1);
  assert.equal(about(r.errors, '@TESTFALL:vielleicht: allowed are positiv, negativ').length, 1);
  assert.equal(about(r.errors, '"Ohne Schritte": scenario has no steps').length, 1);
});

test('a feature file that does not parse is an error, not a silent skip', () => {
  const r = check('broken');
  assert.equal(r.errors.length, 1);
  assert.match(r.errors[0], /broken\.feature: does not parse: .*inconsistent cell count/);
});

