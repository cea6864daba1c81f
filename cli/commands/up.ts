import { parseArgs } from '../args';
import { loadEnvironment } from '../../simulators/lib/config';
import { SERVICE_NAMES, type ServiceName } from '../../simulators/lib/ports';
import { SIMULATORS } from '../../simulators/registry';
import { formatServiceTable, startSimulatedTi } from '../../simulators/up';
import { UsageError } from '../args';

const HELP = `Usage: ti-harness up [--env <name>] [--only <service,…>]

Starts the simulated TI of the environment in the foreground and prints a table
of services and URLs. Ctrl-C (SIGINT) or SIGTERM stops everything it started.

Options:
  --env <name>         environment (default: $TI_ENV or "local")
  --only <a,b,…>       start only these services (${SERVICE_NAMES.join(', ')})
`;

export function parseOnly(value: string | true | undefined): ServiceName[] | undefined {
  if (value === undefined) return undefined;
  if (value === true) throw new UsageError('--only needs a value');
  const names = value.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = names.filter((n) => !(SERVICE_NAMES as string[]).includes(n));
  if (unknown.length) throw new UsageError(`unknown service(s) in --only: ${unknown.join(', ')} (known: ${SERVICE_NAMES.join(', ')})`);
  return names as ServiceName[];
}

export const command = {
  summary: 'start the simulated TI',
  async run(argv: string[]): Promise<number> {
    const { flags } = parseArgs(argv, { help: false, env: true, only: true });
    if (flags.has('help')) {
      process.stdout.write(HELP);
      return 0;
    }
    const env = loadEnvironment(flags.get('env') as string | undefined);
    const only = parseOnly(flags.get('only'));
    if (only) {
      const available = SERVICE_NAMES.filter((n) => SIMULATORS[n]);
      const missing = only.filter((n) => !SIMULATORS[n]);
      if (missing.length === only.length) {
        throw new UsageError(`no simulator exists yet for ${missing.join(', ')} (simulated today: ${available.join(', ')})`);
      }
      if (missing.length) process.stdout.write(`  note: no simulator exists yet for ${missing.join(', ')}; starting the others\n`);
    }
    const ti = await startSimulatedTi(env, { only, log: (m) => process.stdout.write(`  ${m}\n`) });
    process.stdout.write(`\nSimulated TI "${env.name}" (${env.source})\n\n${formatServiceTable(ti.rows)}\n\nPress Ctrl-C to stop.\n`);
    await new Promise<void>((resolve) => {
      const onSignal = (sig: NodeJS.Signals) => {
        process.stdout.write(`\n${sig}: stopping …\n`);
        resolve();
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
    });
    await ti.stop();
    process.stdout.write('all services stopped\n');
    return 0;
  },
};
