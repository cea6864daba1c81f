/** ti-harness: command-line entry of the TI conformance harness. */
import { UsageError } from './args';
import { ConfigError } from '../simulators/lib/config';
import { StartError } from '../simulators/up';

interface Command {
  summary: string;
  run(argv: string[]): Promise<number>;
}

const COMMANDS: Record<string, () => Promise<Command>> = {
  up: async () => (await import('./commands/up')).command,
  test: async () => (await import('./commands/test')).command,
  report: async () => (await import('./commands/report')).command,
  catalogue: async () => (await import('./commands/catalogue')).command,
  run: async () => (await import('./commands/run')).command,
  cards: async () => (await import('./commands/cards')).command,
};

const SUMMARIES: Record<string, string> = {
  up: 'start the simulated TI in the foreground (Ctrl-C stops it)',
  test: 'run the conformance features against the configured environment',
  report: 'write the Allure report and the traceability matrix',
  catalogue: 'print the requirement catalogue (206 requirements, 23 use cases)',
  run: 'the main job: start the TI, run all features, write both reports, print the summary',
  cards: 'list the virtual cards; insert or remove them while "ti-harness up" runs',
};

export const MAIN_HELP = `ti-harness — conformance test harness for the TI (E-Rezept, PoPP)

Usage: ti-harness <command> [options]

Commands:
${Object.entries(SUMMARIES)
  .map(([k, v]) => `  ${k.padEnd(10)} ${v}`)
  .join('\n')}

Global options:
  --env <name>   environment from config/environments/<name>.yaml (default: $TI_ENV or "local")
  -h, --help     help for a command: ti-harness <command> --help
`;

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    const sub = name === 'help' ? rest[0] : undefined;
    if (sub && COMMANDS[sub]) return (await COMMANDS[sub]()).run(['--help']);
    process.stdout.write(MAIN_HELP);
    return name ? 0 : 2;
  }
  const load = COMMANDS[name];
  if (!load) {
    process.stderr.write(`ti-harness: unknown command "${name}"\n\n${MAIN_HELP}`);
    return 2;
  }
  try {
    return await (await load()).run(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`ti-harness ${name}: ${e.message} (see ti-harness ${name} --help)\n`);
      return 2;
    }
    if (e instanceof ConfigError || e instanceof StartError) {
      process.stderr.write(`ti-harness ${name}: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
