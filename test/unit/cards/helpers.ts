/** Shared helpers of the card unit tests: a temporary PKI and card cache, APDU helpers. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { encodePinBlock } from '../../../simulators/lib/pin-block';
import type { CardOs } from '../../../cards/os/card';
import { loadOrCreatePkiSync, type Pki } from '../../../simulators/pki/hierarchy';

export function tempDir(prefix = 'cards-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A fresh PKI and an empty card cache in one temporary folder (one per test file). */
export function testEnvironment(prefix = 'cards-test-'): { root: string; pkiDir: string; cacheDir: string; pki: Pki } {
  const root = tempDir(prefix);
  const pkiDir = path.join(root, 'pki');
  const cacheDir = path.join(root, 'cards');
  return { root, pkiDir, cacheDir, pki: loadOrCreatePkiSync(pkiDir) };
}

export const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

export interface Rsp {
  data: Buffer;
  sw: number;
}

export function tx(card: CardOs, apdu: Buffer | string): Rsp {
  const r = card.transmit(typeof apdu === 'string' ? hex(apdu) : apdu);
  return { data: r.subarray(0, r.length - 2), sw: r.readUInt16BE(r.length - 2) };
}

/** Command APDU from header and data (short Lc), optional Le. */
export function apdu(header: string, data: Buffer = Buffer.alloc(0), le?: number): Buffer {
  const parts = [hex(header)];
  if (data.length) parts.push(Buffer.from([data.length]), data);
  if (le !== undefined) parts.push(Buffer.from([le]));
  return Buffer.concat(parts);
}

export function selectAid(card: CardOs, aidHex: string): Rsp {
  return tx(card, apdu('00A4040C', hex(aidHex)));
}

/** READ BINARY of a whole transparent EF of the current folder by SFI (extended Le wildcard). */
export function readSfi(card: CardOs, sfi: number): Rsp {
  return tx(card, Buffer.from([0x00, 0xb0, 0x80 | sfi, 0x00, 0x00, 0x00, 0x00]));
}

/** SELECT an EF of the current folder by FID, then READ BINARY in 256-byte steps. */
export function readFid(card: CardOs, fid: number): Rsp {
  const s = tx(card, Buffer.from([0x00, 0xa4, 0x02, 0x0c, 0x02, fid >> 8, fid & 0xff]));
  if (s.sw !== 0x9000) return s;
  const parts: Buffer[] = [];
  for (let offset = 0; ; offset += 256) {
    const r = tx(card, Buffer.from([0x00, 0xb0, (offset >> 8) & 0x7f, offset & 0xff, 0x00]));
    if (r.sw === 0x6b00 && offset > 0) break;
    if (r.sw !== 0x9000 && r.sw !== 0x6282) return r;
    parts.push(r.data);
    if (r.sw === 0x6282 || r.data.length < 256) break;
  }
  return { data: Buffer.concat(parts), sw: 0x9000 };
}

/** VERIFY (00 20 00 P2) with a format-2 PIN block. */
export function verifyPin(card: CardOs, ref: number, pinDigits: string): number {
  return tx(card, Buffer.concat([hex('002000'), Buffer.from([ref, 0x08]), encodePinBlock(pinDigits)])).sw;
}

/** MSE SET DST (signing) or AT (internal authentication) with key reference and algorithm 00. */
export function mseSet(card: CardOs, template: 'DST' | 'AT', keyRef: number): number {
  const p1p2 = template === 'DST' ? '41B6' : '41A4';
  return tx(card, apdu(`0022${p1p2}`, Buffer.from([0x84, 0x01, keyRef, 0x80, 0x01, 0x00]))).sw;
}

/** PSO COMPUTE DIGITAL SIGNATURE over a hash value. */
export function psoCds(card: CardOs, hash: Buffer): Rsp {
  return tx(card, apdu('002A9E9A', hash, 0x00));
}

export function internalAuthenticate(card: CardOs, token: Buffer): Rsp {
  return tx(card, apdu('00880000', token, 0x00));
}

export function swHex(sw: number): string {
  return sw.toString(16).toUpperCase().padStart(4, '0');
}
