/**
 * The signed challenge as the IDP receives it: decrypted with the IDP's encryption key (test key),
 * the card JWS verified with the AUT certificate from its x5c, the digest the card saw checked.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import { generateBp256KeyPair, bp256PublicKeyToJwk } from '../../../simulators/lib/bp256';
import { decodeJws, decryptJweEcdhEs, payloadJson, signJws, verifyJws } from '../../../simulators/lib/jose';
import { buildSignedChallenge, IdpProtocolError } from '../../../simulators/lib/idp-client';
import { SoftwareSigner, smcbSigner } from './helpers';

const idpSig = generateBp256KeyPair();
const idpEnc = generateBp256KeyPair();
const exp = Math.floor(Date.now() / 1000) + 180;
const challenge = signJws(
  { iss: 'https://idp.example', iat: exp - 180, exp, token_type: 'challenge', jti: 'j1', snc: 'x', client_id: 'gematikTestPs', redirect_uri: 'http://test-ps.gematik.de/erezept', state: 's', nonce: 'n', scope: 'openid e-rezept', code_challenge: 'c', code_challenge_method: 'S256', response_type: 'code' },
  idpSig.privateKey,
  { kid: 'puk_idp_sig', typ: 'JWT' },
);

test('JWE ECDH-ES/A256GCM to puk_idp_enc (cty NJWT, exp of the challenge) around the card JWS', async () => {
  const { signer, issued } = await smcbSigner();
  const { jwe, cardJws } = await buildSignedChallenge(challenge, signer, bp256PublicKeyToJwk(idpEnc.publicKey));
  const opened = decryptJweEcdhEs(jwe, idpEnc.privateKey);
  assert.equal(opened.header.alg, 'ECDH-ES');
  assert.equal(opened.header.enc, 'A256GCM');
  assert.equal(opened.header.cty, 'NJWT');
  assert.equal(opened.header.exp, exp);
  assert.equal((opened.header.epk as { crv: string }).crv, 'BP-256');
  const inner = payloadJson<{ njwt: string }>(opened.plaintext);
  assert.equal(inner.njwt, cardJws);

  // the card JWS: header as gematik specifies, signature by the AUT key, x5c = the AUT certificate
  const verified = verifyJws(inner.njwt);
  assert.deepEqual(Object.keys(verified.header).sort(), ['alg', 'cty', 'typ', 'x5c']);
  assert.equal(verified.header.alg, 'BP256R1');
  assert.equal(verified.header.typ, 'JWT');
  assert.equal(verified.header.cty, 'NJWT');
  assert.deepEqual(verified.header.x5c, [issued.certificate.toString('base64')]);
  assert.deepEqual(payloadJson(verified.payload), { njwt: challenge });

  // the card signed exactly SHA-256 of the signing input, once
  assert.equal(signer.signatures, 1);
  assert.deepEqual(signer.digests[0], crypto.createHash('sha256').update(decodeJws(cardJws).signingInput, 'ascii').digest());
});

test('a signature by another key does not verify with the certificate in x5c', async () => {
  const { issued } = await smcbSigner('Praxis Falsch');
  const wrongKey = generateBp256KeyPair().privateKey;
  const signer = new SoftwareSigner('wrong key', issued.certificate, wrongKey);
  const { cardJws } = await buildSignedChallenge(challenge, signer, idpEnc.publicKey);
  assert.throws(() => verifyJws(cardJws), /does not verify/);
});

test('broken signer output and broken challenges are refused before anything is sent', async () => {
  const { issued } = await smcbSigner('Praxis Kaputt');
  const der = new SoftwareSigner('DER signer', issued.certificate, issued.privateKey, (raw) => Buffer.concat([Buffer.from([0x30, 0x44]), raw]));
  await assert.rejects(buildSignedChallenge(challenge, der, idpEnc.publicKey), (e: unknown) => e instanceof IdpProtocolError && e.code === 'SIGNER_FAILED');
  const good = new SoftwareSigner('good', issued.certificate, issued.privateKey);
  const noExp = signJws({ token_type: 'challenge' }, idpSig.privateKey, { typ: 'JWT' });
  await assert.rejects(buildSignedChallenge(noExp, good, idpEnc.publicKey), (e: unknown) => e instanceof IdpProtocolError && e.code === 'CHALLENGE_INVALID');
  await assert.rejects(buildSignedChallenge('not.a.jws!', good, idpEnc.publicKey), (e: unknown) => e instanceof IdpProtocolError && e.code === 'CHALLENGE_INVALID');
  assert.equal(good.signatures, 0, 'the card is not asked for a broken challenge');
});
