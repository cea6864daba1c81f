import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bp256PrivateKeyFromRaw, bp256PublicKeyFromPoint, bp256PointFromKey, generateBp256KeyPair } from '../../../simulators/lib/bp256';
import { VauError } from '../../../simulators/lib/crypto-errors';
import {
  buildVauInnerRequest,
  buildVauInnerResponse,
  createVauRequest,
  decryptVauResponse,
  deriveVauTransportKey,
  encryptVauResponse,
  openVauRequest,
  openVauResponse,
  parseVauInnerRequest,
  parseVauInnerResponse,
  sealVauResponse,
  vauDecrypt,
  vauEncrypt,
} from '../../../simulators/lib/vau';
import { sharedPath } from '../../../simulators/lib/shared-data';

const VECTOR = JSON.parse(fs.readFileSync(sharedPath('reference', 'vau-test-vector.json'), 'utf8')) as {
  vauPublicKey: { x: string; y: string };
  ephemeralPrivateKey: string;
  ephemeralPublicKey: { x: string; y: string };
  iv: string;
  plaintextUtf8: string;
  expectedCiphertext: string;
};

const isVau = (code: string) => (e: unknown) => e instanceof VauError && e.code === code;
const hex = (s: string) => Buffer.from(s, 'hex');

test('known answer (gemSpec_Krypt / api-erp VAUFixed): encryption reproduces the expected bytes', () => {
  const ephemeral = bp256PrivateKeyFromRaw(hex(VECTOR.ephemeralPrivateKey));
  const out = vauEncrypt(VECTOR.plaintextUtf8, { x: hex(VECTOR.vauPublicKey.x), y: hex(VECTOR.vauPublicKey.y) }, { ephemeralPrivateKey: ephemeral, iv: hex(VECTOR.iv) });
  assert.equal(out.toString('hex'), VECTOR.expectedCiphertext);
});

test('known answer, other direction: the expected ciphertext decrypts to the plaintext', () => {
  // The vector does not publish the VAU private key; ECDH is symmetric, so the
  // shared secret is computed from the ephemeral private key and the VAU public key.
  const ephemeral = bp256PrivateKeyFromRaw(hex(VECTOR.ephemeralPrivateKey));
  const vauPublic = bp256PublicKeyFromPoint({ x: hex(VECTOR.vauPublicKey.x), y: hex(VECTOR.vauPublicKey.y) });
  let seenEphemeral: crypto.KeyObject | undefined;
  const plaintext = vauDecrypt(hex(VECTOR.expectedCiphertext), (epk) => {
    seenEphemeral = epk;
    return crypto.diffieHellman({ privateKey: ephemeral, publicKey: vauPublic });
  });
  assert.equal(plaintext.toString('utf8'), VECTOR.plaintextUtf8);
  const { x, y } = bp256PointFromKey(seenEphemeral!);
  assert.equal(x.toString('hex'), VECTOR.ephemeralPublicKey.x);
  assert.equal(y.toString('hex'), VECTOR.ephemeralPublicKey.y);
});

test('transport key is HKDF-SHA256(salt empty, info "ecies-vau-transport"), 16 bytes', () => {
  const z = crypto.randomBytes(32);
  const expected = Buffer.from(crypto.hkdfSync('sha256', z, Buffer.alloc(0), Buffer.from('ecies-vau-transport'), 16));
  assert.deepEqual(deriveVauTransportKey(z), expected);
  assert.throws(() => deriveVauTransportKey(Buffer.alloc(31)), isVau('INVALID_KEY'));
});

test('round trip with a VAU key pair; layout 0x01 || X || Y || IV || ct || tag', () => {
  const vau = generateBp256KeyPair();
  const msg = vauEncrypt(Buffer.from('GET /Task HTTP/1.1\r\n\r\n'), vau.publicKey);
  assert.equal(msg[0], 0x01);
  assert.equal(msg.length, 1 + 64 + 12 + 22 + 16);
  assert.equal(vauDecrypt(msg, vau.privateKey).toString(), 'GET /Task HTTP/1.1\r\n\r\n');
});

test('malformed envelopes give typed errors', () => {
  const vau = generateBp256KeyPair();
  const msg = vauEncrypt('payload', vau.publicKey);
  assert.throws(() => vauDecrypt(Buffer.alloc(0), vau.privateKey), isVau('EMPTY_INPUT'));
  assert.throws(() => vauDecrypt(msg.subarray(0, 92), vau.privateKey), isVau('TOO_SHORT'));
  const v2 = Buffer.from(msg);
  v2[0] = 0x02;
  assert.throws(() => vauDecrypt(v2, vau.privateKey), isVau('UNSUPPORTED_VERSION'));
  const offCurve = Buffer.from(msg);
  offCurve[64] ^= 1;
  assert.throws(() => vauDecrypt(offCurve, vau.privateKey), isVau('INVALID_PUBLIC_KEY'));
  for (const pos of [70, msg.length - 20, msg.length - 1]) {
    const t = Buffer.from(msg);
    t[pos] ^= 0x01;
    assert.throws(() => vauDecrypt(t, vau.privateKey), isVau('DECRYPTION_FAILED'), `flip at ${pos}`);
  }
  assert.throws(() => vauDecrypt(msg, generateBp256KeyPair().privateKey), isVau('DECRYPTION_FAILED'));
  assert.throws(() => vauDecrypt(Buffer.alloc(11 * 1024 * 1024, 1), vau.privateKey), isVau('TOO_LARGE'));
  assert.throws(() => vauEncrypt('x', { x: Buffer.alloc(32), y: Buffer.alloc(32) }), isVau('INVALID_PUBLIC_KEY'));
  assert.throws(() => vauEncrypt('x', vau.publicKey, { iv: Buffer.alloc(16) }), isVau('INVALID_IV'));
  for (let i = 0; i < 200; i++) {
    const random = crypto.randomBytes(i);
    assert.throws(() => vauDecrypt(random, vau.privateKey), (e: unknown) => e instanceof VauError);
  }
});

test('inner request "1 <token> <requestid> <key> <http>" is built and parsed exactly (api-erp example)', () => {
  const http = 'GET /Task HTTP/1.1\nHost: erp.zentral.erp.splitdns.ti-dienste.de\nAuthorization: Bearer eyJraWQ.ewogImL2pA10Qql22ddtutrvx4FsDlz.rHQjEmB1lLmpqn9J\n\n';
  const inner = buildVauInnerRequest({
    accessToken: 'eyJraWQ.ewogImL2pA10Qql22ddtutrvx4FsDlz.rHQjEmB1lLmpqn9J',
    requestId: 'b69f01734f34376ddcdbdbe9af18a06f',
    responseKey: hex('16bac90134c635e4ec85fae0e4885d9f'),
    httpRequest: Buffer.from(http),
  });
  assert.equal(
    inner.toString(),
    `1 eyJraWQ.ewogImL2pA10Qql22ddtutrvx4FsDlz.rHQjEmB1lLmpqn9J b69f01734f34376ddcdbdbe9af18a06f 16bac90134c635e4ec85fae0e4885d9f ${http}`,
  );
  const parsed = parseVauInnerRequest(inner);
  assert.equal(parsed.accessToken, 'eyJraWQ.ewogImL2pA10Qql22ddtutrvx4FsDlz.rHQjEmB1lLmpqn9J');
  assert.equal(parsed.requestId, 'b69f01734f34376ddcdbdbe9af18a06f');
  assert.equal(parsed.responseKey.toString('hex'), '16bac90134c635e4ec85fae0e4885d9f');
  assert.equal(parsed.httpRequest.toString(), http);
});

test('inner request/response parsers reject malformed framing', () => {
  const bad = (s: string) => () => parseVauInnerRequest(Buffer.from(s));
  assert.throws(bad('2 tok b69f01734f34376ddcdbdbe9af18a06f 16bac90134c635e4ec85fae0e4885d9f GET / HTTP/1.1'), isVau('MALFORMED_INNER_REQUEST'));
  assert.throws(bad('1 tok b69f01734f34376ddcdbdbe9af18a06 16bac90134c635e4ec85fae0e4885d9f GET / HTTP/1.1'), isVau('MALFORMED_INNER_REQUEST'));
  assert.throws(bad('1 tok b69f01734f34376ddcdbdbe9af18a06f 16bac90134c635e4ec85fae0e4885d9g GET / HTTP/1.1'), isVau('MALFORMED_INNER_REQUEST'));
  assert.throws(bad('1 tok b69f01734f34376ddcdbdbe9af18a06f 16bac90134c635e4ec85fae0e4885d9f '), isVau('MALFORMED_INNER_REQUEST'));
  assert.throws(bad('1  b69f01734f34376ddcdbdbe9af18a06f 16bac90134c635e4ec85fae0e4885d9f GET'), isVau('MALFORMED_INNER_REQUEST'));
  assert.throws(bad('1 tok'), isVau('MALFORMED_INNER_REQUEST'));
  assert.throws(() => parseVauInnerRequest(Buffer.alloc(0)), isVau('MALFORMED_INNER_REQUEST'));
  assert.throws(() => parseVauInnerResponse(Buffer.from('1 nothex HTTP/1.1 200 OK')), isVau('MALFORMED_INNER_RESPONSE'));
  assert.throws(() => parseVauInnerResponse(Buffer.from('0 b69f01734f34376ddcdbdbe9af18a06f HTTP/1.1 200 OK')), isVau('MALFORMED_INNER_RESPONSE'));
  assert.throws(() => buildVauInnerRequest({ accessToken: 'a b', requestId: 'b69f01734f34376ddcdbdbe9af18a06f', responseKey: Buffer.alloc(16), httpRequest: Buffer.from('x') }), isVau('MALFORMED_INNER_REQUEST'));
  assert.throws(() => buildVauInnerRequest({ accessToken: 'a', requestId: 'b69f01734f34376ddcdbdbe9af18a06f', responseKey: Buffer.alloc(32), httpRequest: Buffer.from('x') }), isVau('INVALID_KEY'));
});

test('response: AES-128-GCM under the response key as IV || ct || tag, decryptable with plain node:crypto', () => {
  const key = crypto.randomBytes(16);
  const enc = sealVauResponse({ requestId: 'b69f01734f34376ddcdbdbe9af18a06f', responseKey: key }, 'HTTP/1.1 200 OK\r\n\r\n{}');
  const d = crypto.createDecipheriv('aes-128-gcm', key, enc.subarray(0, 12));
  d.setAuthTag(enc.subarray(enc.length - 16));
  const plain = Buffer.concat([d.update(enc.subarray(12, enc.length - 16)), d.final()]);
  assert.equal(plain.toString(), '1 b69f01734f34376ddcdbdbe9af18a06f HTTP/1.1 200 OK\r\n\r\n{}');
  assert.deepEqual(parseVauInnerResponse(plain).httpResponse.toString(), 'HTTP/1.1 200 OK\r\n\r\n{}');
  assert.equal(decryptVauResponse(enc, key).toString(), plain.toString());
  assert.throws(() => decryptVauResponse(enc, crypto.randomBytes(16)), isVau('DECRYPTION_FAILED'));
  assert.throws(() => decryptVauResponse(enc.subarray(0, 27), key), isVau('TOO_SHORT'));
  assert.throws(() => encryptVauResponse(Buffer.from('x'), crypto.randomBytes(32)), isVau('INVALID_KEY'));
  assert.throws(() => openVauResponse(enc, key, 'a'.repeat(32)), isVau('REQUEST_ID_MISMATCH'));
  assert.equal(buildVauInnerResponse('B69F01734F34376DDCDBDBE9AF18A06F', 'x').toString(), '1 b69f01734f34376ddcdbdbe9af18a06f x');
});

test('full exchange: client request -> VAU -> sealed response -> client', () => {
  const vau = generateBp256KeyPair();
  const body = Buffer.concat([Buffer.from('POST /Task/$create HTTP/1.1\r\nContent-Type: application/octet-stream\r\n\r\n'), Buffer.from([0, 1, 2, 0x20, 255])]);
  const req = createVauRequest({ vauPublicKey: vau.publicKey, accessToken: 'h.p.s', httpRequest: body });
  const inner = openVauRequest(req.body, vau.privateKey);
  assert.equal(inner.accessToken, 'h.p.s');
  assert.equal(inner.requestId, req.requestId);
  assert.deepEqual(inner.responseKey, req.responseKey);
  assert.deepEqual(inner.httpRequest, body, 'binary request body survives unchanged');
  const response = sealVauResponse(inner, 'HTTP/1.1 201 Created\r\n\r\n');
  assert.equal(openVauResponse(response, req.responseKey, req.requestId).httpResponse.toString(), 'HTTP/1.1 201 Created\r\n\r\n');
});
