/**
 * The card side of the IDP login for the signer tests: the simulated PKI (hierarchy on disk),
 * the cards service with real persona cards behind a private pcscd (free vpcd ports), and —
 * for the SMC-B — the Konnektor over HTTPS with its connector.sds. Every card records the
 * commands it receives, so a test can prove that the card itself computed a signature.
 */
import { PRACTICE_TEST_CONTEXT, practiceTestEnvironment } from '../../../simulators/konnektor/testing/practice-model';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { personaCatalog } from '../../../cards/index';
import { planLayout } from '../../../cards/pcscd/layout';
import { catalogFrom, startCardsService, type RunningCardsService } from '../../../cards/service';
import type { VirtualCard } from '../../../cards/vpcd/types';
import type { Environment } from '../../../simulators/lib/config';
import { freePort } from '../../../simulators/lib/net-probe';
import { PcscClient } from '../../../simulators/lib/pcsc-reader';
import { toPem } from '../../../simulators/lib/x509';
import { interceptTransmit } from '../../../simulators/konnektor/testing/signature-stack';
import { startKonnektor, type RunningKonnektor } from '../../../simulators/konnektor/service';
import { loadOrCreatePki, type Pki } from '../../../simulators/pki/hierarchy';
import { freeVpcdBase } from '../pcsc/helpers';


export const CONTEXT = { ...PRACTICE_TEST_CONTEXT };

/** Command headers (CLA INS P1 P2, hex) each persona's card received, in order. */
export type CommandLog = Map<string, string[]>;

export interface SignerStack {
  tmp: string;
  env: Environment;
  pki: Pki;
  rootPem: string;
  cards: RunningCardsService;
  konnektor?: RunningKonnektor;
  /** PC/SC reader name per slot. */
  readers: string[];
  socket: string;
  commands: CommandLog;
  /** Inserts a persona's (fresh) card and, with a Konnektor, waits until it is identified. */
  insert(persona: string, slot: number): Promise<void>;
  remove(persona: string): Promise<void>;
  stop(): Promise<void>;
}

export const header = (apdu: Buffer): string => apdu.subarray(0, 4).toString('hex').toUpperCase();
/** PSO COMPUTE DIGITAL SIGNATURE. */
export const PSO_CDS = '002A9E9A';
export const INTERNAL_AUTHENTICATE = '00880000';

export function count(log: CommandLog, persona: string, hdr: string): number {
  return (log.get(persona) ?? []).filter((h) => h === hdr).length;
}

export async function startSignerStack(opts: { vpcdFrom: number; personas: string[]; insert: string[]; konnektor?: boolean }): Promise<SignerStack> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ti-signers-'));
  const quiet = () => undefined;
  let cards: RunningCardsService | undefined;
  let konnektor: RunningKonnektor | undefined;
  let watcher: PcscClient | undefined;
  const stop = async () => {
    watcher?.close();
    await konnektor?.stop().catch(() => undefined);
    await cards?.stop().catch(() => undefined);
    fs.rmSync(tmp, { recursive: true, force: true });
  };
  try {
    const vpcdPort = await freeVpcdBase(opts.vpcdFrom, 4);
    const [pkiPort, cardsPort] = [await freePort(), await freePort()];
    const env = practiceTestEnvironment({ name: 'signers-test', dir: tmp, pkiPort, cardsPort, vpcdPort });
    const pki = await loadOrCreatePki(path.join(tmp, 'pki'));
    const personas = personaCatalog({ pki, cacheDir: path.join(tmp, 'cards') });
    const commands: CommandLog = new Map();
    const recording = (name: string, card: VirtualCard) =>
      interceptTransmit(card, (apdu, next) => {
        commands.set(name, [...(commands.get(name) ?? []), header(apdu)]);
        return next(apdu);
      });
    const entries = new Map(opts.personas.map((name) => [name, { description: name, create: () => recording(name, personas.create(name)) }]));
    cards = await startCardsService({ host: '127.0.0.1', port: cardsPort, dataDir: path.join(tmp, 'cards'), env, log: quiet, catalog: catalogFrom(entries) });
    const running = cards;
    if (opts.konnektor) {
      konnektor = await startKonnektor({ host: '127.0.0.1', port: 0, dataDir: path.join(tmp, 'konnektor'), env, log: quiet, pki });
    }
    const k = konnektor;
    const readers = planLayout(4, vpcdPort).slots.map((s) => s.readerName);
    // pcscd polls the readers: wait until it reports the change, as any PC/SC client would see it
    watcher = PcscClient.open({ socket: running.socketPath });
    const pcsc = watcher;
    const waitReader = (slot: number, present: boolean) =>
      pcsc.waitUntil(
        () => {
          const st = pcsc.readerStates().find((r) => r.name === readers[slot]);
          return st && st.present === present && !st.mute ? true : undefined;
        },
        10_000,
        `${readers[slot]} ${present ? 'with' : 'without'} a card`,
      );
    const waitIdentified = async (present: (n: number) => boolean) => {
      if (!k) return;
      const deadline = Date.now() + 20_000;
      for (;;) {
        await k.context.cards.settled();
        if (present(k.context.cards.list().length)) return;
        if (Date.now() > deadline) throw new Error('the Konnektor did not identify the cards through PC/SC in time');
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const insert = async (persona: string, slot: number) => {
      const before = k?.context.cards.list().length ?? 0;
      await running.insert(persona, slot);
      await waitReader(slot, true);
      await waitIdentified((n) => n > before);
    };
    const remove = async (persona: string) => {
      const before = k?.context.cards.list().length ?? 0;
      const { slot } = await running.remove({ persona });
      await waitReader(slot, false);
      await waitIdentified((n) => n < before);
    };
    for (const [i, name] of opts.insert.entries()) await insert(name, i);
    return {
      tmp,
      env,
      pki,
      rootPem: toPem(pki.rootCertificate),
      cards: running,
      konnektor,
      readers,
      socket: running.socketPath,
      commands,
      insert,
      remove,
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
