import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildApdu, parseApdu, SW } from '../../../simulators/lib/apdu';
import { buildTestCard, hex, tx } from './helpers';

const h = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function ok(s: string) {
  const r = parseApdu(h(s));
  assert.ok(r.ok, `expected ${s} to parse`);
  return r.apdu;
}

test('ISO cases 1-4 in short form', () => {
  const c1 = ok('00A4040C');
  assert.equal(c1.isoCase, 1);
  assert.equal(c1.ne, undefined);
  const c2 = ok('00B0000010');
  assert.equal(c2.isoCase, 2);
  assert.equal(c2.ne, 16);
  assert.equal(ok('00B0000000').ne, 256);
  assert.equal(ok('00B0000000').neWildcard, true);
  const c3 = ok('00A4020C 02 011C');
  assert.equal(c3.isoCase, 3);
  assert.deepEqual(c3.data, h('011C'));
  const c4 = ok('00A40404 02 3F00 00');
  assert.equal(c4.isoCase, 4);
  assert.equal(c4.ne, 256);
  assert.equal(c4.extended, false);
});

test('ISO cases 2-4 in extended form, Le 0000 = 65536', () => {
  const c2 = ok('00B09100 000000');
  assert.equal(c2.isoCase, 2);
  assert.equal(c2.extended, true);
  assert.equal(c2.ne, 65536);
  assert.equal(c2.neWildcard, true);
  assert.equal(ok('00B00000 000100').ne, 256);
  const data = Buffer.alloc(300, 7);
  const c3 = parseApdu(Buffer.concat([h('002A9E9A 00012C'), data]));
  assert.ok(c3.ok && c3.apdu.isoCase === 3 && c3.apdu.data.length === 300);
  const c4 = parseApdu(Buffer.concat([h('002A9E9A 00012C'), data, h('0000')]));
  assert.ok(c4.ok && c4.apdu.isoCase === 4 && c4.apdu.ne === 65536 && c4.apdu.extended);
  // extended Lc with short data still extended
  const c4b = ok('00A40404 000002 3F00 0040');
  assert.equal(c4b.ne, 0x40);
});

test('malformed lengths give 6700', () => {
  for (const s of ['', '00', '00A404', '00A4040C0000', '00A4040C 03 0102', '00A4040C 02 010203 00 00', '00B0000000 00', '00B00000 000002 0102 00', '00B00000 0000 00 01']) {
    const r = parseApdu(h(s));
    assert.equal(r.ok, false, s);
    if (!r.ok) assert.equal(r.sw, SW.WRONG_LENGTH, s);
  }
});

test('buildApdu and parseApdu round-trip', () => {
  for (const [data, ne] of [
    [Buffer.alloc(0), undefined],
    [Buffer.alloc(0), 256],
    [Buffer.alloc(0), 65536],
    [Buffer.alloc(5, 1), undefined],
    [Buffer.alloc(5, 1), 32],
    [Buffer.alloc(400, 2), 65536],
    [Buffer.alloc(255, 3), 1000],
  ] as Array<[Buffer, number | undefined]>) {
    const r = parseApdu(buildApdu(0x00, 0x2a, 0x9e, 0x9a, data, ne));
    assert.ok(r.ok);
    assert.deepEqual(r.apdu.data, data);
    assert.equal(r.apdu.ne, ne);
  }
});

test('CLA and INS checks: 6E00, 6881, 6882, 6884, 6D00, 6700 for short input', () => {
  const { card } = buildTestCard();
  card.powerOn();
  assert.equal(hex(tx(card, 'FFA4040C').sw), '6E00');
  assert.equal(hex(tx(card, 'A0A4040C').sw), '6E00');
  assert.equal(hex(tx(card, '20A4040C').sw), '6E00');
  assert.equal(hex(tx(card, '01A4040C').sw), '6881', 'logical channel 1');
  assert.equal(hex(tx(card, '03A4040C').sw), '6881', 'logical channel 3');
  assert.equal(hex(tx(card, '40A4040C').sw), '6881', 'further interindustry class = channel 4+');
  assert.equal(hex(tx(card, '0CA4040C').sw), '6882', 'secure messaging');
  assert.equal(hex(tx(card, '8C84000008').sw), '6882');
  assert.equal(hex(tx(card, '108600000000027C000000').sw), '6884', 'command chaining');
  assert.equal(hex(tx(card, '00FE0000').sw), '6D00');
  assert.equal(hex(tx(card, '80B0000000').sw), '6D00', 'READ BINARY is interindustry only');
  assert.equal(hex(tx(card, '00CA010000').sw), '6D00', 'LIST PUBLIC KEY is proprietary only');
  assert.equal(hex(tx(card, '00A404').sw), '6700');
  assert.equal(hex(tx(card, '00A4040C0500').sw), '6700');
});

test('not powered: 6F00; power-on returns the ATR', () => {
  const { card } = buildTestCard();
  assert.equal(hex(tx(card, '00A4040C').sw), '6F00');
  assert.deepEqual(card.powerOn(), Buffer.from('3B8880010000000000000000', 'hex'));
  assert.equal(hex(tx(card, '00A4040C').sw), '9000');
  card.powerOff();
  assert.equal(hex(tx(card, '00A4040C').sw), '6F00');
});
