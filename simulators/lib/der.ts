/**
 * Minimal ASN.1 BER reader and DER writer.
 *
 * The reader accepts BER (indefinite lengths, constructed strings, high tag
 * numbers) because real Konnektors emit indefinite-length CMS; it keeps the
 * byte ranges of every element so that signatures can be checked over the
 * exact bytes that were signed. Limits (input size, nesting depth, length
 * field width) make malformed input fail fast with a CryptoFormatError.
 *
 * The writer emits DER only (definite lengths, minimal integers, SET OF
 * sorted where asked).
 */
import { CryptoFormatError } from './crypto-errors';

export const TagClass = { UNIVERSAL: 0, APPLICATION: 1, CONTEXT: 2, PRIVATE: 3 } as const;
export type TagClassValue = (typeof TagClass)[keyof typeof TagClass];

export const Tag = {
  EOC: 0,
  BOOLEAN: 1,
  INTEGER: 2,
  BIT_STRING: 3,
  OCTET_STRING: 4,
  NULL: 5,
  OID: 6,
  ENUMERATED: 10,
  UTF8_STRING: 12,
  SEQUENCE: 16,
  SET: 17,
  NUMERIC_STRING: 18,
  PRINTABLE_STRING: 19,
  T61_STRING: 20,
  IA5_STRING: 22,
  UTC_TIME: 23,
  GENERALIZED_TIME: 24,
  VISIBLE_STRING: 26,
  BMP_STRING: 30,
} as const;

/** Default upper bound for any BER input handed to parseBer (10 MiB). */
export const DEFAULT_MAX_BER_SIZE = 10 * 1024 * 1024;
/** Default nesting limit; real CMS/X.509 structures stay below 20. */
export const DEFAULT_MAX_DEPTH = 64;

const NO_CHILDREN: readonly Asn1Node[] = Object.freeze([]);

/** One parsed BER element with its position in the underlying buffer. */
export class Asn1Node {
  constructor(
    readonly buf: Buffer,
    readonly tagClass: TagClassValue,
    readonly constructed: boolean,
    readonly tag: number,
    /** Offset of the identifier octet. */
    readonly start: number,
    readonly contentStart: number,
    /** End of the contents (excludes the end-of-contents octets of indefinite form). */
    readonly contentEnd: number,
    /** End of the whole element (includes the end-of-contents octets). */
    readonly end: number,
    readonly indefinite: boolean,
    readonly children: readonly Asn1Node[],
  ) {}

  /** The complete encoding (identifier, length, contents[, EOC]). */
  get bytes(): Buffer {
    return this.buf.subarray(this.start, this.end);
  }

  /** The contents octets. */
  get content(): Buffer {
    return this.buf.subarray(this.contentStart, this.contentEnd);
  }

  is(tagClass: TagClassValue, tag: number): boolean {
    return this.tagClass === tagClass && this.tag === tag;
  }

  isUniversal(tag: number): boolean {
    return this.is(TagClass.UNIVERSAL, tag);
  }

  isContext(tag: number): boolean {
    return this.is(TagClass.CONTEXT, tag);
  }

  /** Describe the tag for error messages, e.g. "[0]" or "SEQUENCE". */
  describe(): string {
    return describeTag(this.tagClass, this.tag, this.constructed);
  }

  /** The i-th child; throws INVALID_DER when it is missing. */
  child(i: number, what = `element ${i}`): Asn1Node {
    const c = this.children[i];
    if (!c) throw new CryptoFormatError('INVALID_DER', `${what} missing in ${this.describe()} at offset ${this.start}`);
    return c;
  }

  /** Assert the class/tag of this node. */
  expect(tagClass: TagClassValue, tag: number, what: string): this {
    if (!this.is(tagClass, tag)) {
      throw new CryptoFormatError(
        'UNEXPECTED_TAG',
        `${what}: expected ${describeTag(tagClass, tag)}, found ${this.describe()} at offset ${this.start}`,
      );
    }
    return this;
  }

  expectConstructed(what: string): this {
    if (!this.constructed) throw new CryptoFormatError('INVALID_DER', `${what}: expected a constructed element at offset ${this.start}`);
    return this;
  }

  expectSequence(what: string): this {
    return this.expect(TagClass.UNIVERSAL, Tag.SEQUENCE, what).expectConstructed(what);
  }
}

const UNIVERSAL_NAMES: Record<number, string> = {
  1: 'BOOLEAN', 2: 'INTEGER', 3: 'BIT STRING', 4: 'OCTET STRING', 5: 'NULL', 6: 'OBJECT IDENTIFIER',
  10: 'ENUMERATED', 12: 'UTF8String', 16: 'SEQUENCE', 17: 'SET', 19: 'PrintableString', 22: 'IA5String',
  23: 'UTCTime', 24: 'GeneralizedTime',
};

export function describeTag(tagClass: number, tag: number, constructed?: boolean): string {
  if (tagClass === TagClass.UNIVERSAL) return UNIVERSAL_NAMES[tag] ?? `UNIVERSAL ${tag}`;
  const prefix = tagClass === TagClass.CONTEXT ? '' : tagClass === TagClass.APPLICATION ? 'APPLICATION ' : 'PRIVATE ';
  return `[${prefix}${tag}]${constructed === undefined ? '' : constructed ? ' (constructed)' : ' (primitive)'}`;
}

export interface BerParseOptions {
  /** Reject inputs longer than this (default DEFAULT_MAX_BER_SIZE). */
  maxSize?: number;
  /** Reject nesting deeper than this (default DEFAULT_MAX_DEPTH). */
  maxDepth?: number;
  /** Accept bytes after the first element (default false: TRAILING_DATA). */
  allowTrailing?: boolean;
}

/** Parse one BER element (and all its constructed descendants) from `buf`. */
export function parseBer(buf: Buffer | Uint8Array, opts: BerParseOptions = {}): Asn1Node {
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const maxSize = opts.maxSize ?? DEFAULT_MAX_BER_SIZE;
  if (b.length === 0) throw new CryptoFormatError('EMPTY_INPUT', 'no ASN.1 data');
  if (b.length > maxSize) throw new CryptoFormatError('TOO_LARGE', `ASN.1 input of ${b.length} bytes exceeds the limit of ${maxSize} bytes`);
  const node = parseAt(b, 0, b.length, 0, opts.maxDepth ?? DEFAULT_MAX_DEPTH);
  if (!opts.allowTrailing && node.end !== b.length) {
    throw new CryptoFormatError('TRAILING_DATA', `${b.length - node.end} bytes after the ASN.1 element`);
  }
  return node;
}

/** Parse the contents of a primitive element (e.g. an OCTET STRING wrapping DER) as BER. */
export function parseNested(node: Asn1Node, opts: BerParseOptions = {}): Asn1Node {
  return parseBer(readOctetString(node), opts);
}

function parseAt(buf: Buffer, offset: number, limit: number, depth: number, maxDepth: number): Asn1Node {
  if (depth > maxDepth) throw new CryptoFormatError('TOO_DEEP', `ASN.1 nesting deeper than ${maxDepth} at offset ${offset}`);
  if (offset >= limit) throw new CryptoFormatError('TRUNCATED_DER', `element expected at offset ${offset}, data ends`);
  const b0 = buf[offset];
  const tagClass = (b0 >> 6) as TagClassValue;
  const constructed = (b0 & 0x20) !== 0;
  let tag = b0 & 0x1f;
  let p = offset + 1;
  if (tag === 0x1f) {
    tag = 0;
    for (let i = 0; ; i++) {
      if (p >= limit) throw new CryptoFormatError('TRUNCATED_DER', `tag number truncated at offset ${p}`);
      if (i >= 4) throw new CryptoFormatError('INVALID_DER', `tag number too long at offset ${offset}`);
      const t = buf[p++];
      if (i === 0 && t === 0x80) throw new CryptoFormatError('INVALID_DER', `non-minimal tag number at offset ${offset}`);
      tag = tag * 128 + (t & 0x7f);
      if ((t & 0x80) === 0) break;
    }
    if (tag < 31) throw new CryptoFormatError('INVALID_DER', `high tag number form used for tag ${tag} at offset ${offset}`);
  }
  if (p >= limit) throw new CryptoFormatError('TRUNCATED_DER', `length missing at offset ${p}`);
  const lb = buf[p++];
  let indefinite = false;
  let len = 0;
  if (lb < 0x80) {
    len = lb;
  } else if (lb === 0x80) {
    if (!constructed) throw new CryptoFormatError('INVALID_DER', `indefinite length on a primitive element at offset ${offset}`);
    indefinite = true;
  } else {
    const n = lb & 0x7f;
    if (n === 0x7f) throw new CryptoFormatError('INVALID_DER', `reserved length octet at offset ${p - 1}`);
    if (n > 4) throw new CryptoFormatError('INVALID_DER', `length field of ${n} bytes at offset ${p - 1}`);
    if (p + n > limit) throw new CryptoFormatError('TRUNCATED_DER', `length field truncated at offset ${p}`);
    for (let i = 0; i < n; i++) len = len * 256 + buf[p++];
  }
  if (tagClass === TagClass.UNIVERSAL && tag === Tag.EOC) {
    throw new CryptoFormatError('INVALID_DER', `unexpected end-of-contents at offset ${offset}`);
  }
  if (!indefinite) {
    const contentEnd = p + len;
    if (contentEnd > limit) {
      throw new CryptoFormatError('TRUNCATED_DER', `element at offset ${offset} declares ${len} content bytes, only ${limit - p} available`);
    }
    if (!constructed) {
      return new Asn1Node(buf, tagClass, false, tag, offset, p, contentEnd, contentEnd, false, NO_CHILDREN);
    }
    const children: Asn1Node[] = [];
    let q = p;
    while (q < contentEnd) {
      const c = parseAt(buf, q, contentEnd, depth + 1, maxDepth);
      children.push(c);
      q = c.end;
    }
    return new Asn1Node(buf, tagClass, true, tag, offset, p, contentEnd, contentEnd, false, children);
  }
  const children: Asn1Node[] = [];
  let q = p;
  for (;;) {
    if (q + 2 > limit) throw new CryptoFormatError('TRUNCATED_DER', `end-of-contents missing for element at offset ${offset}`);
    if (buf[q] === 0 && buf[q + 1] === 0) {
      return new Asn1Node(buf, tagClass, true, tag, offset, p, q, q + 2, true, children);
    }
    const c = parseAt(buf, q, limit, depth + 1, maxDepth);
    children.push(c);
    q = c.end;
  }
}

// ---------------------------------------------------------------- value readers

function expectPrimitive(node: Asn1Node, tag: number, what: string): void {
  node.expect(TagClass.UNIVERSAL, tag, what);
  if (node.constructed) throw new CryptoFormatError('INVALID_DER', `${what}: constructed encoding not allowed at offset ${node.start}`);
}

/** OBJECT IDENTIFIER as dotted string. */
export function readOid(node: Asn1Node, what = 'OBJECT IDENTIFIER'): string {
  expectPrimitive(node, Tag.OID, what);
  return decodeOidContent(node.content, what);
}

export function decodeOidContent(c: Buffer, what = 'OBJECT IDENTIFIER'): string {
  if (c.length === 0) throw new CryptoFormatError('INVALID_DER', `${what}: empty`);
  if (c.length > 256) throw new CryptoFormatError('INVALID_DER', `${what}: longer than 256 bytes`);
  const arcs: bigint[] = [];
  let v = 0n;
  let started = false;
  for (let i = 0; i < c.length; i++) {
    const byte = c[i];
    if (!started && byte === 0x80) throw new CryptoFormatError('INVALID_DER', `${what}: non-minimal sub-identifier`);
    started = true;
    v = (v << 7n) | BigInt(byte & 0x7f);
    if ((byte & 0x80) === 0) {
      arcs.push(v);
      v = 0n;
      started = false;
    }
  }
  if (started) throw new CryptoFormatError('INVALID_DER', `${what}: last sub-identifier truncated`);
  const first = arcs[0];
  const head = first < 40n ? [0n, first] : first < 80n ? [1n, first - 40n] : [2n, first - 80n];
  return [...head, ...arcs.slice(1)].map(String).join('.');
}

/** INTEGER as bigint (two's complement). */
export function readInteger(node: Asn1Node, what = 'INTEGER'): bigint {
  return bigintFromTwosComplement(readIntegerBytes(node, what));
}

/** INTEGER contents (two's complement bytes as encoded). */
export function readIntegerBytes(node: Asn1Node, what = 'INTEGER'): Buffer {
  expectPrimitive(node, Tag.INTEGER, what);
  if (node.content.length === 0) throw new CryptoFormatError('INVALID_DER', `${what}: empty INTEGER`);
  return node.content;
}

/** INTEGER that must fit a small non-negative number (versions, counters). */
export function readSmallInteger(node: Asn1Node, what = 'INTEGER'): number {
  const v = readInteger(node, what);
  if (v < 0n || v > 0x7fffffffn) throw new CryptoFormatError('INVALID_VALUE', `${what}: ${v} out of range`);
  return Number(v);
}

export function readEnumerated(node: Asn1Node, what = 'ENUMERATED'): number {
  expectPrimitive(node, Tag.ENUMERATED, what);
  if (node.content.length === 0 || node.content.length > 4) throw new CryptoFormatError('INVALID_DER', `${what}: bad length`);
  const v = bigintFromTwosComplement(node.content);
  return Number(v);
}

export function readBoolean(node: Asn1Node, what = 'BOOLEAN'): boolean {
  expectPrimitive(node, Tag.BOOLEAN, what);
  if (node.content.length !== 1) throw new CryptoFormatError('INVALID_DER', `${what}: BOOLEAN must have one content byte`);
  return node.content[0] !== 0;
}

/** Unsigned big-endian magnitude of a non-negative INTEGER (leading zero octet stripped). */
export function readUnsignedIntegerBytes(node: Asn1Node, what = 'INTEGER'): Buffer {
  const c = readIntegerBytes(node, what);
  if (c[0] & 0x80) throw new CryptoFormatError('INVALID_VALUE', `${what}: negative`);
  let i = 0;
  while (i < c.length - 1 && c[i] === 0) i++;
  return c.subarray(i);
}

/** OCTET STRING contents; BER constructed strings are concatenated. */
export function readOctetString(node: Asn1Node, what = 'OCTET STRING'): Buffer {
  node.expect(TagClass.UNIVERSAL, Tag.OCTET_STRING, what);
  return collectString(node, Tag.OCTET_STRING, what);
}

/** Contents of a (possibly implicitly tagged) string-like element, concatenating constructed BER forms. */
export function collectString(node: Asn1Node, innerTag: number, what: string): Buffer {
  if (!node.constructed) return node.content;
  const parts: Buffer[] = [];
  for (const c of node.children) {
    if (!c.isUniversal(innerTag)) {
      throw new CryptoFormatError('UNEXPECTED_TAG', `${what}: segment ${c.describe()} inside a constructed string at offset ${c.start}`);
    }
    parts.push(collectString(c, innerTag, what));
  }
  return Buffer.concat(parts);
}

export interface BitString {
  unusedBits: number;
  bytes: Buffer;
}

export function readBitString(node: Asn1Node, what = 'BIT STRING'): BitString {
  expectPrimitive(node, Tag.BIT_STRING, what);
  const c = node.content;
  if (c.length === 0) throw new CryptoFormatError('INVALID_DER', `${what}: empty BIT STRING`);
  const unusedBits = c[0];
  if (unusedBits > 7 || (c.length === 1 && unusedBits !== 0)) {
    throw new CryptoFormatError('INVALID_DER', `${what}: invalid unused-bits count ${unusedBits}`);
  }
  return { unusedBits, bytes: c.subarray(1) };
}

/** UTCTime or GeneralizedTime as Date. */
export function readTime(node: Asn1Node, what = 'Time'): Date {
  if (node.constructed || node.tagClass !== TagClass.UNIVERSAL || (node.tag !== Tag.UTC_TIME && node.tag !== Tag.GENERALIZED_TIME)) {
    throw new CryptoFormatError('UNEXPECTED_TAG', `${what}: expected UTCTime or GeneralizedTime, found ${node.describe()}`);
  }
  const s = node.content.toString('latin1');
  const m =
    node.tag === Tag.UTC_TIME
      ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(Z|[+-]\d{4})$/.exec(s)
      : /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(?:[.,](\d{1,9}))?(Z|[+-]\d{4})$/.exec(s);
  if (!m) throw new CryptoFormatError('INVALID_VALUE', `${what}: malformed time ${JSON.stringify(s.slice(0, 40))}`);
  let year = Number(m[1]);
  if (node.tag === Tag.UTC_TIME) year += year < 50 ? 2000 : 1900;
  const [month, day, hour, minute] = [Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])];
  const second = m[6] ? Number(m[6]) : 0;
  const fraction = node.tag === Tag.GENERALIZED_TIME && m[7] ? Number(`0.${m[7]}`) : 0;
  const zone = node.tag === Tag.UTC_TIME ? m[7] : m[8];
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    throw new CryptoFormatError('INVALID_VALUE', `${what}: time field out of range in ${JSON.stringify(s)}`);
  }
  let ms = Date.UTC(year, month - 1, day, hour, minute, second) + Math.round(fraction * 1000);
  if (zone !== 'Z') {
    const sign = zone[0] === '-' ? -1 : 1;
    ms -= sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3, 5))) * 60_000;
  }
  return new Date(ms);
}

/** Any of the common ASN.1 character string types as JS string. */
export function readString(node: Asn1Node, what = 'string'): string {
  if (node.tagClass !== TagClass.UNIVERSAL) throw new CryptoFormatError('UNEXPECTED_TAG', `${what}: found ${node.describe()}`);
  const c = collectString(node, node.tag, what);
  switch (node.tag) {
    case Tag.UTF8_STRING:
      return c.toString('utf8');
    case Tag.PRINTABLE_STRING:
    case Tag.IA5_STRING:
    case Tag.NUMERIC_STRING:
    case Tag.VISIBLE_STRING:
    case Tag.T61_STRING:
      return c.toString('latin1');
    case Tag.BMP_STRING: {
      if (c.length % 2) throw new CryptoFormatError('INVALID_VALUE', `${what}: odd BMPString length`);
      const swapped = Buffer.from(c);
      swapped.swap16();
      return swapped.toString('utf16le');
    }
    default:
      throw new CryptoFormatError('UNEXPECTED_TAG', `${what}: ${node.describe()} is not a character string`);
  }
}

export function bigintFromTwosComplement(bytes: Buffer): bigint {
  if (bytes.length === 0) return 0n;
  let v = BigInt(`0x${bytes.toString('hex')}`);
  if (bytes[0] & 0x80) v -= 1n << BigInt(bytes.length * 8);
  return v;
}

// ---------------------------------------------------------------- DER writer

export function encodeLength(len: number): Buffer {
  if (!Number.isSafeInteger(len) || len < 0) throw new CryptoFormatError('INVALID_VALUE', `invalid length ${len}`);
  if (len < 0x80) return Buffer.from([len]);
  const bytes: number[] = [];
  let l = len;
  while (l > 0) {
    bytes.unshift(l & 0xff);
    l = Math.floor(l / 256);
  }
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** Encode identifier octets for class/tag/constructed. */
export function encodeIdentifier(tagClass: TagClassValue, tag: number, constructed: boolean): Buffer {
  const first = (tagClass << 6) | (constructed ? 0x20 : 0);
  if (tag < 31) return Buffer.from([first | tag]);
  const bytes: number[] = [tag & 0x7f];
  let t = Math.floor(tag / 128);
  while (t > 0) {
    bytes.unshift(0x80 | (t & 0x7f));
    t = Math.floor(t / 128);
  }
  return Buffer.from([first | 0x1f, ...bytes]);
}

export function derTlv(tagClass: TagClassValue, tag: number, constructed: boolean, content: Buffer): Buffer {
  return Buffer.concat([encodeIdentifier(tagClass, tag, constructed), encodeLength(content.length), content]);
}

export function derSequence(...items: Buffer[]): Buffer {
  return derTlv(TagClass.UNIVERSAL, Tag.SEQUENCE, true, Buffer.concat(items));
}

/** SET with the given element order (use derSetOf for DER SET OF). */
export function derSet(...items: Buffer[]): Buffer {
  return derTlv(TagClass.UNIVERSAL, Tag.SET, true, Buffer.concat(items));
}

/** DER SET OF: elements sorted by their encodings (X.690 11.6). */
export function derSetOf(items: Buffer[]): Buffer {
  const sorted = [...items].sort(Buffer.compare);
  return derTlv(TagClass.UNIVERSAL, Tag.SET, true, Buffer.concat(sorted));
}

export function derOid(oid: string): Buffer {
  return derTlv(TagClass.UNIVERSAL, Tag.OID, false, encodeOidContent(oid));
}

export function encodeOidContent(oid: string): Buffer {
  if (!/^[0-2](\.\d+)+$/.test(oid)) throw new CryptoFormatError('INVALID_VALUE', `not an OID: ${JSON.stringify(oid)}`);
  const arcs = oid.split('.').map((a) => BigInt(a));
  if (arcs[0] < 2n && arcs[1] >= 40n) throw new CryptoFormatError('INVALID_VALUE', `invalid second arc in ${oid}`);
  const out: number[] = [];
  const values = [arcs[0] * 40n + arcs[1], ...arcs.slice(2)];
  for (const v of values) {
    const chunk: number[] = [Number(v & 0x7fn)];
    let r = v >> 7n;
    while (r > 0n) {
      chunk.unshift(Number(r & 0x7fn) | 0x80);
      r >>= 7n;
    }
    out.push(...chunk);
  }
  return Buffer.from(out);
}

/** INTEGER from a bigint/number (two's complement) or from an unsigned big-endian magnitude Buffer. */
export function derInteger(value: bigint | number | Buffer): Buffer {
  let content: Buffer;
  if (Buffer.isBuffer(value)) {
    let i = 0;
    while (i < value.length - 1 && value[i] === 0) i++;
    const mag = value.length === 0 ? Buffer.from([0]) : value.subarray(i);
    content = mag[0] & 0x80 ? Buffer.concat([Buffer.from([0]), mag]) : mag;
  } else {
    content = bigintToTwosComplement(BigInt(value));
  }
  return derTlv(TagClass.UNIVERSAL, Tag.INTEGER, false, content);
}

export function bigintToTwosComplement(v: bigint): Buffer {
  if (v === 0n) return Buffer.from([0]);
  if (v > 0n) {
    let hex = v.toString(16);
    if (hex.length % 2) hex = `0${hex}`;
    const b = Buffer.from(hex, 'hex');
    return b[0] & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b;
  }
  let bytes = 1;
  while (-(1n << BigInt(bytes * 8 - 1)) > v) bytes++;
  const u = (1n << BigInt(bytes * 8)) + v;
  return Buffer.from(u.toString(16).padStart(bytes * 2, '0'), 'hex');
}

export function derOctetString(content: Buffer): Buffer {
  return derTlv(TagClass.UNIVERSAL, Tag.OCTET_STRING, false, content);
}

export function derBitString(bytes: Buffer, unusedBits = 0): Buffer {
  return derTlv(TagClass.UNIVERSAL, Tag.BIT_STRING, false, Buffer.concat([Buffer.from([unusedBits]), bytes]));
}

export function derNull(): Buffer {
  return Buffer.from([0x05, 0x00]);
}

export function derBoolean(v: boolean): Buffer {
  return Buffer.from([0x01, 0x01, v ? 0xff : 0x00]);
}

export function derEnumerated(v: number): Buffer {
  return derTlv(TagClass.UNIVERSAL, Tag.ENUMERATED, false, bigintToTwosComplement(BigInt(v)));
}

export function derUtf8String(s: string): Buffer {
  return derTlv(TagClass.UNIVERSAL, Tag.UTF8_STRING, false, Buffer.from(s, 'utf8'));
}

export function derPrintableString(s: string): Buffer {
  if (!/^[A-Za-z0-9 '()+,\-./:=?]*$/.test(s)) throw new CryptoFormatError('INVALID_VALUE', `not printable: ${JSON.stringify(s)}`);
  return derTlv(TagClass.UNIVERSAL, Tag.PRINTABLE_STRING, false, Buffer.from(s, 'latin1'));
}

export function derIa5String(s: string): Buffer {
  return derTlv(TagClass.UNIVERSAL, Tag.IA5_STRING, false, Buffer.from(s, 'latin1'));
}

function pad(n: number, w: number): string {
  return String(n).padStart(w, '0');
}

function checkDate(d: Date): void {
  if (!(d instanceof Date) || Number.isNaN(d.getTime())) throw new CryptoFormatError('INVALID_VALUE', 'invalid Date');
}

export function derUtcTime(d: Date): Buffer {
  checkDate(d);
  const y = d.getUTCFullYear();
  if (y < 1950 || y > 2049) throw new CryptoFormatError('INVALID_VALUE', `UTCTime cannot hold year ${y}`);
  const s = `${pad(y % 100, 2)}${pad(d.getUTCMonth() + 1, 2)}${pad(d.getUTCDate(), 2)}${pad(d.getUTCHours(), 2)}${pad(d.getUTCMinutes(), 2)}${pad(d.getUTCSeconds(), 2)}Z`;
  return derTlv(TagClass.UNIVERSAL, Tag.UTC_TIME, false, Buffer.from(s, 'latin1'));
}

export function derGeneralizedTime(d: Date): Buffer {
  checkDate(d);
  const s = `${pad(d.getUTCFullYear(), 4)}${pad(d.getUTCMonth() + 1, 2)}${pad(d.getUTCDate(), 2)}${pad(d.getUTCHours(), 2)}${pad(d.getUTCMinutes(), 2)}${pad(d.getUTCSeconds(), 2)}Z`;
  return derTlv(TagClass.UNIVERSAL, Tag.GENERALIZED_TIME, false, Buffer.from(s, 'latin1'));
}

/** RFC 5280 / RFC 5652 Time: UTCTime for 1950..2049, GeneralizedTime otherwise. */
export function derTime(d: Date): Buffer {
  checkDate(d);
  const y = d.getUTCFullYear();
  return y >= 1950 && y <= 2049 ? derUtcTime(d) : derGeneralizedTime(d);
}

/** [n] EXPLICIT wrapping of one encoded element. */
export function derExplicit(tag: number, inner: Buffer): Buffer {
  return derTlv(TagClass.CONTEXT, tag, true, inner);
}

/** [n] IMPLICIT with raw contents. */
export function derImplicit(tag: number, content: Buffer, constructed: boolean): Buffer {
  return derTlv(TagClass.CONTEXT, tag, constructed, content);
}

/**
 * Re-tag an encoded element (replace its identifier octets), e.g. turn a
 * `[0] IMPLICIT SET OF` into the `SET OF` that was signed. Only low tag numbers.
 */
export function retag(encoded: Buffer, identifier: number): Buffer {
  if (encoded.length === 0 || (encoded[0] & 0x1f) === 0x1f) throw new CryptoFormatError('INVALID_DER', 'cannot retag this element');
  const out = Buffer.from(encoded);
  out[0] = identifier;
  return out;
}
