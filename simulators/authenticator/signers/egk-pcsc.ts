/**
 * The insured person's eGK answers the IDP's challenge directly through a card reader (PC/SC)
 * of the user's device (gemSysL_eRp A_18818), as the E-Rezept apps do over NFC:
 *
 *   SELECT MF (eGK root AID D2760001448000)  → card type check; READ EF.GDO → ICCSN
 *   SELECT DF.ESIGN (A000000167455349474E)
 *   READ BINARY EF.C.CH.AUT.E256 (SFI 04)    → C.CH.AUT
 *   VERIFY MRPIN.home (P2 02, the PIN.CH secret, format-2 PIN block)
 *   MSE SET DST (84 = PrK.CH.AUT.E256, key 04 DF-specific → 84; 80 = 00 signECDSA)
 *   PSO COMPUTE DIGITAL SIGNATURE (00 2A 9E 9A) over the 32-byte digest → r‖s
 *
 * all in one PC/SC transaction, so no other PC/SC client can interleave. The eGK's AUT key signs
 * only after MRPIN.home (P2 02), which checks the PIN.CH secret: PIN.CH alone (P2 01) does not
 * open it on the contact interface without card-to-card authentication — on the real G2.1 image
 * as on the simulated card (cards/objsys/egk.ts, docs/cards.md); gematik's apps verify MRPIN.home
 * too. The user's PIN (the persona's PIN.CH) is entered for every signature, as in the apps.
 *
 *   const signer = new EgkPcscSigner({ persona: 'Jonas Keller' });   // pcscd of cards.vpcdPort 35963
 *   const cert = await signer.autCertificate();                       // C.CH.AUT, DER
 *   const sig = await signer.signDigest(sha256(challenge));           // r‖s
 *   await signer.close();
 *
 * The reader: `reader` names it; otherwise the signer looks at every reader with a card and takes
 * the eGK with the persona's (or the given) ICCSN, or — with neither — the only eGK there is.
 */
import { buildApdu, SW, swHex } from '../../lib/apdu';
import { parseBer } from '../../lib/der';
import { PcscClient, PcscError, type PcscReader } from '../../lib/pcsc-reader';
import { encodePinBlock } from '../../lib/pin-block';
import { DEFAULT_VPCD_PORT, pcscSocketPath } from '../../../cards/pcscd/layout';
import { AID } from '../../../cards/objsys/common';
import { listPersonas, loadPersona, type Persona } from '../../../cards/index';
import { CardSignerError, type ChallengeSigner } from '../signer';

export interface EgkPcscSignerOptions {
  /** A persona of cards/personas: its eGK is looked for by ICCSN; its PIN.CH is the PIN. */
  persona?: string;
  /** The eGK's ICCSN (20 digits), when no persona is given or to pin it down. */
  iccsn?: string;
  /** The PIN.CH secret (default: the persona's, or that of the persona whose ICCSN the card has). */
  pin?: string;
  /** PC/SC reader name (e.g. "TI Virtual PCD 0 00 01"); default: search the readers. */
  reader?: string;
  /** pcscd socket (PCSCLITE_CSOCK_NAME); default: the harness pcscd of `vpcdPort`. */
  socket?: string;
  /** vpcd base port of the harness pcscd (default 35963), used when `socket` is not given. */
  vpcdPort?: number;
  /** Time limit of one PC/SC transaction (default 10 s). */
  timeoutMs?: number;
  /** How long to look for readers and the card before card-missing (default 2 s). */
  findTimeoutMs?: number;
}

const DIGEST_BYTES = 32;
/** EF.C.CH.AUT.E256 in DF.ESIGN. */
const SFI_C_CH_AUT = 0x04;
/** EF.GDO in the MF (ICCSN). */
const SFI_GDO = 0x02;
/** VERIFY P2: MRPIN.home (global password 02, references PIN.CH's secret). */
const MRPIN_HOME = 0x02;
/** PrK.CH.AUT.E256: key identifier 04 in DF.ESIGN, DF-specific reference (bit 80). */
const PRK_CH_AUT_E256 = 0x84;
/** Algorithm identifier signECDSA (gemSpec_COS). */
const SIGN_ECDSA = 0x00;

/** PC/SC codes of a connection to a card that is no longer the one in the reader. */
const STALE_CONNECTION = ['RemovedCard', 'ResetCard', 'NotTransacted'];

type CardKindFound = 'eGK' | 'HBA' | 'SMC-B' | 'unknown';

interface CardFacts {
  kind: CardKindFound;
  iccsn?: string;
}

type Send = (apdu: Buffer) => Promise<{ data: Buffer; sw: number }>;

export class EgkPcscSigner implements ChallengeSigner {
  readonly kind = 'eGK' as const;
  label: string;
  private readonly persona?: Persona;
  private readonly iccsn?: string;
  private readonly pin?: string;
  private readonly socket: string;
  private readonly fixedReader?: string;
  private readonly timeoutMs: number;
  private readonly findTimeoutMs: number;
  private client: PcscClient | undefined;
  private reader: PcscReader | undefined;
  private certificate: Buffer | undefined;
  private cardIccsn: string | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(opts: EgkPcscSignerOptions = {}) {
    if (opts.persona !== undefined) {
      const p = loadPersona(opts.persona);
      if (p.type !== 'eGK') throw new TypeError(`EgkPcscSigner: persona "${p.name}" has an ${p.type}, not an eGK`);
      if (opts.iccsn !== undefined && opts.iccsn !== p.iccsn) throw new TypeError(`EgkPcscSigner: iccsn ${opts.iccsn} is not the ICCSN of persona "${p.name}" (${p.iccsn})`);
      this.persona = p;
    }
    const iccsn = opts.iccsn ?? this.persona?.iccsn;
    if (iccsn !== undefined && !/^[0-9]{20}$/.test(iccsn)) throw new TypeError(`EgkPcscSigner: an ICCSN has 20 digits, got "${iccsn}"`);
    if (opts.pin !== undefined) {
      try {
        encodePinBlock(opts.pin);
      } catch {
        throw new TypeError('EgkPcscSigner: pin must be 4..12 digits');
      }
    }
    if (opts.reader !== undefined && (typeof opts.reader !== 'string' || !opts.reader)) throw new TypeError('EgkPcscSigner: reader must be a reader name');
    this.iccsn = iccsn;
    this.pin = opts.pin;
    this.fixedReader = opts.reader;
    this.socket = opts.socket ?? pcscSocketPath(opts.vpcdPort ?? DEFAULT_VPCD_PORT);
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.findTimeoutMs = Math.max(0, opts.findTimeoutMs ?? 2000);
    this.label = this.persona?.name ?? (iccsn ? `eGK ${iccsn}` : 'eGK');
  }

  /** C.CH.AUT of the eGK (EF.C.CH.AUT.E256), DER. */
  async autCertificate(): Promise<Buffer> {
    return this.exclusive(async () => {
      if (!this.certificate) {
        await this.session(async (send) => {
          this.certificate = await readAutCertificate(send);
        });
      }
      return Buffer.from(this.certificate as Buffer);
    });
  }

  /** VERIFY MRPIN.home, MSE SET, PSO CDS over the 32-byte digest; r‖s (64 bytes). */
  async signDigest(digest: Buffer): Promise<Buffer> {
    if (!Buffer.isBuffer(digest)) throw new TypeError('signDigest: the digest must be a Buffer');
    if (digest.length !== DIGEST_BYTES) throw new RangeError(`signDigest: the digest must have ${DIGEST_BYTES} bytes (SHA-256), got ${digest.length}`);
    return this.exclusive(() =>
      this.session(async (send) => {
        const cert = await readAutCertificate(send);
        if (this.certificate && !this.certificate.equals(cert)) {
          throw new CardSignerError(`the eGK in "${this.reader?.name}" is not the card whose certificate was read before`, 'card-error');
        }
        this.certificate = cert;
        const pin = this.pinSecret();
        const v = await send(buildApdu(0x00, 0x20, 0x00, MRPIN_HOME, encodePinBlock(pin)));
        if (v.sw !== SW.OK) throw pinError(v.sw, this.label);
        const mse = await send(buildApdu(0x00, 0x22, 0x41, 0xb6, Buffer.from([0x84, 0x01, PRK_CH_AUT_E256, 0x80, 0x01, SIGN_ECDSA])));
        if (mse.sw !== SW.OK) throw cardError(mse.sw, 'MSE SET for PrK.CH.AUT.E256', this.label);
        const pso = await send(buildApdu(0x00, 0x2a, 0x9e, 0x9a, digest, 256));
        if (pso.sw !== SW.OK) throw cardError(pso.sw, 'PSO COMPUTE DIGITAL SIGNATURE', this.label);
        if (pso.data.length !== 64) throw new CardSignerError(`${this.label}: PSO COMPUTE DIGITAL SIGNATURE answered ${pso.data.length} bytes, expected r‖s (64)`, 'card-error');
        return Buffer.from(pso.data);
      }),
    );
  }

  /** Releases the reader and the PC/SC client (idempotent). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue.catch(() => undefined);
    await this.reader?.disconnect().catch(() => undefined);
    this.reader = undefined;
    this.client?.close();
    this.client = undefined;
  }

  // -------------------------------------------------------------------------

  /** One operation at a time per signer. */
  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new CardSignerError(`the signer of ${this.label} is closed`, 'card-error'));
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private pinSecret(): string {
    const pin = this.pin ?? this.persona?.pins['PIN.CH']?.pin ?? personaByIccsn(this.cardIccsn)?.pins['PIN.CH']?.pin;
    if (!pin) throw new CardSignerError(`no PIN known for ${this.label} (ICCSN ${this.cardIccsn ?? '?'}): pass pin or persona`, 'card-error');
    return pin;
  }

  /**
   * Runs `fn` in one PC/SC transaction on the eGK: checks the card type and ICCSN first. PC/SC
   * failures become CardSignerError (card-missing when the card or reader is gone).
   */
  private async session<T>(fn: (send: Send) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const reader = await this.locate();
      try {
        return await this.transaction(reader, fn);
      } catch (e) {
        // A connection to a card that was reset, or pulled (and maybe put back), is stale: pcsc-lite
        // reports RemovedCard, ResetCard or — inside a transaction on such a connection —
        // NotTransacted. Connect afresh once.
        const stale = e instanceof PcscError && STALE_CONNECTION.includes(e.code ?? '');
        const absent = e instanceof PcscError && e.code === 'NoSmartcard' && !!this.fixedReader;
        if (attempt === 0 && (stale || absent)) {
          await reader.disconnect();
          // A card just put (back) into a named reader: this client's view of the reader may lag
          // behind pcscd's for a poll cycle; wait for it before the one retry.
          if (this.fixedReader && this.findTimeoutMs > 0) await reader.waitForCard({ timeoutMs: this.findTimeoutMs }).catch(() => undefined);
          continue;
        }
        throw this.pcscFailure(e, reader.name);
      }
    }
  }

  private transaction<T>(reader: PcscReader, fn: (send: Send) => Promise<T>): Promise<T> {
    return reader.transaction(
      async () => {
        const send: Send = async (apdu) => {
          const rsp = await reader.transmit(apdu, { timeoutMs: this.timeoutMs });
          if (rsp.length < 2) throw new CardSignerError(`${this.label}: the card answered ${rsp.length} bytes`, 'card-error');
          return { data: rsp.subarray(0, rsp.length - 2), sw: rsp.readUInt16BE(rsp.length - 2) };
        };
        const facts = await identify(send);
        if (facts.kind !== 'eGK') {
          throw new CardSignerError(`the card in "${reader.name}" is ${facts.kind === 'unknown' ? 'no health card the signer knows' : `an ${facts.kind}`}, not an eGK`, 'wrong-card-type');
        }
        if (this.iccsn && facts.iccsn !== this.iccsn) {
          throw new CardSignerError(`the eGK of ${this.label} (ICCSN ${this.iccsn}) is not in "${reader.name}" (it holds ICCSN ${facts.iccsn ?? '?'})`, 'card-missing');
        }
        this.cardIccsn = facts.iccsn;
        if (this.label === 'eGK' && facts.iccsn) this.label = `eGK ${facts.iccsn}`;
        return fn(send);
      },
      { timeoutMs: this.timeoutMs },
    );
  }

  private pcscFailure(e: unknown, readerName: string): Error {
    if (e instanceof CardSignerError || e instanceof TypeError || e instanceof RangeError) return e;
    if (e instanceof PcscError) {
      // NotTransacted on a fresh connection: the transaction was lost because the card left
      const gone = ['RemovedCard', 'NoSmartcard', 'UnknownReader', 'ResetCard', 'NoReadersAvailable', 'NotTransacted'].includes(e.code ?? '');
      if (gone && !this.fixedReader) this.releaseReader();
      return withCause(new CardSignerError(`${this.label}: ${e.message}`, gone ? 'card-missing' : 'card-error'), e);
    }
    return withCause(new CardSignerError(`${this.label} in "${readerName}": ${(e as Error)?.message ?? String(e)}`, 'card-error'), e);
  }

  private releaseReader(): void {
    const r = this.reader;
    this.reader = undefined;
    void r?.disconnect().catch(() => undefined);
  }

  private pcsc(): PcscClient {
    if (!this.client) {
      try {
        this.client = PcscClient.open({ socket: this.socket });
      } catch (e) {
        throw withCause(new CardSignerError(`${this.label}: ${(e as Error).message}`, 'card-error'), e);
      }
    }
    return this.client;
  }

  /** The reader holding the eGK (named, or found by looking at every reader with a card). */
  private async locate(): Promise<PcscReader> {
    if (this.reader) return this.reader;
    const client = this.pcsc();
    if (this.fixedReader) {
      try {
        this.reader = await client.reader(this.fixedReader, Math.max(this.findTimeoutMs, 1));
      } catch (e) {
        throw withCause(new CardSignerError(`${this.label}: pcscd at ${this.socket} has no reader "${this.fixedReader}" (${(e as Error).message})`, 'card-missing'), e);
      }
      return this.reader;
    }
    const deadline = Date.now() + this.findTimeoutMs;
    try {
      await client.waitForReaders([], Math.max(this.findTimeoutMs, 1));
    } catch (e) {
      throw withCause(new CardSignerError(`${this.label}: no card reader at ${this.socket} (${(e as Error).message})`, 'card-missing'), e);
    }
    await settleReaders(client, deadline);
    const seen = new Map<string, CardFacts>();
    for (;;) {
      const states = client.readerStates();
      const eGKs: Array<{ reader: PcscReader; facts: CardFacts }> = [];
      for (const st of states) {
        if (!st.present || st.mute) continue;
        const reader = await client.reader(st.name, 1000).catch(() => undefined);
        if (!reader) continue;
        const facts = await reader
          .transaction(
            () =>
              identify(async (apdu) => {
                const rsp = await reader.transmit(apdu, { timeoutMs: this.timeoutMs });
                return { data: rsp.subarray(0, Math.max(0, rsp.length - 2)), sw: rsp.length >= 2 ? rsp.readUInt16BE(rsp.length - 2) : 0x6f00 };
              }),
            { timeoutMs: this.timeoutMs },
          )
          .catch(() => undefined);
        if (!facts) {
          await reader.disconnect();
          continue;
        }
        seen.set(st.name, facts);
        if (facts.kind === 'eGK' && (!this.iccsn || facts.iccsn === this.iccsn)) eGKs.push({ reader, facts });
        else await reader.disconnect();
      }
      if (eGKs.length === 1 || (eGKs.length > 1 && this.iccsn)) {
        for (const other of eGKs.slice(1)) await other.reader.disconnect();
        this.reader = eGKs[0].reader;
        this.cardIccsn = eGKs[0].facts.iccsn;
        return this.reader;
      }
      const found = [...seen.entries()].map(([n, f]) => `${f.kind}${f.iccsn ? ` ${f.iccsn}` : ''} in "${n}"`).join(', ') || 'no card';
      if (eGKs.length > 1) {
        for (const r of eGKs) await r.reader.disconnect();
        throw new CardSignerError(`${eGKs.length} eGKs are inserted (${found}): say which one (persona, iccsn or reader)`, 'card-error');
      }
      if (Date.now() >= deadline) {
        if (!this.iccsn && seen.size > 0) throw new CardSignerError(`no eGK in any card reader (${found})`, 'wrong-card-type');
        throw new CardSignerError(`the eGK of ${this.label} is in no card reader (${found})`, 'card-missing');
      }
      const key = () => client.readerStates().map((r) => `${r.name}:${r.present ? 1 : 0}`).join('|');
      const before = key();
      await client.waitUntil(() => (key() !== before ? true : undefined), Math.max(1, deadline - Date.now()), 'card events').catch(() => undefined);
    }
  }
}

/**
 * pcsc-mini reports the readers one by one: wait until no new reader has shown up for a moment
 * (bounded by `deadline`), so a search sees every reader pcscd has.
 */
async function settleReaders(client: PcscClient, deadline: number, quietMs = 150): Promise<void> {
  for (;;) {
    const n = client.readerStates().length;
    const wait = Math.min(quietMs, deadline - Date.now());
    if (wait <= 0) return;
    try {
      await client.waitUntil(() => (client.readerStates().length !== n ? true : undefined), wait, 'reader list');
    } catch {
      return; // quiet for `wait` ms (or the client failed: the search reports it)
    }
  }
}

function selectAid(aid: string): Buffer {
  return buildApdu(0x00, 0xa4, 0x04, 0x0c, Buffer.from(aid, 'hex'));
}

/** Card type by the root application it answers, and the ICCSN from EF.GDO. */
async function identify(send: Send): Promise<CardFacts> {
  if ((await send(selectAid(AID.MF_EGK))).sw === SW.OK) {
    const gdo = await send(buildApdu(0x00, 0xb0, 0x80 | SFI_GDO, 0x00, Buffer.alloc(0), 256));
    if (gdo.sw === SW.OK && gdo.data.length >= 12 && gdo.data[0] === 0x5a) return { kind: 'eGK', iccsn: gdo.data.subarray(2, 2 + gdo.data[1]).toString('hex') };
    return { kind: 'unknown' };
  }
  if ((await send(selectAid(AID.MF_HBA))).sw === SW.OK) return { kind: 'HBA' };
  if ((await send(selectAid(AID.MF_SMCB))).sw === SW.OK) return { kind: 'SMC-B' };
  return { kind: 'unknown' };
}

/** SELECT DF.ESIGN, READ BINARY EF.C.CH.AUT.E256: the DER certificate. */
async function readAutCertificate(send: Send): Promise<Buffer> {
  const sel = await send(selectAid(AID.ESIGN));
  if (sel.sw !== SW.OK) throw cardError(sel.sw, 'SELECT DF.ESIGN', 'the eGK');
  const rsp = await send(buildApdu(0x00, 0xb0, 0x80 | SFI_C_CH_AUT, 0x00, Buffer.alloc(0), 65536));
  if (rsp.sw !== SW.OK) throw cardError(rsp.sw, 'READ BINARY EF.C.CH.AUT.E256', 'the eGK');
  try {
    return Buffer.from(parseBer(rsp.data, { allowTrailing: true }).bytes);
  } catch (e) {
    throw withCause(new CardSignerError(`EF.C.CH.AUT.E256 holds no certificate (${(e as Error).message})`, 'card-error'), e);
  }
}

/** VERIFY answers: 63Cx wrong PIN (x tries left; 63C0: this try blocked it), 6983 blocked. */
function pinError(sw: number, label: string): CardSignerError {
  const statusWord = swHex(sw);
  if ((sw & 0xfff0) === 0x63c0) {
    const left = sw & 0x0f;
    return left === 0
      ? new CardSignerError(`wrong PIN.CH for ${label}: PIN.CH is now blocked`, 'pin-blocked', { statusWord })
      : new CardSignerError(`wrong PIN.CH for ${label} (${left} tries left)`, 'pin-wrong', { statusWord });
  }
  if (sw === SW.PASSWORD_BLOCKED) return new CardSignerError(`PIN.CH of ${label} is blocked`, 'pin-blocked', { statusWord });
  if (sw === SW.CONDITIONS_NOT_SATISFIED) return new CardSignerError(`PIN.CH of ${label} is a transport or empty PIN: set a PIN first`, 'card-error', { statusWord });
  return cardError(sw, 'VERIFY MRPIN.home', label);
}

function cardError(sw: number, command: string, label: string): CardSignerError {
  return new CardSignerError(`${label}: ${command} answered ${swHex(sw)}`, 'card-error', { statusWord: swHex(sw) });
}

function personaByIccsn(iccsn: string | undefined): Persona | undefined {
  if (!iccsn) return undefined;
  try {
    return listPersonas().find((p) => p.iccsn === iccsn);
  } catch {
    return undefined;
  }
}

function withCause(err: CardSignerError, cause: unknown): CardSignerError {
  (err as Error & { cause?: unknown }).cause = cause;
  return err;
}
