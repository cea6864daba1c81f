/**
 * The cards service: `ti-harness up --only cards` as a user runs it, the `ti-harness cards`
 * commands against it, its admin API, PC/SC access to the inserted cards, and a clean
 * stop on SIGTERM. Plus the service in-process for API details.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ATR } from '../../../cards/objsys';
import { isListening, isProcessAlive } from '../../../cards/pcscd/system';
import { catalogFrom, startCardsService, STUB_PERSONA, type RunningCardsService } from '../../../cards/service';
import { StubCard, STUB_ATR } from '../../../cards/vpcd/stub-card';
import { resolveEnvironment } from '../../../simulators/lib/config';
import { openReader } from '../../../simulators/lib/pcsc-reader';
import { freeVpcdBase, ROOT, run, waitFor } from './helpers';
import { freePort } from '../../../simulators/lib/net-probe';

const CLI = path.join(ROOT, 'bin', 'ti-harness.js');
/** The ATR of the G2.1 eGK object system. */
const EGK_ATR = ATR.eGK.toString('hex').toUpperCase();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ti-cards-'));
const children: ChildProcess[] = [];
const services: RunningCardsService[] = [];

after(async () => {
  for (const s of services) await s.stop().catch(() => undefined);
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  fs.rmSync(tmp, { recursive: true, force: true });
});


function writeEnv(name: string, adminPort: number, vpcdPort: number, insert: string[]): string {
  const file = path.join(tmp, `${name}.yaml`);
  const list = insert.map((p) => `\n    - ${p}`).join('');
  fs.writeFileSync(
    file,
    `name: ${name}\ndataDir: ${path.join(tmp, name)}\nservices:\n  cards:\n    port: ${adminPort}\ncards:\n  slots: 2\n  vpcdPort: ${vpcdPort}\n  insert:${list || ' []'}\n`,
  );
  return file;
}

const cli = (args: string[]) => run(process.execPath, [CLI, ...args], { timeoutMs: 30_000 });

test('ti-harness up --only cards: table with the slots, cards commands, PC/SC access, clean stop on SIGTERM', { timeout: 90_000 }, async () => {
  const adminPort = await freePort();
  const vpcdPort = await freeVpcdBase(44000, 2);
  const envFile = writeEnv('cards-up', adminPort, vpcdPort, ['jonas-keller']);
  const child = spawn(process.execPath, [CLI, 'up', '--env', envFile, '--only', 'cards'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  await waitFor(() => out.includes('Press Ctrl-C to stop') || child.exitCode !== null, 60_000, `up to become ready:\n${out}`);
  assert.match(out, new RegExp(`cards\\s+running\\s+http://127\\.0\\.0\\.1:${adminPort}`), out);
  assert.match(out, new RegExp(`slot 0\\s+TI Virtual PCD 0 00 00 · Jonas Keller \\(vpcd :${vpcdPort}\\)`), out);
  assert.match(out, new RegExp(`slot 1\\s+TI Virtual PCD 0 00 01 · empty \\(vpcd :${vpcdPort + 1}\\)`), out);

  // the admin API
  const overview = (await (await fetch(`http://127.0.0.1:${adminPort}/__admin/cards`)).json()) as {
    socket: string;
    pcscd: { pid: number; running: boolean };
    slots: { slot: number; persona: string | null; atr: string | null; state: string }[];
  };
  assert.equal(overview.pcscd.running, true);
  assert.deepEqual(
    overview.slots.map((s) => [s.slot, s.persona, s.atr, s.state]),
    [
      [0, 'Jonas Keller', EGK_ATR, 'inserted'],
      [1, null, null, 'removed'],
    ],
  );
  const bad = await fetch(`http://127.0.0.1:${adminPort}/__admin/cards/insert`, { method: 'POST', body: '{nope', headers: { 'content-type': 'application/json' } });
  assert.equal(bad.status, 400);
  assert.equal(((await bad.json()) as { error: string }).error, 'bad_request');

  // the CLI
  const list = await cli(['cards', 'list', '--env', envFile]);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, new RegExp(`0\\s+TI Virtual PCD 0 00 00\\s+Jonas Keller\\s+inserted\\s+${EGK_ATR}`));
  assert.match(list.stdout, /Dr\. Hanna Ebert\s+HBA · Dr\. Hanna Ebert/, 'the personas of cards/personas are offered');

  // the real eGK through PC/SC, from this process
  const egk = await openReader('TI Virtual PCD 0 00 00', { socket: overview.socket, timeoutMs: 5000 });
  try {
    assert.equal((await egk.waitForCard({ timeoutMs: 5000 })).toString('hex').toUpperCase(), EGK_ATR);
    assert.deepEqual(await egk.transmit(Buffer.from('00A4040C07D2760001448000', 'hex')), Buffer.from('9000', 'hex'));
  } finally {
    await egk.close();
  }
  assert.match(list.stdout, new RegExp(`export PCSCLITE_CSOCK_NAME=${overview.socket.replace(/[.]/g, '\\.')}`));
  const again = await cli(['cards', 'insert', 'egk/jonas-keller', '--env', envFile]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /the card of "Jonas Keller" is already in slot 0/);
  const unknown = await cli(['cards', 'insert', 'nobody', '--env', envFile]);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /unknown persona "nobody" \(known: .*stub-egk/);
  const removed = await cli(['cards', 'remove', 'Jonas Keller', '--env', envFile]);
  assert.equal(removed.code, 0, removed.stderr);
  assert.match(removed.stdout, /removed "Jonas Keller" from slot 0/);
  const inserted = await cli(['cards', 'insert', STUB_PERSONA, '--slot', '1', '--env', envFile]);
  assert.equal(inserted.code, 0, inserted.stderr);
  assert.match(inserted.stdout, /inserted "stub-egk" into slot 1 \(TI Virtual PCD 0 00 01\), ATR 3B898001805754492D53545542FF/);

  // the card in slot 1 through PC/SC, from this process
  const reader = await openReader('TI Virtual PCD 0 00 01', { socket: overview.socket, timeoutMs: 5000 });
  try {
    assert.deepEqual(await reader.waitForCard({ timeoutMs: 5000 }), STUB_ATR);
    assert.deepEqual(await reader.transmit(Buffer.from('00A4040C07D2760001448000', 'hex')), Buffer.from('9000', 'hex'));
  } finally {
    await reader.close();
  }

  child.kill('SIGTERM');
  const code = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 15_000).unref())]);
  assert.notEqual(code, 'hung', `up did not stop within 15 s:\n${out}`);
  assert.equal(code, 0, out);
  assert.match(out, /all services stopped/);
  assert.equal(isProcessAlive(overview.pcscd.pid), false, 'pcscd is gone');
  assert.equal(isListening(vpcdPort) || isListening(vpcdPort + 1) || isListening(adminPort), false, 'nothing listens any more');
  assert.equal(fs.existsSync(overview.socket), false, 'the PC/SC socket is gone');

  const notRunning = await cli(['cards', 'insert', STUB_PERSONA, '--env', envFile]);
  assert.equal(notRunning.code, 1);
  assert.match(notRunning.stderr, new RegExp(`the cards service is not running at http://127\\.0\\.0\\.1:${adminPort}.*ti-harness up`));
  const listOffline = await cli(['cards', 'list', '--env', envFile]);
  assert.equal(listOffline.code, 0);
  assert.match(listOffline.stdout, /stub-egk/);
  assert.match(listOffline.stdout, /not running/);
});

/** Runs the CLI in this process (fast), capturing what it writes. */
async function cliInProcess(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { main } = await import('../../../cli/main');
  let stdout = '';
  let stderr = '';
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((chunk: string | Uint8Array) => ((stdout += chunk.toString()), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => ((stderr += chunk.toString()), true)) as typeof process.stderr.write;
  try {
    return { code: await main(argv), stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

test('ti-harness cards: help and usage errors', async () => {
  const help = await cliInProcess(['cards', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /insert <persona> \[--slot n\]/);
  for (const sub of ['list', 'insert', 'remove']) {
    const r = await cliInProcess(['cards', sub, '--help']);
    assert.equal(r.code, 0, sub);
    assert.match(r.stdout, new RegExp(`Usage: ti-harness cards ${sub}`));
  }
  const mainHelp = await cliInProcess(['--help']);
  assert.match(mainHelp.stdout, /cards\s+list the virtual cards/);
  const noPersona = await cliInProcess(['cards', 'insert']);
  assert.equal(noPersona.code, 2);
  assert.match(noPersona.stderr, /insert needs a persona/);
  const badSlot = await cliInProcess(['cards', 'remove', '--slot', 'x']);
  assert.equal(badSlot.code, 2);
  assert.match(badSlot.stderr, /--slot needs a number/);
  const both = await cliInProcess(['cards', 'remove', 'stub-egk', '--slot', '1']);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /not both/);
  const bogus = await cliInProcess(['cards', 'shuffle']);
  assert.equal(bogus.code, 2);
  assert.match(bogus.stderr, /unknown subcommand "shuffle"/);
  // the real entry point, once
  const real = await cli(['cards', '--help']);
  assert.equal(real.code, 0);
  assert.equal(real.stdout, help.stdout);
});

test('the service in-process: concurrent inserts get different slots, clear API errors, unknown personas refused at start', async () => {
  const vpcdPort = await freeVpcdBase(44100, 2);
  const env = resolveEnvironment({ name: 'cards-inproc', services: { cards: { port: 1 } }, cards: { slots: 2, vpcdPort, insert: [] } }, 'inproc.yaml');
  const catalog = catalogFrom(
    new Map([
      ['alpha', { description: 'first', create: () => new StubCard() }],
      ['beta', { description: 'second', create: () => new StubCard() }],
      ['gamma', { description: 'third', create: () => new StubCard() }],
    ]),
  );
  const logs: string[] = [];
  const svc = await startCardsService({ host: '127.0.0.1', port: 0, dataDir: tmp, env, log: (m) => logs.push(m), catalog });
  services.push(svc);
  const [a, b] = await Promise.all([svc.insert('alpha'), svc.insert('beta')]);
  assert.deepEqual([a.slot, b.slot].sort(), [0, 1]);
  await assert.rejects(svc.insert('gamma'), /all 2 slots hold a card/);
  const post = (p: string, body: unknown) => fetch(`${svc.url}/__admin/cards/${p}`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  let r = await post('remove', {});
  assert.equal(r.status, 400);
  r = await post('remove', { persona: 'gamma' });
  assert.equal(r.status, 404);
  assert.equal(((await r.json()) as { error: string }).error, 'not_inserted');
  r = await post('insert', { persona: 'gamma', slot: 7 });
  assert.equal(r.status, 400);
  r = await post('insert', { persona: 'zeta' });
  assert.equal(r.status, 404);
  r = await post('remove', { slot: 0 });
  assert.equal(r.status, 200);
  r = await post('insert', { persona: 'gamma', slot: 0 });
  assert.equal(r.status, 200);
  assert.equal(((await r.json()) as { persona: string }).persona, 'gamma');
  assert.deepEqual(
    svc.slots().map((s) => s.persona),
    ['gamma', 'beta'],
  );
  await svc.stop();
  assert.equal(isProcessAlive(svc.pcscd.pid), false);
  assert.ok(svc.slots().every((s) => s.state === 'removed'));

  const badEnv = resolveEnvironment({ name: 'x', cards: { slots: 2, vpcdPort, insert: ['nobody'] } }, 'bad.yaml');
  await assert.rejects(startCardsService({ host: '127.0.0.1', port: 0, dataDir: tmp, env: badEnv, log: () => undefined, catalog }), /cards\.insert in bad\.yaml names unknown persona "nobody" \(known: alpha, beta, gamma\)/);
});
