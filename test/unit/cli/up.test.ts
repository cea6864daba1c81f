import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isPortOpen } from '../../../cli/conformance';
import { freePort } from '../../../simulators/lib/net-probe';

const ROOT = path.resolve(__dirname, '..', '..', '..');


test('ti-harness up prints the service table and stops everything on SIGTERM', { timeout: 60_000 }, async () => {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ti-up-'));
  const envFile = path.join(dir, 'up-test.yaml');
  fs.writeFileSync(envFile, `name: up-test\ndataDir: ${path.join(dir, 'data')}\nservices:\n  pki:\n    port: ${port}\n`);
  const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'ti-harness.js'), 'up', '--env', envFile, '--only', 'pki'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  try {
    const deadline = Date.now() + 50_000;
    while (!out.includes('Press Ctrl-C to stop')) {
      if (Date.now() > deadline || child.exitCode !== null) assert.fail(`up did not become ready:\n${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.match(out, new RegExp(`pki\\s+running\\s+http://127\\.0\\.0\\.1:${port}`));
    assert.equal(await isPortOpen('127.0.0.1', port), true, 'PKI listens while up runs');
    child.kill('SIGTERM');
    const code = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 15_000).unref())]);
    assert.notEqual(code, 'hung', `up did not exit within 15 s of SIGTERM (something was not stopped):\n${out}`);
    assert.equal(code, 0, out);
    assert.match(out, /all services stopped/);
    assert.equal(await isPortOpen('127.0.0.1', port), false, 'nothing listens after SIGTERM');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
