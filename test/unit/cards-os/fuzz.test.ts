import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { key, mf, objectSystem } from '../../../cards/os/builder';
import { CardOs } from '../../../cards/os/card';
import { loadCardImage } from '../../../cards/image/import';
import { sharedPath } from '../../../simulators/lib/shared-data';
import { buildTestCard, hex, pinBlock, tx } from './helpers';
import { prng } from '../../support/prng';


const KNOWN_INS = [0xa4, 0xb0, 0xb2, 0x20, 0x24, 0x2c, 0x22, 0x2a, 0x88, 0x84, 0xca, 0x86, 0x82];
const KNOWN_CLA = [0x00, 0x80, 0x0c, 0x10, 0x01, 0x8c, 0xff, 0x40];

function randomApdu(rnd: () => number): Buffer {
  const byte = () => Math.floor(rnd() * 256);
  const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)];
  const cla = rnd() < 0.8 ? pick(KNOWN_CLA) : byte();
  const ins = rnd() < 0.85 ? pick(KNOWN_INS) : byte();
  const p1 = rnd() < 0.5 ? pick([0x00, 0x01, 0x02, 0x03, 0x04, 0x41, 0x81, 0x9e, 0xc1, 0xf3, 0x82, 0x9d]) : byte();
  const p2 = rnd() < 0.5 ? pick([0x00, 0x01, 0x02, 0x04, 0x0c, 0x81, 0x9a, 0xa4, 0xb6, 0x84]) : byte();
  const header = Buffer.from([cla, ins, p1, p2]);
  const shape = Math.floor(rnd() * 6);
  const data = Buffer.from(Array.from({ length: Math.floor(rnd() * (rnd() < 0.9 ? 40 : 400)) }, byte));
  switch (shape) {
    case 0:
      return header;
    case 1: // short, possibly inconsistent
      return Buffer.concat([header, Buffer.from([rnd() < 0.7 ? data.length & 0xff : byte()]), data, rnd() < 0.5 ? Buffer.from([byte()]) : Buffer.alloc(0)]);
    case 2: // extended
      return Buffer.concat([header, Buffer.from([0, data.length >> 8, data.length & 0xff]), data, rnd() < 0.5 ? Buffer.from([byte(), byte()]) : Buffer.alloc(0)]);
    case 3: // TLV-shaped data
      return Buffer.concat([header, Buffer.from([Math.min(255, data.length + 2)]), Buffer.from([pick([0x80, 0x83, 0x84]), byte() % 20]), data.subarray(0, 253)]);
    case 4: // pure noise
      return data;
    default: // case 2 with random Le
      return Buffer.concat([header, Buffer.from([byte()])]);
  }
}

function assertWellFormed(card: CardOs, apdu: Buffer): number {
  const start = process.hrtime.bigint();
  let out: Buffer;
  assert.doesNotThrow(() => {
    out = card.transmit(apdu);
  }, `transmit threw for ${apdu.toString('hex')}`);
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  assert.ok(ms < 1000, `APDU ${apdu.subarray(0, 20).toString('hex')} took ${ms} ms`);
  assert.ok(out!.length >= 2, 'response has a status word');
  const sw = out!.readUInt16BE(out!.length - 2);
  const sw1 = sw >> 8;
  assert.ok(sw1 === 0x90 || (sw1 >= 0x61 && sw1 <= 0x6f), `bad SW ${hex(sw)}`);
  assert.notEqual(sw, 0x6f00, `6F00 (internal error) for ${apdu.subarray(0, 40).toString('hex')}`);
  if (sw1 !== 0x90 && sw1 !== 0x62 && sw1 !== 0x63) assert.equal(out!.length, 2, 'errors carry no data');
  return sw;
}

test('seeded random APDUs never throw, never 6F00, always answer with a status word', () => {
  const { card } = buildTestCard({ ssecLimit: 1000 });
  card.powerOn();
  const rnd = prng(0x7e57);
  const seen = new Set<number>();
  for (let i = 0; i < 4000; i++) {
    if (i % 500 === 0) {
      // reach deeper states now and then: PINs verified, keys selected
      tx(card, `0020000208${pinBlock('123456')}`);
      tx(card, '00A4040C0AA000000167455349474E');
      tx(card, '002241B606840184800100');
    }
    seen.add(assertWellFormed(card, randomApdu(rnd)));
  }
  // the generator reaches many different outcomes, not just one error
  assert.ok(seen.size >= 10, `only ${seen.size} distinct status words`);
});

test('fuzzing the imported eGK image never yields 6F00', () => {
  const os = loadCardImage(sharedPath('reference', 'card-images', 'IMG_eGK_G21_TU_root6.xml')).objectSystem;
  const card = new CardOs(os);
  card.powerOn();
  const rnd = prng(42);
  for (let i = 0; i < 1500; i++) assertWellFormed(card, randomApdu(rnd));
});

test('every truncation of valid APDUs is answered (6700 or a proper status)', () => {
  const { card } = buildTestCard();
  card.powerOn();
  const valid = [
    '00A404040AA000000167455349474E00',
    '00B09100000000',
    `0024000110${pinBlock('123456')}${pinBlock('123456')}`,
    '002241B606840184800100',
    `002A9E9A000020${'11'.repeat(32)}0000`,
    '80CA0100000000',
  ];
  for (const v of valid) {
    const b = Buffer.from(v, 'hex');
    for (let n = 0; n <= b.length; n++) assertWellFormed(card, b.subarray(0, n));
  }
  assert.equal(tx(card, '00A40404').hex, '9000', 'P2=04 without Le: selected, no data returned');
  assert.equal(hex(tx(card, '00A404').sw), '6700');
});

test('extended-length edge cases and a 70000-byte input', () => {
  const { card } = buildTestCard();
  card.powerOn();
  const cases: Array<[string, string]> = [
    ['00B0000000FFFF', ''], // Le = 65535
    ['00B00000000001', ''],
    ['00B0000000', ''], // short wildcard
    ['00A4040C000000', '9000'], // extended case 2, Le = 0000
    ['00A4040C0000003F00', '6700'], // extended Lc = 0 followed by bytes
    ['00A4040C00FFFF', '9000'], // extended case 2, Le = 65535
    ['00A4040C00FFFF01', '6700'], // Lc = 65535 with one data byte
    ['00A4040C0000', '6700'], // 6 bytes
    ['00A4040C000002', '9000'], // extended case 2, Le = 2
    ['00A4040C0000023F', '6700'],
  ];
  for (const [apdu, expected] of cases) {
    const sw = assertWellFormed(card, Buffer.from(apdu, 'hex'));
    if (expected) assert.equal(hex(sw), expected, apdu);
  }
  const max = Buffer.concat([Buffer.from('002A9E9A00FFFF', 'hex'), Buffer.alloc(0xffff, 0x11), Buffer.from('0000', 'hex')]);
  assertWellFormed(card, max);
  const huge = Buffer.alloc(70000, 0x41);
  huge.set([0x00, 0xa4, 0x04, 0x0c, 0x00, 0xff, 0xff]);
  assert.equal(hex(assertWellFormed(card, huge)), '6700');
  const hugeSign = Buffer.alloc(70000, 0x00);
  hugeSign.set([0x00, 0x2a, 0x9e, 0x9a]);
  assert.equal(hex(assertWellFormed(card, hugeSign)), '6700');
});

test('an unexpected internal error is caught by the top-level guard and answered 6F00', () => {
  // inconsistent model: an RSA key declared as an EC signing key makes the signer throw
  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
  const broken = key({ id: 1, privateKey: rsa, usage: 'signECDSA' });
  broken.keyType = 'ec';
  const card = new CardOs(objectSystem({ name: 'broken', atr: '3B00', root: mf({ children: [broken] }) }));
  card.powerOn();
  assert.equal(tx(card, '002241B606840101800100').hex, '9000');
  assert.equal(tx(card, `002A9E9A20${'11'.repeat(32)}00`).hex, '6F00');
  assert.equal(tx(card, '00A4040C').hex, '9000', 'the card keeps working');
});
