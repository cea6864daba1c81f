/**
 * A tiny stand-in card for testing the PC/SC path (pcscd → vpcd → bridge) without
 * the card OS: it knows the eGK root application and an echo command, nothing else.
 *
 *   SELECT by AID D2760001448000 (00 A4 04 0C|00 07 …)  → 9000
 *   80 EE 00 00 <data> [Le]  (proprietary ECHO, short or extended)  → data 9000
 *   anything else  → 6D00 (instruction not supported)
 */
import type { VirtualCard } from './types';

/** AID of the eGK/HBA/SMC-B root application (gemSpec_COS: "D2 76 00 01 44 80 00"). */
export const ROOT_APPLICATION_AID = Buffer.from('D2760001448000', 'hex');

const SW_OK = Buffer.from([0x90, 0x00]);
const SW_INS_NOT_SUPPORTED = Buffer.from([0x6d, 0x00]);
const SW_WRONG_LENGTH = Buffer.from([0x67, 0x00]);
const SW_FILE_NOT_FOUND = Buffer.from([0x6a, 0x82]);

/** Builds a T=1 ATR with the given historical bytes (TS 3B, TD1 → T=0 indicated, TD2 T=1, TCK). */
export function buildT1Atr(historical: Buffer): Buffer {
  if (historical.length > 15) throw new RangeError('at most 15 historical bytes');
  const body = Buffer.concat([Buffer.from([0x80 | historical.length, 0x80, 0x01]), historical]);
  let tck = 0;
  for (const b of body) tck ^= b;
  return Buffer.concat([Buffer.from([0x3b]), body, Buffer.from([tck])]);
}

/** The stub's ATR: historical bytes 80 57 "TI-STUB" (category 80, compact-TLV tag 5 "card issuer's data"). */
export const STUB_ATR = buildT1Atr(Buffer.concat([Buffer.from([0x80, 0x57]), Buffer.from('TI-STUB', 'ascii')]));

/** Command data of a short or extended APDU (ISO 7816-4 cases 3/4), or undefined if it carries none / is malformed. */
export function commandData(apdu: Buffer): Buffer | undefined {
  if (apdu.length <= 5) return undefined;
  if (apdu[4] !== 0) {
    const lc = apdu[4];
    return apdu.length === 5 + lc || apdu.length === 6 + lc ? apdu.subarray(5, 5 + lc) : undefined;
  }
  if (apdu.length < 7) return undefined;
  const lc = apdu.readUInt16BE(5);
  return lc > 0 && (apdu.length === 7 + lc || apdu.length === 9 + lc) ? apdu.subarray(7, 7 + lc) : undefined;
}

export class StubCard implements VirtualCard {
  readonly atr: Buffer = STUB_ATR;
  powered = false;
  readonly log: string[] = [];

  powerOn(): void {
    this.powered = true;
  }

  powerOff(): void {
    this.powered = false;
  }

  reset(): void {
    this.powered = true;
  }

  transmit(apdu: Buffer): Buffer {
    this.log.push(apdu.subarray(0, 4).toString('hex'));
    if (apdu.length < 4) return SW_WRONG_LENGTH;
    const [cla, ins, p1] = apdu;
    if (cla === 0x00 && ins === 0xa4 && p1 === 0x04) {
      const aid = commandData(apdu);
      if (!aid) return SW_WRONG_LENGTH;
      return aid.equals(ROOT_APPLICATION_AID) ? SW_OK : SW_FILE_NOT_FOUND;
    }
    if (cla === 0x80 && ins === 0xee) {
      const data = commandData(apdu);
      if (!data) return SW_WRONG_LENGTH;
      return Buffer.concat([data, SW_OK]);
    }
    return SW_INS_NOT_SUPPORTED;
  }
}
