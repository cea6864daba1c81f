/**
 * The vpcd bridge against a fake vpcd in this process (no pcscd): framing on a real
 * TCP connection, insertion semantics, reconnects, removal, errors.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { VpcdConnection, type VpcdConnectionState } from '../../../cards/vpcd/connection';
import { encodeFrame, FrameDecoder, VpcdControl } from '../../../cards/vpcd/framing';
import { STUB_ATR, StubCard } from '../../../cards/vpcd/stub-card';
import { waitFor } from './helpers';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** One accepted connection of the fake vpcd: send messages, read the card's answers. */
class Peer {
  private readonly decoder = new FrameDecoder();
  private readonly frames: Buffer[] = [];
  private waiting: (() => void) | undefined;
  closed = false;

  constructor(readonly socket: net.Socket) {
    socket.on('data', (c: Buffer) => {
      this.frames.push(...this.decoder.push(c));
      this.waiting?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.waiting?.();
    });
    socket.on('error', () => undefined);
  }

  send(payload: Buffer): void {
    this.socket.write(encodeFrame(payload));
  }

  async next(timeoutMs = 2000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length === 0) {
      if (this.closed) throw new Error('connection closed while waiting for a frame');
      if (Date.now() > deadline) throw new Error('no frame from the card');
      await new Promise<void>((resolve) => {
        this.waiting = resolve;
        setTimeout(resolve, 50);
      });
    }
    return this.frames.shift()!;
  }

  async request(payload: Buffer): Promise<Buffer> {
    this.send(payload);
    return this.next();
  }
}

/** A TCP server speaking vpcd's side of the protocol. */
class FakeVpcd {
  readonly peers: Peer[] = [];
  private constructor(
    readonly server: net.Server,
    readonly port: number,
  ) {}

  /**
   * greeting 'pcscd' (default): what pcscd does with a new card: presence poll (ATR
   * request), power up, ATR request. 'poll': the presence poll only. 'none': silence.
   */
  static async start(opts: { greeting?: 'pcscd' | 'poll' | 'none' } = {}): Promise<FakeVpcd> {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const fake = new FakeVpcd(server, (server.address() as net.AddressInfo).port);
    server.on('connection', (s) => {
      const peer = new Peer(s);
      fake.peers.push(peer);
      const greeting = opts.greeting ?? 'pcscd';
      if (greeting !== 'none') peer.send(Buffer.from([VpcdControl.GET_ATR]));
      if (greeting === 'pcscd') {
        peer.send(Buffer.from([VpcdControl.POWER_ON]));
        peer.send(Buffer.from([VpcdControl.GET_ATR]));
      }
    });
    return fake;
  }

  async peer(index: number, timeoutMs = 3000): Promise<Peer> {
    await waitFor(() => this.peers.length > index, timeoutMs, `connection #${index + 1} to the fake vpcd`);
    return this.peers[index];
  }

  async close(): Promise<void> {
    for (const p of this.peers) p.socket.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

async function setup(opts: { greeting?: 'pcscd' | 'poll' | 'none'; maxPayload?: number; insertTimeoutMs?: number; powerUpGraceMs?: number } = {}) {
  const fake = await FakeVpcd.start(opts);
  const card = new StubCard();
  const states: VpcdConnectionState[] = [];
  const logs: string[] = [];
  const conn = new VpcdConnection({
    card,
    port: fake.port,
    reconnectDelayMs: 20,
    maxPayload: opts.maxPayload,
    insertTimeoutMs: opts.insertTimeoutMs,
    powerUpGraceMs: opts.powerUpGraceMs,
    log: (m) => logs.push(m),
    onStateChange: (s) => states.push(s),
  });
  cleanups.push(async () => {
    await conn.remove();
    await fake.close();
  });
  return { fake, card, conn, states, logs };
}

test('insert resolves once vpcd has polled the card; power, reset, ATR and APDUs follow the protocol', async () => {
  const { fake, card, conn, states } = await setup();
  const t0 = Date.now();
  await conn.insert();
  assert.ok(Date.now() - t0 < 500, 'insert resolved after the power-up, without waiting for the grace time');
  assert.equal(conn.state, 'inserted');
  assert.equal(card.powered, true, 'pcscd powered the card up before insert() resolved');
  const peer = await fake.peer(0);
  assert.deepEqual(await peer.next(), STUB_ATR, 'the first poll was answered with the ATR');
  assert.deepEqual(await peer.next(), STUB_ATR, 'the ATR request after power-up too');
  peer.send(Buffer.from([VpcdControl.POWER_ON]));
  peer.send(Buffer.from([VpcdControl.RESET]));
  assert.deepEqual(await peer.request(Buffer.from([VpcdControl.GET_ATR])), STUB_ATR, 'no reply to power on/reset, then the ATR');
  assert.equal(card.powered, true);
  assert.deepEqual(await peer.request(hex('00A4040C07D2760001448000')), hex('9000'));
  peer.send(Buffer.from([VpcdControl.POWER_OFF]));
  assert.deepEqual(await peer.request(hex('00B0000000')), hex('6D00'));
  assert.equal(card.powered, false);
  assert.equal(conn.stats.apdus, 2);
  assert.equal(conn.stats.atrRequests, 3);
  assert.deepEqual(states, ['inserting', 'inserted']);
});

test('messages split into single bytes, and several messages in one chunk, are handled in order', async () => {
  const { fake, conn } = await setup();
  await conn.insert();
  const peer = await fake.peer(0);
  await peer.next();
  await peer.next();
  const frame = encodeFrame(hex('80EE000003AABBCC00'));
  for (const b of frame) {
    peer.socket.write(Buffer.from([b]));
    await new Promise((r) => setTimeout(r, 2));
  }
  assert.deepEqual(await peer.next(), hex('AABBCC9000'));
  peer.socket.write(Buffer.concat([encodeFrame(hex('80EE00000101')), encodeFrame(Buffer.from([VpcdControl.GET_ATR])), encodeFrame(hex('80EE00000102'))]));
  assert.deepEqual(await peer.next(), hex('019000'));
  assert.deepEqual(await peer.next(), STUB_ATR);
  assert.deepEqual(await peer.next(), hex('029000'));
  // an extended APDU with 4 KiB each way
  const data = Buffer.alloc(4096, 0x42);
  assert.deepEqual(await peer.request(Buffer.concat([hex('80EE0000001000'), data, hex('0000')])), Buffer.concat([data, hex('9000')]));
});

test('an oversized message makes the bridge drop the connection and connect again', async () => {
  const { fake, conn, logs } = await setup({ maxPayload: 300 });
  await conn.insert();
  const first = await fake.peer(0);
  await first.next();
  first.socket.write(hex('0400')); // announces 1024 bytes
  await waitFor(() => first.closed, 2000, 'the bridge to close the broken stream');
  const second = await fake.peer(1);
  assert.deepEqual(await second.next(), STUB_ATR, 'the card is back after the reconnect');
  await waitFor(() => conn.state === 'inserted', 2000, 'state inserted');
  assert.ok(logs.some((l) => /announced a 1024-byte message/.test(l)), logs.join('\n'));
});

test('when vpcd drops the connection the bridge re-connects until the card is removed', async () => {
  const { fake, conn, states } = await setup();
  await conn.insert();
  (await fake.peer(0)).socket.destroy();
  const again = await fake.peer(1);
  assert.deepEqual(await again.next(), STUB_ATR);
  await waitFor(() => conn.state === 'inserted', 2000, 'state inserted');
  assert.deepEqual(states, ['inserting', 'inserted', 'reconnecting', 'inserted']);
  assert.equal(conn.stats.connects, 2);

  await conn.remove();
  assert.equal(conn.state, 'removed');
  await waitFor(() => again.closed, 2000, 'vpcd to see the card leave');
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(fake.peers.length, 2, 'no reconnect after remove()');
  // and the card can be inserted again
  await conn.insert();
  assert.deepEqual(await (await fake.peer(2)).next(), STUB_ATR);
});

test('insert fails clearly when nothing listens, or when vpcd never polls the card', async () => {
  const closed = net.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as net.AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));
  const conn = new VpcdConnection({ card: new StubCard(), port, insertTimeoutMs: 400 });
  const t0 = Date.now();
  await assert.rejects(conn.insert(), /nothing accepts connections at 127\.0\.0\.1:\d+ within 400 ms.*is pcscd running/s);
  assert.ok(Date.now() - t0 < 2000, 'gave up in time');
  assert.equal(conn.state, 'removed');

  const { conn: silent } = await setup({ greeting: 'none', insertTimeoutMs: 400 });
  await assert.rejects(silent.insert(), /accepted the connection but did not poll the card within 400 ms.*another card already in this slot/s);
  assert.equal(silent.state, 'removed');
  await assert.rejects(
    (async () => {
      const { conn: c } = await setup();
      await c.insert();
      await c.insert();
    })(),
    /already inserted/,
  );
  assert.throws(() => new VpcdConnection({ card: new StubCard(), port: 70000 }), RangeError);
});

test('without a power-up after the first poll, insert waits the grace time and then counts the card as inserted', async () => {
  const { conn } = await setup({ greeting: 'poll', powerUpGraceMs: 300 });
  const t0 = Date.now();
  await conn.insert();
  const took = Date.now() - t0;
  assert.ok(took >= 280 && took < 2000, `waited ${took} ms`);
  assert.equal(conn.state, 'inserted');
});

test('a card whose ATR vpcd could not take (over 65535 bytes) costs the connection, not the process', async () => {
  const fake = await FakeVpcd.start();
  const card = Object.assign(new StubCard(), { atr: Buffer.alloc(70_000) });
  const logs: string[] = [];
  const conn = new VpcdConnection({ card, port: fake.port, insertTimeoutMs: 500, log: (m) => logs.push(m) });
  cleanups.push(async () => {
    await conn.remove();
    await fake.close();
  });
  await assert.rejects(conn.insert(), /vpcd closed the connection before polling the card/);
  assert.ok(logs.some((l) => /payload too large: 70000 bytes/.test(l)), logs.join('\n'));
  assert.equal(conn.state, 'removed');
});
