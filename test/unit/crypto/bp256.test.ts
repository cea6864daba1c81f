import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import {
  BRAINPOOL_P256R1_OID,
  BP256_ORDER,
  bp256Ecdh,
  bp256PointFromKey,
  bp256PrivateKeyFromJwk,
  bp256PrivateKeyFromRaw,
  bp256PrivateKeyToJwk,
  bp256PrivateKeyToRaw,
  bp256PublicKeyFromJwk,
  bp256PublicKeyFromPoint,
  bp256PublicKeyToJwk,
  bp256Sign,
  bp256SignDigest,
  bp256Verify,
  bp256VerifyDigest,
  ecdsaDerToRaw,
  ecdsaRawToDer,
  generateBp256KeyPair,
} from '../../../simulators/lib/bp256';
import { CryptoFormatError } from '../../../simulators/lib/crypto-errors';
import { parseBer, readOid } from '../../../simulators/lib/der';

// Known point from the gematik VAU example (api-erp VAUFixed.cs): d -> (x, y).
const KNOWN_D = '5bbba34d47502bd588ed680dfa2309ca375eb7a35ddbbd67cc7f8b6b687a1c1d';
const KNOWN_X = '754e548941e5cd073fed6d734578a484be9f0bbfa1b6fa3168ed7ffb22878f0f';
const KNOWN_Y = '9aef9bbd932a020d8828367bd080a3e72b36c41ee40c87253f9b1b0beb8371bf';

const isFormat = (code: string) => (e: unknown) => e instanceof CryptoFormatError && e.code === code;

test('curve OID constant is brainpoolP256r1 and matches what node puts into an SPKI', () => {
  assert.equal(BRAINPOOL_P256R1_OID, '1.3.36.3.3.2.8.1.1.7');
  const { publicKey } = generateBp256KeyPair();
  const spki = parseBer(publicKey.export({ type: 'spki', format: 'der' }));
  assert.equal(readOid(spki.child(0).child(1)), BRAINPOOL_P256R1_OID);
});

test('private key from raw d yields the known public point, and round-trips to raw', () => {
  const key = bp256PrivateKeyFromRaw(Buffer.from(KNOWN_D, 'hex'));
  const { x, y } = bp256PointFromKey(key);
  assert.equal(x.toString('hex'), KNOWN_X);
  assert.equal(y.toString('hex'), KNOWN_Y);
  assert.equal(bp256PrivateKeyToRaw(key).toString('hex'), KNOWN_D);
});

test('raw d out of range or of the wrong size is rejected', () => {
  assert.throws(() => bp256PrivateKeyFromRaw(Buffer.alloc(32)), isFormat('INVALID_KEY'));
  assert.throws(() => bp256PrivateKeyFromRaw(Buffer.from(BP256_ORDER.toString(16), 'hex')), isFormat('INVALID_KEY'));
  assert.throws(() => bp256PrivateKeyFromRaw(Buffer.alloc(31, 1)), isFormat('INVALID_KEY'));
});

test('sign/verify raw r||s (64 bytes) and DER; tampering fails', () => {
  const { privateKey, publicKey } = generateBp256KeyPair();
  const raw = bp256Sign('hello TI', privateKey);
  assert.equal(raw.length, 64);
  assert.equal(bp256Verify('hello TI', raw, publicKey), true);
  assert.equal(bp256Verify('hello TJ', raw, publicKey), false);
  const der = bp256Sign('hello TI', privateKey, 'der');
  assert.equal(der[0], 0x30);
  assert.equal(bp256Verify('hello TI', der, publicKey, 'der'), true);
  assert.equal(bp256Verify('hello TI', der, publicKey, 'raw'), false);
  assert.equal(bp256Verify('hello TI', Buffer.alloc(10), publicKey), false);
  const other = generateBp256KeyPair().publicKey;
  assert.equal(bp256Verify('hello TI', raw, other), false);
});

test('raw <-> DER conversion is lossless and verifies with node in both encodings', () => {
  const { privateKey, publicKey } = generateBp256KeyPair();
  for (let i = 0; i < 20; i++) {
    const raw = bp256Sign(`m${i}`, privateKey);
    const der = ecdsaRawToDer(raw);
    assert.ok(crypto.verify('sha256', Buffer.from(`m${i}`), { key: publicKey, dsaEncoding: 'der' }, der));
    assert.deepEqual(ecdsaDerToRaw(der), raw);
  }
  // Leading zero handling: r with high bit set needs a 0x00 pad, small r is left-padded back.
  const raw = Buffer.concat([Buffer.alloc(32, 0xff), Buffer.concat([Buffer.alloc(31), Buffer.from([5])])]);
  const der = ecdsaRawToDer(raw);
  assert.equal(der.toString('hex'), `3026022100${'ff'.repeat(32)}020105`);
  assert.deepEqual(ecdsaDerToRaw(der), raw);
  assert.throws(() => ecdsaRawToDer(Buffer.alloc(63)), isFormat('INVALID_SIGNATURE_ENCODING'));
  assert.throws(() => ecdsaDerToRaw(Buffer.from('300602010102', 'hex')), isFormat('INVALID_SIGNATURE_ENCODING'));
  assert.throws(() => ecdsaDerToRaw(Buffer.alloc(0)), isFormat('INVALID_SIGNATURE_ENCODING'));
});

test('public key <-> point <-> JWK round trip; JWK has crv BP-256', () => {
  const { privateKey, publicKey } = generateBp256KeyPair();
  const jwk = bp256PublicKeyToJwk(publicKey);
  assert.equal(jwk.kty, 'EC');
  assert.equal(jwk.crv, 'BP-256');
  assert.equal(Buffer.from(jwk.x, 'base64url').length, 32);
  const back = bp256PublicKeyFromJwk(jwk);
  assert.ok(bp256Verify('x', bp256Sign('x', privateKey), back));
  const viaPoint = bp256PublicKeyFromPoint(bp256PointFromKey(publicKey));
  assert.deepEqual(viaPoint.export({ type: 'spki', format: 'der' }), publicKey.export({ type: 'spki', format: 'der' }));
});

test('private JWK round trip; mismatching x/y and wrong curve names are rejected', () => {
  const { privateKey, publicKey } = generateBp256KeyPair();
  const jwk = bp256PrivateKeyToJwk(privateKey);
  const restored = bp256PrivateKeyFromJwk(jwk);
  assert.ok(bp256Verify('x', bp256Sign('x', restored), publicKey));
  const otherX = bp256PublicKeyToJwk(generateBp256KeyPair().publicKey).x;
  assert.throws(() => bp256PrivateKeyFromJwk({ ...jwk, x: otherX }), isFormat('INVALID_KEY'));
  assert.throws(() => bp256PublicKeyFromJwk({ ...jwk, crv: 'P-256' }), isFormat('INVALID_KEY'));
  assert.throws(() => bp256PublicKeyFromJwk({ ...jwk, x: jwk.x.slice(2) }), isFormat('INVALID_KEY'));
  assert.throws(() => bp256PublicKeyFromJwk({ ...jwk, x: `${jwk.x.slice(1)}!` }), isFormat('INVALID_KEY'));
  assert.throws(() => bp256PublicKeyFromJwk(null), isFormat('INVALID_KEY'));
});

test('points not on the curve are rejected', () => {
  const { x, y } = bp256PointFromKey(generateBp256KeyPair().publicKey);
  const badY = Buffer.from(y);
  badY[31] ^= 1;
  assert.throws(() => bp256PublicKeyFromPoint({ x, y: badY }), isFormat('INVALID_KEY'));
  assert.throws(() => bp256PublicKeyFromPoint(Buffer.alloc(65)), isFormat('INVALID_KEY'));
});

test('ECDH: both sides compute the same 32-byte secret; keys of other curves are refused', () => {
  const a = generateBp256KeyPair();
  const b = generateBp256KeyPair();
  const s1 = bp256Ecdh(a.privateKey, b.publicKey);
  const s2 = bp256Ecdh(b.privateKey, a.publicKey);
  assert.equal(s1.length, 32);
  assert.deepEqual(s1, s2);
  const p256 = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  assert.throws(() => bp256Ecdh(a.privateKey, p256.publicKey), isFormat('INVALID_KEY'));
  assert.throws(() => bp256Sign('x', p256.privateKey), isFormat('INVALID_KEY'));
});

test('signing a precomputed digest interoperates with node:crypto verify (and vice versa)', () => {
  const { privateKey, publicKey } = generateBp256KeyPair();
  const message = Buffer.from('signed attributes stand-in');
  const digest = crypto.createHash('sha256').update(message).digest();
  const sig = bp256SignDigest(digest, privateKey);
  assert.equal(sig.length, 64);
  assert.ok(bp256Verify(message, sig, publicKey), 'node verifies our digest signature');
  assert.ok(bp256VerifyDigest(digest, bp256Sign(message, privateKey), publicKey), 'we verify node signature');
  const wrongDigest = Buffer.from(digest);
  wrongDigest[0] ^= 0x80;
  assert.equal(bp256VerifyDigest(wrongDigest, sig, publicKey), false);
  assert.equal(bp256VerifyDigest(digest, Buffer.alloc(64), publicKey), false);
  const der = bp256SignDigest(digest, privateKey, 'der');
  assert.ok(crypto.verify('sha256', message, { key: publicKey, dsaEncoding: 'der' }, der));
});
