/**
 * CMS SignedData parser (RFC 5652) with the CAdES attributes the TI uses.
 *
 * Reads BER as produced by Konnektors (indefinite lengths, chunked eContent),
 * keeps the exact signed-attribute bytes for verification, decodes
 * contentType, signingTime, messageDigest, signingCertificateV2 and
 * CMSAlgorithmProtection, and returns embedded certificates and OCSP
 * responses (RevocationInfoChoice `other`, id-ri-ocsp-response).
 *
 * Every failure is a CmsError (see crypto-errors.ts for the codes).
 */
import { CmsError, CryptoFormatError } from './crypto-errors';
import {
  bigintFromTwosComplement,
  parseBer,
  readOctetString,
  readOid,
  readSmallInteger,
  readTime,
  readEnumerated,
  readIntegerBytes,
  Tag,
  TagClass,
  type Asn1Node,
} from './der';
import {
  asCmsError,
  certificateFields,
  CMS_OID,
  decodeCmsInput,
  MAX_CMS_SIZE,
  readAlgorithmIdentifier,
  sameSerial,
  type AlgorithmIdentifier,
} from './cms-common';

export interface CmsAttribute {
  oid: string;
  /** DER of each value of the attribute's SET. */
  values: Buffer[];
}

export interface IssuerSerial {
  /** DER of each GeneralName. */
  generalNames: Buffer[];
  /** DER of the Name inside the first directoryName [4], if any. */
  directoryName?: Buffer;
  serialNumber: Buffer;
}

export interface EssCertIdV2 {
  hashAlgorithm: AlgorithmIdentifier;
  certHash: Buffer;
  issuerSerial?: IssuerSerial;
}

export interface AlgorithmProtection {
  digestAlgorithm: AlgorithmIdentifier;
  signatureAlgorithm?: AlgorithmIdentifier;
}

export type SignerIdentifier =
  | { type: 'issuerAndSerialNumber'; issuer: Buffer; serialNumber: Buffer }
  | { type: 'subjectKeyIdentifier'; subjectKeyIdentifier: Buffer };

export interface ParsedSignerInfo {
  version: number;
  sid: SignerIdentifier;
  digestAlgorithm: AlgorithmIdentifier;
  signatureAlgorithm: AlgorithmIdentifier;
  signature: Buffer;
  /** Decoded signed attributes (absent when the signer signed the content directly). */
  signedAttributes?: CmsAttribute[];
  /** The signed attributes re-tagged as SET OF (0x31): the exact bytes the signature covers. */
  signedAttributesDer?: Buffer;
  unsignedAttributes?: CmsAttribute[];
  contentType?: string;
  signingTime?: Date;
  messageDigest?: Buffer;
  signingCertificateV2?: EssCertIdV2[];
  algorithmProtection?: AlgorithmProtection;
  /** DER of the embedded certificate that matches `sid`, if present. */
  certificate?: Buffer;
}

export interface OtherRevocationInfo {
  format: string;
  /** DER of otherRevInfo. */
  value: Buffer;
}

export interface ParsedSignedData {
  /** The complete ContentInfo DER/BER as given. */
  der: Buffer;
  version: number;
  digestAlgorithms: AlgorithmIdentifier[];
  eContentType: string;
  /** The encapsulated content (eContent); undefined for a detached signature. */
  content?: Buffer;
  /** DER of each X.509 certificate in `certificates`. */
  certificates: Buffer[];
  /** DER of each CRL (CertificateList) in `crls`. */
  crls: Buffer[];
  otherRevocationInfo: OtherRevocationInfo[];
  /** DER of each OCSPResponse embedded as id-ri-ocsp-response. */
  ocspResponses: Buffer[];
  signers: ParsedSignerInfo[];
}

/** Parse a CMS ContentInfo(SignedData) given as DER, base64 or PEM. */
export function parseSignedData(input: Buffer | Uint8Array | string): ParsedSignedData {
  const der = decodeCmsInput(input);
  return asCmsError('CMS SignedData', () => parseContentInfo(der));
}

function parseContentInfo(der: Buffer): ParsedSignedData {
  const ci = parseBer(der, { maxSize: MAX_CMS_SIZE });
  if (!ci.isUniversal(Tag.SEQUENCE) || !ci.constructed) throw new CmsError('NOT_CMS', 'ContentInfo is not a SEQUENCE');
  const contentType = readOid(ci.child(0, 'contentType'), 'ContentInfo.contentType');
  if (contentType !== CMS_OID.signedData) throw new CmsError('UNEXPECTED_OID', `ContentInfo.contentType ${contentType} is not signedData`);
  if (ci.children.length !== 2) throw new CmsError('INVALID_DER', 'ContentInfo must have exactly contentType and content');
  const wrapper = ci.child(1).expect(TagClass.CONTEXT, 0, 'ContentInfo.content').expectConstructed('ContentInfo.content');
  if (wrapper.children.length !== 1) throw new CmsError('INVALID_DER', 'ContentInfo.content [0] must hold one element');
  const sd = wrapper.child(0).expectSequence('SignedData');

  let i = 0;
  const version = readSmallInteger(sd.child(i++, 'version'), 'SignedData.version');
  if (version < 1 || version > 5 || version === 2) throw new CmsError('UNSUPPORTED_VERSION', `SignedData version ${version}`);
  const digestSet = sd.child(i++, 'digestAlgorithms').expect(TagClass.UNIVERSAL, Tag.SET, 'digestAlgorithms').expectConstructed('digestAlgorithms');
  const digestAlgorithms = digestSet.children.map((n) => readAlgorithmIdentifier(n, 'digestAlgorithm'));
  const { eContentType, content } = parseEncapContentInfo(sd.child(i++, 'encapContentInfo'));

  const certificates: Buffer[] = [];
  const crls: Buffer[] = [];
  const otherRevocationInfo: OtherRevocationInfo[] = [];
  if (sd.children[i]?.isContext(0)) {
    const set = sd.child(i++).expectConstructed('certificates');
    for (const c of set.children) {
      // CertificateChoices: only plain X.509 certificates are of interest; attribute certificates are skipped.
      if (c.isUniversal(Tag.SEQUENCE)) certificates.push(c.bytes);
    }
  }
  if (sd.children[i]?.isContext(1)) {
    const set = sd.child(i++).expectConstructed('crls');
    for (const r of set.children) {
      if (r.isUniversal(Tag.SEQUENCE)) {
        crls.push(r.bytes);
      } else if (r.isContext(1)) {
        r.expectConstructed('OtherRevocationInfoFormat');
        const format = readOid(r.child(0, 'otherRevInfoFormat'), 'otherRevInfoFormat');
        otherRevocationInfo.push({ format, value: r.child(1, 'otherRevInfo').bytes });
      } else {
        throw new CmsError('UNEXPECTED_TAG', `unknown RevocationInfoChoice ${r.describe()}`);
      }
    }
  }
  const signerSet = sd.child(i++, 'signerInfos').expect(TagClass.UNIVERSAL, Tag.SET, 'signerInfos').expectConstructed('signerInfos');
  if (i !== sd.children.length) throw new CmsError('INVALID_DER', 'unexpected elements after signerInfos');

  const ocspResponses = otherRevocationInfo.filter((o) => o.format === CMS_OID.riOcspResponse).map((o) => checkOcspResponse(o.value));
  const signers = signerSet.children.map((s, idx) => parseSignerInfo(s, idx));
  for (const s of signers) s.certificate = findSignerCertificate(s.sid, certificates);
  return { der: ci.bytes, version, digestAlgorithms, eContentType, content, certificates, crls, otherRevocationInfo, ocspResponses, signers };
}

function parseEncapContentInfo(node: Asn1Node): { eContentType: string; content?: Buffer } {
  node.expectSequence('EncapsulatedContentInfo');
  const eContentType = readOid(node.child(0, 'eContentType'), 'eContentType');
  if (node.children.length === 1) return { eContentType };
  if (node.children.length !== 2) throw new CmsError('INVALID_DER', 'EncapsulatedContentInfo has too many elements');
  const wrapper = node.child(1).expect(TagClass.CONTEXT, 0, 'eContent').expectConstructed('eContent');
  if (wrapper.children.length !== 1) throw new CmsError('INVALID_DER', 'eContent [0] must hold one OCTET STRING');
  return { eContentType, content: readOctetString(wrapper.child(0), 'eContent') };
}

function checkOcspResponse(value: Buffer): Buffer {
  // OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED, responseBytes [0] EXPLICIT ... OPTIONAL }
  const seq = parseBer(value).expectSequence('OCSPResponse');
  readEnumerated(seq.child(0, 'responseStatus'), 'OCSPResponse.responseStatus');
  return value;
}

function parseSignerInfo(node: Asn1Node, index: number): ParsedSignerInfo {
  const what = `signerInfos[${index}]`;
  node.expectSequence(what);
  let i = 0;
  const version = readSmallInteger(node.child(i++, 'version'), `${what}.version`);
  if (version !== 1 && version !== 3) throw new CmsError('UNSUPPORTED_VERSION', `${what}: SignerInfo version ${version}`);
  const sidNode = node.child(i++, 'sid');
  let sid: SignerIdentifier;
  if (sidNode.isUniversal(Tag.SEQUENCE)) {
    sidNode.expectConstructed('issuerAndSerialNumber');
    const issuer = sidNode.child(0, 'issuer').expectSequence('issuer').bytes;
    const serialNumber = readIntegerBytes(sidNode.child(1, 'serialNumber'), 'serialNumber');
    sid = { type: 'issuerAndSerialNumber', issuer, serialNumber };
  } else if (sidNode.isContext(0)) {
    if (sidNode.constructed) throw new CmsError('INVALID_DER', `${what}: subjectKeyIdentifier must be primitive`);
    sid = { type: 'subjectKeyIdentifier', subjectKeyIdentifier: sidNode.content };
  } else {
    throw new CmsError('UNEXPECTED_TAG', `${what}: SignerIdentifier ${sidNode.describe()}`);
  }
  const digestAlgorithm = readAlgorithmIdentifier(node.child(i++, 'digestAlgorithm'), `${what}.digestAlgorithm`);
  const result: Partial<ParsedSignerInfo> = { version, sid, digestAlgorithm };
  if (node.children[i]?.isContext(0)) {
    const attrsNode = node.child(i++).expectConstructed('signedAttrs');
    if (attrsNode.indefinite) throw new CmsError('INVALID_DER', `${what}: signed attributes must be DER (definite length)`);
    const bytes = Buffer.from(attrsNode.bytes);
    bytes[0] = 0x31; // [0] IMPLICIT SET OF -> SET OF, as signed (RFC 5652 §5.4)
    result.signedAttributesDer = bytes;
    result.signedAttributes = parseAttributes(attrsNode, `${what}.signedAttrs`);
    decodeKnownAttributes(result, result.signedAttributes, what);
  }
  result.signatureAlgorithm = readAlgorithmIdentifier(node.child(i++, 'signatureAlgorithm'), `${what}.signatureAlgorithm`);
  result.signature = readOctetString(node.child(i++, 'signature'), `${what}.signature`);
  if (node.children[i]?.isContext(1)) {
    result.unsignedAttributes = parseAttributes(node.child(i++).expectConstructed('unsignedAttrs'), `${what}.unsignedAttrs`);
  }
  if (i !== node.children.length) throw new CmsError('INVALID_DER', `${what}: unexpected trailing elements`);
  return result as ParsedSignerInfo;
}

function parseAttributes(set: Asn1Node, what: string): CmsAttribute[] {
  return set.children.map((a, k) => {
    a.expectSequence(`${what}[${k}]`);
    if (a.children.length !== 2) throw new CmsError('INVALID_DER', `${what}[${k}]: Attribute needs type and values`);
    const oid = readOid(a.child(0), `${what}[${k}].attrType`);
    const values = a.child(1).expect(TagClass.UNIVERSAL, Tag.SET, `${what}[${k}].attrValues`).expectConstructed(`${what}[${k}].attrValues`);
    return { oid, values: values.children.map((v) => v.bytes) };
  });
}

function singleValue(attrs: CmsAttribute[], oid: string, name: string): Asn1Node | undefined {
  const found = attrs.filter((a) => a.oid === oid);
  if (found.length === 0) return undefined;
  if (found.length > 1) throw new CmsError('INVALID_VALUE', `attribute ${name} occurs ${found.length} times`);
  if (found[0].values.length !== 1) throw new CmsError('INVALID_VALUE', `attribute ${name} must have exactly one value`);
  return parseBer(found[0].values[0]);
}

function decodeKnownAttributes(target: Partial<ParsedSignerInfo>, attrs: CmsAttribute[], what: string): void {
  const ct = singleValue(attrs, CMS_OID.contentType, 'contentType');
  if (ct) target.contentType = readOid(ct, `${what}.contentType`);
  const st = singleValue(attrs, CMS_OID.signingTime, 'signingTime');
  if (st) target.signingTime = readTime(st, `${what}.signingTime`);
  const md = singleValue(attrs, CMS_OID.messageDigest, 'messageDigest');
  if (md) target.messageDigest = readOctetString(md, `${what}.messageDigest`);
  const scv2 = singleValue(attrs, CMS_OID.signingCertificateV2, 'signingCertificateV2');
  if (scv2) target.signingCertificateV2 = parseSigningCertificateV2(scv2);
  const ap = singleValue(attrs, CMS_OID.cmsAlgorithmProtection, 'CMSAlgorithmProtection');
  if (ap) target.algorithmProtection = parseAlgorithmProtection(ap);
}

function parseSigningCertificateV2(node: Asn1Node): EssCertIdV2[] {
  // SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2, policies SEQUENCE OF PolicyInformation OPTIONAL }
  node.expectSequence('SigningCertificateV2');
  const certs = node.child(0, 'certs').expectSequence('SigningCertificateV2.certs');
  if (certs.children.length === 0) throw new CmsError('INVALID_VALUE', 'SigningCertificateV2 lists no certificate');
  return certs.children.map((c) => {
    c.expectSequence('ESSCertIDv2');
    let i = 0;
    let hashAlgorithm: AlgorithmIdentifier = { oid: CMS_OID.sha256 };
    if (c.child(0).isUniversal(Tag.SEQUENCE)) hashAlgorithm = readAlgorithmIdentifier(c.child(i++), 'ESSCertIDv2.hashAlgorithm');
    const certHash = readOctetString(c.child(i++, 'certHash'), 'ESSCertIDv2.certHash');
    let issuerSerial: IssuerSerial | undefined;
    if (c.children[i]) {
      const is = c.child(i++).expectSequence('IssuerSerial');
      const names = is.child(0, 'issuer').expectSequence('GeneralNames');
      const dn = names.children.find((g) => g.isContext(4));
      issuerSerial = {
        generalNames: names.children.map((g) => g.bytes),
        directoryName: dn ? dn.expectConstructed('directoryName').child(0, 'Name').expectSequence('Name').bytes : undefined,
        serialNumber: readIntegerBytes(is.child(1, 'serialNumber'), 'IssuerSerial.serialNumber'),
      };
    }
    if (i !== c.children.length) throw new CmsError('INVALID_DER', 'ESSCertIDv2 has unexpected elements');
    return { hashAlgorithm, certHash, issuerSerial };
  });
}

function parseAlgorithmProtection(node: Asn1Node): AlgorithmProtection {
  // CMSAlgorithmProtection ::= SEQUENCE { digestAlgorithm, signatureAlgorithm [1] IMPLICIT OPTIONAL, macAlgorithm [2] IMPLICIT OPTIONAL }
  node.expectSequence('CMSAlgorithmProtection');
  const digestAlgorithm = readAlgorithmIdentifier(node.child(0, 'digestAlgorithm'), 'CMSAlgorithmProtection.digestAlgorithm');
  const sig = node.children.find((c) => c.isContext(1));
  if (!sig) return { digestAlgorithm };
  sig.expectConstructed('CMSAlgorithmProtection.signatureAlgorithm');
  const oid = readOid(sig.child(0, 'algorithm'), 'CMSAlgorithmProtection.signatureAlgorithm');
  return { digestAlgorithm, signatureAlgorithm: sig.children.length > 1 ? { oid, parameters: sig.child(1).bytes } : { oid } };
}

/** The certificate among `certificates` that `sid` names, if any (unparseable certificates are skipped). */
export function findSignerCertificate(sid: SignerIdentifier, certificates: Buffer[]): Buffer | undefined {
  for (const der of certificates) {
    let f;
    try {
      f = certificateFields(der);
    } catch (e) {
      if (e instanceof CmsError || e instanceof CryptoFormatError) continue;
      throw e;
    }
    if (sid.type === 'issuerAndSerialNumber') {
      if (f.issuer.equals(sid.issuer) && sameSerial(f.serialNumber, sid.serialNumber)) return der;
    } else if (f.subjectKeyIdentifier?.equals(sid.subjectKeyIdentifier)) {
      return der;
    }
  }
  return undefined;
}

/** Convenience: serial number as bigint (for display / comparison with node's X509Certificate.serialNumber). */
export function serialToBigInt(serial: Buffer): bigint {
  return bigintFromTwosComplement(serial);
}
