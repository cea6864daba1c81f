import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CryptoFormatError } from '../../../simulators/lib/crypto-errors';
import {
  decodeOidContent,
  derGeneralizedTime,
  derInteger,
  derOid,
  derSequence,
  derSetOf,
  derTime,
  derUtcTime,
  encodeOidContent,
  parseBer,
  readInteger,
  readOctetString,
  readOid,
  readTime,
} from '../../../simulators/lib/der';

const isFormat = (code: string) => (e: unknown) => e instanceof CryptoFormatError && e.code === code;

test('OIDs encode and decode (including large arcs)', () => {
  for (const oid of ['1.3.36.3.3.2.8.1.1.7', '1.2.840.113549.1.9.16.2.47', '2.25.329800735698586629295641978511506172918', '0.4.0.1733.2.1']) {
    assert.equal(decodeOidContent(encodeOidContent(oid)), oid);
    assert.equal(readOid(parseBer(derOid(oid))), oid);
  }
  assert.equal(derOid('1.2.840.10045.2.1').toString('hex'), '06072a8648ce3d0201');
  assert.throws(() => encodeOidContent('1.40.1'), isFormat('INVALID_VALUE'));
  assert.throws(() => decodeOidContent(Buffer.from([0x2a, 0x86])), isFormat('INVALID_DER'));
});

test('integers: minimal two\'s complement both ways', () => {
  assert.equal(derInteger(0).toString('hex'), '020100');
  assert.equal(derInteger(127).toString('hex'), '02017f');
  assert.equal(derInteger(128).toString('hex'), '02020080');
  assert.equal(derInteger(-1).toString('hex'), '0201ff');
  assert.equal(derInteger(-129).toString('hex'), '0202ff7f');
  assert.equal(derInteger(Buffer.from('00ff', 'hex')).toString('hex'), '020200ff');
  for (const v of [0n, 1n, -1n, 255n, -256n, 2n ** 200n, -(2n ** 130n)]) assert.equal(readInteger(parseBer(derInteger(v))), v);
});

test('BER indefinite lengths and constructed OCTET STRINGs are read', () => {
  // SEQUENCE(indef) { OCTET STRING(constructed, indef) { "ab", "cd" } }
  const ber = Buffer.from('3080' + '2480' + '04026162' + '04026364' + '0000' + '0000', 'hex');
  const seq = parseBer(ber);
  assert.ok(seq.indefinite);
  assert.equal(readOctetString(seq.child(0)).toString(), 'abcd');
  assert.equal(seq.end, ber.length);
});

test('truncation, bad lengths, trailing data, depth and size limits give typed errors', () => {
  assert.throws(() => parseBer(Buffer.alloc(0)), isFormat('EMPTY_INPUT'));
  assert.throws(() => parseBer(Buffer.from('3005020101', 'hex')), isFormat('TRUNCATED_DER'));
  assert.throws(() => parseBer(Buffer.from('30800201010000ff', 'hex')), isFormat('TRAILING_DATA'));
  assert.throws(() => parseBer(Buffer.from('3080020101', 'hex')), isFormat('TRUNCATED_DER'));
  assert.throws(() => parseBer(Buffer.from('3085ffffffffff', 'hex')), isFormat('INVALID_DER'));
  assert.throws(() => parseBer(Buffer.from('0480', 'hex')), isFormat('INVALID_DER'));
  assert.throws(() => parseBer(Buffer.from('0000', 'hex')), isFormat('INVALID_DER'));
  // Inside indefinite content only 00 00 ends the element; 00 01 .. is an invalid element, not an end.
  assert.throws(() => parseBer(Buffer.from('30800001000000', 'hex')), isFormat('INVALID_DER'));
  const deep = Buffer.concat([Buffer.from('3080'.repeat(100), 'hex'), Buffer.from('0000'.repeat(100), 'hex')]);
  assert.throws(() => parseBer(deep), isFormat('TOO_DEEP'));
  assert.throws(() => parseBer(Buffer.alloc(100, 0x30), { maxSize: 50 }), isFormat('TOO_LARGE'));
});

test('times: UTCTime window, GeneralizedTime, offsets and fractions', () => {
  const d = new Date('2021-04-15T10:38:02Z');
  assert.equal(derUtcTime(d).toString('hex'), '170d3231303431353130333830325a');
  assert.equal(readTime(parseBer(derTime(d))).toISOString(), d.toISOString());
  const far = new Date('2051-01-02T03:04:05Z');
  assert.equal(derTime(far)[0], 0x18);
  assert.equal(readTime(parseBer(derGeneralizedTime(far))).toISOString(), far.toISOString());
  const offset = Buffer.concat([Buffer.from([0x17, 0x11]), Buffer.from('2104151238+0200', 'latin1')]);
  offset[1] = 15;
  assert.equal(readTime(parseBer(offset)).toISOString(), '2021-04-15T10:38:00.000Z');
  const frac = Buffer.concat([Buffer.from([0x18, 19]), Buffer.from('20210415103802.25Z', 'latin1')]);
  frac[1] = 18;
  assert.equal(readTime(parseBer(frac)).toISOString(), '2021-04-15T10:38:02.250Z');
  const bad = Buffer.concat([Buffer.from([0x17, 13]), Buffer.from('211315103802Z', 'latin1')]);
  assert.throws(() => readTime(parseBer(bad)), isFormat('INVALID_VALUE'));
});

test('SET OF is sorted by encoding', () => {
  const a = derSequence(derInteger(2));
  const b = derSequence(derInteger(1));
  assert.deepEqual(derSetOf([a, b]), derSetOf([b, a]));
  assert.equal(derSetOf([a, b]).subarray(2, 2 + b.length).toString('hex'), b.toString('hex'));
});
