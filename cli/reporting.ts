/** Writes both reports of a conformance run and builds the summary the CLI prints. */
import * as path from 'node:path';
import { generateAllureReport } from '../reports/allure/generate';
import { formatTraceSummary, generateTrace } from '../reports/trace/generate';

export interface ReportSummary {
  text: string;
  scenariosFailed: number;
  allureIndex?: string;
  traceIndex: string;
  /** Set when the Allure report was requested but could not be written. */
  allureProblem?: string;
}

const rel = (p: string) => path.relative(process.cwd(), p) || p;

export async function writeReports(opts: { allure: boolean }): Promise<ReportSummary> {
  const trace = generateTrace();
  const s = trace.summary;
  let allureIndex: string | undefined;
  let allureProblem: string | undefined;
  if (opts.allure) {
    try {
      allureIndex = await generateAllureReport();
    } catch (e) {
      allureProblem = (e as Error).message;
    }
  }
  const scenariosFailed = s.scenarios.failed + s.scenarios.broken + (s.scenarios.undefined ?? 0) + (s.scenarios.ambiguous ?? 0);
  const lines = [
    `scenarios: ${s.scenarios.run} run — ${s.scenarios.passed} passed, ${s.scenarios.failed} failed, ${s.scenarios.broken} broken`,
    '',
    formatTraceSummary(trace).trimEnd(),
    '',
    'reports:',
    allureIndex ? `  Allure report          ${rel(allureIndex)}` : opts.allure ? `  Allure report          NOT written: ${allureProblem}` : '  Allure report          skipped (--no-allure)',
    `  traceability matrix    ${rel(trace.files.html)}`,
    `  trace (JSON, Markdown) ${rel(trace.files.json)}, ${rel(trace.files.markdown)}`,
    '',
  ];
  return { text: lines.join('\n'), scenariosFailed, allureIndex, allureProblem, traceIndex: trace.files.html };
}
