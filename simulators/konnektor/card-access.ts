/**
 * The Konnektor's card layer: every card the cards service's pcscd shows, reached through PC/SC
 * (simulators/lib/pcsc-reader.ts) exactly as a real Konnektor reaches cards through its card
 * terminals. The card computes every signature; nothing here holds a key.
 *
 *   const cards = await CardAccess.open({ socket, readers, terminals, log });
 *   await cards.settled();                        // inserted cards identified
 *   cards.list()                                  // [{ handle, type: 'HBA', iccsn, ctId, slotId, … }]
 *   await cards.verifyPin(handle, 'PIN.QES')      // { result: 'OK' } — PIN from the persona (PIN pad stand-in)
 *   await cards.signHash(handle, 'PrK.HP.QES', sha256)   // r‖s from the card (MSE SET + PSO CDS)
 *   cards.onCardEvent((e) => …)                   // { type: 'inserted' | 'removed', card }
 *
 * Card types are found by the applications the card answers (SELECT of the MF's AID), the ICCSN
 * from EF.GDO, holder data from the AUT certificate. A card gets a new handle on every insertion.
 *
 * PIN entry: a real Konnektor has the user type the PIN at the card terminal. The simulator's
 * PIN pad types, in this order: a PIN the caller passes, the next PIN queued for the card
 * (`pinPad.queue`, admin API POST /__admin/pinpad), the PIN the simulator last set on this card
 * (ChangePin/UnblockPin), the persona's PIN from cards/personas.
 */
import * as crypto from 'node:crypto';
import { buildApdu, SW } from '../lib/apdu';
import type { KonnektorCardTerminal } from '../lib/config';
import { PcscClient, PcscError, type PcscReader, type ReaderState } from '../lib/pcsc-reader';
import { encodePinBlock } from '../lib/pin-block';
import { konnektorFault } from '../lib/soap';
import { parseCertificate, type ParsedCertificate } from '../lib/x509';
import { AID } from '../../cards/objsys/common';
import { listPersonas, type Persona } from '../../cards/index';
import { pcscFault, swFault } from './faults';

export type KonnektorCardType = 'EGK' | 'HBA' | 'SMC-B' | 'UNKNOWN';
export type CertRef = 'C.AUT' | 'C.QES' | 'C.SIG' | 'C.ENC';
export const CERT_REFS: CertRef[] = ['C.AUT', 'C.ENC', 'C.SIG', 'C.QES'];
/** PIN names of the Konnektor's CardService (PinTyp). */
export type PinName = 'PIN.CH' | 'PIN.QES' | 'PIN.SMC' | 'PIN.home';
export type PinResult = 'OK' | 'ERROR' | 'REJECTED' | 'WASBLOCKED' | 'NOWBLOCKED' | 'TRANSPORT_PIN';
export type PinStatus = 'VERIFIED' | 'TRANSPORT_PIN' | 'EMPTY_PIN' | 'BLOCKED' | 'VERIFIABLE' | 'DISABLED';
/** Signing keys by their object-system names (without the .E256 suffix). */
export type SigningKeyName = 'PrK.HP.QES' | 'PrK.HP.AUT' | 'PrK.HCI.AUT' | 'PrK.HCI.OSIG' | 'PrK.CH.AUT';

export interface CardInfo {
  handle: string;
  type: KonnektorCardType;
  /** ICCSN (20 digits) from EF.GDO. */
  iccsn?: string;
  /** eGK: KVNR from the C.CH.AUT subject. */
  kvnr?: string;
  /** Subject CN of the AUT certificate (person or institution). */
  holderName?: string;
  /** Telematik-ID (admission registrationNumber of the AUT certificate). */
  telematikId?: string;
  /** Profession / institution OIDs of the AUT certificate's admission. */
  professionOids: string[];
  /** notAfter of the AUT certificate as YYYY-MM-DD. */
  certificateExpirationDate?: string;
  ctId: string;
  /** Position in the card terminal, 1-based. */
  slotId: number;
  /** Slot of the cards service (0-based) and its PC/SC reader. */
  slot: number;
  reader: string;
  atr: string;
  insertTime: Date;
}

export interface CardEvent {
  type: 'inserted' | 'removed';
  card: CardInfo;
}

export interface PinOutcome {
  result: PinResult;
  leftTries?: number;
}

export interface PinStatusOutcome {
  status: PinStatus;
  leftTries?: number;
}

export interface CardAccessOptions {
  /** pcscd's socket (PCSCLITE_CSOCK_NAME) of the cards service. */
  socket: string;
  /** PC/SC reader name of each cards-service slot, slot 0 first. */
  readers: string[];
  /** Card terminals (groups of slots) of the information model. */
  terminals: KonnektorCardTerminal[];
  clock?: () => Date;
  log?: (message: string) => void;
  /** Personas for the PIN pad (default: cards/personas). */
  personas?: () => Persona[];
  /** Timeout of one APDU (default 10 s). */
  apduTimeoutMs?: number;
}

/** A card's PIN and key layout, by type. */
interface PinDef {
  /** P2 of VERIFY. */
  ref: number;
  /** Folder to select first (AID); MF when absent. */
  df?: string;
  /** Persona PIN whose secret this PIN checks. */
  personaPin: string;
}

const PINS: Record<KonnektorCardType, Partial<Record<PinName, PinDef>>> = {
  EGK: { 'PIN.CH': { ref: 0x01, personaPin: 'PIN.CH' }, 'PIN.home': { ref: 0x02, personaPin: 'PIN.CH' } },
  HBA: { 'PIN.CH': { ref: 0x01, personaPin: 'PIN.CH' }, 'PIN.QES': { ref: 0x81, df: AID.QES, personaPin: 'PIN.QES' } },
  'SMC-B': { 'PIN.SMC': { ref: 0x01, personaPin: 'PIN.SMC' } },
  UNKNOWN: {},
};

const MF_AID: Record<Exclude<KonnektorCardType, 'UNKNOWN'>, string> = { HBA: AID.MF_HBA, 'SMC-B': AID.MF_SMCB, EGK: AID.MF_EGK };

/** Certificate files: folder AID and short file identifier, by card type. */
const CERT_FILES: Record<KonnektorCardType, Partial<Record<CertRef, { df: string; sfi: number }>>> = {
  EGK: { 'C.AUT': { df: AID.ESIGN, sfi: 0x04 }, 'C.ENC': { df: AID.ESIGN, sfi: 0x05 } },
  HBA: { 'C.AUT': { df: AID.ESIGN, sfi: 0x06 }, 'C.ENC': { df: AID.ESIGN, sfi: 0x05 }, 'C.QES': { df: AID.QES, sfi: 0x06 } },
  'SMC-B': { 'C.AUT': { df: AID.ESIGN, sfi: 0x06 }, 'C.ENC': { df: AID.ESIGN, sfi: 0x05 }, 'C.SIG': { df: AID.ESIGN, sfi: 0x07 } },
  UNKNOWN: {},
};

/** Signing keys: card type, folder, key reference (DF-specific: bit 80). */
const KEYS: Record<SigningKeyName, { type: KonnektorCardType; df: string; ref: number }> = {
  'PrK.HP.QES': { type: 'HBA', df: AID.QES, ref: 0x86 },
  'PrK.HP.AUT': { type: 'HBA', df: AID.ESIGN, ref: 0x86 },
  'PrK.HCI.AUT': { type: 'SMC-B', df: AID.ESIGN, ref: 0x86 },
  'PrK.HCI.OSIG': { type: 'SMC-B', df: AID.ESIGN, ref: 0x87 },
  'PrK.CH.AUT': { type: 'EGK', df: AID.ESIGN, ref: 0x84 },
};

/** The signing key behind a certificate reference of a card type (C.QES → PrK.HP.QES, …). */
export function signingKeyFor(type: KonnektorCardType, ref: CertRef): SigningKeyName | undefined {
  const table: Partial<Record<KonnektorCardType, Partial<Record<CertRef, SigningKeyName>>>> = {
    HBA: { 'C.QES': 'PrK.HP.QES', 'C.AUT': 'PrK.HP.AUT' },
    'SMC-B': { 'C.AUT': 'PrK.HCI.AUT', 'C.SIG': 'PrK.HCI.OSIG' },
    EGK: { 'C.AUT': 'PrK.CH.AUT' },
  };
  return table[type]?.[ref];
}

/** The PIN that guards a signing key (PIN.QES for the QES key, PIN.CH/PIN.SMC/PIN.home otherwise). */
export function pinForKey(key: SigningKeyName): PinName {
  return key === 'PrK.HP.QES' ? 'PIN.QES' : key === 'PrK.CH.AUT' ? 'PIN.home' : KEYS[key].type === 'SMC-B' ? 'PIN.SMC' : 'PIN.CH';
}

/** PIN entries the simulated PIN pad types next, per card (ICCSN). */
export class PinPad {
  private readonly queues = new Map<string, string[]>();

  queue(iccsn: string, entries: string[]): void {
    this.queues.set(iccsn, [...(this.queues.get(iccsn) ?? []), ...entries]);
  }

  next(iccsn: string | undefined): string | undefined {
    if (!iccsn) return undefined;
    const q = this.queues.get(iccsn);
    const v = q?.shift();
    if (q && q.length === 0) this.queues.delete(iccsn);
    return v;
  }

  pending(iccsn: string): number {
    return this.queues.get(iccsn)?.length ?? 0;
  }

  clear(): void {
    this.queues.clear();
  }
}

interface CardRecord extends CardInfo {
  /** PINs the simulator set on this card instance (ChangePin/UnblockPin), by persona PIN name. */
  pins: Map<string, string>;
  persona?: Persona;
}

interface SlotState {
  slot: number;
  reader: string;
  ctId: string;
  slotId: number;
  card?: CardRecord;
  identifying?: Promise<void>;
  /** Serializes multi-APDU sequences on this card. */
  queue: Promise<unknown>;
}

/** One APDU exchange: the response data and status word. */
export interface CardResponse {
  data: Buffer;
  sw: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/** Identification attempts per insertion, and the backoff step between them. */
const IDENTIFY_ATTEMPTS = 5;
const IDENTIFY_RETRY_MS = 200;

export class CardAccess {
  readonly pinPad = new PinPad();
  private readonly slots: SlotState[];
  private readonly listeners = new Set<(e: CardEvent) => void>();
  private client: PcscClient | undefined;
  private readers = new Map<number, PcscReader>();
  private closed = false;
  private lastError: string | undefined;
  private loop: Promise<void> | undefined;
  private readonly clock: () => Date;
  private readonly log: (m: string) => void;
  private personasCache: Persona[] | undefined;
  /** Ends the current retry pause early (close()). */
  private wake: (() => void) | undefined;

  private constructor(private readonly opts: CardAccessOptions) {
    this.clock = opts.clock ?? (() => new Date());
    this.log = opts.log ?? (() => undefined);
    this.slots = [];
    for (const t of opts.terminals) {
      t.slots.forEach((slot, i) => {
        const reader = opts.readers[slot];
        if (reader) this.slots.push({ slot, reader, ctId: t.id, slotId: i + 1, queue: Promise.resolve() });
      });
    }
  }

  /**
   * Starts watching the readers. Never fails because pcscd is not (yet) there: it retries in the
   * background and `status()` says what is wrong. Resolves once the first scan is done (or failed).
   */
  static async open(opts: CardAccessOptions): Promise<CardAccess> {
    const access = new CardAccess(opts);
    await access.start();
    return access;
  }

  private async start(): Promise<void> {
    let first!: () => void;
    const firstScan = new Promise<void>((r) => (first = r));
    this.loop = this.watch(first);
    await Promise.race([firstScan, sleep(15_000)]);
    await this.settled();
  }

  private async watch(firstScanDone: () => void): Promise<void> {
    while (!this.closed) {
      try {
        if (!this.client) {
          this.client = PcscClient.open({ socket: this.opts.socket });
          const names = this.slots.map((s) => s.reader);
          await this.client.waitForReaders(names, 10_000);
          this.readers = new Map();
          for (const s of this.slots) this.readers.set(s.slot, await this.client.reader(s.reader, 5_000));
          this.lastError = undefined;
          this.log(`PC/SC: watching ${names.length} reader(s) at ${this.opts.socket}`);
        }
        const client = this.client;
        const key = () => client.readerStates().map((r) => `${r.name}:${r.present ? 1 : 0}${r.mute ? 'm' : ''}`).join('|');
        const seen = key();
        this.reconcile(client.readerStates());
        firstScanDone();
        try {
          await client.waitUntil(() => (key() !== seen ? true : undefined), 30_000, 'card events');
        } catch (e) {
          if (!(e instanceof PcscError && e.code === 'Timeout')) throw e;
        }
      } catch (e) {
        if (this.closed) break;
        this.lastError = (e as Error).message;
        this.log(`PC/SC: ${this.lastError}; retrying in 1 s`);
        for (const s of this.slots) if (s.card) this.dropCard(s);
        this.client?.close();
        this.client = undefined;
        firstScanDone();
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 1000);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = undefined;
      }
    }
  }

  private reconcile(states: ReaderState[]): void {
    for (const s of this.slots) {
      const st = states.find((r) => r.name === s.reader);
      const present = !!st && st.present && !st.mute;
      if (!present && s.card) this.dropCard(s);
      else if (present && !s.card && !s.identifying) this.startIdentification(s);
    }
  }

  /**
   * Identifies the card in a slot (one PC/SC transaction, so another client's
   * APDUs cannot interleave). A failed identification is retried on demand by
   * settled(), which GetCards and every card operation await.
   */
  private startIdentification(s: SlotState): void {
    s.identifying = this.identifyWithRetries(s).finally(() => (s.identifying = undefined));
  }

  /**
   * A card put back right after a removal can meet the stale connection of the
   * old one: a failed identification is tried again shortly, while the card is
   * still in the reader (IDENTIFY_ATTEMPTS times; after that settled() retries).
   */
  private async identifyWithRetries(s: SlotState): Promise<void> {
    for (let attempt = 1; attempt <= IDENTIFY_ATTEMPTS; attempt++) {
      try {
        await this.serial(s, () => this.inTransaction(s, () => this.identify(s)));
        return;
      } catch (e) {
        this.log(`could not identify the card in ${s.reader} (attempt ${attempt} of ${IDENTIFY_ATTEMPTS}): ${(e as Error).message}`);
        // the next attempt connects afresh instead of reusing a connection to the card that left
        await this.readers.get(s.slot)?.disconnect();
      }
      await sleep(IDENTIFY_RETRY_MS * attempt);
      const st = this.client?.readerStates().find((r) => r.name === s.reader);
      if (this.closed || s.card || !st || !st.present || st.mute) return;
    }
  }

  /** Runs a multi-APDU sequence on the slot's card inside a PC/SC transaction. */
  private inTransaction<T>(s: SlotState, fn: () => Promise<T>): Promise<T> {
    const reader = this.readers.get(s.slot);
    return reader ? reader.transaction(fn, { timeoutMs: this.opts.apduTimeoutMs ?? 10_000 }) : fn();
  }

  private dropCard(s: SlotState): void {
    const card = s.card;
    s.card = undefined;
    void this.readers.get(s.slot)?.disconnect();
    if (card) {
      this.log(`card removed: ${card.type} ${card.iccsn ?? ''} from ${card.ctId}/${card.slotId} (handle ${card.handle})`);
      this.emit({ type: 'removed', card: publicInfo(card) });
    }
  }

  private emit(e: CardEvent): void {
    for (const l of [...this.listeners]) {
      try {
        l(e);
      } catch (err) {
        this.log(`card event listener failed: ${(err as Error).message}`);
      }
    }
  }

  private serial<T>(s: SlotState, task: () => Promise<T>): Promise<T> {
    const run = s.queue.then(task, task);
    s.queue = run.catch(() => undefined);
    return run;
  }

  private async tx(s: SlotState, apdu: Buffer): Promise<CardResponse> {
    const reader = this.readers.get(s.slot);
    if (!reader) throw konnektorFault(4008, `no PC/SC connection to ${s.reader}`);
    const rsp = await reader.transmit(apdu, { timeoutMs: this.opts.apduTimeoutMs ?? 10_000 });
    if (rsp.length < 2) throw konnektorFault(4001, `the card in ${s.reader} answered ${rsp.length} bytes`);
    return { data: rsp.subarray(0, rsp.length - 2), sw: rsp.readUInt16BE(rsp.length - 2) };
  }

  private async identify(s: SlotState): Promise<void> {
    const reader = this.readers.get(s.slot);
    if (!reader) return;
    const atr = (await reader.atr({ timeoutMs: 5000 })).toString('hex').toUpperCase();
    let type: KonnektorCardType = 'UNKNOWN';
    for (const t of ['HBA', 'SMC-B', 'EGK'] as const) {
      if ((await this.tx(s, selectAid(MF_AID[t]))).sw === SW.OK) {
        type = t;
        break;
      }
    }
    const record: CardRecord = {
      handle: crypto.randomUUID(),
      type,
      ctId: s.ctId,
      slotId: s.slotId,
      slot: s.slot,
      reader: s.reader,
      atr,
      insertTime: this.clock(),
      professionOids: [],
      pins: new Map(),
    };
    if (type !== 'UNKNOWN') {
      const gdo = await this.tx(s, buildApdu(0x00, 0xb0, 0x82, 0x00, Buffer.alloc(0), 256));
      if (gdo.sw === SW.OK && gdo.data.length >= 12 && gdo.data[0] === 0x5a) record.iccsn = gdo.data.subarray(2, 2 + gdo.data[1]).toString('hex');
      const der = await this.readCertificateFile(s, type, 'C.AUT').catch(() => undefined);
      if (der) describeFromCertificate(record, der);
      record.persona = record.iccsn ? this.personas().find((p) => p.iccsn === record.iccsn) : undefined;
    }
    if (this.closed) return;
    s.card = record;
    this.log(`card inserted: ${type} ${record.iccsn ?? ''} ${record.holderName ?? ''} in ${s.ctId}/${s.slotId} (handle ${record.handle})`);
    this.emit({ type: 'inserted', card: publicInfo(record) });
  }

  private personas(): Persona[] {
    if (!this.personasCache) {
      try {
        this.personasCache = this.opts.personas ? this.opts.personas() : listPersonas();
      } catch (e) {
        this.log(`personas could not be loaded (the PIN pad knows no PINs): ${(e as Error).message}`);
        this.personasCache = [];
      }
    }
    return this.personasCache;
  }

  private async readCertificateFile(s: SlotState, type: KonnektorCardType, ref: CertRef): Promise<Buffer | undefined> {
    const f = CERT_FILES[type][ref];
    if (!f) return undefined;
    const sel = await this.tx(s, selectAid(f.df));
    if (sel.sw !== SW.OK) throw swFault(sel.sw, `SELECT ${f.df} to read ${ref}`);
    const rsp = await this.tx(s, buildApdu(0x00, 0xb0, 0x80 | f.sfi, 0x00, Buffer.alloc(0), 65536));
    if (rsp.sw !== SW.OK) throw swFault(rsp.sw, `READ BINARY of ${ref}`);
    if (rsp.data.length === 0 || rsp.data[0] !== 0x30) return undefined;
    return trimDer(rsp.data);
  }

  // -------------------------------------------------------------------------
  // Public API
  // -------------------------------------------------------------------------

  /** Resolves when every card currently present has been identified. */
  async settled(): Promise<void> {
    // Cards that are present but could not be identified (e.g. another client held the card) get another try.
    const states = this.client?.readerStates() ?? [];
    for (const s of this.slots) {
      const st = states.find((r) => r.name === s.reader);
      if (st && st.present && !st.mute && !s.card && !s.identifying) this.startIdentification(s);
    }
    for (let i = 0; i < 3; i++) {
      const pending = this.slots.map((s) => s.identifying).filter(Boolean);
      if (!pending.length) return;
      await Promise.all(pending);
    }
  }

  /** The identified cards, in terminal/slot order. */
  list(): CardInfo[] {
    return this.slots.filter((s) => s.card).map((s) => publicInfo(s.card as CardRecord));
  }

  info(handle: string): CardInfo | undefined {
    const s = this.slotOf(handle);
    return s?.card ? publicInfo(s.card) : undefined;
  }

  /** The card behind a handle, or fault 4008. */
  require(handle: string): CardInfo {
    const info = this.info(handle);
    if (!info) throw konnektorFault(4008, `no card with handle "${handle}" is inserted`);
    return info;
  }

  /** Card terminals and whether PC/SC works. */
  status(): { connected: boolean; socket: string; error?: string; slots: Array<{ slot: number; reader: string; ctId: string; slotId: number; card?: string }> } {
    return {
      connected: !!this.client && !this.lastError,
      socket: this.opts.socket,
      ...(this.lastError ? { error: this.lastError } : {}),
      slots: this.slots.map((s) => ({ slot: s.slot, reader: s.reader, ctId: s.ctId, slotId: s.slotId, ...(s.card ? { card: s.card.handle } : {}) })),
    };
  }

  /** Is the terminal's PC/SC connection up? */
  terminalConnected(ctId: string): boolean {
    return !!this.client && !this.lastError && this.slots.some((s) => s.ctId === ctId);
  }

  /** Calls `listener` on every insertion and removal; returns the function that unsubscribes. */
  onCardEvent(listener: (e: CardEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Runs `fn` with exclusive use of the card (other operations on it wait): for APDU sequences
   * that must not interleave (SELECT, VERIFY, MSE, PSO). `send` answers data + SW; PC/SC failures
   * become faults (4008 when the card left).
   */
  withCard<T>(handle: string, fn: (send: (apdu: Buffer) => Promise<CardResponse>, card: CardInfo) => Promise<T>): Promise<T> {
    const s = this.slotOf(handle);
    if (!s?.card) return Promise.reject(konnektorFault(4008, `no card with handle "${handle}" is inserted`));
    return this.serial(s, async () => {
      const card = s.card;
      if (!card || card.handle !== handle) throw konnektorFault(4008, `the card with handle "${handle}" was removed`);
      try {
        return await this.inTransaction(s, () => fn((apdu) => this.tx(s, apdu), publicInfo(card)));
      } catch (e) {
        throw pcscFault(e, `card ${card.type} in ${card.ctId}/${card.slotId}`);
      }
    });
  }

  /** One APDU to the card (raw response data + SW). */
  transmit(handle: string, apdu: Buffer): Promise<CardResponse> {
    return this.withCard(handle, (send) => send(apdu));
  }

  /** Reads a certificate from the card (DER), or undefined when the card type has none for `ref`. */
  readCertificate(handle: string, ref: CertRef): Promise<Buffer | undefined> {
    return this.withCard(handle, async (_send, card) => {
      const s = this.slotOf(handle) as SlotState;
      return this.readCertificateFile(s, card.type, ref);
    });
  }

  /** PIN names a card type has. */
  pinNames(type: KonnektorCardType): PinName[] {
    return Object.keys(PINS[type]) as PinName[];
  }

  private pinDef(card: CardInfo, pinName: string): PinDef {
    const def = PINS[card.type][pinName as PinName];
    if (!def) {
      throw konnektorFault(4000, `PinTyp "${pinName}" does not exist on a card of type ${card.type} (known: ${this.pinNames(card.type).join(', ') || 'none'})`);
    }
    return def;
  }

  private record(handle: string): CardRecord | undefined {
    return this.slotOf(handle)?.card;
  }

  /** The PIN the PIN pad types for `pinName` (see the module comment for the order). */
  private pinEntry(handle: string, def: PinDef, given?: string): string {
    const rec = this.record(handle);
    const entry = given ?? this.pinPad.next(rec?.iccsn) ?? rec?.pins.get(def.personaPin) ?? personaSecret(rec?.persona, def.personaPin, 'pin');
    if (!entry) throw konnektorFault(4001, `no PIN known for ${def.personaPin} of card ${rec?.iccsn ?? handle} (not a persona card; queue one with POST /__admin/pinpad)`);
    return entry;
  }

  private async selectFor(send: (apdu: Buffer) => Promise<CardResponse>, card: CardInfo, df: string | undefined): Promise<void> {
    const aid = df ?? (card.type !== 'UNKNOWN' ? MF_AID[card.type] : undefined);
    if (!aid) return;
    const r = await send(selectAid(aid));
    if (r.sw !== SW.OK) throw swFault(r.sw, `SELECT ${aid}`);
  }

  /** VERIFY of `pinName` with the PIN pad's entry (or `pin`). */
  verifyPin(handle: string, pinName: string, pin?: string): Promise<PinOutcome> {
    return this.withCard(handle, async (send, card) => {
      const def = this.pinDef(card, pinName);
      const secret = this.pinEntry(handle, def, pin);
      await this.selectFor(send, card, def.df);
      const block = pinBlock(secret);
      if (!block) return { result: 'REJECTED' as const };
      const r = await send(buildApdu(0x00, 0x20, 0x00, def.ref, block));
      return this.pinOutcome(r.sw, `VERIFY ${pinName}`, send, def);
    });
  }

  private async pinOutcome(sw: number, command: string, send: (apdu: Buffer) => Promise<CardResponse>, def: PinDef): Promise<PinOutcome> {
    if (sw === SW.OK) return { result: 'OK' };
    if ((sw & 0xfff0) === 0x63c0) {
      const left = sw & 0x0f;
      return left === 0 ? { result: 'NOWBLOCKED', leftTries: 0 } : { result: 'REJECTED', leftTries: left };
    }
    if (sw === SW.PASSWORD_BLOCKED) return { result: 'WASBLOCKED', leftTries: 0 };
    if (sw === SW.CONDITIONS_NOT_SATISFIED) {
      const st = await send(buildApdu(0x80, 0x20, 0x00, def.ref));
      return st.sw === SW.TRANSPORT_PIN ? { result: 'TRANSPORT_PIN' } : { result: 'ERROR' };
    }
    throw swFault(sw, command);
  }

  /** GET PIN STATUS. */
  pinStatus(handle: string, pinName: string): Promise<PinStatusOutcome> {
    return this.withCard(handle, async (send, card) => {
      const def = this.pinDef(card, pinName);
      await this.selectFor(send, card, def.df);
      const r = await send(buildApdu(0x80, 0x20, 0x00, def.ref));
      if (r.sw === SW.OK) return { status: 'VERIFIED' as const };
      if (r.sw === SW.TRANSPORT_PIN) return { status: 'TRANSPORT_PIN' as const };
      if (r.sw === SW.EMPTY_PIN) return { status: 'EMPTY_PIN' as const };
      if (r.sw === SW.PASSWORD_DISABLED) return { status: 'DISABLED' as const };
      if (r.sw === SW.PASSWORD_BLOCKED) return { status: 'BLOCKED' as const, leftTries: 0 };
      if ((r.sw & 0xfff0) === 0x63c0) {
        const left = r.sw & 0x0f;
        return left === 0 ? { status: 'BLOCKED' as const, leftTries: 0 } : { status: 'VERIFIABLE' as const, leftTries: left };
      }
      throw swFault(r.sw, `GET PIN STATUS ${pinName}`);
    });
  }

  /**
   * CHANGE REFERENCE DATA: old PIN and new PIN from the PIN pad (defaults: the current PIN and the
   * same PIN again), or given. On success the simulator remembers the new PIN for this card.
   */
  changePin(handle: string, pinName: string, opts: { oldPin?: string; newPin?: string } = {}): Promise<PinOutcome> {
    return this.withCard(handle, async (send, card) => {
      const def = this.pinDef(card, pinName);
      const oldPin = this.pinEntry(handle, def, opts.oldPin);
      const newPin = opts.newPin ?? this.pinPad.next(card.iccsn) ?? oldPin;
      await this.selectFor(send, card, def.df);
      const oldBlock = pinBlock(oldPin);
      const newBlock = pinBlock(newPin);
      if (!newBlock) return { result: 'ERROR' as const };
      if (!oldBlock) return { result: 'REJECTED' as const };
      const r = await send(buildApdu(0x00, 0x24, 0x00, def.ref, Buffer.concat([oldBlock, newBlock])));
      if (r.sw === SW.CONDITIONS_NOT_SATISFIED) return { result: 'ERROR' as const };
      const outcome = await this.pinOutcome(r.sw, `CHANGE REFERENCE DATA ${pinName}`, send, def);
      if (outcome.result === 'OK') this.record(handle)?.pins.set(def.personaPin, newPin);
      return outcome;
    });
  }

  /**
   * RESET RETRY COUNTER with the PUK (PIN pad or persona) and, when `setNewPin` (default true), a new
   * PIN (PIN pad, or the current PIN). LeftTries on a wrong PUK is the number of PUK uses left.
   */
  unblockPin(handle: string, pinName: string, opts: { puk?: string; newPin?: string; setNewPin?: boolean } = {}): Promise<PinOutcome> {
    return this.withCard(handle, async (send, card) => {
      const def = this.pinDef(card, pinName);
      const rec = this.record(handle);
      const puk = opts.puk ?? this.pinPad.next(card.iccsn) ?? personaSecret(rec?.persona, def.personaPin, 'puk');
      if (!puk) throw konnektorFault(4001, `no PUK known for ${def.personaPin} of card ${card.iccsn ?? handle}`);
      const setNew = opts.setNewPin ?? true;
      const newPin = setNew ? (opts.newPin ?? this.pinPad.next(card.iccsn) ?? rec?.pins.get(def.personaPin) ?? personaSecret(rec?.persona, def.personaPin, 'pin')) : undefined;
      await this.selectFor(send, card, def.df);
      const pukBlock = pinBlock(puk);
      if (!pukBlock) return { result: 'REJECTED' as const };
      let data = pukBlock;
      if (setNew) {
        const nb = newPin ? pinBlock(newPin) : undefined;
        if (!nb) return { result: 'ERROR' as const };
        data = Buffer.concat([pukBlock, nb]);
      }
      const r = await send(buildApdu(0x00, 0x2c, setNew ? 0x00 : 0x01, def.ref, data));
      if (r.sw === SW.CONDITIONS_NOT_SATISFIED) return { result: 'ERROR' as const };
      const outcome = await this.pinOutcome(r.sw, `RESET RETRY COUNTER ${pinName}`, send, def);
      if (outcome.result === 'OK' && setNew && newPin) rec?.pins.set(def.personaPin, newPin);
      return outcome;
    });
  }

  /**
   * Signs `hash` (ECDSA, brainpoolP256r1; up to 64 bytes) with a key of the card: SELECT of the
   * key's folder, MSE SET (DST, 84 key reference, 80 00 signECDSA), PSO COMPUTE DIGITAL SIGNATURE.
   * Answers r‖s (64 bytes). A missing PIN verification is 6982 (CardCommandError with sw).
   */
  signHash(handle: string, keyName: SigningKeyName, hash: Buffer): Promise<Buffer> {
    return this.withCard(handle, async (send, card) => {
      const key = KEYS[keyName];
      if (!key) throw konnektorFault(4000, `unknown key "${keyName}"`);
      if (key.type !== card.type) throw konnektorFault(4000, `key ${keyName} is on a card of type ${key.type}, the handle names a ${card.type}`);
      if (hash.length === 0 || hash.length > 64) throw konnektorFault(4000, `a hash to sign has 1..64 bytes, got ${hash.length}`);
      await this.selectFor(send, card, key.df);
      const mse = await send(buildApdu(0x00, 0x22, 0x41, 0xb6, Buffer.from([0x84, 0x01, key.ref, 0x80, 0x01, 0x00])));
      if (mse.sw !== SW.OK) throw swFault(mse.sw, `MSE SET for ${keyName}`);
      const pso = await send(buildApdu(0x00, 0x2a, 0x9e, 0x9a, hash, 256));
      if (pso.sw !== SW.OK) throw swFault(pso.sw, `PSO COMPUTE DIGITAL SIGNATURE with ${keyName}`);
      return Buffer.from(pso.data);
    });
  }

  /**
   * ExternalAuthenticate's card part: signs `hash` with the card's AUT key (HBA PrK.HP.AUT, SMC-B
   * PrK.HCI.AUT, eGK PrK.CH.AUT).
   */
  externalAuthenticate(handle: string, hash: Buffer): Promise<Buffer> {
    const card = this.require(handle);
    const key = signingKeyFor(card.type, 'C.AUT');
    if (!key) throw konnektorFault(4000, `a card of type ${card.type} has no AUT key`);
    return this.signHash(handle, key, hash);
  }

  /** Stops watching; the card handles become invalid. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.wake?.();
    for (const r of this.readers.values()) await r.disconnect().catch(() => undefined);
    this.client?.close();
    this.client = undefined;
    await this.loop?.catch(() => undefined);
  }

  private slotOf(handle: string): SlotState | undefined {
    return this.slots.find((s) => s.card?.handle === handle);
  }
}

function publicInfo(r: CardRecord): CardInfo {
  const { pins, persona, ...info } = r;
  return { ...info, professionOids: [...info.professionOids] };
}

function personaSecret(persona: Persona | undefined, pinName: string, which: 'pin' | 'puk'): string | undefined {
  const spec = (persona?.pins as Record<string, { pin: string; puk: string } | undefined> | undefined)?.[pinName];
  return spec?.[which];
}

function selectAid(aid: string): Buffer {
  return buildApdu(0x00, 0xa4, 0x04, 0x0c, Buffer.from(aid, 'hex'));
}

function pinBlock(digits: string): Buffer | undefined {
  try {
    return encodePinBlock(digits);
  } catch {
    return undefined;
  }
}

/** The DER element at the start of `data` (certificate files may be padded). */
function trimDer(data: Buffer): Buffer {
  if (data.length < 2) return data;
  const l = data[1];
  let len: number;
  let head: number;
  if (l < 0x80) {
    len = l;
    head = 2;
  } else {
    const n = l & 0x7f;
    if (n === 0 || n > 3 || data.length < 2 + n) return data;
    len = data.subarray(2, 2 + n).reduce((a, b) => a * 256 + b, 0);
    head = 2 + n;
  }
  return data.subarray(0, Math.min(data.length, head + len));
}

function describeFromCertificate(record: CardRecord, der: Buffer): void {
  let cert: ParsedCertificate;
  try {
    cert = parseCertificate(der);
  } catch {
    return;
  }
  const attr = (t: string) => cert.subjectAttributes.filter((a) => a.type === t).map((a) => a.value);
  record.holderName = attr('CN')[0];
  record.certificateExpirationDate = cert.notAfter.toISOString().slice(0, 10);
  if (record.type === 'EGK') record.kvnr = attr('OU').find((v) => /^[A-Z][0-9]{9}$/.test(v));
  const prof = cert.admission?.professions ?? [];
  record.professionOids = prof.flatMap((p) => p.professionOids);
  record.telematikId = prof.find((p) => p.registrationNumber)?.registrationNumber;
}

