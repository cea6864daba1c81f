import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { bp256PublicKeyToJwk, generateBp256KeyPair } from '../../../simulators/lib/bp256';
import { JoseError } from '../../../simulators/lib/crypto-errors';
import {
  concatKdf,
  decodeJweHeader,
  decodeJws,
  decryptJweDir,
  decryptJweEcdhEs,
  ecJwkThumbprint,
  encryptJweDir,
  encryptJweEcdhEs,
  payloadJson,
  signJws,
  verifyJws,
} from '../../../simulators/lib/jose';

const isJose = (code: string) => (e: unknown) => e instanceof JoseError && e.code === code;
const b64u = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

/** A self-signed brainpool certificate made by the openssl CLI (independent of our code). */
function selfSignedBp256(): { cert: crypto.X509Certificate; privateKey: crypto.KeyObject } {
  const { privateKey } = generateBp256KeyPair();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jose-test-'));
  try {
    fs.writeFileSync(path.join(dir, 'k.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    execFileSync('openssl', ['req', '-new', '-x509', '-key', path.join(dir, 'k.pem'), '-subj', '/CN=IDP Sig TEST-ONLY', '-days', '2', '-out', path.join(dir, 'c.pem')], { stdio: 'pipe' });
    return { cert: new crypto.X509Certificate(fs.readFileSync(path.join(dir, 'c.pem'))), privateKey };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('Concat KDF matches RFC 7518 Appendix C (ECDH-ES, P-256, apu Alice, apv Bob)', () => {
  const alice = crypto.createPrivateKey({
    format: 'jwk',
    key: { kty: 'EC', crv: 'P-256', x: 'gI0GAILBdu7T53akrFmMyGcsF3n5dO7MmwNBHKW5SV0', y: 'SLW_xSffzlPWrHEVI30DHM_4egVwt3NQqeUD7nMFpps', d: '0_NxaRPUMQoAJt50Gz8YiTr8gRTwyEaCumd-MToTmIo' },
  });
  const bob = crypto.createPublicKey({
    format: 'jwk',
    key: { kty: 'EC', crv: 'P-256', x: 'weNJy2HscCSM6AEDTDg04biOvhFhyyWvOHQfeF_PxMQ', y: 'e8lnCO-AlStT-NJVX-crhB7QRYhiix03illJOVAOyck' },
  });
  const z = crypto.diffieHellman({ privateKey: alice, publicKey: bob });
  const key = concatKdf(z, 128, 'A128GCM', Buffer.from('Alice'), Buffer.from('Bob'));
  assert.equal(key.toString('base64url'), 'VqqN6vgjbSBcIijNcacQGg');
});

test('JWS BP256R1: compact form, raw 64-byte signature over ASCII(header.payload), verifiable with plain node:crypto', () => {
  const { privateKey, publicKey } = generateBp256KeyPair();
  const jws = signJws({ sub: 'challenge', nonce: 42 }, privateKey, { typ: 'JWT', kid: 'puk_idp_sig' });
  const [h, p, s] = jws.split('.');
  assert.deepEqual(JSON.parse(Buffer.from(h, 'base64url').toString()), { typ: 'JWT', kid: 'puk_idp_sig', alg: 'BP256R1' });
  const sig = Buffer.from(s, 'base64url');
  assert.equal(sig.length, 64);
  assert.ok(crypto.verify('sha256', Buffer.from(`${h}.${p}`), { key: publicKey, dsaEncoding: 'ieee-p1363' }, sig));
  const v = verifyJws(jws, publicKey);
  assert.deepEqual(payloadJson(v.payload), { sub: 'challenge', nonce: 42 });
  assert.equal(v.header.alg, 'BP256R1');
});

test('JWS: a signature made independently with node:crypto verifies', () => {
  const { privateKey, publicKey } = generateBp256KeyPair();
  const input = `${b64u({ alg: 'BP256R1' })}.${b64u('payload')}`;
  const sig = crypto.sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  assert.equal(verifyJws(`${input}.${sig.toString('base64url')}`, publicKey).payload.toString(), 'payload');
});

test('JWS with x5c: verified with the first certificate, or with a certificate given by the caller', () => {
  const { cert, privateKey } = selfSignedBp256();
  const x5c = [cert.raw.toString('base64')];
  const jws = signJws('discovery document', privateKey, { x5c });
  const v = verifyJws(jws);
  assert.equal(v.certificate?.fingerprint256, cert.fingerprint256);
  assert.equal(verifyJws(jws, cert).payload.toString(), 'discovery document');
  assert.equal(verifyJws(jws, cert.raw).payload.toString(), 'discovery document');
  assert.equal(verifyJws(jws, cert.toString()).payload.toString(), 'discovery document');
  // An x5c naming a different key does not verify.
  const other = selfSignedBp256();
  const forged = signJws('discovery document', privateKey, { x5c: [other.cert.raw.toString('base64')] });
  assert.throws(() => verifyJws(forged), isJose('BAD_SIGNATURE'));
  assert.throws(() => verifyJws(signJws('x', privateKey)), isJose('NO_KEY'));
  assert.throws(() => verifyJws(signJws('x', privateKey, { x5c: ['AAAA'] })), isJose('BAD_CERTIFICATE'));
});

test('JWS rejections: none, alg/key mismatch, unknown alg, tampering, bad base64, wrong sizes, crit', () => {
  const { privateKey, publicKey } = generateBp256KeyPair();
  const p256 = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const jws = signJws('data', privateKey);
  const [h, p, s] = jws.split('.');
  assert.throws(() => verifyJws(`${b64u({ alg: 'none' })}.${p}.`, publicKey), isJose('ALG_NONE'));
  assert.throws(() => verifyJws(`${b64u({ alg: 'NONE' })}.${p}.${s}`, publicKey), isJose('ALG_NONE'));
  assert.throws(() => verifyJws(`${b64u({ alg: 'HS256' })}.${p}.${s}`, publicKey), isJose('UNSUPPORTED_ALG'));
  assert.throws(() => verifyJws(`${b64u({ alg: 'ES256' })}.${p}.${s}`, publicKey), isJose('ALG_MISMATCH'));
  assert.throws(() => verifyJws(`${b64u({ alg: 'ES256' })}.${p}.${s}`, publicKey, { algorithms: ['ES256', 'BP256R1'] }), isJose('ALG_MISMATCH'));
  assert.throws(() => verifyJws(jws, p256.publicKey), isJose('ALG_MISMATCH'));
  assert.throws(() => signJws('x', privateKey, { alg: 'ES256' }), isJose('ALG_MISMATCH'));
  assert.throws(() => verifyJws(`${h}.${b64u('datb')}.${s}`, publicKey), isJose('BAD_SIGNATURE'));
  const flipped = Buffer.from(s, 'base64url');
  flipped[10] ^= 1;
  assert.throws(() => verifyJws(`${h}.${p}.${flipped.toString('base64url')}`, publicKey), isJose('BAD_SIGNATURE'));
  assert.throws(() => verifyJws(`${h}.${p}.${Buffer.from(s, 'base64url').subarray(0, 63).toString('base64url')}`, publicKey), isJose('BAD_SIGNATURE'));
  assert.throws(() => verifyJws(`${h}.${p}.${s}=`, publicKey), isJose('INVALID_BASE64'));
  assert.throws(() => verifyJws(`${h}.${p}+.${s}`, publicKey), isJose('INVALID_BASE64'));
  assert.throws(() => verifyJws(`${h}.${p}`, publicKey), isJose('MALFORMED'));
  assert.throws(() => verifyJws(`${b64u('[1]')}.${p}.${s}`, publicKey), isJose('INVALID_JSON'));
  assert.throws(() => verifyJws(`${b64u({ alg: 'BP256R1', crit: ['b64'], b64: false })}.${p}.${s}`, publicKey), isJose('UNSUPPORTED_HEADER'));
  assert.throws(() => verifyJws('a'.repeat(11 * 1024 * 1024), publicKey), isJose('TOO_LARGE'));
  assert.throws(() => verifyJws(jws, publicKey, { typ: 'JWT' }), isJose('INVALID_HEADER'));
});

test('JWS ES256 (P-256) works only when the caller accepts it', () => {
  const p256 = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const jws = signJws({ iss: 'popp' }, p256.privateKey, { typ: 'vnd.telematik.popp+jwt' });
  assert.equal(decodeJws(jws).header.alg, 'ES256');
  assert.throws(() => verifyJws(jws, p256.publicKey), isJose('ALG_MISMATCH'));
  assert.deepEqual(payloadJson(verifyJws(jws, p256.publicKey, { algorithms: ['ES256'] }).payload), { iss: 'popp' });
});

test('JWE ECDH-ES+A256GCM on BP-256: header, round trip and independent decryption with node primitives', () => {
  const recipient = generateBp256KeyPair();
  const jwe = encryptJweEcdhEs('{"njwt":"..."}', bp256PublicKeyToJwk(recipient.publicKey), { header: { cty: 'NJWT', exp: 1700000000 } });
  const [h, ek, iv, ct, tag] = jwe.split('.');
  assert.equal(ek, '');
  const header = decodeJweHeader(jwe);
  assert.equal(header.alg, 'ECDH-ES');
  assert.equal(header.enc, 'A256GCM');
  assert.equal(header.cty, 'NJWT');
  const epk = header.epk as { kty: string; crv: string; x: string; y: string };
  assert.equal(epk.crv, 'BP-256');
  assert.equal(decryptJweEcdhEs(jwe, recipient.privateKey).plaintext.toString(), '{"njwt":"..."}');

  // Independent path: Z from node ECDH, Concat KDF("A256GCM", 256), AES-256-GCM with AAD = ASCII(protected header).
  const { bp256PublicKeyFromJwk } = require('../../../simulators/lib/bp256') as typeof import('../../../simulators/lib/bp256');
  const z = crypto.diffieHellman({ privateKey: recipient.privateKey, publicKey: bp256PublicKeyFromJwk(epk) });
  const cek = concatKdf(z, 256, 'A256GCM');
  const d = crypto.createDecipheriv('aes-256-gcm', cek, Buffer.from(iv, 'base64url'));
  d.setAAD(Buffer.from(h, 'ascii'));
  d.setAuthTag(Buffer.from(tag, 'base64url'));
  assert.equal(Buffer.concat([d.update(Buffer.from(ct, 'base64url')), d.final()]).toString(), '{"njwt":"..."}');
});

test('JWE ECDH-ES rejections: tampering, wrong key, bad sizes, alg/enc, off-curve epk', () => {
  const recipient = generateBp256KeyPair();
  const jwe = encryptJweEcdhEs('secret', recipient.publicKey);
  const [h, ek, iv, ct, tag] = jwe.split('.');
  const flip = (b64: string) => {
    const b = Buffer.from(b64, 'base64url');
    b[0] ^= 1;
    return b.toString('base64url');
  };
  assert.throws(() => decryptJweEcdhEs([h, ek, iv, flip(ct), tag].join('.'), recipient.privateKey), isJose('DECRYPTION_FAILED'));
  assert.throws(() => decryptJweEcdhEs([h, ek, iv, ct, flip(tag)].join('.'), recipient.privateKey), isJose('DECRYPTION_FAILED'));
  assert.throws(() => decryptJweEcdhEs([h, ek, flip(iv), ct, tag].join('.'), recipient.privateKey), isJose('DECRYPTION_FAILED'));
  assert.throws(() => decryptJweEcdhEs(jwe, generateBp256KeyPair().privateKey), isJose('DECRYPTION_FAILED'));
  const header = JSON.parse(Buffer.from(h, 'base64url').toString());
  // Header is authenticated: changing a harmless field breaks the tag.
  assert.throws(() => decryptJweEcdhEs([b64u({ ...header, kid: 'x' }), ek, iv, ct, tag].join('.'), recipient.privateKey), isJose('DECRYPTION_FAILED'));
  assert.throws(() => decryptJweEcdhEs([h, ek, Buffer.alloc(16).toString('base64url'), ct, tag].join('.'), recipient.privateKey), isJose('INVALID_IV'));
  assert.throws(() => decryptJweEcdhEs([h, ek, iv, ct, Buffer.alloc(12).toString('base64url')].join('.'), recipient.privateKey), isJose('INVALID_TAG'));
  assert.throws(() => decryptJweEcdhEs([h, 'AAAA', iv, ct, tag].join('.'), recipient.privateKey), isJose('MALFORMED'));
  assert.throws(() => decryptJweEcdhEs([b64u({ ...header, enc: 'A128GCM' }), ek, iv, ct, tag].join('.'), recipient.privateKey), isJose('UNSUPPORTED_ENC'));
  assert.throws(() => decryptJweEcdhEs([b64u({ ...header, alg: 'ECDH-ES+A256KW' }), ek, iv, ct, tag].join('.'), recipient.privateKey), isJose('ALG_MISMATCH'));
  assert.throws(() => decryptJweEcdhEs([b64u({ ...header, alg: 'none' }), ek, iv, ct, tag].join('.'), recipient.privateKey), isJose('ALG_NONE'));
  const badY = Buffer.from(header.epk.y, 'base64url');
  badY[31] ^= 1;
  const offCurve = { ...header, epk: { ...header.epk, y: badY.toString('base64url') } };
  assert.throws(() => decryptJweEcdhEs([b64u(offCurve), ek, iv, ct, tag].join('.'), recipient.privateKey), isJose('INVALID_KEY'));
  assert.throws(() => decryptJweEcdhEs([b64u({ ...header, epk: { ...header.epk, crv: 'P-256' } }), ek, iv, ct, tag].join('.'), recipient.privateKey), isJose('INVALID_KEY'));
  const p256 = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  assert.throws(() => encryptJweEcdhEs('x', p256.publicKey), isJose('INVALID_KEY'));
  assert.throws(() => decryptJweEcdhEs(jwe, p256.privateKey), isJose('INVALID_KEY'));
});

test('JWE dir+A256GCM: round trip, fixed IV, key size and tamper checks', () => {
  const key = crypto.randomBytes(32);
  const jwe = encryptJweDir('access token', key, { header: { cty: 'NJWT' }, iv: Buffer.alloc(12, 7) });
  const [h, ek, iv] = jwe.split('.');
  assert.equal(ek, '');
  assert.equal(iv, Buffer.alloc(12, 7).toString('base64url'));
  assert.deepEqual(JSON.parse(Buffer.from(h, 'base64url').toString()), { alg: 'dir', enc: 'A256GCM', cty: 'NJWT' });
  assert.equal(decryptJweDir(jwe, key).plaintext.toString(), 'access token');
  assert.equal(decryptJweDir(jwe, crypto.createSecretKey(key)).plaintext.toString(), 'access token');
  assert.throws(() => decryptJweDir(jwe, crypto.randomBytes(32)), isJose('DECRYPTION_FAILED'));
  assert.throws(() => decryptJweDir(jwe, crypto.randomBytes(16)), isJose('INVALID_KEY'));
  assert.throws(() => encryptJweDir('x', crypto.randomBytes(31)), isJose('INVALID_KEY'));
  assert.throws(() => encryptJweDir('x', key, { iv: Buffer.alloc(8) }), isJose('INVALID_IV'));
  const ecdh = encryptJweEcdhEs('x', generateBp256KeyPair().publicKey);
  assert.throws(() => decryptJweDir(ecdh, key), isJose('ALG_MISMATCH'));
});

test('EC JWK thumbprint follows RFC 7638 member ordering', () => {
  const jwk = bp256PublicKeyToJwk(generateBp256KeyPair().publicKey);
  const expected = crypto.createHash('sha256').update(`{"crv":"BP-256","kty":"EC","x":"${jwk.x}","y":"${jwk.y}"}`).digest('base64url');
  assert.equal(ecJwkThumbprint(jwk), expected);
});
