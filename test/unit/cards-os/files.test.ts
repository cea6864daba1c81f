import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AID_ESIGN, AID_MF, AID_QES, buildTestCard, hex, pinBlock, tx } from './helpers';

function fresh() {
  const t = buildTestCard();
  t.card.powerOn();
  return t.card;
}

test('SELECT MF without data (P1=04) returns the folder FCP', () => {
  const card = fresh();
  const r = tx(card, '00A4040400');
  assert.equal(hex(r.sw), '9000');
  assert.equal(r.data.toString('hex').toUpperCase(), `6213 820178 83023F00 8A0105 8407${AID_MF}`.replace(/\s/g, ''));
  assert.equal(tx(card, '00A4040C').hex, '9000');
});

test('SELECT by AID with and without FCP; unknown AID 6A82', () => {
  const card = fresh();
  assert.equal(tx(card, `00A4040C0A${AID_ESIGN}`).hex, '9000');
  const r = tx(card, `00A404040A${AID_ESIGN}00`);
  assert.equal(hex(r.sw), '9000');
  assert.equal(r.data.toString('hex').toUpperCase(), `6212 820178 8A0105 840A${AID_ESIGN}`.replace(/\s/g, ''));
  assert.equal(hex(tx(card, '00A4040C06D27600000199').sw), '6A82');
  assert.equal(hex(tx(card, '00A4040C03D27600').sw), '6700', 'AID shorter than 5 bytes');
});

test('SELECT EF by FID returns the EF FCP with size, SFI and logical end', () => {
  const card = fresh();
  assert.equal(tx(card, `00A4040C0A${AID_ESIGN}`).hex, '9000');
  const r = tx(card, '00A4020402C50400');
  assert.equal(hex(r.sw), '9000');
  // 80 size 076C, 82 41, 83 C504, 88 SFI 04<<3, 8A 05, C5 logical end 0041
  assert.equal(r.data.toString('hex').toUpperCase(), '6215 8002076C 820141 8302C504 880120 8A0105 C5020041'.replace(/\s/g, ''));
  assert.equal(hex(tx(card, '00A4020C022F02').sw), '6A82', 'EF.GDO is in the MF, not in DF.ESIGN');
});

test('SELECT P1=00 (ISO), P1=01 child DF, P1=03 parent, wrong P1/P2 6A86', () => {
  const card = fresh();
  assert.equal(tx(card, '00A4010C02DF01').hex, '9000');
  assert.equal(hex(tx(card, '00A4020C022F02').sw), '6A82', 'now in DF.QES');
  assert.equal(tx(card, '00A4030C').hex, '9000', 'parent = MF');
  assert.equal(tx(card, '00A4020C022F02').hex, '9000');
  assert.equal(tx(card, '00A4000C023F00').hex, '9000');
  assert.equal(tx(card, '00A4000C022F02').hex, '9000');
  assert.equal(hex(tx(card, '00A4030C').sw), '6A82', 'the MF has no parent');
  assert.equal(hex(tx(card, '00A4040000').sw), '6A86', 'P2=00 (FCI) not supported');
  assert.equal(hex(tx(card, '00A4050C').sw), '6A86');
  assert.equal(hex(tx(card, '00A4020C03010203').sw), '6700');
});

test('READ BINARY: offsets, SFI, wildcard Le, 6282, 6B00, 6986, 6981, 6A82, 6A86', () => {
  const card = fresh();
  assert.equal(hex(tx(card, '00B0000000').sw), '6986', 'no current EF after power-on');
  assert.equal(tx(card, '00B0820000').hex, '5A0A802768831100001527159000', 'by SFI 02, wildcard');
  assert.equal(tx(card, '00B0000204').hex, '802768839000', 'current EF is now EF.GDO, offset 2');
  assert.equal(tx(card, '00B0000A10').hex, '27156282', 'explicit Le beyond end: EndOfFileWarning');
  assert.equal(tx(card, '00B0000A000000').hex, '27159000', 'extended wildcard: rest of file, 9000');
  assert.equal(hex(tx(card, '00B0000C00').sw), '6B00', 'offset = end');
  assert.equal(hex(tx(card, '00B0010000').sw), '6B00', 'offset beyond end');
  assert.equal(hex(tx(card, '00B0850000').sw), '6A82', 'unknown SFI');
  assert.equal(hex(tx(card, '00B0C20000').sw), '6A86', 'P1 bits 7-6 must be 0 with an SFI');
  assert.equal(hex(tx(card, '00B0000002AA').sw), '6700', 'READ BINARY with data');
  assert.equal(hex(tx(card, '00B00000').sw), '6700', 'READ BINARY without Le');
  assert.equal(hex(tx(card, '00B0DE0000').sw), '6A86', 'P1 bits 7-6 must be 0 with an SFI');
  assert.equal(hex(tx(card, '00B09E0000').sw), '6981', 'SFI 1E is EF.DIR, a record file');
});

test('READ BINARY of a record file 6981; READ RECORD reads records, 6A83 beyond', () => {
  const card = fresh();
  assert.equal(tx(card, '00B201F400').hex, '61094F07D27600014480009000', 'record 1 of SFI 1E');
  assert.equal(tx(card, '00B2020400').hex, '610C4F0AA000000167455349474E9000', 'record 2 of current EF');
  assert.equal(hex(tx(card, '00B2030400').sw), '6A83');
  assert.equal(hex(tx(card, '00B0000000').sw), '6981', 'current EF is a record file');
  assert.equal(hex(tx(card, '00B2000400').sw), '6A86');
  assert.equal(hex(tx(card, '00B201F000').sw), '6A86', 'P2 low bits must be 100');
});

test('access rule on READ BINARY: 6982 until the PIN is verified; extended reads of long files', () => {
  const card = fresh();
  assert.equal(hex(tx(card, '00B0830000').sw), '6982');
  assert.equal(tx(card, `002000010 8${pinBlock('123456')}`.replace(/\s/g, '')).hex, '9000');
  const r = tx(card, '00B0830000');
  assert.equal(hex(r.sw), '9000');
  assert.equal(r.data.length, 256, 'short wildcard Le = 256 bytes');
  const all = tx(card, '00B00000000000');
  assert.equal(hex(all.sw), '9000');
  assert.equal(all.data.length, 300, 'extended wildcard reads up to the logical end');
  assert.equal(tx(card, '00B0012C01').hex.slice(-4), '6B00', 'offset 300 = end');
  // the security status is gone after a reset
  card.reset();
  assert.equal(hex(tx(card, '00B0830000').sw), '6982');
});

test('SELECT of another folder clears the DF-specific security status', () => {
  const card = fresh();
  assert.equal(tx(card, `00A4040C06${AID_QES}`).hex, '9000');
  assert.equal(tx(card, `0020008108${pinBlock('654321')}`).hex, '9000');
  assert.equal(tx(card, '0020008100'.slice(0, 8)).hex, '9000', 'status query: verified');
  assert.equal(tx(card, `00A4040C0A${AID_ESIGN}`).hex, '9000');
  assert.equal(tx(card, `00A4040C06${AID_QES}`).hex, '9000');
  assert.equal(hex(tx(card, '00200081').sw), '63C3', 'DF-specific PIN no longer verified');
});
