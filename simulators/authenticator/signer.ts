/**
 * What the Authentisierungsmodul needs from a smartcard to answer an IDP challenge
 * (gemSysL_eRp A_18816: read the AUT certificate, have the challenge signed with its key).
 *
 * Implementations:
 *   - signers/konnektor-smcb.ts  SMC-B of a practice or pharmacy through the Konnektor
 *                                (ReadCardCertificate C.AUT + ExternalAuthenticate, A_18817)
 *   - signers/egk-pcsc.ts        eGK of an insured person directly through PC/SC (A_18818)
 * Both compute every signature on the (virtual) card.
 */
export type CardKind = 'SMC-B' | 'eGK' | 'HBA';

export interface ChallengeSigner {
  /** Which card answers (for logs and errors). */
  readonly kind: CardKind;
  /** Human-readable owner, e.g. the persona name. */
  readonly label: string;
  /** DER of the card's AUT certificate (C.HCI.AUT / C.CH.AUT / C.HP.AUT, brainpoolP256r1). */
  autCertificate(): Promise<Buffer>;
  /**
   * ECDSA brainpoolP256r1 signature over a 32-byte SHA-256 digest, computed by the card,
   * returned as raw r‖s (64 bytes, the JWS form). Konnektors answer ExternalAuthenticate in
   * DER; the signer converts.
   */
  signDigest(digest: Buffer): Promise<Buffer>;
  /** Releases readers/connections (idempotent). */
  close?(): Promise<void>;
}

/** A signer refused or failed, with the card-level reason (status word, Konnektor fault code). */
export class CardSignerError extends Error {
  constructor(
    message: string,
    readonly reason: 'pin-blocked' | 'pin-wrong' | 'card-missing' | 'wrong-card-type' | 'konnektor-fault' | 'card-error',
    readonly detail?: { statusWord?: string; konnektorCode?: string },
  ) {
    super(message);
    this.name = 'CardSignerError';
  }
}
