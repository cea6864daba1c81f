/** Shared helpers of the PC/SC tests: free vpcd ports, child processes with timeouts, polling. */
import { spawn } from 'node:child_process';
import { isPortFree } from '../../../cards/pcscd/system';

export const ROOT = require('node:path').resolve(__dirname, '..', '..', '..') as string;

/**
 * A base port with `count` free consecutive ports, searched from `from` (each test
 * file uses its own range, so files running in parallel never pick the same ports).
 */
export async function freeVpcdBase(from: number, count: number): Promise<number> {
  for (let base = from; base < from + 1000; base += count) {
    let free = true;
    for (let p = base; p < base + count && free; p++) free = await isPortFree(p);
    if (free) return base;
  }
  throw new Error(`no ${count} free consecutive ports in ${from}..${from + 999}`);
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Runs a program to completion (killed after timeoutMs), without blocking the event loop. */
export function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...opts.env }, cwd: opts.cwd ?? ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // gone
      }
    }, opts.timeoutMs ?? 15_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: 127, stdout, stderr: `${stderr}${e.message}`, timedOut });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut });
    });
  });
}

/** Polls `check` until it returns true; fails after timeoutMs with `what`. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
