/**
 * A practice's slice of the simulated TI for client-side tests: the PKI service (OCSP answers),
 * the cards service with real persona cards behind a private pcscd (free vpcd ports), and the
 * Konnektor over HTTPS with its connector.sds. Every card counts the VERIFY (PIN entry) and
 * PSO COMPUTE DIGITAL SIGNATURE commands it receives, so a test can prove how many PIN entries
 * and card signatures an operation cost.
 *
 * Used by test/unit/konnektor-client/*.test.ts and test/unit/pvs/*.test.ts.
 */
import { PRACTICE_TEST_CONTEXT, practiceTestEnvironment } from '../../../simulators/konnektor/testing/practice-model';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { personaCatalog } from '../../../cards/index';
import { catalogFrom, startCardsService, type RunningCardsService } from '../../../cards/service';
import type { VirtualCard } from '../../../cards/vpcd/types';
import type { Environment } from '../../../simulators/lib/config';
import { KonnektorClient, type KonnektorCallContext } from '../../../simulators/lib/konnektor-client';
import { freePort } from '../../../simulators/lib/net-probe';
import { toPem } from '../../../simulators/lib/x509';
import { interceptTransmit } from '../../../simulators/konnektor/testing/signature-stack';
import { startKonnektor, type RunningKonnektor } from '../../../simulators/konnektor/service';
import { startPkiService, type RunningPkiService } from '../../../simulators/pki/service';
import { freeVpcdBase } from '../pcsc/helpers';

export const HBA = 'Dr. Hanna Ebert';
export const SMCB = 'Praxis Dr. Hanna Ebert';


export const PRACTICE_CONTEXT: KonnektorCallContext = { ...PRACTICE_TEST_CONTEXT };

/** Commands counted per persona. */
export interface CardCounters {
  /** VERIFY with a PIN (CLA 00, INS 20, with data): one PIN entry. */
  verify: number;
  /** Successful PSO COMPUTE DIGITAL SIGNATURE. */
  pso: number;
}

export interface PracticeStack {
  tmp: string;
  env: Environment;
  pkiService: RunningPkiService;
  rootPem: string;
  cards: RunningCardsService;
  konnektor: RunningKonnektor;
  counters: Map<string, CardCounters>;
  counter(persona: string): CardCounters;
  /** A client of the Konnektor in the practice's call context (closed by stop()). */
  client(context?: KonnektorCallContext): KonnektorClient;
  stop(): Promise<void>;
}

export async function startPracticeStack(opts: { vpcdFrom: number; personas?: string[]; insert?: string[]; name?: string }): Promise<PracticeStack> {
  const personasWanted = opts.personas ?? [HBA, SMCB];
  const insertNames = opts.insert ?? personasWanted;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ti-practice-'));
  const quiet = () => undefined;
  let pkiService: RunningPkiService | undefined;
  let cards: RunningCardsService | undefined;
  let konnektor: RunningKonnektor | undefined;
  const clients: KonnektorClient[] = [];
  const stop = async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    await konnektor?.stop().catch(() => undefined);
    await cards?.stop().catch(() => undefined);
    await pkiService?.stop().catch(() => undefined);
    fs.rmSync(tmp, { recursive: true, force: true });
  };
  try {
    const vpcdPort = await freeVpcdBase(opts.vpcdFrom, 4);
    const [pkiPort, cardsPort] = [await freePort(), await freePort()];
    const env = practiceTestEnvironment({ name: opts.name ?? 'practice-test', dir: tmp, pkiPort, cardsPort, vpcdPort });
    pkiService = await startPkiService({ host: '127.0.0.1', port: pkiPort, dataDir: path.join(tmp, 'pki'), env, log: quiet });
    const pki = pkiService.pki;
    const personas = personaCatalog({ pki, cacheDir: path.join(tmp, 'cards') });
    const counters = new Map<string, CardCounters>();
    const counter = (name: string) => {
      let c = counters.get(name);
      if (!c) counters.set(name, (c = { verify: 0, pso: 0 }));
      return c;
    };
    const counting = (name: string, card: VirtualCard) =>
      interceptTransmit(card, (apdu, next) => {
        const rsp = next(apdu);
        if (apdu[0] === 0x00 && apdu[1] === 0x20 && apdu.length > 5) counter(name).verify++;
        if (apdu[1] === 0x2a && apdu[2] === 0x9e && rsp.readUInt16BE(rsp.length - 2) === 0x9000) counter(name).pso++;
        return rsp;
      });
    const entries = new Map(personasWanted.map((name) => [name, { description: name, create: () => counting(name, personas.create(name)) }]));
    cards = await startCardsService({ host: '127.0.0.1', port: cardsPort, dataDir: path.join(tmp, 'cards'), env, log: quiet, catalog: catalogFrom(entries) });
    konnektor = await startKonnektor({ host: '127.0.0.1', port: 0, dataDir: path.join(tmp, 'konnektor'), env, log: quiet, pki });
    for (const [i, name] of insertNames.entries()) await cards.insert(name, i);
    const k = konnektor;
    const deadline = Date.now() + 20_000;
    for (;;) {
      await k.context.cards.settled();
      if (k.context.cards.list().length >= insertNames.length) break;
      if (Date.now() > deadline) throw new Error('the Konnektor did not identify the cards through PC/SC in time');
      await new Promise((r) => setTimeout(r, 50));
    }
    const rootPem = toPem(pki.rootCertificate);
    return {
      tmp,
      env,
      pkiService,
      rootPem,
      cards,
      konnektor: k,
      counters,
      counter,
      client(context = PRACTICE_CONTEXT) {
        const c = new KonnektorClient({ url: k.url, ca: rootPem, context });
        clients.push(c);
        return c;
      },
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
