// ISO/IEC 7816-4 command APDU parsing (cases 1–4, short and extended length),
// status words and response building.

/** Status words used by the card OS (ISO/IEC 7816-4 and gemSpec_COS names in comments). */
export const SW = {
  OK: 0x9000, // NoError
  END_OF_FILE: 0x6282, // EndOfFileWarning / EndOfRecordWarning
  TRANSPORT_PIN: 0x62c1, // TransportStatus = transportPIN
  EMPTY_PIN: 0x62c7, // TransportStatus = Leer-PIN
  PASSWORD_DISABLED: 0x62d0, // PasswordDisabled
  WRONG_LENGTH: 0x6700,
  CHANNEL_NOT_SUPPORTED: 0x6881, // logical channel not supported
  SM_NOT_SUPPORTED: 0x6882, // secure messaging not supported
  CHAINING_NOT_SUPPORTED: 0x6884, // command chaining not supported
  WRONG_FILE_TYPE: 0x6981, // WrongFileType: command incompatible with file structure
  SECURITY_STATUS_NOT_SATISFIED: 0x6982,
  PASSWORD_BLOCKED: 0x6983, // PasswordBlocked / PukBlocked
  CONDITIONS_NOT_SATISFIED: 0x6985, // PasswordNotUsable / WrongPasswordLength / NoKeyReference
  NO_CURRENT_EF: 0x6986,
  WRONG_DATA: 0x6a80,
  FUNCTION_NOT_SUPPORTED: 0x6a81, // UnsupportedFunction
  FILE_NOT_FOUND: 0x6a82,
  RECORD_NOT_FOUND: 0x6a83,
  WRONG_P1P2: 0x6a86,
  KEY_NOT_FOUND: 0x6a88, // KeyNotFound / PasswordNotFound (referenced data not found)
  WRONG_OFFSET: 0x6b00, // OffsetTooBig
  INS_NOT_SUPPORTED: 0x6d00,
  CLA_NOT_SUPPORTED: 0x6e00,
  UNKNOWN: 0x6f00,
} as const;

/** 63Cx: wrong secret, x remaining tries (x capped at 15). */
export function swRetries(n: number): number {
  return 0x63c0 | Math.max(0, Math.min(15, n));
}

export interface CommandApdu {
  cla: number;
  ins: number;
  p1: number;
  p2: number;
  /** Command data (empty for cases 1 and 2). */
  data: Buffer;
  /** Ne, the maximum number of response bytes; undefined when Le is absent (cases 1 and 3). */
  ne?: number;
  /** Le was the wildcard (short 00 = 256, extended 0000 = 65536). */
  neWildcard: boolean;
  extended: boolean;
  isoCase: 1 | 2 | 3 | 4;
}

export type ParseResult = { ok: true; apdu: CommandApdu } | { ok: false; sw: number };

/**
 * Parse the body of a command APDU (ISO/IEC 7816-3 §12.1.3): 4-byte header,
 * then one of
 *   (nothing) | Le | Lc data | Lc data Le                    (short)
 *   00 Le2    | 00 Lc2 data  | 00 Lc2 data Le2                (extended)
 * Any other length gives 6700.
 */
export function parseApdu(buf: Buffer): ParseResult {
  const n = buf.length;
  if (n < 4) return { ok: false, sw: SW.WRONG_LENGTH };
  const header = { cla: buf[0], ins: buf[1], p1: buf[2], p2: buf[3] };
  const base = { ...header, data: Buffer.alloc(0), neWildcard: false, extended: false };
  if (n === 4) return { ok: true, apdu: { ...base, isoCase: 1 } };
  const b4 = buf[4];
  if (n === 5) return { ok: true, apdu: { ...base, isoCase: 2, ne: b4 === 0 ? 256 : b4, neWildcard: b4 === 0 } };
  if (b4 !== 0) {
    const lc = b4;
    if (n === 5 + lc) return { ok: true, apdu: { ...base, isoCase: 3, data: Buffer.from(buf.subarray(5, 5 + lc)) } };
    if (n === 6 + lc) {
      const le = buf[5 + lc];
      return {
        ok: true,
        apdu: { ...base, isoCase: 4, data: Buffer.from(buf.subarray(5, 5 + lc)), ne: le === 0 ? 256 : le, neWildcard: le === 0 },
      };
    }
    return { ok: false, sw: SW.WRONG_LENGTH };
  }
  // b4 === 0 and n >= 6: extended length
  if (n < 7) return { ok: false, sw: SW.WRONG_LENGTH };
  const w = buf.readUInt16BE(5);
  if (n === 7) return { ok: true, apdu: { ...base, extended: true, isoCase: 2, ne: w === 0 ? 65536 : w, neWildcard: w === 0 } };
  const lc = w;
  if (lc === 0) return { ok: false, sw: SW.WRONG_LENGTH };
  if (n === 7 + lc) return { ok: true, apdu: { ...base, extended: true, isoCase: 3, data: Buffer.from(buf.subarray(7, 7 + lc)) } };
  if (n === 9 + lc) {
    const le = buf.readUInt16BE(7 + lc);
    return {
      ok: true,
      apdu: {
        ...base,
        extended: true,
        isoCase: 4,
        data: Buffer.from(buf.subarray(7, 7 + lc)),
        ne: le === 0 ? 65536 : le,
        neWildcard: le === 0,
      },
    };
  }
  return { ok: false, sw: SW.WRONG_LENGTH };
}

/** Encode a command APDU (short length when it fits, else extended). ne = 256 / 65536 encode as wildcard. */
export function buildApdu(
  cla: number,
  ins: number,
  p1: number,
  p2: number,
  data: Buffer = Buffer.alloc(0),
  ne?: number,
  forceExtended = false,
): Buffer {
  const header = Buffer.from([cla, ins, p1, p2]);
  const extended = forceExtended || data.length > 255 || (ne !== undefined && ne > 256);
  const parts: Buffer[] = [header];
  if (!extended) {
    if (data.length > 0) parts.push(Buffer.from([data.length]), data);
    if (ne !== undefined) parts.push(Buffer.from([ne === 256 ? 0 : ne]));
  } else {
    if (data.length > 0) parts.push(Buffer.from([0, data.length >> 8, data.length & 0xff]), data);
    if (ne !== undefined) {
      const le = ne === 65536 ? 0 : ne;
      parts.push(data.length > 0 ? Buffer.from([le >> 8, le & 0xff]) : Buffer.from([0, le >> 8, le & 0xff]));
    }
  }
  return Buffer.concat(parts);
}

export interface ResponseApdu {
  data: Buffer;
  sw: number;
}

export function respond(sw: number, data: Buffer = Buffer.alloc(0)): ResponseApdu {
  return { data, sw };
}

export function encodeResponse(r: ResponseApdu): Buffer {
  const out = Buffer.alloc(r.data.length + 2);
  r.data.copy(out, 0);
  out.writeUInt16BE(r.sw & 0xffff, r.data.length);
  return out;
}

/** Split a response APDU into data and status word. */
export function decodeResponse(buf: Buffer): ResponseApdu {
  if (buf.length < 2) throw new RangeError('response APDU shorter than 2 bytes');
  return { data: buf.subarray(0, buf.length - 2), sw: buf.readUInt16BE(buf.length - 2) };
}

export function swHex(sw: number): string {
  return sw.toString(16).toUpperCase().padStart(4, '0');
}
