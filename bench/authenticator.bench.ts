/**
 * The card side of the IDP login: IDP challenge signatures per second through the two
 * ChallengeSigner implementations, against raw node:crypto brainpoolP256r1 signatures measured
 * in the same run.
 *
 *   authenticator.crypto_bp256     node:crypto sign('sha256', challenge) with a brainpoolP256r1 key:  throughput (baseline)
 *   authenticator.egk_pcsc         EgkPcscSigner.signDigest (one PC/SC transaction: card check, C.CH.AUT,
 *                                  VERIFY MRPIN.home, MSE SET, PSO CDS):                               throughput, latency median
 *   authenticator.smcb_konnektor   KonnektorSmcbSigner.signDigest (ExternalAuthenticate over SOAP/HTTPS,
 *                                  the Konnektor's MSE SET + PSO CDS on the SMC-B through PC/SC):       throughput, latency median
 *
 * Needs root (the harness's pcscd runs in its own mount namespace) like bench/cards.bench.ts.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { personaCatalog } from '../cards/index';
import { planLayout } from '../cards/pcscd/layout';
import { catalogFrom, startCardsService, type RunningCardsService } from '../cards/service';
import { EgkPcscSigner } from '../simulators/authenticator/signers/egk-pcsc';
import { KonnektorSmcbSigner } from '../simulators/authenticator/signers/konnektor-smcb';
import type { ChallengeSigner } from '../simulators/authenticator/signer';
import { bp256VerifyDigest } from '../simulators/lib/bp256';
import { resolveEnvironment } from '../simulators/lib/config';
import { freePort } from '../simulators/lib/net-probe';
import { parseCertificate, toPem } from '../simulators/lib/x509';
import { startKonnektor, type RunningKonnektor } from '../simulators/konnektor/service';
import { loadOrCreatePki } from '../simulators/pki/hierarchy';
import { benchVpcdPorts, percentile, round, type BenchContext, type Benchmark } from './run';

const MEASURE_MS = 3000;
const WARM_UP = 20;
const SMCB = 'Praxis Dr. Hanna Ebert';
const EGK = 'Jonas Keller';
/** The Konnektor's default information model (no konnektor section in the environment). */
const CONTEXT = { mandantId: 'Mandant-SIM', clientSystemId: 'CS-SIM', workplaceId: 'WP-SIM' };

/** Runs `op` for about `ms`; operations per second and the sorted latencies (ms). */
async function measure(op: () => unknown | Promise<unknown>, ms = MEASURE_MS): Promise<{ perSecond: number; count: number; latencies: number[] }> {
  const t0 = process.hrtime.bigint();
  const latencies: number[] = [];
  let elapsed = 0;
  while (elapsed < ms) {
    const t = process.hrtime.bigint();
    await op();
    const now = process.hrtime.bigint();
    latencies.push(Number(now - t) / 1e6);
    elapsed = Number(now - t0) / 1e6;
  }
  return { perSecond: (latencies.length * 1000) / elapsed, count: latencies.length, latencies: latencies.sort((a, b) => a - b) };
}

/** Signs fresh challenges in a loop; checks the first signature against the AUT certificate. */
async function measureSigner(signer: ChallengeSigner): Promise<{ perSecond: number; count: number; latencies: number[] }> {
  const key = parseCertificate(await signer.autCertificate()).publicKey;
  const first = crypto.createHash('sha256').update(crypto.randomBytes(32)).digest();
  if (!bp256VerifyDigest(first, await signer.signDigest(first), key)) throw new Error(`${signer.label}: the signature does not verify with its AUT certificate`);
  for (let i = 0; i < WARM_UP; i++) await signer.signDigest(first);
  return measure(() => signer.signDigest(crypto.createHash('sha256').update(crypto.randomBytes(32)).digest()));
}

export const benchmark: Benchmark = {
  name: 'authenticator',
  description: 'IDP challenge signatures through the eGK signer (PC/SC) and the SMC-B signer (Konnektor SOAP + PC/SC) vs raw node:crypto brainpoolP256r1',
  async run(ctx: BenchContext) {
    const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'brainpoolP256r1' });
    const measureRaw = () => measure(() => crypto.sign('sha256', crypto.randomBytes(32), privateKey));
    const rawBefore = await measureRaw();

    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ti-bench-authenticator-'));
    const quiet = () => undefined;
    let cards: RunningCardsService | undefined;
    let konnektor: RunningKonnektor | undefined;
    const signers: ChallengeSigner[] = [];
    try {
      const vpcdPort = await benchVpcdPorts();
      const [pkiPort, cardsPort] = [await freePort(), await freePort()];
      const env = resolveEnvironment(
        { name: 'bench-authenticator', dataDir: tmp, services: { pki: { port: pkiPort }, cards: { port: cardsPort }, konnektor: { port: 1 } }, cards: { slots: 2, vpcdPort, insert: [] } } as never,
        path.join(tmp, 'bench-authenticator.yaml'),
      );
      const pki = await loadOrCreatePki(path.join(tmp, 'pki'));
      const personas = personaCatalog({ pki, cacheDir: path.join(tmp, 'cards') });
      const entries = new Map([SMCB, EGK].map((n) => [n, { description: n, create: () => personas.create(n) }]));
      cards = await startCardsService({ host: '127.0.0.1', port: cardsPort, dataDir: path.join(tmp, 'cards'), env, log: quiet, catalog: catalogFrom(entries) });
      await cards.insert(SMCB, 0);
      await cards.insert(EGK, 1);
      konnektor = await startKonnektor({ host: '127.0.0.1', port: 0, dataDir: path.join(tmp, 'konnektor'), env, log: quiet, pki });
      const deadline = Date.now() + 20_000;
      while (konnektor.context.cards.list().length < 2) {
        if (Date.now() > deadline) throw new Error('the Konnektor did not identify the cards through PC/SC');
        await new Promise((r) => setTimeout(r, 50));
        await konnektor.context.cards.settled();
      }

      const egk = new EgkPcscSigner({ persona: EGK, socket: cards.socketPath, reader: planLayout(2, vpcdPort).slots[1].readerName });
      signers.push(egk);
      const smcb = new KonnektorSmcbSigner({ konnektor: { url: konnektor.url, ca: toPem(pki.rootCertificate), context: CONTEXT }, persona: SMCB });
      signers.push(smcb);

      const egkFigures = await measureSigner(egk);
      const smcbFigures = await measureSigner(smcb);
      const rawAfter = await measureRaw();
      // the machine is shared: the better of the two crypto runs is the (conservative) baseline
      const raw = rawAfter.perSecond > rawBefore.perSecond ? rawAfter : rawBefore;
      ctx.emit({ bench: 'authenticator.crypto_bp256', metric: 'throughput', value: round(raw.perSecond), unit: '1/s' });
      for (const [bench, f] of [
        ['authenticator.egk_pcsc', egkFigures],
        ['authenticator.smcb_konnektor', smcbFigures],
      ] as const) {
        ctx.emit({ bench, metric: 'throughput', value: round(f.perSecond), unit: '1/s', baseline: 'authenticator.crypto_bp256', ratio: round(f.perSecond / raw.perSecond, 3) });
        ctx.emit({ bench, metric: 'latency_median', value: round(percentile(f.latencies, 50)), unit: 'ms' });
      }
      ctx.log(
        `node:crypto ${round(rawBefore.perSecond)}/s before, ${round(rawAfter.perSecond)}/s after; eGK via PC/SC ${round(egkFigures.perSecond)}/s (${egkFigures.count}); ` +
          `SMC-B via Konnektor ${round(smcbFigures.perSecond)}/s (${smcbFigures.count})`,
      );
    } finally {
      for (const s of signers) await s.close?.().catch(() => undefined);
      await konnektor?.stop().catch(() => undefined);
      await cards?.stop().catch(() => undefined);
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  },
};
