import * as path from 'node:path';
import { parseArgs, UsageError } from '../args';
import { loadEnvironment, type Environment } from '../../simulators/lib/config';
import { ADMIN_PATH } from '../../simulators/lib/ports';
import { defaultCatalog, type SlotView } from '../../cards/service';

const HELP = `Usage: ti-harness cards <list|insert|remove> [options]

The virtual cards (eGK, HBA, SMC-B personas) in the PC/SC readers of the running
simulated TI. insert and remove talk to the cards service of "ti-harness up".

Subcommands:
  list                          the personas, and which slot holds which card
  insert <persona> [--slot n]   put a persona's card into a reader (first free slot by default)
  remove <persona> | --slot n   take a card out

Options:
  --env <name>   environment (default: $TI_ENV or "local")
  --json         list: machine-readable output
  -h, --help     help (also: ti-harness cards <subcommand> --help)
`;

const SUB_HELP: Record<string, string> = {
  list: `Usage: ti-harness cards list [--env <name>] [--json]

Lists the personas whose cards the harness can insert. When the cards service is
running (ti-harness up), also shows each PC/SC reader slot with the card in it, and
how to point PC/SC tools (pcsc_scan, opensc-tool) at the virtual readers.
`,
  insert: `Usage: ti-harness cards insert <persona> [--slot <n>] [--env <name>]

Inserts the persona's card into slot n (default: the first free slot) of the
running cards service. The card is visible through PC/SC when the command returns.
<persona> is a name as "ti-harness cards list" shows it (quote names with spaces:
"Dr. Hanna Ebert"), an id (hba/dr-hanna-ebert) or a file slug (dr-hanna-ebert).
`,
  remove: `Usage: ti-harness cards remove <persona> [--env <name>]
       ti-harness cards remove --slot <n> [--env <name>]

Takes the persona's card (or the card in slot n) out of its reader.
`,
};

interface CardsOverview {
  socket: string;
  pcscd: { pid: number; running: boolean };
  vpcdPort: number;
  slots: SlotView[];
  personas: { name: string; description: string; slot: number | null }[];
}

export class ServiceNotRunning extends Error {
  override name = 'ServiceNotRunning';
}

const REQUEST_TIMEOUT_MS = 15_000;

function adminUrl(env: Environment, path: string): string {
  return `${env.services.cards.url}${ADMIN_PATH}/cards${path}`;
}

/** Calls the cards admin API; throws ServiceNotRunning when nothing answers, Error with the service's message otherwise. */
export async function callCardsAdmin<T>(env: Environment, method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const url = adminUrl(env, path);
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).name;
    throw new ServiceNotRunning(
      `the cards service is not running at ${env.services.cards.url} (${cause}): start the simulated TI with "ti-harness up" ` +
        '(or "ti-harness up --only cards") in another terminal',
    );
  }
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`${method} ${url}: HTTP ${res.status}, not JSON: ${text.slice(0, 200)}`);
  }
  if (!res.ok) throw new Error((parsed as { message?: string }).message ?? `${method} ${url}: HTTP ${res.status}`);
  return parsed as T;
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n');
}

export function formatOverview(o: CardsOverview, serviceUrl: string): string {
  const lines = [`Cards service ${serviceUrl} (pcscd pid ${o.pcscd.pid}${o.pcscd.running ? '' : ', NOT RUNNING'})`, ''];
  lines.push(
    table([
      ['SLOT', 'READER', 'PERSONA', 'STATE', 'ATR'],
      ...o.slots.map((s) => [String(s.slot), s.reader, s.persona ?? '-', s.state === 'removed' ? 'empty' : s.state, s.atr ?? '']),
    ]),
  );
  lines.push('', 'Personas:');
  const width = Math.max(...o.personas.map((p) => p.name.length), 8);
  for (const p of o.personas) lines.push(`  ${p.name.padEnd(width)}  ${p.slot === null ? '          ' : `in slot ${p.slot}`}  ${p.description}`);
  lines.push(
    '',
    'PC/SC tools against the virtual readers:',
    `  export PCSCLITE_CSOCK_NAME=${o.socket}`,
    '  pcsc_scan -r;  opensc-tool --list-readers;  opensc-tool --reader 0 --send-apdu 00A4040C07D2760001448000',
  );
  return `${lines.join('\n')}\n`;
}

function offlineCatalog(env: Environment) {
  return defaultCatalog(env, path.join(env.dataDir, 'cards'));
}

async function list(env: Environment, asJson: boolean): Promise<number> {
  let overview: CardsOverview | undefined;
  let notRunning: string | undefined;
  try {
    overview = await callCardsAdmin<CardsOverview>(env, 'GET', '');
  } catch (e) {
    if (!(e instanceof ServiceNotRunning)) throw e;
    notRunning = e.message;
  }
  if (asJson) {
    const catalog = offlineCatalog(env);
    const personas = overview?.personas ?? catalog.names().map((name) => ({ name, description: catalog.describe(name), slot: null }));
    process.stdout.write(`${JSON.stringify({ running: !!overview, ...(overview ?? {}), personas }, null, 2)}\n`);
    return 0;
  }
  if (overview) {
    process.stdout.write(formatOverview(overview, env.services.cards.url));
    return 0;
  }
  const catalog = offlineCatalog(env);
  const width = Math.max(...catalog.names().map((n) => n.length), 8);
  const lines = ['Personas:', ...catalog.names().map((n) => `  ${n.padEnd(width)}  ${catalog.describe(n)}`), '', `(${notRunning})`];
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

function parseSlot(value: string | true | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (value === true || !/^\d+$/.test(value)) throw new UsageError(`--slot needs a number, got ${String(value)}`);
  return Number(value);
}

export const command = {
  summary: 'list, insert and remove the virtual cards',
  async run(argv: string[]): Promise<number> {
    const [sub, ...rest] = argv;
    if (!sub || sub === '--help' || sub === '-h' || sub === 'help') {
      process.stdout.write(HELP);
      return sub ? 0 : 2;
    }
    if (!SUB_HELP[sub]) throw new UsageError(`unknown subcommand "${sub}" (list, insert, remove)`);
    const { flags, rest: positional } = parseArgs(rest, { help: false, env: true, json: false, slot: true }, true);
    if (flags.has('help')) {
      process.stdout.write(SUB_HELP[sub]);
      return 0;
    }
    const unknownOption = positional.find((a) => a.startsWith('-'));
    if (unknownOption) throw new UsageError(`unknown option ${unknownOption}`);
    const env = loadEnvironment(flags.get('env') as string | undefined);
    try {
      if (sub === 'list') {
        if (positional.length) throw new UsageError(`list takes no arguments, got ${positional.join(' ')}`);
        return await list(env, flags.has('json'));
      }
      const slot = parseSlot(flags.get('slot'));
      if (positional.length > 1) throw new UsageError(`one persona at a time, got ${positional.join(' ')}`);
      const persona = positional[0];
      if (sub === 'insert') {
        if (!persona) throw new UsageError('insert needs a persona (ti-harness cards list shows them)');
        const s = await callCardsAdmin<SlotView>(env, 'POST', '/insert', { persona, slot });
        process.stdout.write(`inserted "${s.persona}" into slot ${s.slot} (${s.reader}), ATR ${s.atr}\n`);
        return 0;
      }
      if (!persona && slot === undefined) throw new UsageError('remove needs a persona or --slot <n>');
      if (persona && slot !== undefined) throw new UsageError('give a persona or --slot, not both');
      const s = await callCardsAdmin<SlotView>(env, 'POST', '/remove', persona ? { persona } : { slot });
      process.stdout.write(`removed "${s.persona}" from slot ${s.slot} (${s.reader})\n`);
      return 0;
    } catch (e) {
      if (e instanceof UsageError) throw e;
      process.stderr.write(`ti-harness cards ${sub}: ${(e as Error).message}\n`);
      return 1;
    }
  },
};
