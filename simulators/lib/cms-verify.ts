/**
 * Mathematical verification of CMS SignedData / CAdES-BES signatures.
 *
 * Checks per signer: signed attributes present -> contentType equals
 * eContentType, messageDigest equals the hash of the content; the signature
 * (over the signed attributes, or over the content when there are none)
 * verifies with the signer certificate's key; signingCertificateV2 (if
 * present) names that certificate; CMSAlgorithmProtection (if present)
 * matches the algorithms used.
 *
 * Supported: ECDSA (brainpool and NIST curves) with SHA-1/2, RSA PKCS#1 v1.5,
 * RSASSA-PSS (MGF1 with the same hash). Certificate path validation and
 * revocation checks are NOT done here (that is the PKI's / Konnektor's job).
 */
import * as crypto from 'node:crypto';
import { CmsError } from './crypto-errors';
import { parseBer, readSmallInteger, type Asn1Node } from './der';
import {
  asCmsError,
  certificateDer,
  certificateFields,
  certificatePublicKey,
  CMS_OID,
  HASH_BY_OID,
  readAlgorithmIdentifier,
  sameSerial,
  type AlgorithmIdentifier,
  type CertificateInput,
} from './cms-common';
import { parseSignedData, type ParsedSignedData, type ParsedSignerInfo } from './cms-parse';

export interface CmsVerifyOptions {
  /** Content of a detached signature (required when the CMS carries no eContent). */
  detachedContent?: Buffer;
  /** Verify with this certificate instead of the embedded one. */
  signerCertificate?: CertificateInput;
  /** Fail when a signer has no signed attributes (CAdES requires them). Default false. */
  requireSignedAttributes?: boolean;
}

export interface CmsSignerVerification {
  index: number;
  /** DER of the certificate whose key verified the signature. */
  certificate: Buffer;
  /** node:crypto hash name of the digest algorithm, e.g. "sha256". */
  digestAlgorithm: string;
  /** e.g. "ECDSA-SHA256", "RSASSA-PSS-SHA256", "RSA-PKCS1-SHA256". */
  signatureScheme: string;
  signingTime?: Date;
  /** True when a signingCertificateV2 attribute was present and matched the certificate. */
  signingCertificateChecked: boolean;
}

export interface CmsVerification {
  content: Buffer;
  eContentType: string;
  signers: CmsSignerVerification[];
  parsed: ParsedSignedData;
}

export interface SignatureScheme {
  kind: 'ecdsa' | 'rsa-pkcs1' | 'rsa-pss';
  hash: string;
  saltLength?: number;
  name: string;
}

const ECDSA_HASH: Record<string, string> = {
  [CMS_OID.ecdsaWithSha1]: 'sha1',
  [CMS_OID.ecdsaWithSha224]: 'sha224',
  [CMS_OID.ecdsaWithSha256]: 'sha256',
  [CMS_OID.ecdsaWithSha384]: 'sha384',
  [CMS_OID.ecdsaWithSha512]: 'sha512',
};

const RSA_HASH: Record<string, string> = {
  [CMS_OID.sha1WithRsa]: 'sha1',
  [CMS_OID.sha224WithRsa]: 'sha224',
  [CMS_OID.sha256WithRsa]: 'sha256',
  [CMS_OID.sha384WithRsa]: 'sha384',
  [CMS_OID.sha512WithRsa]: 'sha512',
};

function digestHash(alg: AlgorithmIdentifier, what: string): string {
  const h = HASH_BY_OID[alg.oid];
  if (!h) throw new CmsError('UNSUPPORTED_ALGORITHM', `${what}: digest algorithm ${alg.oid}`);
  return h;
}

/** Resolve the signature algorithm (with the signer's digest algorithm as fallback hash). */
export function resolveSignatureScheme(signatureAlgorithm: AlgorithmIdentifier, digestAlgorithm: AlgorithmIdentifier): SignatureScheme {
  const oid = signatureAlgorithm.oid;
  const upper = (h: string): string => h.toUpperCase();
  if (oid === CMS_OID.ecPublicKey) {
    const hash = digestHash(digestAlgorithm, 'signer');
    return { kind: 'ecdsa', hash, name: `ECDSA-${upper(hash)}` };
  }
  if (ECDSA_HASH[oid]) return { kind: 'ecdsa', hash: ECDSA_HASH[oid], name: `ECDSA-${upper(ECDSA_HASH[oid])}` };
  if (oid === CMS_OID.rsaEncryption) {
    const hash = digestHash(digestAlgorithm, 'signer');
    return { kind: 'rsa-pkcs1', hash, name: `RSA-PKCS1-${upper(hash)}` };
  }
  if (RSA_HASH[oid]) return { kind: 'rsa-pkcs1', hash: RSA_HASH[oid], name: `RSA-PKCS1-${upper(RSA_HASH[oid])}` };
  if (oid === CMS_OID.rsassaPss) {
    const { hash, saltLength } = parsePssParameters(signatureAlgorithm.parameters);
    return { kind: 'rsa-pss', hash, saltLength, name: `RSASSA-PSS-${upper(hash)}` };
  }
  throw new CmsError('UNSUPPORTED_ALGORITHM', `signature algorithm ${oid}`);
}

/** RSASSA-PSS-params (RFC 4055): hash [0], MGF [1], saltLength [2], trailerField [3]; DER defaults SHA-1/MGF1-SHA-1/20/1. */
function parsePssParameters(params: Buffer | undefined): { hash: string; saltLength: number } {
  let hashAlg: AlgorithmIdentifier = { oid: CMS_OID.sha1 };
  let mgfHash: AlgorithmIdentifier = { oid: CMS_OID.sha1 };
  let saltLength = 20;
  if (params && !(params.length === 2 && params[0] === 0x05)) {
    const seq = parseBer(params).expectSequence('RSASSA-PSS-params');
    for (const field of seq.children) {
      const inner = (): Asn1Node => field.expectConstructed('RSASSA-PSS-params field').child(0);
      if (field.isContext(0)) hashAlg = readAlgorithmIdentifier(inner(), 'PSS hashAlgorithm');
      else if (field.isContext(1)) {
        const mgf = readAlgorithmIdentifier(inner(), 'PSS maskGenAlgorithm');
        if (mgf.oid !== CMS_OID.mgf1 || !mgf.parameters) throw new CmsError('UNSUPPORTED_ALGORITHM', `PSS mask generation ${mgf.oid}`);
        mgfHash = readAlgorithmIdentifier(parseBer(mgf.parameters), 'MGF1 hash');
      } else if (field.isContext(2)) saltLength = readSmallInteger(inner(), 'PSS saltLength');
      else if (field.isContext(3)) {
        if (readSmallInteger(inner(), 'PSS trailerField') !== 1) throw new CmsError('UNSUPPORTED_ALGORITHM', 'PSS trailerField other than 1');
      } else throw new CmsError('UNEXPECTED_TAG', `RSASSA-PSS-params field ${field.describe()}`);
    }
  }
  const hash = digestHash(hashAlg, 'PSS');
  if (digestHash(mgfHash, 'MGF1') !== hash) throw new CmsError('UNSUPPORTED_ALGORITHM', 'PSS with an MGF1 hash other than the message hash');
  if (saltLength > 1024) throw new CmsError('UNSUPPORTED_ALGORITHM', `PSS salt length ${saltLength}`);
  return { hash, saltLength };
}

/** Verify one raw signature with a scheme; false on any mismatch. */
export function verifyWithScheme(scheme: SignatureScheme, data: Buffer, signature: Buffer, key: crypto.KeyObject): boolean {
  const type = key.asymmetricKeyType;
  if (scheme.kind === 'ecdsa' && type !== 'ec') return false;
  if (scheme.kind !== 'ecdsa' && type !== 'rsa' && type !== 'rsa-pss') return false;
  try {
    if (scheme.kind === 'ecdsa') return crypto.verify(scheme.hash, data, { key, dsaEncoding: 'der' }, signature);
    if (scheme.kind === 'rsa-pkcs1') return crypto.verify(scheme.hash, data, { key, padding: crypto.constants.RSA_PKCS1_PADDING }, signature);
    return crypto.verify(scheme.hash, data, { key, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: scheme.saltLength }, signature);
  } catch {
    return false;
  }
}

/** Verify every signer of a CMS SignedData; throws CmsError on the first failure. */
export function verifySignedData(input: Buffer | Uint8Array | string | ParsedSignedData, opts: CmsVerifyOptions = {}): CmsVerification {
  const parsed = isParsed(input) ? input : parseSignedData(input);
  return asCmsError('CMS verification', () => {
    const content = parsed.content ?? opts.detachedContent;
    if (!content) throw new CmsError('DETACHED_CONTENT_REQUIRED', 'signature is detached and no content was given');
    if (parsed.content && opts.detachedContent && !parsed.content.equals(opts.detachedContent)) {
      throw new CmsError('DIGEST_MISMATCH', 'given detached content differs from the encapsulated content');
    }
    if (parsed.signers.length === 0) throw new CmsError('NO_SIGNER', 'SignedData has no SignerInfo');
    const signers = parsed.signers.map((s, i) => verifySigner(parsed, s, i, content, opts));
    return { content, eContentType: parsed.eContentType, signers, parsed };
  });
}

/** Verify a detached CMS signature over `content`. */
export function verifyDetachedSignature(
  cms: Buffer | Uint8Array | string | ParsedSignedData,
  content: Buffer,
  opts: Omit<CmsVerifyOptions, 'detachedContent'> = {},
): CmsVerification {
  return verifySignedData(cms, { ...opts, detachedContent: content });
}

function isParsed(v: unknown): v is ParsedSignedData {
  return !!v && typeof v === 'object' && !Buffer.isBuffer(v) && !(v instanceof Uint8Array) && Array.isArray((v as ParsedSignedData).signers);
}

function verifySigner(parsed: ParsedSignedData, s: ParsedSignerInfo, index: number, content: Buffer, opts: CmsVerifyOptions): CmsSignerVerification {
  const what = `signer ${index}`;
  const hash = digestHash(s.digestAlgorithm, what);
  const scheme = resolveSignatureScheme(s.signatureAlgorithm, s.digestAlgorithm);

  let signedBytes: Buffer;
  if (s.signedAttributesDer) {
    if (s.contentType === undefined) throw new CmsError('MISSING_ATTRIBUTE', `${what}: signed attributes without contentType`);
    if (s.contentType !== parsed.eContentType) {
      throw new CmsError('CONTENT_TYPE_MISMATCH', `${what}: contentType attribute ${s.contentType} differs from eContentType ${parsed.eContentType}`);
    }
    if (!s.messageDigest) throw new CmsError('MISSING_ATTRIBUTE', `${what}: signed attributes without messageDigest`);
    const actual = crypto.createHash(hash).update(content).digest();
    if (!actual.equals(s.messageDigest)) throw new CmsError('DIGEST_MISMATCH', `${what}: messageDigest does not match the content`);
    signedBytes = s.signedAttributesDer;
  } else {
    if (opts.requireSignedAttributes) throw new CmsError('MISSING_ATTRIBUTE', `${what}: no signed attributes`);
    signedBytes = content;
  }

  if (s.algorithmProtection) {
    const ap = s.algorithmProtection;
    if (ap.digestAlgorithm.oid !== s.digestAlgorithm.oid || (ap.signatureAlgorithm && !sameAlgorithm(ap.signatureAlgorithm, s.signatureAlgorithm))) {
      throw new CmsError('BAD_SIGNATURE', `${what}: CMSAlgorithmProtection does not match the algorithms used`);
    }
  }

  const certDer = opts.signerCertificate !== undefined ? certificateDer(opts.signerCertificate) : s.certificate;
  if (!certDer) throw new CmsError('SIGNER_CERT_NOT_FOUND', `${what}: no certificate matching the signer identifier`);
  const fields = certificateFields(certDer);

  let signingCertificateChecked = false;
  if (s.signingCertificateV2) {
    const first = s.signingCertificateV2[0];
    const certHashAlg = digestHash(first.hashAlgorithm, 'ESSCertIDv2');
    if (!crypto.createHash(certHashAlg).update(fields.der).digest().equals(first.certHash)) {
      throw new CmsError('SIGNING_CERTIFICATE_MISMATCH', `${what}: signingCertificateV2 hash does not match the signer certificate`);
    }
    const is = first.issuerSerial;
    if (is && (!sameSerial(is.serialNumber, fields.serialNumber) || (is.directoryName && !is.directoryName.equals(fields.issuer)))) {
      throw new CmsError('SIGNING_CERTIFICATE_MISMATCH', `${what}: signingCertificateV2 issuerSerial does not match the signer certificate`);
    }
    signingCertificateChecked = true;
  }

  const key = certificatePublicKey(fields);
  if (!verifyWithScheme(scheme, signedBytes, s.signature, key)) {
    throw new CmsError('BAD_SIGNATURE', `${what}: ${scheme.name} signature does not verify with the signer certificate`);
  }
  return { index, certificate: fields.der, digestAlgorithm: hash, signatureScheme: scheme.name, signingTime: s.signingTime, signingCertificateChecked };
}

function sameAlgorithm(a: AlgorithmIdentifier, b: AlgorithmIdentifier): boolean {
  if (a.oid !== b.oid) return false;
  const norm = (p?: Buffer): string => (!p || (p.length === 2 && p[0] === 0x05) ? '' : p.toString('hex'));
  return norm(a.parameters) === norm(b.parameters);
}
