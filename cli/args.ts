/** Minimal option parsing shared by the subcommands. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export interface ParsedArgs {
  flags: Map<string, string | true>;
  /** Arguments not consumed (for pass-through, e.g. to Cucumber). */
  rest: string[];
}

/**
 * Parses `known` options (name → takes a value?) out of argv; unknown options
 * are either an error or, with `passThrough`, left in `rest` in order.
 */
export function parseArgs(argv: string[], known: Record<string, boolean>, passThrough = false): ParsedArgs {
  const flags = new Map<string, string | true>();
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const m = /^--([^=]+)(?:=(.*))?$/.exec(arg);
    const name = m?.[1];
    if (m && name !== undefined && name in known) {
      if (known[name]) {
        const value = m[2] ?? argv[++i];
        if (value === undefined || (m[2] === undefined && value.startsWith('--'))) throw new UsageError(`--${name} needs a value`);
        flags.set(name, value);
      } else {
        flags.set(name, true);
      }
    } else if (arg === '-h' && 'help' in known) {
      flags.set('help', true);
    } else if (passThrough) {
      rest.push(arg);
    } else {
      throw new UsageError(`unknown option ${arg}`);
    }
  }
  return { flags, rest };
}
