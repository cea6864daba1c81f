import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AID_QES, buildTestCard, hex, pinBlock, tx } from './helpers';

function fresh() {
  const t = buildTestCard();
  t.card.powerOn();
  return t.card;
}

const verify = (ref: string, pin: string) => `002000${ref}08${pinBlock(pin)}`;

test('three wrong PINs: 63C2, 63C1, 63C0, then 6983 even for the right PIN', () => {
  const card = fresh();
  assert.equal(tx(card, verify('01', '000000')).hex, '63C2');
  assert.equal(tx(card, verify('01', '000000')).hex, '63C1');
  assert.equal(tx(card, verify('01', '000000')).hex, '63C0');
  assert.equal(tx(card, verify('01', '123456')).hex, '6983');
  assert.equal(tx(card, verify('01', '000000')).hex, '6983');
  assert.equal(tx(card, '80200001').hex, '63C0', 'GET PIN STATUS of a blocked PIN');
});

test('a right PIN resets the retry counter and sets the security status; a wrong one clears it', () => {
  const card = fresh();
  assert.equal(tx(card, '00200001').hex, '63C3', 'status query without data');
  assert.equal(tx(card, verify('01', '000000')).hex, '63C2');
  assert.equal(tx(card, verify('01', '123456')).hex, '9000');
  assert.equal(tx(card, '00200001').hex, '9000');
  assert.equal(tx(card, '80200001').hex, '9000');
  assert.equal(tx(card, verify('01', '654321')).hex, '63C2', 'counter was reset to 3 by the right PIN');
  assert.equal(tx(card, '80200001').hex, '63C2', 'a wrong PIN clears the security status');
});

test('VERIFY errors: 6A88 unknown password, 6A86 bad P1/P2, 6700 with Le, malformed block counts as wrong', () => {
  const card = fresh();
  assert.equal(tx(card, verify('0A', '123456')).hex, '6A88');
  assert.equal(tx(card, verify('8A', '123456')).hex, '6A88', 'no DF-specific PIN 10 on the path to the MF');
  assert.equal(tx(card, `0020010108${pinBlock('123456')}`).hex, '6A86');
  assert.equal(tx(card, verify('41', '123456')).hex, '6A86');
  assert.equal(tx(card, verify('00', '123456')).hex, '6A86');
  assert.equal(tx(card, `0020000108${pinBlock('123456')}00`).hex, '6700');
  assert.equal(tx(card, '002000010431323334').hex, '63C2', 'not a format-2 block');
  assert.equal(tx(card, '0020000108 2F123456FFFFFFFF'.replace(/\s/g, '')).hex, '63C1', 'bad length nibble');
});

test('DF-specific reference (0x81) finds the PIN of the current folder', () => {
  const card = fresh();
  assert.equal(tx(card, verify('81', '123456')).hex, '9000', 'in the MF, 81 finds the MF PIN 1');
  assert.equal(tx(card, `00A4040C06${AID_QES}`).hex, '9000');
  assert.equal(tx(card, verify('81', '123456')).hex, '63C2', 'in DF.QES, 81 is PIN.QES');
  assert.equal(tx(card, verify('81', '654321')).hex, '9000');
  assert.equal(tx(card, '80200001').hex, '9000', 'global PIN.CH still verified');
});

test('multireference PIN: own security status, shared secret and retry counter', () => {
  const card = fresh();
  assert.equal(tx(card, verify('02', '000000')).hex, '63C2');
  assert.equal(tx(card, '80200001').hex, '63C2', 'PIN.CH counter decremented through MRPIN.home');
  assert.equal(tx(card, verify('02', '123456')).hex, '9000');
  assert.equal(tx(card, '80200002').hex, '9000');
  assert.equal(tx(card, '80200001').hex, '63C3', 'PIN.CH itself is not verified, counter reset');
});

test('GET PIN STATUS: 62C1 transport PIN, 62C7 empty PIN, 62D0 disabled, 6A88, 6700, 6A86', () => {
  const card = fresh();
  assert.equal(tx(card, '80200003').hex, '62C1');
  assert.equal(tx(card, '80200004').hex, '62C7');
  assert.equal(tx(card, '80200005').hex, '62D0');
  assert.equal(tx(card, '8020000A').hex, '6A88');
  assert.equal(tx(card, '8020000100').hex, '6700');
  assert.equal(tx(card, '80200101').hex, '6A86');
  assert.equal(tx(card, verify('03', '54321')).hex, '6985', 'VERIFY of a transport PIN');
});

test('CHANGE REFERENCE DATA P1=00: old ‖ new; wrong old counts; new length checked; ends transport status', () => {
  const card = fresh();
  assert.equal(tx(card, `0024000110${pinBlock('000000')}${pinBlock('111111')}`).hex, '63C2');
  assert.equal(tx(card, `0024000110${pinBlock('123456')}${pinBlock('12345')}`).hex, '6985', 'new PIN too short');
  assert.equal(tx(card, `0024000110${pinBlock('123456')}${pinBlock('123456789')}`).hex, '6985', 'new PIN too long');
  assert.equal(tx(card, `0024000110${pinBlock('123456')}${pinBlock('111111')}`).hex, '9000');
  assert.equal(tx(card, '80200001').hex, '9000', 'verified after the change');
  card.reset();
  assert.equal(tx(card, verify('01', '123456')).hex, '63C2', 'old PIN no longer valid');
  assert.equal(tx(card, verify('01', '111111')).hex, '9000');
  // transport PIN → regular
  assert.equal(tx(card, `0024000310${pinBlock('54321')}${pinBlock('987654')}`).hex, '9000');
  assert.equal(tx(card, '80200003').hex, '9000');
  card.reset();
  assert.equal(tx(card, '80200003').hex, '63C3');
  // lengths and P1
  assert.equal(tx(card, `0024000108${pinBlock('123456')}`).hex, '6700');
  assert.equal(tx(card, `0024020108${pinBlock('123456')}`).hex, '6A86');
  assert.equal(tx(card, '00240001').hex, '6700');
});

test('CHANGE REFERENCE DATA P1=01 (new only) only for an empty PIN', () => {
  const card = fresh();
  assert.equal(tx(card, `0024010108${pinBlock('222222')}`).hex, '6985', 'PIN.CH is not empty');
  assert.equal(tx(card, `0024010408${pinBlock('22222')}`).hex, '6985', 'too short');
  assert.equal(tx(card, `0024010408${pinBlock('222222')}`).hex, '9000');
  assert.equal(tx(card, '80200004').hex, '63C3', 'now a regular PIN, not verified');
  assert.equal(tx(card, verify('04', '222222')).hex, '9000');
  assert.equal(tx(card, `0024000410${pinBlock('222222')}${pinBlock('333333')}`).hex, '9000');
});

test('RESET RETRY COUNTER with PUK unblocks (with and without new PIN); PUK usage counted', () => {
  const card = fresh();
  for (const sw of ['63C2', '63C1', '63C0', '6983']) assert.equal(tx(card, verify('01', '000000')).hex, sw);
  assert.equal(tx(card, `002C010108${pinBlock('11111111')}`).hex, '63C2', 'wrong PUK: 2 uses left');
  assert.equal(tx(card, `002C010108${pinBlock('12345678')}`).hex, '9000', 'PUK only');
  assert.equal(tx(card, '80200001').hex, '63C3', 'unblocked, counter back to 3');
  assert.equal(tx(card, verify('01', '123456')).hex, '9000', 'old PIN works again');
  // with new PIN: last use of the PUK
  assert.equal(tx(card, `002C000110${pinBlock('12345678')}${pinBlock('777777')}`).hex, '9000');
  card.reset();
  assert.equal(tx(card, verify('01', '777777')).hex, '9000');
  assert.equal(tx(card, `002C010108${pinBlock('12345678')}`).hex, '6983', 'PUK used up');
});

test('RESET RETRY COUNTER errors: 6985 no PUK or bad new PIN length, 6700, 6A86, 6A88', () => {
  const card = fresh();
  assert.equal(tx(card, `002C010508${pinBlock('12345678')}`).hex, '6985', 'PIN.DISABLED has no PUK');
  assert.equal(tx(card, `002C000110${pinBlock('12345678')}${pinBlock('1234')}`).hex, '6985');
  assert.equal(tx(card, `002C000108${pinBlock('12345678')}`).hex, '6700');
  assert.equal(tx(card, `002C020108${pinBlock('12345678')}`).hex, '6A86');
  assert.equal(tx(card, `002C010A08${pinBlock('12345678')}`).hex, '6A88');
  assert.equal(tx(card, '80200001').hex, '63C3', 'a refused command does not use the PUK');
  assert.equal(tx(card, `002C010208${pinBlock('12345678')}`).hex, '9000', 'via MRPIN.home');
});
