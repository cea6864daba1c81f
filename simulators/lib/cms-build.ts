/**
 * CMS SignedData / CAdES-BES builder (enveloping: content inside, or detached).
 *
 * Signed attributes: contentType, signingTime, messageDigest (SHA-256) and
 * signingCertificateV2 (ESSCertIDv2: SHA-256 certificate hash, default
 * algorithm omitted as DER requires, plus issuerSerial). Signature:
 * ecdsa-with-SHA256 (DER ECDSA-Sig-Value) for EC keys such as
 * brainpoolP256r1, RSASSA-PSS/SHA-256/MGF1-SHA-256/salt 32 for RSA keys (as
 * the RSA HBA generation did). Certificates: signer and optional chain.
 * OCSP responses given by the caller are embedded as RevocationInfoChoice
 * `other` with format id-ri-ocsp-response (1.3.6.1.5.5.7.16.2).
 *
 * Signing either with a KeyObject (buildSignedData) or with an external
 * signer that receives the SHA-256 digest of the signed attributes, as a card
 * does for PSO COMPUTE DIGITAL SIGNATURE (buildSignedDataAsync).
 */
import * as crypto from 'node:crypto';
import { CmsError } from './crypto-errors';
import { ecdsaRawToDer } from './bp256';
import {
  derExplicit,
  derImplicit,
  derInteger,
  derNull,
  derOctetString,
  derOid,
  derSequence,
  derSet,
  derSetOf,
  derTime,
  derTlv,
  parseBer,
  retag,
  Tag,
  TagClass,
} from './der';
import { asCmsError, certificateDer, certificateFields, certificatePublicKey, CMS_OID, MAX_CMS_SIZE, type CertificateInput, type CertificateFields } from './cms-common';
import type { CmsAttribute } from './cms-parse';

export interface BuildSignedDataOptions {
  /** The content to sign (e.g. a KBV bundle as XML). */
  content: Buffer | string;
  /** eContentType (default id-data). */
  eContentType?: string;
  signerCertificate: CertificateInput;
  /** Further certificates to include (e.g. the issuing CA). */
  chain?: CertificateInput[];
  /** signingTime attribute; pass the harness clock's time (default: system time). */
  signingTime?: Date;
  /** OCSP responses (DER OCSPResponse) to embed as revocation information. */
  ocspResponses?: Buffer[];
  /** Leave eContent out (detached signature). */
  detached?: boolean;
  /** Additional signed attributes (e.g. mimeType, contentHint). */
  extraSignedAttributes?: CmsAttribute[];
}

/** Signs the SHA-256 digest of the signed attributes; returns DER or raw r||s (EC) or the RSA-PSS signature. */
export type DigestSigner = (digest: Buffer) => Buffer | Promise<Buffer>;

interface Prepared {
  fields: CertificateFields;
  kind: 'ecdsa' | 'rsa-pss';
  signedAttributesSet: Buffer;
  digest: Buffer;
  build(signature: Buffer): Buffer;
}

function prepare(opts: BuildSignedDataOptions): Prepared {
  if (!opts || typeof opts !== 'object') throw new CmsError('INVALID_OPTIONS', 'options object required');
  const content = typeof opts.content === 'string' ? Buffer.from(opts.content, 'utf8') : opts.content;
  if (!Buffer.isBuffer(content)) throw new CmsError('INVALID_OPTIONS', 'content must be a Buffer or string');
  if (content.length > MAX_CMS_SIZE) throw new CmsError('TOO_LARGE', `content of ${content.length} bytes exceeds ${MAX_CMS_SIZE}`);
  const eContentType = opts.eContentType ?? CMS_OID.data;
  const fields = certificateFields(certificateDer(opts.signerCertificate));
  const keyType = certificatePublicKey(fields).asymmetricKeyType;
  const kind = keyType === 'ec' ? 'ecdsa' : keyType === 'rsa' || keyType === 'rsa-pss' ? 'rsa-pss' : undefined;
  if (!kind) throw new CmsError('UNSUPPORTED_ALGORITHM', `signer key type ${keyType}`);
  const chain = (opts.chain ?? []).map((c) => certificateFields(certificateDer(c)).der);
  const ocsp = (opts.ocspResponses ?? []).map((r, i) => {
    if (!Buffer.isBuffer(r)) throw new CmsError('INVALID_OPTIONS', `ocspResponses[${i}] must be a Buffer`);
    try {
      parseBer(r).expectSequence('OCSPResponse');
    } catch (e) {
      throw new CmsError('INVALID_OPTIONS', `ocspResponses[${i}] is not a DER OCSPResponse`, { cause: e });
    }
    return r;
  });
  const signingTime = opts.signingTime ?? new Date();
  const reserved: string[] = [CMS_OID.contentType, CMS_OID.signingTime, CMS_OID.messageDigest, CMS_OID.signingCertificateV2];
  for (const a of opts.extraSignedAttributes ?? []) {
    if (reserved.includes(a.oid)) throw new CmsError('INVALID_OPTIONS', `signed attribute ${a.oid} is set by the builder`);
    if (!Array.isArray(a.values) || a.values.length === 0 || !a.values.every((v) => Buffer.isBuffer(v))) {
      throw new CmsError('INVALID_OPTIONS', `signed attribute ${a.oid} needs at least one DER value`);
    }
  }
  const sha256 = derSequence(derOid(CMS_OID.sha256));

  const attributes: Buffer[] = [
    attribute(CMS_OID.contentType, [derOid(eContentType)]),
    attribute(CMS_OID.signingTime, [derTime(signingTime)]),
    attribute(CMS_OID.messageDigest, [derOctetString(crypto.createHash('sha256').update(content).digest())]),
    attribute(CMS_OID.signingCertificateV2, [signingCertificateV2(fields)]),
    ...(opts.extraSignedAttributes ?? []).map((a) => attribute(a.oid, a.values)),
  ];
  const signedAttributesSet = derSetOf(attributes);
  const digest = crypto.createHash('sha256').update(signedAttributesSet).digest();
  const signatureAlgorithm = kind === 'ecdsa' ? derSequence(derOid(CMS_OID.ecdsaWithSha256)) : rsaPssSha256AlgorithmIdentifier();

  const build = (signature: Buffer): Buffer => {
    const signerInfo = derSequence(
      derInteger(1),
      derSequence(fields.issuer, derTlv(TagClass.UNIVERSAL, Tag.INTEGER, false, fields.serialNumber)),
      sha256,
      retag(signedAttributesSet, 0xa0),
      signatureAlgorithm,
      derOctetString(signature),
    );
    const encap = opts.detached
      ? derSequence(derOid(eContentType))
      : derSequence(derOid(eContentType), derExplicit(0, derOctetString(content)));
    const certificates = derImplicit(0, sortedConcat([fields.der, ...chain.filter((c) => !c.equals(fields.der))]), true);
    const revocation = ocsp.length
      ? [derImplicit(1, Buffer.concat(ocsp.map((r) => derImplicit(1, Buffer.concat([derOid(CMS_OID.riOcspResponse), r]), true))), true)]
      : [];
    // RFC 5652 §5.1: version 5 with "other" revocation info, 3 for non-data content, else 1.
    const version = ocsp.length ? 5 : eContentType !== CMS_OID.data ? 3 : 1;
    const signedData = derSequence(derInteger(version), derSet(sha256), encap, certificates, ...revocation, derSet(signerInfo));
    return derSequence(derOid(CMS_OID.signedData), derExplicit(0, signedData));
  };
  return { fields, kind, signedAttributesSet, digest, build };
}

/** Contents of a DER SET OF: elements sorted by encoding (used under an IMPLICIT tag). */
function sortedConcat(items: Buffer[]): Buffer {
  return Buffer.concat([...items].sort(Buffer.compare));
}

function attribute(oid: string, values: Buffer[]): Buffer {
  return derSequence(derOid(oid), derSetOf(values));
}

/** SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2 } with ESSCertIDv2 { certHash, issuerSerial }. */
function signingCertificateV2(fields: CertificateFields): Buffer {
  const certHash = crypto.createHash('sha256').update(fields.der).digest();
  const issuerSerial = derSequence(
    derSequence(derExplicit(4, fields.issuer)), // GeneralNames { directoryName [4] Name }
    derTlv(TagClass.UNIVERSAL, Tag.INTEGER, false, fields.serialNumber),
  );
  return derSequence(derSequence(derSequence(derOctetString(certHash), issuerSerial)));
}

function rsaPssSha256AlgorithmIdentifier(): Buffer {
  const sha256WithNull = derSequence(derOid(CMS_OID.sha256), derNull());
  return derSequence(
    derOid(CMS_OID.rsassaPss),
    derSequence(
      derExplicit(0, sha256WithNull),
      derExplicit(1, derSequence(derOid(CMS_OID.mgf1), sha256WithNull)),
      derExplicit(2, derInteger(32)),
    ),
  );
}

function sameKey(a: crypto.KeyObject, b: crypto.KeyObject): boolean {
  return a.export({ type: 'spki', format: 'der' }).equals(b.export({ type: 'spki', format: 'der' }));
}

/** Build and sign with a private KeyObject that belongs to the signer certificate. */
export function buildSignedData(opts: BuildSignedDataOptions & { privateKey: crypto.KeyObject }): Buffer {
  return asCmsError('CMS build', () => {
    const p = prepare(opts);
    const key = opts.privateKey;
    if (!(key instanceof crypto.KeyObject) || key.type !== 'private') throw new CmsError('INVALID_OPTIONS', 'privateKey must be a private KeyObject');
    if (!sameKey(crypto.createPublicKey(key), certificatePublicKey(p.fields))) {
      throw new CmsError('INVALID_OPTIONS', 'private key does not belong to the signer certificate');
    }
    const signature =
      p.kind === 'ecdsa'
        ? crypto.sign('sha256', p.signedAttributesSet, { key, dsaEncoding: 'der' })
        : crypto.sign('sha256', p.signedAttributesSet, { key, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
    return p.build(signature);
  });
}

/**
 * Build with an external signer (virtual card, HSM): it receives the SHA-256
 * digest of the DER signed attributes. EC signers may return raw r||s
 * (64 bytes) or DER; raw is converted.
 */
export async function buildSignedDataAsync(opts: BuildSignedDataOptions & { signDigest: DigestSigner }): Promise<Buffer> {
  const p = asCmsError('CMS build', () => prepare(opts));
  if (typeof opts.signDigest !== 'function') throw new CmsError('INVALID_OPTIONS', 'signDigest must be a function');
  const sig = await opts.signDigest(Buffer.from(p.digest));
  return asCmsError('CMS build', () => {
    if (!Buffer.isBuffer(sig) || sig.length === 0) throw new CmsError('INVALID_OPTIONS', 'signDigest returned no signature');
    return p.build(p.kind === 'ecdsa' ? ecdsaSignatureAsDer(sig) : sig);
  });
}

/** Accept an ECDSA signature as DER ECDSA-Sig-Value or as raw r||s (even length, as cards return it). */
function ecdsaSignatureAsDer(sig: Buffer): Buffer {
  if (isDerEcdsaSignature(sig)) return sig;
  if (sig.length % 2 !== 0 || sig.length > 132) throw new CmsError('INVALID_OPTIONS', `EC signature of ${sig.length} bytes is neither DER nor r||s`);
  return ecdsaRawToDer(sig, sig.length / 2);
}

function isDerEcdsaSignature(sig: Buffer): boolean {
  try {
    const n = parseBer(sig);
    return n.isUniversal(Tag.SEQUENCE) && n.children.length === 2 && n.children.every((c) => c.isUniversal(Tag.INTEGER) && !c.constructed);
  } catch {
    return false;
  }
}
