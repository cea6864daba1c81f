import * as path from 'node:path';

/** True when `file` is the program: `node file.ts` or `node bin/run-ts.js file.ts`. */
export function isEntryPoint(mod: NodeModule, file: string): boolean {
  return require.main === mod || path.resolve(process.argv[1] ?? '') === file;
}
