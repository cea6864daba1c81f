import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from '../args';
import { OUTPUT, PROJECT_ROOT } from '../../reports/paths';
import { writeReports } from '../reporting';

const HELP = `Usage: ti-harness report [--no-allure]

Turns the results of the last "ti-harness test" run into
  reports/out/allure/index.html          Allure report (needs Java 17)
  reports/out/trace/index.html           traceability matrix (requirement → scenarios → assertions)
  reports/out/trace/trace.json           the same, machine-readable (schema: docs/trace-json.md)
  reports/out/trace/trace.md

Options:
  --no-allure   write only the traceability matrix
`;

export const command = {
  summary: 'write the reports',
  async run(argv: string[]): Promise<number> {
    const { flags } = parseArgs(argv, { help: false, 'no-allure': false });
    if (flags.has('help')) {
      process.stdout.write(HELP);
      return 0;
    }
    if (!fs.existsSync(OUTPUT.cucumberMessages)) {
      process.stderr.write(`no test results found (${path.relative(PROJECT_ROOT, OUTPUT.cucumberMessages)}): run "ti-harness test" first\n`);
      return 1;
    }
    const summary = await writeReports({ allure: !flags.has('no-allure') });
    process.stdout.write(summary.text);
    return summary.allureProblem ? 1 : 0;
  },
};
