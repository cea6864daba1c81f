/**
 * Traceability report: requirement → scenarios → verify() assertions.
 *
 *   generateTrace()   reads reports/out/cucumber/messages.ndjson, reports/out/results/verify-*.ndjson,
 *                     features/**, the catalogue; writes reports/out/trace/{trace.json,trace.md,index.html}
 *
 * CLI: node bin/run-ts.js reports/trace/generate.ts
 * Status rules: model.ts; schema: docs/trace-json.md.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OUTPUT, PROJECT_ROOT } from '../paths';
import { projectCatalogue, type CatalogueView } from './catalogue-view';
import { isEntryPoint } from './entry-point';
import { parseFeatureDir } from './gherkin';
import { readMessages } from './messages';
import { buildTrace, type TraceReport } from './model';
import { readVerifyRecords } from './records';
import { renderHtml } from './render-html';
import { renderMarkdown } from './render-md';

export type { TraceReport } from './model';

export interface GenerateTraceOptions {
  /** Directory with verify-*.ndjson (default reports/out/results). */
  resultsDir?: string;
  /** Cucumber messages NDJSON (default reports/out/cucumber/messages.ndjson). */
  cucumberMessages?: string;
  /** Feature files, to list scenarios that did not run (default features). */
  featuresDir?: string;
  /** Output directory (default reports/out/trace). */
  outDir?: string;
  /** Default: the project catalogue. */
  catalogue?: CatalogueView;
  /** Shown in the report header, e.g. "gemSysL_eRp 1.1.0". */
  catalogueSource?: string;
  /** Relative paths resolve against this (default: the project root). */
  baseDir?: string;
  now?: Date;
}

export interface TraceFiles {
  json: string;
  markdown: string;
  html: string;
}

function describeSource(c: CatalogueView): string | undefined {
  const src = (c as { source?: { document?: string; version?: string } }).source;
  return src?.document ? `${src.document}${src.version ? ` ${src.version}` : ''}` : undefined;
}

/** Builds the report and writes trace.json, trace.md and index.html into outDir. */
export function generateTrace(options: GenerateTraceOptions = {}): TraceReport & { files: TraceFiles } {
  const base = options.baseDir ?? PROJECT_ROOT;
  const abs = (p: string | undefined, dflt: string) => (p ? path.resolve(base, p) : dflt);
  const resultsDir = abs(options.resultsDir, OUTPUT.results);
  const messagesFile = abs(options.cucumberMessages, OUTPUT.cucumberMessages);
  const featuresDir = abs(options.featuresDir, path.join(PROJECT_ROOT, 'features'));
  const outDir = abs(options.outDir, OUTPUT.trace);
  const catalogue = options.catalogue ?? projectCatalogue();

  const messages = readMessages(messagesFile);
  const { records, problems } = readVerifyRecords(resultsDir);
  const features = parseFeatureDir(featuresDir, base);
  const report = buildTrace({
    catalogue,
    catalogueSource: options.catalogueSource ?? describeSource(catalogue),
    messages,
    records,
    recordProblems: [...problems, ...features.errors],
    features: features.scenarios,
    generatedAt: options.now,
  });

  fs.mkdirSync(outDir, { recursive: true });
  const files: TraceFiles = {
    json: path.join(outDir, 'trace.json'),
    markdown: path.join(outDir, 'trace.md'),
    html: path.join(outDir, 'index.html'),
  };
  fs.writeFileSync(files.json, `${JSON.stringify(report, null, 2)}\n`);
  fs.writeFileSync(files.markdown, renderMarkdown(report));
  fs.writeFileSync(files.html, renderHtml(report));
  return { ...report, files };
}

/** One-paragraph text summary for the CLI. */
export function formatTraceSummary(t: TraceReport): string {
  const s = t.summary;
  return [
    `traceability: executable requirements covered ${s.executable.covered}/${s.executable.total} (${s.executable.coveredPercent} %): ` +
      `${s.executable.passed} passed, ${s.executable.failed} failed, ${s.executable.untested} untested; ${s.requirements.documented} documented`,
    `  infrastructure checks: ${s.infrastructure.passed} passed, ${s.infrastructure.failed} failed, ${s.infrastructure.untested} untested` +
      ` · scenarios: ${s.scenarios.passed} passed, ${s.scenarios.failed} failed, ${s.scenarios.broken} broken, ${s.scenarios['not-run']} not run` +
      ` · assertions: ${s.assertions.passed} passed, ${s.assertions.failed} failed, ${s.assertions.broken} broken`,
    ...(t.warnings.length ? [`  ${t.warnings.length} warning(s), see the report`] : []),
    '',
  ].join('\n');
}

if (isEntryPoint(module, __filename)) {
  try {
    const t = generateTrace();
    process.stdout.write(formatTraceSummary(t));
    process.stdout.write(`  ${path.relative(process.cwd(), t.files.html)}\n`);
  } catch (e) {
    process.stderr.write(`trace: ${(e as Error).message}\n`);
    process.exit(1);
  }
}
