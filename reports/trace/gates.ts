/**
 * Static tag gate over all feature files (DESIGN §3 "Tags on every scenario").
 *
 * Rules, per scenario (per pickle: an outline row counts as a scenario):
 *  - `@AFO-ID:` at least one; each a requirement or an infrastructure check of
 *    the catalogue; no id twice.
 *  - `@UC:` at least one; each a use case of the catalogue, or `@UC:none`
 *    alone, allowed only if none of the scenario's @AFO-IDs belongs to a use
 *    case (infrastructure checks; requirements whose catalogue useCase is null).
 *  - `@TCID:` exactly one, written on the scenario or its Examples block (not
 *    on Feature/Rule), `[A-Za-z0-9][A-Za-z0-9_.-]*`, unique across all
 *    features (the rows of one outline share their TCID).
 *  - `@TESTFALL:` exactly one, `positiv` or `negativ`.
 *  - `@PRODUKT:` at least one, from vocabulary.ts PRODUCTS.
 *  - `@Hauptdarsteller:` exactly one, from vocabulary.ts MAIN_ACTORS.
 *  - no other `@key:value` tags (typos such as `@AFO:` or `@UC=`), no empty scenario.
 * Tags without a colon (`@simulator-only`, `@wip`) are free.
 *
 * CLI: node bin/run-ts.js reports/trace/gates.ts [featuresDir]  (exit 1 on errors)
 */
import * as path from 'node:path';
import { projectCatalogue, type CatalogueView } from './catalogue-view';
import { isEntryPoint } from './entry-point';
import { parseFeatureDir, type FeatureScenario } from './gherkin';
import { MAIN_ACTORS, NO_USE_CASE, PRODUCTS, TAG_KEYS, TEST_KINDS, parseTag, tagValues } from './vocabulary';

export interface GateResult {
  errors: string[];
  /** Number of scenarios checked (outline rows count one each). */
  scenarios: number;
  files: number;
}

const TCID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

function where(s: FeatureScenario): string {
  return `${s.uri}:${s.line} "${s.name}"`;
}

function duplicates(values: string[]): string[] {
  const seen = new Set<string>();
  const dup = new Set<string>();
  for (const v of values) (seen.has(v) ? dup : seen).add(v);
  return [...dup];
}

/** Checks one scenario's tags against the catalogue and vocabulary (not TCID uniqueness). */
export function checkScenarioTags(s: FeatureScenario, catalogue: CatalogueView): string[] {
  const errors: string[] = [];
  const err = (m: string) => errors.push(`${where(s)}: ${m}`);

  for (const t of s.tags) {
    const p = parseTag(t);
    if (p && !(TAG_KEYS as readonly string[]).includes(p.key)) {
      err(`unknown tag key in ${t} (known: ${TAG_KEYS.map((k) => `@${k}:`).join(' ')})`);
    } else if (p && p.value === '') {
      err(`${t} has no value`);
    } else if (!p && /[=:]/.test(t)) {
      err(`malformed tag ${t} (write @KEY:value)`);
    }
  }
  if (s.steps === 0) err('scenario has no steps');

  const afoIds = tagValues(s.tags, 'AFO-ID');
  if (afoIds.length === 0) err('missing @AFO-ID:<requirement or infrastructure check>');
  for (const d of duplicates(afoIds)) err(`@AFO-ID:${d} given more than once`);
  for (const id of new Set(afoIds)) {
    if (!catalogue.isKnownRequirement(id) && !catalogue.isKnownInfrastructureCheck(id)) {
      err(`@AFO-ID:${id} is neither a requirement nor an infrastructure check of the catalogue`);
    }
  }

  const ucs = tagValues(s.tags, 'UC');
  if (ucs.length === 0) err('missing @UC:<use case> (or @UC:none, see docs/writing-features.md)');
  for (const d of duplicates(ucs)) err(`@UC:${d} given more than once`);
  if (ucs.includes(NO_USE_CASE)) {
    if (ucs.length > 1) err(`@UC:${NO_USE_CASE} cannot be combined with other @UC tags`);
    const withUseCase = afoIds.filter((id) => catalogue.requirements.find((r) => r.id === id)?.useCase);
    if (withUseCase.length > 0) {
      const names = withUseCase.map((id) => `${id} → ${catalogue.requirements.find((r) => r.id === id)?.useCase}`);
      err(`@UC:${NO_USE_CASE} is not allowed: ${names.join(', ')} belong(s) to a use case`);
    }
  }
  for (const uc of new Set(ucs)) {
    if (uc !== NO_USE_CASE && !catalogue.isKnownUseCase(uc)) err(`@UC:${uc} is not a use case of the catalogue`);
  }

  const tcids = s.tagOrigins.filter((o) => parseTag(o.name)?.key === 'TCID');
  if (tcids.length === 0) err('missing @TCID:<stable test-case id>');
  if (tcids.length > 1) err(`more than one @TCID (${tcids.map((t) => t.name).join(', ')})`);
  for (const t of tcids) {
    const value = parseTag(t.name)?.value ?? '';
    if (value && !TCID_PATTERN.test(value)) err(`${t.name}: a TCID consists of letters, digits, "_", "." and "-"`);
    if (t.level === 'feature' || t.level === 'rule') err(`${t.name} is written on the ${t.level === 'feature' ? 'Funktionalität' : 'Regel'}: a TCID belongs to one scenario (or Examples block)`);
  }

  const kinds = tagValues(s.tags, 'TESTFALL');
  if (kinds.length !== 1) err(kinds.length ? `more than one @TESTFALL (${kinds.join(', ')})` : 'missing @TESTFALL:positiv|negativ');
  for (const k of kinds) if (!(TEST_KINDS as readonly string[]).includes(k)) err(`@TESTFALL:${k}: allowed are ${TEST_KINDS.join(', ')}`);

  const products = tagValues(s.tags, 'PRODUKT');
  if (products.length === 0) err(`missing @PRODUKT:<${PRODUCTS.join('|')}>`);
  for (const p of products) if (!(PRODUCTS as readonly string[]).includes(p)) err(`@PRODUKT:${p} is not a known product type (${PRODUCTS.join(', ')})`);

  const actors = tagValues(s.tags, 'Hauptdarsteller');
  if (actors.length !== 1) err(actors.length ? `more than one @Hauptdarsteller (${actors.join(', ')})` : `missing @Hauptdarsteller:<${MAIN_ACTORS.join('|')}>`);
  for (const a of actors) if (!(MAIN_ACTORS as readonly string[]).includes(a)) err(`@Hauptdarsteller:${a} is not a known main actor (${MAIN_ACTORS.join(', ')})`);

  return errors;
}

/** TCIDs written at more than one place. */
export function checkTcidUniqueness(scenarios: readonly FeatureScenario[]): string[] {
  // TCID value → distinct places it was written (file:line of the tag)
  const places = new Map<string, Map<string, FeatureScenario>>();
  for (const s of scenarios) {
    for (const o of s.tagOrigins) {
      const p = parseTag(o.name);
      if (p?.key !== 'TCID' || !p.value) continue;
      const at = `${s.uri}:${o.line}`;
      const m = places.get(p.value) ?? new Map<string, FeatureScenario>();
      if (!m.has(at)) m.set(at, s);
      places.set(p.value, m);
    }
  }
  const errors: string[] = [];
  for (const [tcid, m] of places) {
    if (m.size > 1) {
      errors.push(`@TCID:${tcid} is not unique: used by ${[...m.values()].map(where).join(', ')}`);
    }
  }
  return errors;
}

/**
 * Parses every feature file below `featureDir` and checks all scenario tags.
 * URIs in the messages are relative to `baseDir` (default: the project root).
 */
export function checkFeatureTags(featureDir: string, catalogue: CatalogueView, baseDir = path.resolve(__dirname, '..', '..')): GateResult {
  const parsed = parseFeatureDir(featureDir, baseDir);
  const errors = [...parsed.errors];
  for (const s of parsed.scenarios) errors.push(...checkScenarioTags(s, catalogue));
  errors.push(...checkTcidUniqueness(parsed.scenarios));
  return { errors, scenarios: parsed.scenarios.length, files: parsed.files.length };
}

/** The text `ti-harness test` and `npm test` show for a gate result. */
export function formatGateResult(r: GateResult): string {
  if (r.errors.length === 0) return `feature tags OK: ${r.scenarios} scenarios in ${r.files} feature files\n`;
  return [
    `feature tag gate: ${r.errors.length} error(s) in ${r.scenarios} scenarios (${r.files} feature files):`,
    ...r.errors.map((e) => `  - ${e}`),
    'Tag rules: docs/writing-features.md',
    '',
  ].join('\n');
}

/** CLI entry: exit code 0 when all tags are valid, 1 otherwise. */
export function main(argv: string[] = process.argv.slice(2)): number {
  const root = path.resolve(__dirname, '..', '..');
  const dir = path.resolve(root, argv[0] ?? 'features');
  const result = checkFeatureTags(dir, projectCatalogue(), root);
  (result.errors.length ? process.stderr : process.stdout).write(formatGateResult(result));
  return result.errors.length ? 1 : 0;
}

if (isEntryPoint(module, __filename)) process.exit(main());
