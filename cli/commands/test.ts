import { parseArgs } from '../args';
import { loadEnvironment } from '../../simulators/lib/config';
import { clearRunOutput, ensureServices, runCucumber } from '../conformance';

const HELP = `Usage: ti-harness test [--env <name>] [--no-start] [cucumber options…]

Runs the conformance features (features/**/*.feature) against the environment.
Simulated services that are not already listening (e.g. from "ti-harness up")
are started for the run and stopped afterwards. Results go to reports/out/
(Cucumber messages, Allure results, verify records); "ti-harness report" turns
them into reports.

Options:
  --env <name>     environment (default: $TI_ENV or "local")
  --no-start       do not start simulators; expect them to be running or external
  Any other option is passed to Cucumber, for example:
    --tags '@AFO-ID:A_18498 and not @simulator-only'
    --name 'OCSP'
    --parallel 2
    features/infrastruktur/pki-ocsp.feature
`;

export const command = {
  summary: 'run the conformance features',
  async run(argv: string[]): Promise<number> {
    const { flags, rest } = parseArgs(argv, { help: false, env: true, 'no-start': false }, true);
    if (flags.has('help')) {
      process.stdout.write(HELP);
      return 0;
    }
    const env = loadEnvironment(flags.get('env') as string | undefined);
    const log = (m: string) => process.stdout.write(`  ${m}\n`);
    const ti = flags.has('no-start') ? undefined : await ensureServices(env, log);
    try {
      clearRunOutput();
      const run = await runCucumber(env, rest);
      return run.exitCode;
    } finally {
      await ti?.stop();
    }
  },
};
