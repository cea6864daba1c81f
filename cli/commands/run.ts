import { parseArgs } from '../args';
import { loadEnvironment } from '../../simulators/lib/config';
import { formatServiceTable } from '../../simulators/up';
import { clearRunOutput, ensureServices, runCucumber } from '../conformance';
import { writeReports } from '../reporting';

const HELP = `Usage: ti-harness run [--env <name>] [cucumber options…]

The main job (what "npm start" runs after the bootstrap):
  1. start the simulated TI of the environment
  2. run all conformance features
  3. write the Allure report and the traceability matrix
  4. print pass/fail counts, requirement coverage and the report paths
  5. stop everything it started
Exit code: 0 when all scenarios passed, 1 otherwise.
`;

function banner(title: string): void {
  process.stdout.write(`\n=== ${title} ${'='.repeat(Math.max(0, 70 - title.length))}\n`);
}

export const command = {
  summary: 'the main job',
  async run(argv: string[]): Promise<number> {
    const { flags, rest } = parseArgs(argv, { help: false, env: true }, true);
    if (flags.has('help')) {
      process.stdout.write(HELP);
      return 0;
    }
    const env = loadEnvironment(flags.get('env') as string | undefined);
    const log = (m: string) => process.stdout.write(`  ${m}\n`);
    banner(`1/3 starting the simulated TI "${env.name}"`);
    const ti = await ensureServices(env, log);
    if (ti) process.stdout.write(`\n${formatServiceTable(ti.rows)}\n`);
    try {
      banner('2/3 running the conformance features');
      clearRunOutput();
      const run = await runCucumber(env, rest);
      banner('3/3 writing the reports');
      const summary = await writeReports({ allure: true });
      banner('summary');
      process.stdout.write(summary.text);
      return run.exitCode === 0 && summary.scenariosFailed === 0 && !summary.allureProblem ? 0 : 1;
    } finally {
      if (ti) {
        await ti.stop();
        process.stdout.write('simulated TI stopped\n');
      }
    }
  },
};
