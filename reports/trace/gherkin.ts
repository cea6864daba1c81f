/**
 * Reads feature files the way Cucumber does (same parser, same pickle
 * compiler: @cucumber/gherkin), so the gate and the traceability report see
 * exactly the scenarios, tags and lines Cucumber runs.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AstBuilder, GherkinClassicTokenMatcher, Parser, compile } from '@cucumber/gherkin';

/** Where a tag was written. TCIDs must sit on a scenario or an Examples block. */
export type TagLevel = 'feature' | 'rule' | 'scenario' | 'examples';

export interface FeatureScenario {
  /** Feature file path relative to `baseDir`, POSIX separators (Cucumber's pickle.uri when run from the project root). */
  uri: string;
  feature: string;
  /** Scenario name (for outlines: with the example values substituted, as Cucumber shows it). */
  name: string;
  /** 1-based line of the scenario, or of the Examples row for outline pickles. */
  line: number;
  /** Effective tags (feature + rule + scenario + examples), as Cucumber's pickle has them. */
  tags: string[];
  /** Each effective tag with where it was written. */
  tagOrigins: { name: string; level: TagLevel; line: number }[];
  /** AST id of the Scenario / Scenario Outline (stable within one parse). */
  scenarioId: string;
  steps: number;
}

export interface FeatureParseResult {
  scenarios: FeatureScenario[];
  /** Files that did not parse, with the parser's message. */
  errors: string[];
  files: string[];
}

/** All *.feature files below `dir`, sorted. */
export function listFeatureFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFeatureFiles(p));
    else if (entry.isFile() && entry.name.endsWith('.feature')) out.push(p);
  }
  return out.sort();
}

function toPosix(p: string): string {
  return p.split(path.sep).join('/');
}

/** Parses one feature file's text. `uri` is used in results and messages. */
export function parseFeatureText(text: string, uri: string, defaultLanguage = 'de'): FeatureScenario[] {
  let n = 0;
  const newId = () => String(n++);
  const parser = new Parser(new AstBuilder(newId), new GherkinClassicTokenMatcher(defaultLanguage));
  const doc = parser.parse(text);
  const feature = doc.feature;
  if (!feature) return [];

  // tag AST id → where it was written
  const origins = new Map<string, { level: TagLevel; line: number }>();
  const note = (tags: readonly { id: string; location: { line: number } }[], level: TagLevel) => {
    for (const t of tags) origins.set(t.id, { level, line: t.location.line });
  };
  note(feature.tags, 'feature');
  const visitScenario = (sc: NonNullable<(typeof feature.children)[number]['scenario']>) => {
    note(sc.tags, 'scenario');
    for (const ex of sc.examples) note(ex.tags, 'examples');
  };
  for (const child of feature.children) {
    if (child.scenario) visitScenario(child.scenario);
    if (child.rule) {
      note(child.rule.tags, 'rule');
      for (const rc of child.rule.children) if (rc.scenario) visitScenario(rc.scenario);
    }
  }

  const pickles = compile(doc, uri, newId);
  return pickles.map((p) => ({
    uri,
    feature: feature.name,
    name: p.name,
    line: p.location?.line ?? 0,
    tags: p.tags.map((t) => t.name),
    tagOrigins: p.tags.map((t) => ({ name: t.name, ...(origins.get(t.astNodeId) ?? { level: 'scenario' as TagLevel, line: 0 }) })),
    scenarioId: p.astNodeIds[0],
    steps: p.steps.length,
  }));
}

/**
 * Parses every feature file below `featureDir`. URIs are relative to
 * `baseDir` (default: the current directory, as Cucumber computes them).
 */
export function parseFeatureDir(featureDir: string, baseDir = process.cwd()): FeatureParseResult {
  const files = listFeatureFiles(featureDir);
  const scenarios: FeatureScenario[] = [];
  const errors: string[] = [];
  for (const file of files) {
    const uri = toPosix(path.relative(baseDir, file));
    try {
      scenarios.push(...parseFeatureText(fs.readFileSync(file, 'utf8'), uri));
    } catch (e) {
      errors.push(`${uri}: does not parse: ${(e as Error).message.split('\n').join(' | ')}`);
    }
  }
  return { scenarios, errors, files: files.map((f) => toPosix(path.relative(baseDir, f))) };
}
