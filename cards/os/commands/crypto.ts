// Cryptographic commands: MANAGE SECURITY ENVIRONMENT, PSO COMPUTE DIGITAL
// SIGNATURE, INTERNAL AUTHENTICATE, GET CHALLENGE, GET RANDOM, LIST PUBLIC KEY
// (gemSpec_COS 14.7, 14.8, 14.9).

import { constants, privateEncrypt } from 'node:crypto';
import { bp256SignDigest } from '../../../simulators/lib/bp256';
import { type CommandApdu, type ResponseApdu, respond, SW } from '../../../simulators/lib/apdu';
import type { CardContext } from '../context';
import type { KeyAlgorithm, PrivateKey } from '../model';
import { signPssDigest } from '../rsa';
import { parseTlvList, tlv } from '../tlv';

/** Algorithm identifiers (tag 80 of MSE SET) per usage, gemSpec_COS tables of algorithm identifiers. */
const SIGNATURE_ALGORITHMS: Record<number, KeyAlgorithm> = {
  0x00: 'signECDSA',
  0x02: 'signPKCS1_V1_5',
  0x05: 'signPSS',
  0x07: 'sign9796_2_DS2',
};
const AUTHENTICATION_ALGORITHMS: Record<number, KeyAlgorithm[]> = {
  0x00: ['elcRoleAuthentication'],
  0x05: ['rsaClientAuthentication'],
  0x54: ['elcSessionkey4SM'],
  0xd4: ['elcSessionkey4TC'],
  0xf4: ['elcAsynchronAdmin'],
};

/** PSO variants of gemSpec_COS not implemented yet: VERIFY CERTIFICATE, VERIFY DIGITAL SIGNATURE, DECIPHER, ENCIPHER, hash. */
const OTHER_PSO_VARIANTS = [0x00be, 0x00a8, 0x8086, 0x8680, 0x90a0];

const NONE = Buffer.alloc(0);

/** The single-byte value of a TLV object, or undefined. */
function byteOf(tlvs: { tag: number; value: Buffer }[], tag: number): number | undefined {
  const t = tlvs.find((x) => x.tag === tag);
  return t && t.value.length === 1 ? t.value[0] : undefined;
}

/**
 * MANAGE SECURITY ENVIRONMENT (00 22 P1 P2 data).
 *   41 B6: DST for signing        84 key reference, 80 algorithm
 *   41 A4: AT, internal auth      84 key reference, 80 algorithm
 *   81 B6: DST, verify CVC        83 CHR of a public key
 *   81 A4: AT, external auth      83 CHR [, 80 algorithm]
 *   C1 A4: AT for PACE            80 protocol OID, 83 password/key reference
 *   F3 xx: RESTORE security environment xx (only #1)
 */
export function manageSecurityEnvironment(ctx: CardContext, apdu: CommandApdu): ResponseApdu {
  const { p1, p2 } = apdu;
  if (p1 === 0xf3) {
    if (apdu.isoCase !== 1) return respond(SW.WRONG_LENGTH);
    if (p2 !== 0x01) return respond(SW.KEY_NOT_FOUND);
    ctx.se = {};
    return respond(SW.OK);
  }
  const p1p2 = (p1 << 8) | p2;
  if (![0x41b6, 0x41a4, 0x81b6, 0x81a4, 0xc1a4].includes(p1p2)) return respond(SW.WRONG_P1P2);
  if (apdu.isoCase !== 3) return respond(SW.WRONG_LENGTH);
  const tlvs = parseTlvList(apdu.data);
  if (!tlvs) return respond(SW.WRONG_DATA);

  if (p1p2 === 0x41b6 || p1p2 === 0x41a4) {
    const ref = byteOf(tlvs, 0x84);
    const algId = byteOf(tlvs, 0x80);
    if (ref === undefined || algId === undefined) return respond(SW.WRONG_DATA);
    const key = ctx.tree.privateKey(ctx.currentDf, ref);
    if (!key) return respond(SW.KEY_NOT_FOUND);
    if (p1p2 === 0x41b6) {
      const alg = SIGNATURE_ALGORITHMS[algId];
      if (!alg || !key.algorithms.includes(alg)) return respond(SW.FUNCTION_NOT_SUPPORTED);
      ctx.se.signing = { key, algId };
    } else {
      const candidates = AUTHENTICATION_ALGORITHMS[algId] ?? [];
      // signPKCS1_V1_5 keys may be used with INTERNAL AUTHENTICATE, and signECDSA keys with algorithm 00
      const extra: KeyAlgorithm[] = algId === 0x02 ? ['signPKCS1_V1_5'] : algId === 0x00 ? ['signECDSA'] : [];
      if (![...candidates, ...extra].some((a) => key.algorithms.includes(a))) return respond(SW.FUNCTION_NOT_SUPPORTED);
      ctx.se.authentication = { key, algId };
    }
    return respond(SW.OK);
  }

  if (p1p2 === 0x81b6 || p1p2 === 0x81a4) {
    const chr = tlvs.find((t) => t.tag === 0x83)?.value;
    if (!chr || chr.length === 0) return respond(SW.WRONG_DATA);
    const key = ctx.tree.publicKey(chr);
    if (!key) return respond(SW.KEY_NOT_FOUND);
    if (p1p2 === 0x81b6) ctx.se.verification = { key };
    else ctx.se.external = { reference: Buffer.from(chr), algId: byteOf(tlvs, 0x80) };
    return respond(SW.OK);
  }

  // C1 A4: PACE
  const oid = tlvs.find((t) => t.tag === 0x80)?.value;
  const ref = byteOf(tlvs, 0x83);
  if (!oid || ref === undefined) return respond(SW.WRONG_DATA);
  const pw = ctx.tree.root.children.find((c) => c.kind === 'symmetricKey' && c.id === (ref & 0x1f));
  if (!pw) return respond(SW.KEY_NOT_FOUND);
  ctx.se.pace = { oid: Buffer.from(oid), keyRef: ref };
  return respond(SW.OK);
}

function ecdsa(key: PrivateKey, input: Buffer): Buffer {
  return bp256SignDigest(input, key.key!);
}

function rsaPkcs1(key: PrivateKey, digestInfo: Buffer): Buffer {
  return privateEncrypt({ key: key.key!, padding: constants.RSA_PKCS1_PADDING }, digestInfo);
}

/**
 * PERFORM SECURITY OPERATION (00 2A P1 P2 …): only COMPUTE DIGITAL SIGNATURE
 * (P1P2 9E9A). The data field is the hash (signECDSA, signPSS) or the
 * DigestInfo (signPKCS1_V1_5); the ECDSA signature is r ‖ s (64 bytes for
 * brainpoolP256r1). Other PSO variants answer 6A81.
 */
export function performSecurityOperation(ctx: CardContext, apdu: CommandApdu): ResponseApdu {
  const { p1, p2 } = apdu;
  const p1p2 = (p1 << 8) | p2;
  if (OTHER_PSO_VARIANTS.includes(p1p2)) return respond(SW.FUNCTION_NOT_SUPPORTED);
  if (p1p2 !== 0x9e9a) return respond(SW.WRONG_P1P2);
  if (apdu.isoCase !== 4) return respond(SW.WRONG_LENGTH);
  const se = ctx.se.signing;
  if (!se) return respond(SW.CONDITIONS_NOT_SATISFIED);
  const granted = ctx.security.check(se.key, apdu.cla, apdu.ins, p1, p2);
  if (!granted) return respond(SW.SECURITY_STATUS_NOT_SATISFIED);
  if (!se.key.key) return respond(SW.KEY_NOT_FOUND);
  const data = apdu.data;
  let signature: Buffer;
  switch (SIGNATURE_ALGORITHMS[se.algId]) {
    case 'signECDSA':
      if (se.key.keyType !== 'ec') return respond(SW.FUNCTION_NOT_SUPPORTED);
      if (data.length > 64) return respond(SW.WRONG_LENGTH);
      signature = ecdsa(se.key, data);
      break;
    case 'signPKCS1_V1_5':
      if (se.key.keyType !== 'rsa') return respond(SW.FUNCTION_NOT_SUPPORTED);
      if (data.length > rsaModulusBytes(se.key) - 11) return respond(SW.WRONG_LENGTH);
      signature = rsaPkcs1(se.key, data);
      break;
    case 'signPSS':
      if (se.key.keyType !== 'rsa') return respond(SW.FUNCTION_NOT_SUPPORTED);
      if (![32, 48, 64].includes(data.length)) return respond(SW.WRONG_LENGTH);
      signature = signPssDigest(se.key.key, data);
      break;
    default:
      return respond(SW.FUNCTION_NOT_SUPPORTED);
  }
  ctx.security.consumeSignature(granted);
  return respond(SW.OK, signature);
}

function rsaModulusBytes(key: PrivateKey): number {
  const bits = key.key?.asymmetricKeyDetails?.modulusLength ?? 2048;
  return Math.ceil(bits / 8);
}

/**
 * INTERNAL AUTHENTICATE (00 88 00 00 token Le) with the key from MSE SET AT.
 * elcRoleAuthentication: ECDSA over token ‖ algorithm identifier (00) taken
 * as the hash value; signECDSA: ECDSA over the token as hash;
 * rsaClientAuthentication / signPKCS1_V1_5: PKCS#1 v1.5 signature of the token.
 */
export function internalAuthenticate(ctx: CardContext, apdu: CommandApdu): ResponseApdu {
  if (apdu.p1 !== 0x00 || apdu.p2 !== 0x00) return respond(SW.WRONG_P1P2);
  if (apdu.isoCase !== 4) return respond(SW.WRONG_LENGTH);
  const se = ctx.se.authentication;
  if (!se) return respond(SW.CONDITIONS_NOT_SATISFIED);
  if (!ctx.security.check(se.key, apdu.cla, apdu.ins, apdu.p1, apdu.p2)) return respond(SW.SECURITY_STATUS_NOT_SATISFIED);
  if (!se.key.key) return respond(SW.KEY_NOT_FOUND);
  const token = apdu.data;
  const algs = se.key.algorithms;
  if (se.key.keyType === 'ec') {
    if (se.algId !== 0x00) return respond(SW.FUNCTION_NOT_SUPPORTED);
    if (algs.includes('elcRoleAuthentication')) {
      if (token.length > 31) return respond(SW.WRONG_LENGTH);
      return respond(SW.OK, ecdsa(se.key, Buffer.concat([token, Buffer.from([se.algId])])));
    }
    if (token.length > 64) return respond(SW.WRONG_LENGTH);
    return respond(SW.OK, ecdsa(se.key, token));
  }
  if (se.algId !== 0x05 && se.algId !== 0x02) return respond(SW.FUNCTION_NOT_SUPPORTED);
  if (token.length > rsaModulusBytes(se.key) - 11) return respond(SW.WRONG_LENGTH);
  return respond(SW.OK, rsaPkcs1(se.key, token));
}

/** GET CHALLENGE (00 84 00 00 Le), Le = 8, 16 or 32. */
export function getChallenge(ctx: CardContext, apdu: CommandApdu): ResponseApdu {
  if (apdu.p1 !== 0x00 || apdu.p2 !== 0x00) return respond(SW.WRONG_P1P2);
  if (apdu.isoCase !== 2 || ![8, 16, 32].includes(apdu.ne as number)) return respond(SW.WRONG_LENGTH);
  ctx.challenge = ctx.random(apdu.ne as number);
  return respond(SW.OK, Buffer.from(ctx.challenge));
}

/** GET RANDOM (80 84 00 00 Le): Ne random bytes (1..256). */
export function getRandom(ctx: CardContext, apdu: CommandApdu): ResponseApdu {
  if (apdu.p1 !== 0x00 || apdu.p2 !== 0x00) return respond(SW.WRONG_P1P2);
  if (apdu.isoCase !== 2 || (apdu.ne as number) > 256) return respond(SW.WRONG_LENGTH);
  if (!ctx.security.check(ctx.tree.root, apdu.cla, apdu.ins, apdu.p1, apdu.p2)) return respond(SW.SECURITY_STATUS_NOT_SATISFIED);
  return respond(SW.OK, ctx.random(apdu.ne as number));
}

/**
 * LIST PUBLIC KEY (80 CA 01 00 Le): for every persistent public key one
 * template E0 { 4F AID of its folder, B6 (verification key) or A4
 * (authentication key) { 83 key reference } }.
 */
export function listPublicKey(ctx: CardContext, apdu: CommandApdu): ResponseApdu {
  if (apdu.p1 !== 0x01 || apdu.p2 !== 0x00) return respond(SW.WRONG_P1P2);
  if (apdu.isoCase !== 2) return respond(SW.WRONG_LENGTH);
  const entries = ctx.tree.publicKeys().map((k) => {
    const folder = ctx.tree.folderOf(k);
    const aid = folder.aid ? tlv(0x4f, folder.aid) : NONE;
    const ref = tlv(k.usage === 'verification' ? 0xb6 : 0xa4, tlv(0x83, k.reference));
    return tlv(0xe0, Buffer.concat([aid, ref]));
  });
  return respond(SW.OK, Buffer.concat(entries));
}
