import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { bp256VerifyDigest } from '../../../simulators/lib/bp256';
import { AID_ESIGN, AID_QES, buildTestCard, hex, pinBlock, tx } from './helpers';

const sha256 = (s: string) => createHash('sha256').update(s).digest();

function fresh(options: { ssecLimit?: number } = {}) {
  const t = buildTestCard(options);
  t.card.powerOn();
  return t;
}

const MSE_SIGN_AUT = '002241B6 06 840184 800100'.replace(/\s/g, '');
const pso = (digest: Buffer) => `002A9E9A${digest.length.toString(16).padStart(2, '0')}${digest.toString('hex')}00`;

test('PSO COMPUTE DIGITAL SIGNATURE: 6982 before the PIN, then an ECDSA r‖s that verifies', () => {
  const { card, autKey } = fresh();
  assert.equal(tx(card, `00A4040C0A${AID_ESIGN}`).hex, '9000');
  assert.equal(tx(card, MSE_SIGN_AUT).hex, '9000');
  const digest = sha256('E-Rezept');
  assert.equal(tx(card, pso(digest)).hex, '6982');
  assert.equal(tx(card, `0020000208${pinBlock('123456')}`).hex, '9000', 'MRPIN.home');
  const r = tx(card, pso(digest));
  assert.equal(hex(r.sw), '9000');
  assert.equal(r.data.length, 64);
  assert.ok(bp256VerifyDigest(digest, r.data, autKey.publicKey), 'signature verifies with the public key');
  assert.ok(!bp256VerifyDigest(sha256('other'), r.data, autKey.publicKey));
  // unlimited SSEC: many signatures after one VERIFY
  for (let i = 0; i < 5; i++) assert.equal(hex(tx(card, pso(digest)).sw), '9000');
});

test('PSO COMPUTE DIGITAL SIGNATURE errors: 6985 without MSE, 6A88, 6A81, 6A86, 6700', () => {
  const { card } = fresh();
  assert.equal(tx(card, `00A4040C0A${AID_ESIGN}`).hex, '9000');
  assert.equal(tx(card, pso(sha256('x'))).hex, '6985', 'no key selected');
  assert.equal(tx(card, '002241B6068401048001 00'.replace(/\s/g, '')).hex, '6A88', 'global reference 04 is not in the MF');
  assert.equal(tx(card, '002241B606840185800100').hex, '6A81', 'PrK.CH.ENC.E256 cannot sign');
  assert.equal(tx(card, '002241B606840184800102').hex, '6A81', 'signPKCS1_V1_5 with an EC key');
  assert.equal(tx(card, '002241B603840284').hex, '6A80', 'broken TLV (length beyond data)');
  assert.equal(tx(card, '002241B603840184').hex, '6A80', 'algorithm missing');
  assert.equal(tx(card, '00224100').hex, '6A86');
  assert.equal(tx(card, '002241B6').hex, '6700');
  assert.equal(tx(card, '002241B606840187800100').hex, '9000', 'key not generated can be referenced');
  assert.equal(tx(card, `0020000208${pinBlock('123456')}`).hex, '9000');
  assert.equal(tx(card, pso(sha256('x'))).hex, '6A88', 'but not used');
  assert.equal(tx(card, MSE_SIGN_AUT).hex, '9000');
  assert.equal(tx(card, `002A9E9A20${sha256('x').toString('hex')}`).hex, '6700', 'Le missing');
  assert.equal(tx(card, `002A9E9A41${'00'.repeat(65)}00`).hex, '6700', 'hash longer than 64 bytes');
  assert.equal(tx(card, `002A9E9B20${sha256('x').toString('hex')}00`).hex, '6A86');
  assert.equal(tx(card, `002A00BE0401020304`).hex, '6A81', 'PSO VERIFY CERTIFICATE not implemented');
  // selecting a folder clears the key references
  assert.equal(tx(card, `00A4040C0A${AID_ESIGN}`).hex, '9000');
  assert.equal(tx(card, pso(sha256('x'))).hex, '6985');
});

test('HBA comfort signature: SSEC limit of signatures per VERIFY, then 6982 again', () => {
  const { card, qesKey } = fresh({ ssecLimit: 3 });
  assert.equal(tx(card, `00A4040C06${AID_QES}`).hex, '9000');
  assert.equal(tx(card, '002241B606840186800100').hex, '9000');
  const digest = sha256('Verordnung');
  assert.equal(tx(card, pso(digest)).hex, '6982');
  assert.equal(tx(card, `0020008108${pinBlock('654321')}`).hex, '9000');
  for (let i = 0; i < 3; i++) {
    const r = tx(card, pso(digest));
    assert.equal(hex(r.sw), '9000', `signature ${i + 1}`);
    assert.ok(bp256VerifyDigest(digest, r.data, qesKey.publicKey));
  }
  assert.equal(tx(card, pso(digest)).hex, '6982', 'SSEC exhausted');
  assert.equal(tx(card, '80200081').hex, '63C3', 'security status of PIN.QES is gone');
  assert.equal(tx(card, `0020008108${pinBlock('654321')}`).hex, '9000');
  assert.equal(hex(tx(card, pso(digest)).sw), '9000', 'a new VERIFY allows signing again');
});

test('INTERNAL AUTHENTICATE with elcRoleAuthentication signs token ‖ 00', () => {
  const { card, roleKey } = fresh();
  assert.equal(tx(card, '0088000010' + '11'.repeat(16) + '00').hex, '6985', 'no key selected');
  assert.equal(tx(card, '002241A406840109800154').hex, '9000', 'elcSessionkey4SM, as in the trace');
  assert.equal(tx(card, '002241A406840109800100').hex, '9000', 'elcRoleAuthentication');
  assert.equal(tx(card, '002241A4068401098001F4').hex, '6A81', 'elcAsynchronAdmin not in the key');
  const token = Buffer.from('0123456789abcdef0123456789abcdef', 'hex');
  const r = tx(card, `0088000010${token.toString('hex')}00`);
  assert.equal(hex(r.sw), '9000');
  assert.equal(r.data.length, 64);
  assert.ok(bp256VerifyDigest(Buffer.concat([token, Buffer.from([0x00])]), r.data, roleKey.publicKey));
  assert.ok(!bp256VerifyDigest(token, r.data, roleKey.publicKey), 'the algorithm identifier is part of the signed value');
  assert.equal(tx(card, `0088000110${token.toString('hex')}00`).hex, '6A86');
  assert.equal(tx(card, `0088000010${token.toString('hex')}`).hex, '6700');
});

test('GET CHALLENGE: 8, 16 or 32 random bytes, else 6700; GET RANDOM', () => {
  const { card } = fresh();
  for (const n of [8, 16, 32]) {
    const a = tx(card, `00840000${n.toString(16).padStart(2, '0')}`);
    const b = tx(card, `00840000${n.toString(16).padStart(2, '0')}`);
    assert.equal(hex(a.sw), '9000');
    assert.equal(a.data.length, n);
    assert.notDeepEqual(a.data, b.data);
  }
  assert.equal(tx(card, '0084000007').hex, '6700');
  assert.equal(tx(card, '0084000000').hex, '6700');
  assert.equal(tx(card, '00840000').hex, '6700');
  assert.equal(tx(card, '0084010008').hex, '6A86');
  const r = tx(card, '8084000020');
  assert.equal(hex(r.sw), '9000');
  assert.equal(r.data.length, 32);
});

test('LIST PUBLIC KEY lists the persistent public keys with their folder AID', () => {
  const { card } = fresh();
  assert.equal(tx(card, '80CA0100000000').hex, 'E0154F07D2760001448000B60A830844454758588702229000');
  assert.equal(tx(card, '80CA010000').hex, 'E0154F07D2760001448000B60A830844454758588702229000');
  assert.equal(tx(card, '80CA0100').hex, '6700');
  assert.equal(tx(card, '80CA0000000000').hex, '6A86');
  assert.equal(tx(card, '002281B60A83084445475858870222').hex, '9000', 'MSE SET for CVC verification');
  assert.equal(tx(card, '002281B60A83084445475858850218').hex, '6A88', 'unknown CHR');
});

test('reset clears the security status; PIN retry counters persist', () => {
  const { card } = fresh();
  assert.equal(tx(card, `0020000108${pinBlock('000000')}`).hex, '63C2');
  assert.equal(tx(card, `0020000208${pinBlock('123456')}`).hex, '9000');
  assert.deepEqual(card.reset(), card.atr);
  assert.equal(tx(card, '80200002').hex, '63C3');
  assert.equal(tx(card, `0020000108${pinBlock('000000')}`).hex, '63C2', 'the right PIN reset the counter before');
  card.powerOff();
  card.powerOn();
  assert.equal(tx(card, '80200001').hex, '63C2', 'the counter survives power cycles');
});
