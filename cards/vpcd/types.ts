/**
 * What the vpcd bridge needs from a card: the card OS (cards/os/card.ts, CardOs)
 * satisfies it, and so does the small stub card used by the PC/SC tests.
 */
export interface VirtualCard {
  /** Answer to reset, sent whenever vpcd asks for it (presence polls, power on, reset). */
  readonly atr: Buffer;
  /** Cold start: vpcd powers the card up (pcscd connects a client, or after power off). */
  powerOn(): void;
  /** vpcd cut the power: volatile state (security status, selected files) is lost. */
  powerOff(): void;
  /** Warm reset. */
  reset(): void;
  /** One command APDU in, one response APDU (data + SW1 SW2) out. */
  transmit(apdu: Buffer): Buffer;
}
