/** Where a run writes its output (all under the git-ignored reports/out). */
import * as path from 'node:path';

export const PROJECT_ROOT = path.resolve(__dirname, '..');
export const OUT_DIR = path.join(PROJECT_ROOT, 'reports', 'out');

export const OUTPUT = {
  /** verify() records, one NDJSON file per Cucumber worker. */
  results: path.join(OUT_DIR, 'results'),
  cucumber: path.join(OUT_DIR, 'cucumber'),
  cucumberMessages: path.join(OUT_DIR, 'cucumber', 'messages.ndjson'),
  allureResults: path.join(OUT_DIR, 'allure-results'),
  allureReport: path.join(OUT_DIR, 'allure'),
  trace: path.join(OUT_DIR, 'trace'),
} as const;

/** Directories a new conformance run starts empty, so reports never mix runs. */
export const PER_RUN_DIRS = [OUTPUT.results, OUTPUT.cucumber, OUTPUT.allureResults] as const;
