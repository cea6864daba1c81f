/**
 * Shared pieces of the CMS modules: OIDs, limits, input decoding (DER, base64,
 * PEM) and the few certificate fields CMS needs (issuer, serial, SKI, SPKI).
 */
import * as crypto from 'node:crypto';
import { CmsError, CryptoFormatError, isTiCryptoError } from './crypto-errors';
import { parseBer, readOctetString, readOid, readIntegerBytes, type Asn1Node } from './der';

/** Largest CMS structure accepted (decoded DER): 10 MiB. */
export const MAX_CMS_SIZE = 10 * 1024 * 1024;
/** Largest textual (base64/PEM) input accepted: the base64 of MAX_CMS_SIZE plus line breaks. */
export const MAX_CMS_TEXT_SIZE = Math.ceil((MAX_CMS_SIZE * 4) / 3) + 1024 * 1024;

export const CMS_OID = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  signingCertificate: '1.2.840.113549.1.9.16.2.12',
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47',
  contentHint: '1.2.840.113549.1.9.16.2.4',
  cmsAlgorithmProtection: '1.2.840.113549.1.9.52',
  mimeType: '0.4.0.1733.2.1',
  /** id-ri-ocsp-response: OtherRevocationInfoFormat carrying an OCSPResponse (RFC 5940). */
  riOcspResponse: '1.3.6.1.5.5.7.16.2',
  sha1: '1.3.14.3.2.26',
  sha224: '2.16.840.1.101.3.4.2.4',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
  ecPublicKey: '1.2.840.10045.2.1',
  ecdsaWithSha1: '1.2.840.10045.4.1',
  ecdsaWithSha224: '1.2.840.10045.4.3.1',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  ecdsaWithSha384: '1.2.840.10045.4.3.3',
  ecdsaWithSha512: '1.2.840.10045.4.3.4',
  rsaEncryption: '1.2.840.113549.1.1.1',
  sha1WithRsa: '1.2.840.113549.1.1.5',
  mgf1: '1.2.840.113549.1.1.8',
  rsassaPss: '1.2.840.113549.1.1.10',
  sha256WithRsa: '1.2.840.113549.1.1.11',
  sha384WithRsa: '1.2.840.113549.1.1.12',
  sha512WithRsa: '1.2.840.113549.1.1.13',
  sha224WithRsa: '1.2.840.113549.1.1.14',
  subjectKeyIdentifier: '2.5.29.14',
} as const;

/** node:crypto hash names by digest-algorithm OID. */
export const HASH_BY_OID: Readonly<Record<string, string>> = {
  [CMS_OID.sha1]: 'sha1',
  [CMS_OID.sha224]: 'sha224',
  [CMS_OID.sha256]: 'sha256',
  [CMS_OID.sha384]: 'sha384',
  [CMS_OID.sha512]: 'sha512',
};

export interface AlgorithmIdentifier {
  oid: string;
  /** DER of the parameters, when present (NULL included). */
  parameters?: Buffer;
}

export function readAlgorithmIdentifier(node: Asn1Node, what: string): AlgorithmIdentifier {
  node.expectSequence(what);
  if (node.children.length < 1 || node.children.length > 2) throw new CryptoFormatError('INVALID_DER', `${what}: AlgorithmIdentifier needs 1 or 2 elements`);
  const oid = readOid(node.child(0), `${what}.algorithm`);
  return node.children.length === 2 ? { oid, parameters: node.child(1).bytes } : { oid };
}

/**
 * Run `fn`, turning any non-CMS error into a CmsError. Low-level format errors
 * keep their code; anything unexpected becomes INTERNAL_ERROR (a bug to fix,
 * but never a raw TypeError for the caller).
 */
export function asCmsError<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw toCmsError(e, what);
  }
}

export function toCmsError(e: unknown, what: string): CmsError {
  if (e instanceof CmsError) return e;
  if (e instanceof CryptoFormatError) return new CmsError(e.code, `${what}: ${e.message}`, { cause: e });
  if (isTiCryptoError(e)) return new CmsError('INVALID_VALUE', `${what}: ${e.message}`, { cause: e });
  const detail = e instanceof Error ? e.message : String(e);
  return new CmsError('INTERNAL_ERROR', `${what}: ${detail}`, { cause: e });
}

// ---------------------------------------------------------------- input decoding

/**
 * Accept CMS as DER bytes, as base64 text (with or without line breaks), or
 * PEM (any label, e.g. CMS / PKCS7). Returns the DER bytes.
 */
export function decodeCmsInput(input: Buffer | Uint8Array | string): Buffer {
  if (typeof input !== 'string' && !(input instanceof Uint8Array)) throw new CmsError('NOT_CMS', 'CMS input must be a Buffer or string');
  if (input.length === 0) throw new CmsError('EMPTY_INPUT', 'CMS input is empty');
  if (typeof input !== 'string') {
    const b = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    if (b[0] === 0x30) {
      if (b.length > MAX_CMS_SIZE) throw new CmsError('TOO_LARGE', `CMS of ${b.length} bytes exceeds the limit of ${MAX_CMS_SIZE} bytes`);
      return b;
    }
    if (b.length > MAX_CMS_TEXT_SIZE) throw new CmsError('TOO_LARGE', `CMS text of ${b.length} bytes exceeds the limit of ${MAX_CMS_TEXT_SIZE} bytes`);
    if (!isAsciiText(b)) throw new CmsError('NOT_CMS', 'input is neither DER (0x30 ...) nor base64/PEM text');
    return decodeCmsText(b.toString('latin1'));
  }
  if (input.length > MAX_CMS_TEXT_SIZE) throw new CmsError('TOO_LARGE', `CMS text of ${input.length} characters exceeds the limit of ${MAX_CMS_TEXT_SIZE}`);
  return decodeCmsText(input);
}

function isAsciiText(b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) {
    const c = b[i];
    if (c > 0x7e || (c < 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09)) return false;
  }
  return true;
}

/**
 * Body of the first PEM block (optionally with a given label), found with
 * indexOf so that hostile input cannot cause regex backtracking. Undefined
 * when the text has no BEGIN marker; a CryptoFormatError for a BEGIN line
 * without its END line.
 */
export function pemBody(text: string, label?: string): string | undefined {
  const beginMarker = label ? `-----BEGIN ${label}-----` : '-----BEGIN ';
  const begin = text.indexOf(beginMarker);
  if (begin < 0) return undefined;
  const labelStart = begin + '-----BEGIN '.length;
  const labelEnd = text.indexOf('-----', labelStart);
  if (labelEnd < 0 || labelEnd - labelStart > 64) throw new CryptoFormatError('INVALID_VALUE', 'malformed PEM header');
  const endMarker = `-----END ${text.slice(labelStart, labelEnd)}-----`;
  const end = text.indexOf(endMarker, labelEnd + 5);
  if (end < 0) throw new CryptoFormatError('INVALID_VALUE', 'PEM block without END line');
  return text.slice(labelEnd + 5, end);
}

function decodeCmsText(text: string): Buffer {
  let pem: string | undefined;
  try {
    pem = pemBody(text);
  } catch (e) {
    throw new CmsError('NOT_CMS', 'malformed PEM', { cause: e });
  }
  const body = (pem ?? text).replace(/\s+/g, '');
  if (body.length === 0 || body.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(body)) {
    throw new CmsError('NOT_CMS', 'text input is not base64 or PEM');
  }
  const der = Buffer.from(body, 'base64');
  if (der.length > MAX_CMS_SIZE) throw new CmsError('TOO_LARGE', `CMS of ${der.length} bytes exceeds the limit of ${MAX_CMS_SIZE} bytes`);
  if (der[0] !== 0x30) throw new CmsError('NOT_CMS', 'decoded base64 is not a DER SEQUENCE');
  return der;
}

// ---------------------------------------------------------------- certificates

export interface CertificateFields {
  der: Buffer;
  /** INTEGER contents of the serial number, as encoded. */
  serialNumber: Buffer;
  /** DER of the issuer Name. */
  issuer: Buffer;
  /** DER of the subject Name. */
  subject: Buffer;
  /** DER SubjectPublicKeyInfo. */
  subjectPublicKeyInfo: Buffer;
  subjectKeyIdentifier?: Buffer;
}

/** Certificate as DER, PEM text or X509Certificate. */
export type CertificateInput = Buffer | string | crypto.X509Certificate;

export function certificateDer(cert: CertificateInput): Buffer {
  if (cert instanceof crypto.X509Certificate) return cert.raw;
  if (Buffer.isBuffer(cert)) return cert;
  if (typeof cert === 'string') {
    let body: string | undefined;
    try {
      body = pemBody(cert, 'CERTIFICATE');
    } catch (e) {
      throw new CmsError('BAD_CERTIFICATE', 'malformed PEM certificate', { cause: e });
    }
    if (body === undefined) throw new CmsError('BAD_CERTIFICATE', 'PEM certificate expected');
    return Buffer.from(body.replace(/\s+/g, ''), 'base64');
  }
  throw new CmsError('BAD_CERTIFICATE', 'certificate must be DER, PEM or X509Certificate');
}

/** Extract issuer, serial, subject, SPKI and SKI of an X.509 certificate. */
export function certificateFields(der: Buffer): CertificateFields {
  try {
    const cert = parseBer(der, { maxSize: MAX_CMS_SIZE }).expectSequence('Certificate');
    const tbs = cert.child(0, 'tbsCertificate').expectSequence('TBSCertificate');
    let i = 0;
    if (tbs.child(0).isContext(0)) i++;
    const serialNumber = readIntegerBytes(tbs.child(i++, 'serialNumber'), 'serialNumber');
    tbs.child(i++, 'signature').expectSequence('signature');
    const issuer = tbs.child(i++, 'issuer').expectSequence('issuer').bytes;
    tbs.child(i++, 'validity').expectSequence('validity');
    const subject = tbs.child(i++, 'subject').expectSequence('subject').bytes;
    const subjectPublicKeyInfo = tbs.child(i++, 'subjectPublicKeyInfo').expectSequence('subjectPublicKeyInfo').bytes;
    let subjectKeyIdentifier: Buffer | undefined;
    for (const n of tbs.children.slice(i)) {
      if (!n.isContext(3)) continue;
      const exts = n.child(0, 'extensions').expectSequence('extensions');
      for (const ext of exts.children) {
        ext.expectSequence('Extension');
        if (readOid(ext.child(0), 'extnID') !== CMS_OID.subjectKeyIdentifier) continue;
        const value = ext.children[ext.children.length - 1];
        subjectKeyIdentifier = readOctetString(parseBer(readOctetString(value, 'extnValue')), 'SubjectKeyIdentifier');
      }
    }
    return { der: cert.bytes, serialNumber, issuer, subject, subjectPublicKeyInfo, subjectKeyIdentifier };
  } catch (e) {
    if (e instanceof CmsError) throw e;
    throw new CmsError('BAD_CERTIFICATE', `not an X.509 certificate (${e instanceof Error ? e.message : String(e)})`, { cause: e });
  }
}

export function certificatePublicKey(fields: CertificateFields): crypto.KeyObject {
  try {
    return crypto.createPublicKey({ key: fields.subjectPublicKeyInfo, format: 'der', type: 'spki' });
  } catch (e) {
    throw new CmsError('BAD_CERTIFICATE', 'certificate public key cannot be used', { cause: e });
  }
}

/** Serial numbers compare by value: ignore a leading sign octet. */
export function sameSerial(a: Buffer, b: Buffer): boolean {
  const strip = (x: Buffer): Buffer => {
    let i = 0;
    while (i < x.length - 1 && x[i] === 0) i++;
    return x.subarray(i);
  };
  return strip(a).equals(strip(b));
}
