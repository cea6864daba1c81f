/**
 * The PC/SC path of the virtual cards: APDU round trips through pcscd and vpcd, and
 * ECDSA signatures by the card OS through PC/SC, against raw node:crypto signatures
 * (the crypto ceiling) measured in the same run.
 *
 *   cards.apdu       SELECT of the eGK root application, stub card:   latency median / p99, throughput
 *   cards.apdu_ext   4 KiB extended ECHO (80 EE) to the stub card:     latency median
 *   crypto.bp256     node:crypto sign('sha256', …) brainpoolP256r1:      throughput
 *   cards.sign_os    CardOs PSO COMPUTE DIGITAL SIGNATURE in-process:  throughput, ratio to crypto.bp256
 *   cards.sign       the same through PC/SC (VERIFY once, then PSO CDS): throughput, ratios to crypto.bp256 and cards.sign_os
 */
import * as crypto from 'node:crypto';
import { startPcscd, type PcscdHandle } from '../cards/pcscd/daemon';
import { VpcdConnection } from '../cards/vpcd/connection';
import { ROOT_APPLICATION_AID, StubCard } from '../cards/vpcd/stub-card';
import type { VirtualCard } from '../cards/vpcd/types';
import { PcscClient, usePcscSocket, type PcscReader } from '../simulators/lib/pcsc-reader';
import { percentile, round, benchVpcdPorts, type BenchContext, type Benchmark } from './run';

const SELECT_ROUND_TRIPS = 500;
const EXTENDED_ROUND_TRIPS = 100;
const WARM_UP = 50;
const MEASURE_MS = 2000;
const PIN = '123456';
const SIGNING_KEY_ID = 6;

const SELECT_ROOT = Buffer.concat([Buffer.from([0x00, 0xa4, 0x04, 0x0c, ROOT_APPLICATION_AID.length]), ROOT_APPLICATION_AID]);


function ok(rsp: Buffer, what: string): Buffer {
  if (rsp.length < 2 || rsp[rsp.length - 2] !== 0x90 || rsp[rsp.length - 1] !== 0x00) {
    throw new Error(`${what}: card answered ${rsp.subarray(-2).toString('hex') || 'nothing'}`);
  }
  return rsp.subarray(0, rsp.length - 2);
}

async function timeRoundTrips(reader: PcscReader, apdu: Buffer, n: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    const rsp = await reader.transmit(apdu);
    samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
    ok(rsp, `round trip ${i}`);
  }
  return samples.sort((a, b) => a - b);
}

/** Runs `op` for about `ms` milliseconds; returns operations per second. */
async function throughput(op: () => unknown | Promise<unknown>, ms = MEASURE_MS): Promise<{ perSecond: number; count: number }> {
  const t0 = process.hrtime.bigint();
  let count = 0;
  let elapsed = 0;
  while (elapsed < ms) {
    await op();
    count++;
    elapsed = Number(process.hrtime.bigint() - t0) / 1e6;
  }
  return { perSecond: (count * 1000) / elapsed, count };
}

interface SigningCard {
  /** A new card (own state) holding the same key. */
  create(): VirtualCard;
  publicKey: crypto.KeyObject;
}

/**
 * A minimal card for signing, built with the card OS (MF, PIN 1, brainpoolP256r1
 * signECDSA key 6 usable after PIN 1). Undefined when the card OS is not available.
 */
function buildSigningCard(ctx: BenchContext): SigningCard | undefined {
  let os: {
    CardOs: new (o: unknown) => VirtualCard;
    builder: {
      mf(o: unknown): unknown;
      pin(o: unknown): unknown;
      key(o: unknown): unknown;
      objectSystem(o: unknown): unknown;
    };
  };
  try {
    os = { CardOs: require('../cards/os/card').CardOs, builder: require('../cards/os/builder') };
  } catch (e) {
    ctx.log(`signature figures skipped: the card OS (cards/os) could not be loaded: ${(e as Error).message}`);
    return undefined;
  }
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'brainpoolP256r1' });
  const b = os.builder;
  const atr = Buffer.from('3B898001805754492D42454E4348', 'hex');
  const create = () => {
    const root = b.mf({
      children: [b.pin({ name: 'PIN.CH', id: 1, secret: PIN }), b.key({ name: 'PrK.BENCH', id: SIGNING_KEY_ID, privateKey, usage: 'signECDSA', use: { pin: 1 } })],
    });
    return new os.CardOs(b.objectSystem({ name: 'bench-signer', atr, root }));
  };
  try {
    create();
  } catch (e) {
    ctx.log(`signature figures skipped: the card OS builder API did not accept the signing card: ${(e as Error).message}`);
    return undefined;
  }
  return { create, publicKey };
}

function pinBlock(digits: string): Buffer {
  return Buffer.from(`2${digits.length.toString(16)}${digits}`.padEnd(16, 'f'), 'hex');
}

const VERIFY_PIN = Buffer.concat([Buffer.from([0x00, 0x20, 0x00, 0x01, 0x08]), pinBlock(PIN)]);
const MSE_SET_SIGN = Buffer.from([0x00, 0x22, 0x41, 0xb6, 0x06, 0x84, 0x01, SIGNING_KEY_ID, 0x80, 0x01, 0x00]);

function psoCds(digest: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0x00, 0x2a, 0x9e, 0x9a, digest.length]), digest, Buffer.from([0x00])]);
}

async function measureSignatures(ctx: BenchContext, signer: SigningCard, reader: PcscReader, rawPerSecond: number): Promise<void> {
  const message = Buffer.from('ti-harness signature benchmark');
  const digest = crypto.createHash('sha256').update(message).digest();

  // The card OS alone (no PC/SC): VERIFY, MSE SET, then PSO CDS in a loop.
  const direct = signer.create();
  direct.powerOn();
  ok(direct.transmit(VERIFY_PIN), 'VERIFY (in-process)');
  ok(direct.transmit(MSE_SET_SIGN), 'MSE SET (in-process)');
  const os = await throughput(() => ok(direct.transmit(psoCds(digest)), 'PSO CDS (in-process)'));
  ctx.emit({ bench: 'cards.sign_os', metric: 'throughput', value: round(os.perSecond), unit: '1/s', baseline: 'crypto.bp256', ratio: round(os.perSecond / rawPerSecond, 3) });

  // Through PC/SC.
  ok(await reader.transmit(VERIFY_PIN), 'VERIFY');
  ok(await reader.transmit(MSE_SET_SIGN), 'MSE SET');
  const signature = ok(await reader.transmit(psoCds(digest)), 'PSO CDS');
  const valid = crypto.verify('sha256', message, { key: signer.publicKey, dsaEncoding: 'ieee-p1363' }, signature);
  if (!valid) throw new Error('the card signature does not verify with the card key');
  const pcsc = await throughput(async () => ok(await reader.transmit(psoCds(digest)), 'PSO CDS'));
  ctx.emit({ bench: 'cards.sign', metric: 'throughput', value: round(pcsc.perSecond), unit: '1/s', baseline: 'crypto.bp256', ratio: round(pcsc.perSecond / rawPerSecond, 3) });
  ctx.emit({ bench: 'cards.sign', metric: 'throughput', value: round(pcsc.perSecond), unit: '1/s', baseline: 'cards.sign_os', ratio: round(pcsc.perSecond / os.perSecond, 3) });
  ctx.log(`signatures: node:crypto ${round(rawPerSecond)}/s, card OS in-process ${round(os.perSecond)}/s (${os.count}), through PC/SC ${round(pcsc.perSecond)}/s (${pcsc.count})`);
}

export const benchmark: Benchmark = {
  name: 'cards',
  description: 'APDU latency through pcscd + vpcd, card signatures through PC/SC vs node:crypto',
  async run(ctx) {
    // The crypto ceiling first, while nothing else runs.
    const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'brainpoolP256r1' });
    const data = Buffer.from('ti-harness signature benchmark');
    const raw = await throughput(() => crypto.sign('sha256', data, privateKey));
    ctx.emit({ bench: 'crypto.bp256', metric: 'sign_throughput', value: round(raw.perSecond), unit: '1/s' });

    const vpcdPort = await benchVpcdPorts();
    let pcscd: PcscdHandle | undefined;
    const connections: VpcdConnection[] = [];
    let client: PcscClient | undefined;
    try {
      pcscd = await startPcscd({ slots: 2, vpcdPort, log: (m) => ctx.log(m) });
      usePcscSocket(pcscd.socketPath);
      const stub = new VpcdConnection({ card: new StubCard(), port: pcscd.layout.slots[0].port, host: pcscd.vpcdHost });
      connections.push(stub);
      await stub.insert();
      const signer = buildSigningCard(ctx);
      if (signer) {
        const conn = new VpcdConnection({ card: signer.create(), port: pcscd.layout.slots[1].port, host: pcscd.vpcdHost });
        connections.push(conn);
        await conn.insert();
      }
      client = PcscClient.open();
      const reader = await client.reader(pcscd.layout.slots[0].readerName);
      await reader.waitForCard({ timeoutMs: 10_000 });

      for (let i = 0; i < WARM_UP; i++) ok(await reader.transmit(SELECT_ROOT), 'warm-up');
      const samples = await timeRoundTrips(reader, SELECT_ROOT, SELECT_ROUND_TRIPS);
      const total = samples.reduce((a, b) => a + b, 0);
      ctx.emit({ bench: 'cards.apdu', metric: 'latency_median', value: round(percentile(samples, 50)), unit: 'ms' });
      ctx.emit({ bench: 'cards.apdu', metric: 'latency_p99', value: round(percentile(samples, 99)), unit: 'ms' });
      ctx.emit({ bench: 'cards.apdu', metric: 'throughput', value: round((samples.length * 1000) / total), unit: '1/s' });

      const payload = crypto.randomBytes(4096);
      const echo = Buffer.concat([Buffer.from([0x80, 0xee, 0x00, 0x00, 0x00, payload.length >> 8, payload.length & 0xff]), payload, Buffer.from([0x00, 0x00])]);
      const echoed = ok(await reader.transmit(echo), 'extended ECHO');
      if (!echoed.equals(payload)) throw new Error('extended ECHO returned other data');
      const ext = await timeRoundTrips(reader, echo, EXTENDED_ROUND_TRIPS);
      ctx.emit({ bench: 'cards.apdu_ext', metric: 'latency_median', value: round(percentile(ext, 50)), unit: 'ms' });

      if (signer) {
        const signReader = await client.reader(pcscd.layout.slots[1].readerName);
        await signReader.waitForCard({ timeoutMs: 10_000 });
        await measureSignatures(ctx, signer, signReader, raw.perSecond);
        await signReader.disconnect();
      }
      await reader.disconnect();
    } finally {
      client?.close();
      for (const c of connections) await c.remove();
      await pcscd?.stop();
    }
  },
};
