/** Shared helpers of the PKI unit tests (temporary dirs, running the openssl CLI). */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { sharedPath } from '../../../simulators/lib/shared-data';

export const REFERENCE_DIR = sharedPath('reference');

export function tempDir(prefix = 'pki-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function writeFile(dir: string, name: string, content: string | Buffer): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, content);
  return file;
}

export interface OpensslResult {
  status: number | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr together (openssl prints verification results on either). */
  all: string;
}

export function openssl(args: string[], input?: Buffer | string): OpensslResult {
  const r = spawnSync('openssl', args, { input, encoding: 'utf8', timeout: 20_000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, all: `${r.stdout}\n${r.stderr}` };
}

/** Runs openssl asynchronously (needed when it talks to a server in this same process). */
export function opensslAsync(args: string[]): Promise<OpensslResult> {
  return new Promise((resolve, reject) => {
    const p = spawn('openssl', args);
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => p.kill('SIGKILL'), 20_000);
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    p.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    p.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr, all: `${stdout}\n${stderr}` });
    });
  });
}
