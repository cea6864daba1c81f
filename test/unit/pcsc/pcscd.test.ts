/**
 * The real stack: pcscd (own mount namespace) + the vpcd driver + our bridge + the
 * stub card, checked with independent PC/SC tools (pcsc_scan, opensc-tool) and with
 * simulators/lib/pcsc-reader (pcsc-mini). One pcscd for the whole file.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { personaCatalog } from '../../../cards/index';
import { ATR } from '../../../cards/objsys';
import { spawn } from 'node:child_process';
import { PcscdError, startPcscd, type PcscdHandle } from '../../../cards/pcscd/daemon';
import { defaultRunDir } from '../../../cards/pcscd/layout';
import { VPCD_LOOPBACK_HOST } from '../../../cards/pcscd/quickack';
import { findProcesses, isListening, isProcessAlive } from '../../../cards/pcscd/system';
import { VpcdConnection } from '../../../cards/vpcd/connection';
import { STUB_ATR, StubCard } from '../../../cards/vpcd/stub-card';
import { PcscClient, PcscError, usePcscSocket } from '../../../simulators/lib/pcsc-reader';
import { freeVpcdBase, ROOT, run, waitFor } from './helpers';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const SELECT_ROOT = hex('00A4040C07D2760001448000');

let pcscd: PcscdHandle;
let client: PcscClient;
const connections: VpcdConnection[] = [];
let toolEnv: NodeJS.ProcessEnv;

function insert(slot: number): Promise<VpcdConnection> {
  const conn = new VpcdConnection({ card: new StubCard(), port: pcscd.layout.slots[slot].port, host: pcscd.vpcdHost });
  connections.push(conn);
  return conn.insert().then(() => conn);
}

before(async () => {
  const base = await freeVpcdBase(43000, 4);
  pcscd = await startPcscd({ slots: 4, vpcdPort: base, startTimeoutMs: 10_000 });
  usePcscSocket(pcscd.socketPath);
  client = PcscClient.open();
  toolEnv = { PCSCLITE_CSOCK_NAME: pcscd.socketPath };
});

after(async () => {
  client?.close();
  for (const c of connections) await c.remove();
  await pcscd?.stop();
});

test('pcscd runs with 4 vpcd readers on its own socket, connected through the quick-ACK loopback address', async () => {
  assert.ok(pcscd.running);
  assert.ok(fs.existsSync(pcscd.socketPath));
  assert.equal(pcscd.vpcdHost, VPCD_LOOPBACK_HOST, 'quick-ACK route (root) is available here');
  for (const s of pcscd.layout.slots) assert.ok(isListening(s.port), `vpcd listens on ${s.port}`);
  const scan = await run('timeout', ['10', 'pcsc_scan', '-r'], { env: toolEnv });
  assert.equal(scan.code, 0, scan.stderr);
  for (const s of pcscd.layout.slots) assert.ok(scan.stdout.includes(s.readerName), `pcsc_scan lists ${s.readerName}:\n${scan.stdout}`);
  // the system socket is not ours: pcscd really runs isolated
  assert.notEqual(pcscd.socketPath, '/run/pcscd/pcscd.comm');
});

test('an inserted card shows in pcsc_scan with its ATR, and opensc-tool gets 9000 for SELECT of the eGK root application', async () => {
  await insert(0);
  const cards = await run('timeout', ['10', 'pcsc_scan', '-c', '-n'], { env: toolEnv });
  assert.equal(cards.code, 0, cards.stderr);
  const atrHex = STUB_ATR.toString('hex').toUpperCase().match(/../g)!.join(' ');
  assert.ok(cards.stdout.includes(atrHex), `pcsc_scan shows the ATR ${atrHex}:\n${cards.stdout}`);

  const tool = await run('timeout', ['15', 'opensc-tool', '--reader', '0', '--atr', '--send-apdu', '00A4040C07D2760001448000', '--send-apdu', '00A4040C03A00000'], { env: toolEnv });
  assert.equal(tool.code, 0, `${tool.stdout}\n${tool.stderr}`);
  assert.ok(tool.stdout.toLowerCase().includes(STUB_ATR.toString('hex').match(/../g)!.join(':')), tool.stdout);
  assert.match(tool.stdout, /Sending: 00 A4 04 0C 07 D2 76 00 01 44 80 00\s*\nReceived \(SW1=0x90, SW2=0x00\)/);
  assert.match(tool.stdout, /Received \(SW1=0x6A, SW2=0x82\)/);
});

test('the real eGK (card OS, persona Jonas Keller) in slot 1: opensc-tool and pcsc-reader select its root application', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ti-pcsc-egk-'));
  try {
    const catalog = personaCatalog({ pkiDir: path.join(dir, 'pki'), cacheDir: path.join(dir, 'cards') });
    const egk = catalog.create('Jonas Keller');
    const conn = new VpcdConnection({ card: egk, port: pcscd.layout.slots[1].port, host: pcscd.vpcdHost });
    connections.push(conn);
    await conn.insert();
    const tool = await run('timeout', ['15', 'opensc-tool', '--reader', '1', '--atr', '--send-apdu', '00A4040C07D2760001448000'], { env: toolEnv });
    assert.equal(tool.code, 0, `${tool.stdout}\n${tool.stderr}`);
    assert.ok(tool.stdout.includes(ATR.eGK.toString('hex').match(/../g)!.join(':')), tool.stdout);
    assert.match(tool.stdout, /Received \(SW1=0x90, SW2=0x00\)/);
    const reader = await client.reader(pcscd.layout.slots[1].readerName);
    assert.deepEqual(await reader.waitForCard({ timeoutMs: 5000 }), ATR.eGK);
    assert.deepEqual(await reader.transmit(SELECT_ROOT), hex('9000'));
    await reader.disconnect();
    await conn.remove();
    await reader.waitForRemoval({ timeoutMs: 5000 });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('pcsc-reader: ATR from the card state, a short and an extended APDU', async () => {
  const reader = await client.reader(pcscd.layout.slots[0].readerName);
  assert.deepEqual(await reader.waitForCard({ timeoutMs: 5000 }), STUB_ATR);
  assert.deepEqual(await reader.transmit(SELECT_ROOT), hex('9000'));
  const data = Buffer.alloc(4096);
  for (let i = 0; i < data.length; i++) data[i] = i & 0xff;
  const ext = Buffer.concat([hex('80EE0000001000'), data, hex('0000')]);
  const rsp = await reader.transmit(ext);
  assert.equal(rsp.length, 4098, 'extended response through the 65540-byte buffer');
  assert.deepEqual(rsp, Buffer.concat([data, hex('9000')]));
  // two commands at once are serialized, each gets its own answer
  const [a, b] = await Promise.all([reader.transmit(hex('80EE00000111')), reader.transmit(hex('80EE00000122'))]);
  assert.deepEqual([a, b], [hex('119000'), hex('229000')]);
  await assert.rejects(reader.transmit(hex('00A4')), (e: Error) => e instanceof PcscError && e.code === 'InvalidApdu');
  await reader.disconnect();
});

test('a transaction keeps other PC/SC clients out until it ends (opensc-tool waits)', async () => {
  const reader = await client.reader(pcscd.layout.slots[0].readerName);
  await reader.waitForCard({ timeoutMs: 5000 });
  const HOLD_MS = 1500;
  let toolDoneAt = 0;
  let released = 0;
  let tool: Promise<{ stdout: string }> | undefined;
  const t0 = Date.now();
  await reader.transaction(async () => {
    assert.deepEqual(await reader.transmit(SELECT_ROOT), hex('9000'), 'our own APDUs pass inside the transaction');
    tool = run('timeout', ['15', 'opensc-tool', '--reader', '0', '--send-apdu', '00A4040C07D2760001448000'], { env: toolEnv }).then((r) => {
      toolDoneAt = Date.now();
      return r;
    });
    await new Promise((r) => setTimeout(r, HOLD_MS));
    released = Date.now();
  });
  assert.ok(tool, 'opensc-tool was started');
  const out = await tool;
  assert.match(out.stdout, /SW1=0x90, SW2=0x00/, out.stdout);
  assert.ok(toolDoneAt >= released, `opensc-tool finished ${released - toolDoneAt} ms before our transaction ended`);
  assert.ok(toolDoneAt - t0 >= HOLD_MS, 'the other client waited for the transaction');
  await reader.disconnect();
});

test('removing the card: the reader sees it leave and transmit says so; re-inserting works', async () => {
  const reader = await client.reader(pcscd.layout.slots[0].readerName);
  await reader.waitForCard({ timeoutMs: 5000 });
  const conn = connections[0];
  await conn.remove();
  await reader.waitForRemoval({ timeoutMs: 5000 });
  assert.equal(reader.status().present, false);
  await assert.rejects(reader.transmit(SELECT_ROOT), (e: Error) => e instanceof PcscError && /no card|removed/.test(e.message));
  const cards = await run('timeout', ['10', 'pcsc_scan', '-c', '-n'], { env: toolEnv });
  assert.doesNotMatch(cards.stdout, /3B 89 80 01/, 'pcsc_scan no longer shows the card');
  await conn.insert();
  assert.deepEqual(await reader.waitForCard({ timeoutMs: 5000 }), STUB_ATR);
  assert.deepEqual(await reader.transmit(SELECT_ROOT), hex('9000'));
  await reader.disconnect();
});

test('a card inserted at run time into another slot is seen there, the others stay empty', async () => {
  await insert(3);
  const last = await client.reader(pcscd.layout.slots[3].readerName);
  assert.deepEqual(await last.waitForCard({ timeoutMs: 5000 }), STUB_ATR);
  assert.deepEqual(await last.transmit(SELECT_ROOT), hex('9000'));
  await last.disconnect();
  const states = client.readerStates();
  assert.deepEqual(
    states.map((s) => [s.name, s.present]),
    pcscd.layout.slots.map((s) => [s.readerName, s.slot === 0 || s.slot === 3]),
    'slot 1 (the eGK) was emptied again',
  );
  await assert.rejects(client.reader('No Such Reader 00 00', 300), /waiting for reader\(s\) No Such Reader 00 00: not within 300 ms/);
});

test('a second pcscd on the same ports is refused, naming the process that holds them', async () => {
  await assert.rejects(
    startPcscd({ slots: 2, vpcdPort: pcscd.layout.vpcdPort, runDir: `${pcscd.paths.runDir}-second` }),
    (e: Error) => e instanceof PcscdError && new RegExp(`vpcd port ${pcscd.layout.vpcdPort} \\(slot 0\\) is in use by pid ${pcscd.pid} \\(.*pcscd`).test(e.message),
  );
  const blocker = net.createServer();
  const base = await freeVpcdBase(43500, 2);
  await new Promise<void>((r) => blocker.listen(base + 1, '0.0.0.0', r));
  try {
    await assert.rejects(startPcscd({ slots: 2, vpcdPort: base }), new RegExp(`vpcd port ${base + 1} \\(slot 1\\) is in use by pid ${process.pid}`));
  } finally {
    await new Promise<void>((r) => blocker.close(() => r()));
  }
  assert.equal(findProcesses('pcscd').filter((p) => p.cmdline.includes(`${pcscd.paths.runDir}-second`)).length, 0);
});

test('pcscd dies with the process that started it, even on SIGKILL', async () => {
  const base = await freeVpcdBase(43600, 2);
  const script = `require('ts-node').register({ transpileOnly: true });
    require('./cards/pcscd/daemon').startPcscd({ slots: 2, vpcdPort: ${base} }).then((h) => { console.log('PID', h.pid); setInterval(() => {}, 1000); });`;
  const child = spawn(process.execPath, ['-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let pid = 0;
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  try {
    await waitFor(() => /PID \d+/.test(out) || child.exitCode !== null, 20_000, `the child to start pcscd:\n${out}`);
    pid = Number(/PID (\d+)/.exec(out)?.[1]);
    assert.ok(isProcessAlive(pid), out);
    child.kill('SIGKILL');
    await waitFor(() => !isProcessAlive(pid), 5000, `pcscd ${pid} to die with its parent`);
    await waitFor(() => !isListening(base) && !isListening(base + 1), 3000, 'the vpcd ports to close');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    // if pcscd outlived its parent (the bug this test looks for), do not leave it behind
    if (pid && isProcessAlive(pid)) process.kill(pid, 'SIGKILL');
    fs.rmSync(defaultRunDir(base), { recursive: true, force: true });
  }
});

test('stop(): pcscd is gone, its ports and socket too, and a second stop is harmless', async () => {
  const base = await freeVpcdBase(43700, 2);
  const h = await startPcscd({ slots: 2, vpcdPort: base });
  const conn = new VpcdConnection({ card: new StubCard(), port: base, host: h.vpcdHost, reconnectDelayMs: 20 });
  await conn.insert();
  await h.stop();
  assert.equal(h.running, false);
  assert.equal(isProcessAlive(h.pid), false);
  assert.equal(isListening(base) || isListening(base + 1), false);
  assert.equal(fs.existsSync(h.socketPath), false);
  assert.equal(fs.existsSync(h.paths.pidFile), false);
  await h.stop();
  // the bridge lost vpcd: it tries to reconnect until the card is removed
  await waitFor(() => conn.state === 'reconnecting', 3000, 'the bridge to notice');
  await conn.remove();
  assert.equal(conn.state, 'removed');
});

test('not root: the error says why root is needed and what to do', async () => {
  const script = "require('ts-node').register({ transpileOnly: true }); require('./cards/pcscd/daemon').startPcscd({ slots: 2, vpcdPort: 45000 }).catch((e) => { console.log(e.name + ': ' + e.message); process.exit(3); });";
  const r = await run('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '-e', script], { timeoutMs: 30_000 });
  assert.equal(r.code, 3, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /PcscdError: the virtual cards need root: .*mount namespace.*sudo -E npx ti-harness up.*--only pki/);
});
