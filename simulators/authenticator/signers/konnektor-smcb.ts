/**
 * The SMC-B of a practice or pharmacy answers the IDP's challenge through the Konnektor
 * (gemSysL_eRp A_18817): the AUT certificate by CertificateService ReadCardCertificate (C.AUT =
 * C.HCI.AUT), the signature by AuthSignatureService ExternalAuthenticate with
 * `urn:bsi:tr:03111:ecdsa` over the 32-byte digest. The Konnektor answers DER; the signer returns
 * r‖s. Every signature is computed by the card (the Konnektor holds no card key).
 *
 *   const signer = new KonnektorSmcbSigner({
 *     konnektor: { url: 'https://127.0.0.1:8442', ca: rootPem, context: { mandantId, clientSystemId, workplaceId } },
 *     persona: 'Praxis Dr. Hanna Ebert',              // or telematikId: '1-SMC-B-…' or iccsn: '8027…'
 *   });
 *   const cert = await signer.autCertificate();
 *   const sig = await signer.signDigest(sha256(challenge));
 *   await signer.close();
 *
 * PIN: the Konnektor's ExternalAuthenticate needs PIN.SMC verified ("SMC-B freigeschaltet"); like
 * gematik's Authenticator the signer asks GetPinStatus on first use and calls VerifyPin (the user
 * types the PIN at the card terminal) when the PIN is not verified yet. Later signatures go straight
 * to ExternalAuthenticate; when the Konnektor then answers 4047 (the card lost its security state,
 * e.g. after a reset) the signer checks the PIN once more and retries once. A card handle the
 * Konnektor no longer knows (4008: card pulled or re-inserted) is looked up again once.
 */
import { ecdsaDerToRaw } from '../../lib/bp256';
import { KonnektorClient, KonnektorClientError, KonnektorFault, type KonnektorCard, type KonnektorClientOptions } from '../../lib/konnektor-client';
import { parseCertificate } from '../../lib/x509';
import { loadPersona } from '../../../cards/index';
import { CardSignerError, type ChallengeSigner } from '../signer';

export interface KonnektorSmcbSignerOptions {
  /** A client (shared: close() leaves it open) or the options to make one (closed by close()). */
  konnektor: KonnektorClient | KonnektorClientOptions;
  /** The SMC-B's Telematik-ID (found in the admission of C.HCI.AUT). */
  telematikId?: string;
  /** The SMC-B's ICCSN (GetCards answers it). */
  iccsn?: string;
  /** A persona of cards/personas (its ICCSN, and its Telematik-ID as a cross-check). */
  persona?: string;
  /** Verify PIN.SMC through the Konnektor when it is not verified (default true). */
  verifyPin?: boolean;
  /** How long to keep looking for the card with GetCards before card-missing (default 0: look once). */
  findTimeoutMs?: number;
}

interface LocatedCard {
  handle: string;
  iccsn?: string;
  holder?: string;
  /** C.HCI.AUT, when it was read while locating. */
  certificate?: Buffer;
}

const PIN_SMC = 'PIN.SMC';
const DIGEST_BYTES = 32;

/** Konnektor error codes with a card-level meaning (gemSpec_Kon; docs/konnektor.md §5). */
const CARD_GONE = 4008;
const NOT_ALLOWED_OR_PIN_MISSING = 4047;
const PIN_BLOCKED = 4063;
const PIN_REJECTED = 4064;

export class KonnektorSmcbSigner implements ChallengeSigner {
  readonly kind = 'SMC-B' as const;
  label: string;
  private readonly client: KonnektorClient;
  private readonly ownsClient: boolean;
  private readonly iccsn?: string;
  private readonly telematikId?: string;
  private readonly verifyPinFirst: boolean;
  private readonly findTimeoutMs: number;
  private card: LocatedCard | undefined;
  /** The certificate autCertificate() handed out: signatures must verify with it. */
  private issued: Buffer | undefined;
  private locating: Promise<LocatedCard> | undefined;
  /** PIN.SMC checked (and verified if needed) for the current card handle. */
  private pinReady = false;
  private closed = false;

  constructor(opts: KonnektorSmcbSignerOptions) {
    if (!opts || !opts.konnektor) throw new TypeError('KonnektorSmcbSigner: konnektor (a KonnektorClient or its options) is required');
    let iccsn = opts.iccsn;
    let telematikId = opts.telematikId;
    let label: string | undefined;
    if (opts.persona !== undefined) {
      const p = loadPersona(opts.persona);
      if (p.type !== 'SMC-B') throw new TypeError(`KonnektorSmcbSigner: persona "${p.name}" has an ${p.type}, not an SMC-B`);
      if (iccsn !== undefined && iccsn !== p.iccsn) throw new TypeError(`KonnektorSmcbSigner: iccsn ${iccsn} is not the ICCSN of persona "${p.name}" (${p.iccsn})`);
      iccsn = p.iccsn;
      telematikId ??= p.telematikId;
      label = p.name;
    }
    if (iccsn !== undefined && !/^[0-9]{20}$/.test(iccsn)) throw new TypeError(`KonnektorSmcbSigner: an ICCSN has 20 digits, got "${iccsn}"`);
    if (telematikId !== undefined && (typeof telematikId !== 'string' || !telematikId)) throw new TypeError('KonnektorSmcbSigner: telematikId must be a non-empty string');
    this.iccsn = iccsn;
    this.telematikId = telematikId;
    this.label = label ?? (telematikId ? `SMC-B ${telematikId}` : iccsn ? `SMC-B ${iccsn}` : 'SMC-B');
    this.verifyPinFirst = opts.verifyPin ?? true;
    this.findTimeoutMs = Math.max(0, opts.findTimeoutMs ?? 0);
    if (opts.konnektor instanceof KonnektorClient) {
      this.client = opts.konnektor;
      this.ownsClient = false;
    } else {
      this.client = new KonnektorClient(opts.konnektor);
      this.ownsClient = true;
    }
  }

  /** C.HCI.AUT of the SMC-B (ReadCardCertificate C.AUT), DER. */
  async autCertificate(): Promise<Buffer> {
    return this.guard(async () => {
      const card = await this.located();
      if (!card.certificate) card.certificate = await this.readAut(card.handle);
      this.issued = card.certificate;
      return Buffer.from(card.certificate);
    });
  }

  /** ExternalAuthenticate over the 32-byte digest; r‖s (64 bytes). */
  async signDigest(digest: Buffer): Promise<Buffer> {
    if (!Buffer.isBuffer(digest)) throw new TypeError('signDigest: the digest must be a Buffer');
    if (digest.length !== DIGEST_BYTES) throw new RangeError(`signDigest: the digest must have ${DIGEST_BYTES} bytes (SHA-256), got ${digest.length}`);
    return this.guard(async () => {
      let retriedHandle = false;
      let retriedPin = false;
      for (;;) {
        const card = await this.located();
        try {
          if (this.issued) {
            // a card found anew (re-inserted, or another one) must be the one whose certificate was handed out
            card.certificate ??= await this.readAut(card.handle);
            if (!card.certificate.equals(this.issued)) {
              throw new CardSignerError(`the SMC-B now found for ${this.label} is not the card whose certificate was read before`, 'card-error');
            }
          }
          if (this.verifyPinFirst && !this.pinReady) await this.ensurePin(card.handle);
          const der = await this.client.externalAuthenticate(card.handle, digest);
          try {
            return ecdsaDerToRaw(der);
          } catch (e) {
            throw new CardSignerError(`ExternalAuthenticate of ${this.label}: the Konnektor's answer is no DER ECDSA signature (${(e as Error).message})`, 'konnektor-fault');
          }
        } catch (e) {
          if (e instanceof KonnektorFault && e.code === CARD_GONE && !retriedHandle) {
            // pulled, or re-inserted under a new handle: look it up once more
            retriedHandle = true;
            this.forgetCard(card);
            continue;
          }
          if (e instanceof KonnektorFault && e.code === NOT_ALLOWED_OR_PIN_MISSING && this.verifyPinFirst && this.pinReady && !retriedPin) {
            retriedPin = true;
            this.pinReady = false;
            continue;
          }
          throw e;
        }
      }
    });
  }

  /** Closes the Konnektor client when the signer made it (idempotent). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsClient) await this.client.close();
  }

  // -------------------------------------------------------------------------

  private located(): Promise<LocatedCard> {
    if (this.closed) return Promise.reject(new CardSignerError(`the signer of ${this.label} is closed`, 'card-error'));
    if (this.card) return Promise.resolve(this.card);
    this.locating ??= this.locate().then(
      (c) => {
        this.locating = undefined;
        this.card = c;
        this.pinReady = false;
        if (c.holder && this.label.startsWith('SMC-B')) this.label = c.holder;
        return c;
      },
      (e) => {
        this.locating = undefined;
        throw e;
      },
    );
    return this.locating;
  }

  private forgetCard(card: LocatedCard): void {
    if (this.card === card) this.card = undefined;
    this.pinReady = false;
  }

  /** GetCards (and, to match a Telematik-ID, ReadCardCertificate) until the card shows up or the time is over. */
  private async locate(): Promise<LocatedCard> {
    const deadline = Date.now() + this.findTimeoutMs;
    for (;;) {
      const r = await this.findOnce();
      if ('card' in r) return r.card;
      if (Date.now() >= deadline || r.final) throw new CardSignerError(r.message, r.reason);
      await new Promise((res) => setTimeout(res, 250));
    }
  }

  private async findOnce(): Promise<{ card: LocatedCard } | { message: string; reason: CardSignerError['reason']; final: boolean }> {
    const describe = (cards: KonnektorCard[]) => cards.map((c) => `${c.cardType} ${c.iccsn ?? '?'} in ${c.ctId}/${c.slotId}`).join(', ') || 'no card';
    if (this.iccsn) {
      const cards = await this.client.getCards();
      const hit = cards.find((c) => c.iccsn === this.iccsn);
      if (!hit) return { message: `the SMC-B ${this.label} (ICCSN ${this.iccsn}) is in no card terminal the Konnektor shows this context (${describe(cards)})`, reason: 'card-missing', final: false };
      if (hit.cardType !== 'SMC-B') return { message: `the card with ICCSN ${this.iccsn} is an ${hit.cardType}, not an SMC-B`, reason: 'wrong-card-type', final: true };
      const card: LocatedCard = { handle: hit.cardHandle, iccsn: hit.iccsn, holder: hit.cardHolderName };
      if (this.telematikId) {
        card.certificate = await this.readAut(hit.cardHandle);
        const ids = telematikIdsOf(card.certificate);
        if (!ids.includes(this.telematikId)) {
          return { message: `the SMC-B with ICCSN ${this.iccsn} has Telematik-ID ${ids.join(', ') || 'none'}, not ${this.telematikId}`, reason: 'card-missing', final: true };
        }
      }
      return { card };
    }
    const smcbs = await this.client.getCards({ cardType: 'SMC-B' });
    if (this.telematikId) {
      for (const c of smcbs) {
        const der = await this.readAut(c.cardHandle).catch((e) => {
          if (e instanceof KonnektorFault && e.code === CARD_GONE) return undefined; // left meanwhile
          throw e;
        });
        if (der && telematikIdsOf(der).includes(this.telematikId)) return { card: { handle: c.cardHandle, iccsn: c.iccsn, holder: c.cardHolderName, certificate: der } };
      }
      return { message: `no SMC-B with Telematik-ID ${this.telematikId} in the card terminals of this context (${describe(smcbs)})`, reason: 'card-missing', final: false };
    }
    if (smcbs.length === 1) return { card: { handle: smcbs[0].cardHandle, iccsn: smcbs[0].iccsn, holder: smcbs[0].cardHolderName } };
    if (smcbs.length === 0) return { message: 'no SMC-B in the card terminals of this context', reason: 'card-missing', final: false };
    return { message: `${smcbs.length} SMC-Bs are inserted (${describe(smcbs)}): say which one (telematikId, iccsn or persona)`, reason: 'card-error', final: true };
  }

  private async readAut(handle: string): Promise<Buffer> {
    const der = await this.client.readCardCertificate(handle, 'C.AUT');
    if (!der) throw new CardSignerError(`the Konnektor returned no C.AUT certificate for ${this.label}`, 'card-error');
    return der;
  }

  /** GetPinStatus PIN.SMC; VerifyPin when it is not verified. */
  private async ensurePin(handle: string): Promise<void> {
    const st = await this.client.getPinStatus(handle, PIN_SMC);
    if (st.status === 'VERIFIED') {
      this.pinReady = true;
      return;
    }
    if (st.status === 'BLOCKED') throw new CardSignerError(`PIN.SMC of ${this.label} is blocked`, 'pin-blocked');
    if (st.status !== 'VERIFIABLE') throw new CardSignerError(`PIN.SMC of ${this.label} cannot be verified (status ${st.status})`, 'card-error');
    const r = await this.client.verifyPin(handle, PIN_SMC);
    switch (r.result) {
      case 'OK':
        this.pinReady = true;
        return;
      case 'REJECTED':
        throw new CardSignerError(`wrong PIN.SMC for ${this.label}${r.leftTries !== undefined ? ` (${r.leftTries} tries left)` : ''}`, 'pin-wrong');
      case 'NOWBLOCKED':
      case 'WASBLOCKED':
        throw new CardSignerError(`PIN.SMC of ${this.label} is blocked (VerifyPin: ${r.result})`, 'pin-blocked');
      default:
        throw new CardSignerError(`VerifyPin PIN.SMC of ${this.label} answered ${r.result}`, 'card-error');
    }
  }

  /** Turns Konnektor faults and client errors into CardSignerError (bad input stays as it is). */
  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof CardSignerError || e instanceof TypeError || e instanceof RangeError) throw e;
      if (e instanceof KonnektorFault) {
        const detail = e.code !== undefined ? { konnektorCode: String(e.code) } : undefined;
        const reason: CardSignerError['reason'] =
          e.code === CARD_GONE ? 'card-missing' : e.code === PIN_BLOCKED ? 'pin-blocked' : e.code === PIN_REJECTED ? 'pin-wrong' : 'konnektor-fault';
        if (reason === 'card-missing') this.card = undefined;
        throw withCause(new CardSignerError(`${this.label}: ${e.message}`, reason, detail), e);
      }
      if (e instanceof KonnektorClientError) throw withCause(new CardSignerError(`${this.label}: ${e.message}`, 'konnektor-fault'), e);
      throw withCause(new CardSignerError(`${this.label}: ${(e as Error)?.message ?? String(e)}`, 'card-error'), e);
    }
  }
}

function telematikIdsOf(der: Buffer): string[] {
  try {
    return (parseCertificate(der).admission?.professions ?? []).map((p) => p.registrationNumber).filter((x): x is string => !!x);
  } catch {
    return [];
  }
}

function withCause(err: CardSignerError, cause: unknown): CardSignerError {
  (err as Error & { cause?: unknown }).cause = cause;
  return err;
}
