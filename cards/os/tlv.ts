// Minimal BER-TLV handling for command and response data fields
// (ISO/IEC 7816-4 §5.2): tags of 1..3 bytes, lengths of 1..3 bytes.
// Parsing never throws on hostile input; it returns undefined instead.

import { encodeLength } from '../../simulators/lib/der';

export interface Tlv {
  /** The tag as an unsigned number of its raw bytes, e.g. 0x84 or 0x7f49. */
  tag: number;
  value: Buffer;
}

/** Parse a concatenation of TLV objects; undefined when the encoding is broken. */
export function parseTlvList(data: Buffer): Tlv[] | undefined {
  const out: Tlv[] = [];
  let i = 0;
  while (i < data.length) {
    // ISO/IEC 7816-4 allows 00 and FF as padding between objects
    if (data[i] === 0x00 || data[i] === 0xff) {
      i += 1;
      continue;
    }
    let tag = data[i++];
    if ((tag & 0x1f) === 0x1f) {
      let more = true;
      let count = 0;
      while (more) {
        if (i >= data.length || count >= 2) return undefined;
        const b = data[i++];
        tag = tag * 256 + b;
        more = (b & 0x80) !== 0;
        count += 1;
      }
    }
    if (i >= data.length) return undefined;
    let len = data[i++];
    if (len === 0x81) {
      if (i + 1 > data.length) return undefined;
      len = data[i++];
    } else if (len === 0x82) {
      if (i + 2 > data.length) return undefined;
      len = data.readUInt16BE(i);
      i += 2;
    } else if (len === 0x83) {
      if (i + 3 > data.length) return undefined;
      len = data.readUIntBE(i, 3);
      i += 3;
    } else if (len > 0x80) {
      return undefined;
    } else if (len === 0x80) {
      return undefined; // indefinite length is not allowed in SIMPLE/BER-TLV data fields here
    }
    if (i + len > data.length) return undefined;
    out.push({ tag, value: Buffer.from(data.subarray(i, i + len)) });
    i += len;
  }
  return out;
}

/** Encode one TLV object; tag given as its raw bytes' unsigned value (0x84, 0x7f49, …). */
export function tlv(tag: number, value: Buffer): Buffer {
  const tagBytes: number[] = [];
  let t = tag;
  do {
    tagBytes.unshift(t & 0xff);
    t = Math.floor(t / 256);
  } while (t > 0);
  return Buffer.concat([Buffer.from(tagBytes), encodeLength(value.length), value]);
}
