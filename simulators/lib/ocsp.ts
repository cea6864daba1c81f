/**
 * OCSP (RFC 6960) for the simulated TI: request/response encoding and decoding, response signature
 * verification, and an HTTP client. Shared by the PKI's responder and by every OCSP client
 * (Konnektor, IDP, Fachdienst, test steps).
 *
 * TI specifics: each SingleResponse for a known certificate carries the ISIS-MTT CertHash extension
 * (1.3.36.8.3.13: SEQUENCE { hashAlgorithm AlgorithmIdentifier, certificateHash OCTET STRING }, SHA-256 over
 * the whole DER certificate), as in the real TI OCSP responses (see docs/pki.md).
 */
import * as crypto from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import { AsnConvert, AsnProp, AsnPropTypes, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Certificate, CRLReason, Extension, Name } from '@peculiar/asn1-x509';
import {
  BasicOCSPResponse,
  CertID,
  CertStatus,
  id_pkix_ocsp_basic,
  id_pkix_ocsp_nonce,
  OCSPRequest,
  OCSPResponse,
  OCSPResponseStatus,
  Request,
  ResponderID,
  ResponseBytes,
  ResponseData,
  RevokedInfo,
  SingleResponse,
  TBSRequest,
} from '@peculiar/asn1-ocsp';
import { asDer, OID, parseCertificate, serialHex, subjectPublicKeyBits, type ParsedCertificate } from './x509';


/** RFC 5280 CRLReason names. */
export type RevocationReasonName =
  | 'unspecified'
  | 'keyCompromise'
  | 'cACompromise'
  | 'affiliationChanged'
  | 'superseded'
  | 'cessationOfOperation'
  | 'certificateHold'
  | 'removeFromCRL'
  | 'privilegeWithdrawn'
  | 'aACompromise';

/** RFC 5280 CRLReason codes. */
export const REVOCATION_REASONS: Record<RevocationReasonName, number> = {
  unspecified: 0,
  keyCompromise: 1,
  cACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  certificateHold: 6,
  removeFromCRL: 8,
  privilegeWithdrawn: 9,
  aACompromise: 10,
};

export const OCSP_OID = {
  basic: id_pkix_ocsp_basic,
  nonce: id_pkix_ocsp_nonce,
  /** ISIS-MTT CertHash (TI: mandatory in responses for known certificates). */
  certHash: '1.3.36.8.3.13',
  /** ISIS-MTT CertInDirSince (GeneralizedTime), seen in real TI responses. */
  certInDirSince: '1.3.36.8.3.12',
} as const;

export const OCSP_REQUEST_CONTENT_TYPE = 'application/ocsp-request';
export const OCSP_RESPONSE_CONTENT_TYPE = 'application/ocsp-response';

export type OcspResponseStatusName = 'successful' | 'malformedRequest' | 'internalError' | 'tryLater' | 'sigRequired' | 'unauthorized';

const RESPONSE_STATUS_NAMES: Record<number, OcspResponseStatusName> = {
  0: 'successful',
  1: 'malformedRequest',
  2: 'internalError',
  3: 'tryLater',
  5: 'sigRequired',
  6: 'unauthorized',
};

export type CertStatusName = 'good' | 'revoked' | 'unknown';

const HASH_OIDS: Record<string, 'sha1' | 'sha256' | 'sha384' | 'sha512'> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};
const HASH_NAME_TO_OID: Record<string, string> = Object.fromEntries(Object.entries(HASH_OIDS).map(([k, v]) => [v, k]));

const SIGNATURE_HASHES: Record<string, string> = {
  '1.2.840.10045.4.3.2': 'sha256', // ecdsa-with-SHA256
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
  '1.2.840.113549.1.1.11': 'sha256', // sha256WithRSAEncryption
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
};

/** Error while building or parsing OCSP structures. */
export class OcspError extends Error {
  override name = 'OcspError';
}

/** The OCSP server could not be reached, timed out, or answered with a non-OCSP HTTP reply. */
export class OcspTransportError extends Error {
  override name = 'OcspTransportError';
  constructor(
    message: string,
    readonly kind: 'network' | 'timeout' | 'http-status' | 'content-type',
    readonly httpStatus?: number,
  ) {
    super(message);
  }
}

// ---------------------------------------------------------------------------
// CertHash extension
// ---------------------------------------------------------------------------

export class CertHash {
  @AsnProp({ type: AlgorithmIdentifier })
  hashAlgorithm = new AlgorithmIdentifier();
  @AsnProp({ type: OctetString })
  certificateHash = new OctetString();
}

/** CertHash over a certificate (DER) or, given `{ sha256 }`, over an already computed SHA-256 value. */
export function encodeCertHash(certificate: Buffer | { sha256: Buffer }): Buffer {
  const ch = new CertHash();
  ch.hashAlgorithm = new AlgorithmIdentifier({ algorithm: OID.sha256, parameters: new Uint8Array([5, 0]).buffer });
  const value = Buffer.isBuffer(certificate) ? crypto.createHash('sha256').update(certificate).digest() : certificate.sha256;
  ch.certificateHash = new OctetString(value);
  return Buffer.from(AsnConvert.serialize(ch));
}

// ---------------------------------------------------------------------------
// CertID
// ---------------------------------------------------------------------------

export interface CertIdInfo {
  hashAlgorithm: 'sha1' | 'sha256' | 'sha384' | 'sha512' | string;
  issuerNameHash: Buffer;
  issuerKeyHash: Buffer;
  /** Lower-case hex without leading zero bytes. */
  serialNumber: string;
}

function certIdInfo(id: CertID): CertIdInfo {
  return {
    hashAlgorithm: HASH_OIDS[id.hashAlgorithm.algorithm] ?? id.hashAlgorithm.algorithm,
    issuerNameHash: Buffer.from(id.issuerNameHash.buffer),
    issuerKeyHash: Buffer.from(id.issuerKeyHash.buffer),
    serialNumber: serialHex(id.serialNumber),
  };
}

function serialBytes(hex: string): ArrayBuffer {
  let b = Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex');
  if (b[0] & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return new Uint8Array(b).buffer;
}

export function buildCertId(cert: Buffer | string, issuer: Buffer | string, hash: 'sha1' | 'sha256' = 'sha1'): CertID {
  const c = parseCertificate(cert);
  const i = parseCertificate(issuer);
  return new CertID({
    hashAlgorithm: new AlgorithmIdentifier({ algorithm: HASH_NAME_TO_OID[hash], parameters: new Uint8Array([5, 0]).buffer }),
    issuerNameHash: new OctetString(crypto.createHash(hash).update(c.issuerDer).digest()),
    issuerKeyHash: new OctetString(crypto.createHash(hash).update(subjectPublicKeyBits(i.publicKey)).digest()),
    serialNumber: serialBytes(c.serialNumber),
  });
}

// ---------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------

export interface BuildOcspRequestOptions {
  /** Nonce bytes to include (RFC 8954: 1..32 bytes); none by default. */
  nonce?: Buffer;
  /** CertID hash algorithm (default sha1, as openssl and most clients send). */
  hashAlgorithm?: 'sha1' | 'sha256';
}

function nonceExtension(nonce: Buffer): Extension {
  // extnValue holds the DER OCTET STRING of the nonce (as openssl and RFC 8954 do).
  return new Extension({ extnID: OCSP_OID.nonce, critical: false, extnValue: new OctetString(AsnConvert.serialize(new OctetString(nonce))) });
}

export function buildOcspRequest(cert: Buffer | string, issuer: Buffer | string, opts: BuildOcspRequestOptions = {}): Buffer {
  const tbs = new TBSRequest({ requestList: [new Request({ reqCert: buildCertId(cert, issuer, opts.hashAlgorithm ?? 'sha1') })] });
  if (opts.nonce) tbs.requestExtensions = [nonceExtension(opts.nonce)];
  return Buffer.from(AsnConvert.serialize(new OCSPRequest({ tbsRequest: tbs })));
}

export interface ParsedOcspRequest {
  requests: Array<CertIdInfo & { certId: CertID }>;
  /** Nonce bytes (unwrapped from the OCTET STRING when wrapped). */
  nonce?: Buffer;
  /** The nonce extension value exactly as sent, to echo it back. */
  nonceExtensionValue?: Buffer;
  signed: boolean;
}

function unwrapNonce(extnValue: Buffer): Buffer {
  // Wrapped form: 04 len <nonce>; fall back to the raw value (older clients send the bare bytes).
  if (extnValue.length >= 2 && extnValue[0] === 0x04 && extnValue[1] < 0x80 && extnValue[1] === extnValue.length - 2) {
    return extnValue.subarray(2);
  }
  return extnValue;
}

/** Parses a DER OCSPRequest; throws OcspError when it is not one. */
export function parseOcspRequest(der: Buffer): ParsedOcspRequest {
  if (!der.length) throw new OcspError('empty OCSP request');
  let req: OCSPRequest;
  try {
    req = AsnConvert.parse(der, OCSPRequest);
  } catch (e) {
    throw new OcspError(`malformed OCSP request: ${(e as Error).message}`);
  }
  const requests = req.tbsRequest.requestList.map((r) => ({ ...certIdInfo(r.reqCert), certId: r.reqCert }));
  if (!requests.length) throw new OcspError('OCSP request lists no certificate');
  const out: ParsedOcspRequest = { requests, signed: !!req.optionalSignature };
  const nonceExt = req.tbsRequest.requestExtensions?.find((e) => e.extnID === OCSP_OID.nonce);
  if (nonceExt) {
    out.nonceExtensionValue = Buffer.from(nonceExt.extnValue.buffer);
    out.nonce = unwrapNonce(out.nonceExtensionValue);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Responses: encoding (responder side)
// ---------------------------------------------------------------------------

export interface SingleResponseSpec {
  /** The CertID exactly as requested. */
  certId: CertID;
  status: CertStatusName;
  revocationTime?: Date;
  /** RFC 5280 CRLReason code. */
  revocationReason?: number;
  thisUpdate: Date;
  nextUpdate?: Date;
  /** DER of the certificate, for the CertHash extension (known certificates only). */
  certificate?: Buffer;
  /** Alternatively the SHA-256 of the certificate, for the CertHash extension. */
  certificateSha256?: Buffer;
  /** Optional CertInDirSince time. */
  certInDirSince?: Date;
}

export interface BuildOcspResponseOptions {
  /** Responder certificate (DER) and its key, which signs the response. */
  responderCertificate: Buffer;
  responderKey: crypto.KeyObject;
  producedAt: Date;
  responses: SingleResponseSpec[];
  /** Nonce extension value to echo (as received). */
  nonceExtensionValue?: Buffer;
  /** Further certificates for the `certs` field after the responder certificate (e.g. its issuing CA). */
  extraCertificates?: Buffer[];
  /** Identify the responder by key hash instead of by name. */
  responderIdByKey?: boolean;
}

function generalizedTimeDer(d: Date): Buffer {
  const s = d.toISOString().replace(/[-:T]/g, '').replace(/\.\d{3}Z$/, 'Z');
  return Buffer.concat([Buffer.from([0x18, s.length]), Buffer.from(s, 'ascii')]);
}

function secondsOnly(d: Date): Date {
  return new Date(Math.floor(d.getTime() / 1000) * 1000);
}

export function buildOcspResponse(opts: BuildOcspResponseOptions): Buffer {
  const responder = parseCertificate(opts.responderCertificate);
  const responderID = opts.responderIdByKey
    ? new ResponderID({ byKey: new OctetString(crypto.createHash('sha1').update(subjectPublicKeyBits(responder.publicKey)).digest()) })
    : new ResponderID({ byName: AsnConvert.parse(responder.subjectDer, Name) });
  const responses = opts.responses.map((r) => {
    let certStatus: CertStatus;
    if (r.status === 'good') certStatus = new CertStatus({ good: null });
    else if (r.status === 'unknown') certStatus = new CertStatus({ unknown: null });
    else {
      const info = new RevokedInfo({ revocationTime: secondsOnly(r.revocationTime ?? r.thisUpdate) });
      if (r.revocationReason !== undefined) info.revocationReason = new CRLReason(r.revocationReason);
      certStatus = new CertStatus({ revoked: info });
    }
    const single = new SingleResponse({ certID: r.certId, certStatus, thisUpdate: secondsOnly(r.thisUpdate) });
    if (r.nextUpdate) single.nextUpdate = secondsOnly(r.nextUpdate);
    const exts: Extension[] = [];
    if (r.certInDirSince) {
      exts.push(new Extension({ extnID: OCSP_OID.certInDirSince, extnValue: new OctetString(generalizedTimeDer(secondsOnly(r.certInDirSince))) }));
    }
    const hashInput = r.certificate ?? (r.certificateSha256 ? { sha256: r.certificateSha256 } : undefined);
    if (hashInput) exts.push(new Extension({ extnID: OCSP_OID.certHash, extnValue: new OctetString(encodeCertHash(hashInput)) }));
    if (exts.length) single.singleExtensions = exts;
    return single;
  });
  const data = new ResponseData({ responderID, producedAt: secondsOnly(opts.producedAt), responses });
  if (opts.nonceExtensionValue) {
    data.responseExtensions = [new Extension({ extnID: OCSP_OID.nonce, extnValue: new OctetString(opts.nonceExtensionValue) })];
  }
  const tbs = Buffer.from(AsnConvert.serialize(data));
  const key = opts.responderKey;
  const sigAlg =
    key.asymmetricKeyType === 'rsa'
      ? new AlgorithmIdentifier({ algorithm: '1.2.840.113549.1.1.11', parameters: new Uint8Array([5, 0]).buffer })
      : new AlgorithmIdentifier({ algorithm: OID.ecdsaWithSha256 });
  const signature = crypto.sign('sha256', tbs, key);
  const basic = new BasicOCSPResponse({
    tbsResponseData: data,
    signatureAlgorithm: sigAlg,
    signature: new Uint8Array(signature).buffer,
    certs: [opts.responderCertificate, ...(opts.extraCertificates ?? [])].map((c) => AsnConvert.parse(c, Certificate)),
  });
  const basicDer = Buffer.from(AsnConvert.serialize(basic));
  return Buffer.from(
    AsnConvert.serialize(
      new OCSPResponse({
        responseStatus: OCSPResponseStatus.successful,
        responseBytes: new ResponseBytes({ responseType: id_pkix_ocsp_basic, response: new OctetString(basicDer) }),
      }),
    ),
  );
}

/** An OCSPResponse without responseBytes: malformedRequest, internalError, tryLater, sigRequired, unauthorized. */
export function buildOcspErrorResponse(status: Exclude<OcspResponseStatusName, 'successful'>): Buffer {
  const code = Number(Object.entries(RESPONSE_STATUS_NAMES).find(([, n]) => n === status)?.[0]);
  return Buffer.from(AsnConvert.serialize(new OCSPResponse({ responseStatus: code as OCSPResponseStatus })));
}

// ---------------------------------------------------------------------------
// Responses: parsing and verification (client side)
// ---------------------------------------------------------------------------

export interface ParsedSingleResponse {
  serialNumber: string;
  certId: CertIdInfo;
  certStatus: CertStatusName;
  revocationTime?: Date;
  revocationReason?: number;
  thisUpdate: Date;
  nextUpdate?: Date;
  /** Value of the CertHash extension (SHA-256 of the certificate), when present. */
  certHash?: Buffer;
  certHashAlgorithm?: string;
  certInDirSince?: Date;
}

export interface ParsedOcspResponse {
  responseStatus: OcspResponseStatusName;
  /** Present when responseStatus is successful. */
  producedAt?: Date;
  responses: ParsedSingleResponse[];
  nonce?: Buffer;
  responderCertificates: Buffer[];
  responderId?: { byName?: Buffer; byKey?: Buffer };
  signatureAlgorithm?: string;
  signature?: Buffer;
  /** The exact signed ResponseData bytes. */
  tbsResponseData?: Buffer;
  /** The complete DER response. */
  der: Buffer;
}

function parseGeneralizedTime(der: Buffer): Date | undefined {
  if (der[0] !== 0x18) return undefined;
  const s = der.subarray(2, 2 + der[1]).toString('ascii');
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.\d+)?Z$/.exec(s);
  return m ? new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6])) : undefined;
}

/** Parses a DER OCSPResponse; throws OcspError when it is not one. Does not check the signature. */
export function parseOcspResponse(der: Buffer): ParsedOcspResponse {
  let resp: OCSPResponse;
  try {
    resp = AsnConvert.parse(der, OCSPResponse);
  } catch (e) {
    throw new OcspError(`malformed OCSP response: ${(e as Error).message}`);
  }
  const status = RESPONSE_STATUS_NAMES[resp.responseStatus];
  if (!status) throw new OcspError(`unknown OCSP responseStatus ${resp.responseStatus}`);
  const out: ParsedOcspResponse = { responseStatus: status, responses: [], responderCertificates: [], der };
  if (status !== 'successful') return out;
  if (!resp.responseBytes) throw new OcspError('successful OCSP response without responseBytes');
  if (resp.responseBytes.responseType !== id_pkix_ocsp_basic) {
    throw new OcspError(`unsupported OCSP response type ${resp.responseBytes.responseType}`);
  }
  let basic: BasicOCSPResponse;
  try {
    basic = AsnConvert.parse(resp.responseBytes.response.buffer, BasicOCSPResponse);
  } catch (e) {
    throw new OcspError(`malformed BasicOCSPResponse: ${(e as Error).message}`);
  }
  const data = basic.tbsResponseData;
  out.producedAt = data.producedAt;
  out.signatureAlgorithm = basic.signatureAlgorithm.algorithm;
  out.signature = Buffer.from(basic.signature);
  out.tbsResponseData = basic.tbsResponseDataRaw ? Buffer.from(basic.tbsResponseDataRaw) : Buffer.from(AsnConvert.serialize(data));
  out.responderCertificates = (basic.certs ?? []).map((c) => Buffer.from(AsnConvert.serialize(c)));
  out.responderId = data.responderID.byName
    ? { byName: Buffer.from(AsnConvert.serialize(data.responderID.byName)) }
    : { byKey: data.responderID.byKey ? Buffer.from(data.responderID.byKey.buffer) : undefined };
  const nonceExt = data.responseExtensions?.find((e) => e.extnID === OCSP_OID.nonce);
  if (nonceExt) out.nonce = unwrapNonce(Buffer.from(nonceExt.extnValue.buffer));
  for (const sr of data.responses) {
    const id = certIdInfo(sr.certID);
    const p: ParsedSingleResponse = {
      serialNumber: id.serialNumber,
      certId: id,
      certStatus: sr.certStatus.good !== undefined ? 'good' : sr.certStatus.revoked ? 'revoked' : 'unknown',
      thisUpdate: sr.thisUpdate,
      nextUpdate: sr.nextUpdate,
    };
    if (sr.certStatus.revoked) {
      p.revocationTime = sr.certStatus.revoked.revocationTime;
      if (sr.certStatus.revoked.revocationReason) p.revocationReason = sr.certStatus.revoked.revocationReason.reason;
    }
    for (const e of sr.singleExtensions ?? []) {
      const v = Buffer.from(e.extnValue.buffer);
      if (e.extnID === OCSP_OID.certHash) {
        try {
          const ch = AsnConvert.parse(v, CertHash);
          p.certHash = Buffer.from(ch.certificateHash.buffer);
          p.certHashAlgorithm = HASH_OIDS[ch.hashAlgorithm.algorithm] ?? ch.hashAlgorithm.algorithm;
        } catch (err) {
          throw new OcspError(`malformed CertHash extension: ${(err as Error).message}`);
        }
      } else if (e.extnID === OCSP_OID.certInDirSince) {
        p.certInDirSince = parseGeneralizedTime(v);
      }
    }
    out.responses.push(p);
  }
  return out;
}

export interface OcspVerification {
  valid: boolean;
  /** How the signer relates to the trusted certificate. */
  signer?: 'trusted-responder' | 'delegated-responder' | 'issuer';
  signerCertificate?: Buffer;
  reason?: string;
}

function verifySig(parsed: ParsedOcspResponse, key: crypto.KeyObject): boolean {
  const hash = parsed.signatureAlgorithm ? SIGNATURE_HASHES[parsed.signatureAlgorithm] : undefined;
  if (!hash || !parsed.tbsResponseData || !parsed.signature) return false;
  try {
    return crypto.verify(hash, parsed.tbsResponseData, key, parsed.signature);
  } catch {
    return false;
  }
}

function signedBy(cert: ParsedCertificate, issuer: ParsedCertificate): boolean {
  if (!cert.issuerDer.equals(issuer.subjectDer)) return false;
  const hash = SIGNATURE_HASHES[cert.signatureAlgorithm];
  if (!hash) return false;
  try {
    return crypto.verify(hash, cert.tbsDer, issuer.publicKey, cert.signature);
  } catch {
    return false;
  }
}

/**
 * Checks the response signature against a trusted certificate, which is either
 * - the responder certificate itself (a locally trusted responder), or
 * - the CA that issued the certificates in question: the response is then signed by that CA directly,
 *   or by a delegated responder certificate (included in `certs`) that the CA issued with id-kp-OCSPSigning.
 * Validity periods and revocation of the responder certificate are not checked here.
 */
export function verifyOcspResponse(parsed: ParsedOcspResponse, trusted: Buffer | string): OcspVerification {
  if (parsed.responseStatus !== 'successful') return { valid: false, reason: `responseStatus is ${parsed.responseStatus}` };
  const t = parseCertificate(asDer(trusted));
  if (verifySig(parsed, t.publicKey)) {
    const isResponder = parsed.responderCertificates.some((c) => c.equals(t.der));
    return { valid: true, signer: isResponder || !t.isCa ? 'trusted-responder' : 'issuer', signerCertificate: t.der };
  }
  for (const der of parsed.responderCertificates) {
    let c: ParsedCertificate;
    try {
      c = parseCertificate(der);
    } catch {
      continue;
    }
    if (!verifySig(parsed, c.publicKey)) continue;
    if (!signedBy(c, t)) return { valid: false, reason: 'response signer is not issued by the trusted certificate' };
    if (!c.extKeyUsage.includes(OID.kpOcspSigning)) return { valid: false, reason: 'delegated responder lacks id-kp-OCSPSigning' };
    return { valid: true, signer: 'delegated-responder', signerCertificate: der };
  }
  return { valid: false, reason: 'signature does not verify with the trusted certificate or any included responder certificate' };
}

// ---------------------------------------------------------------------------
// HTTP client
// ---------------------------------------------------------------------------

export interface QueryOcspOptions {
  /** true: random 16-byte nonce; a Buffer: that nonce; default: none. */
  nonce?: boolean | Buffer;
  /** Overall timeout in milliseconds (default 10 s, as GemLibPki's DEFAULT_OCSP_TIMEOUT_SECONDS). */
  timeoutMs?: number;
  /** POST (default) or GET with the base64 request in the path (RFC 6960 A.1). */
  method?: 'POST' | 'GET';
  hashAlgorithm?: 'sha1' | 'sha256';
  /** Extra options for https URLs (e.g. ca). */
  tls?: https.RequestOptions;
}

export interface OcspQueryResult extends ParsedOcspResponse {
  /** The nonce that was sent, if any. */
  requestNonce?: Buffer;
  /** The DER request that was sent. */
  request: Buffer;
}

export function postOcspRequest(url: string, request: Buffer, opts: Omit<QueryOcspOptions, 'nonce' | 'hashAlgorithm'> = {}): Promise<Buffer> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return Promise.reject(new OcspTransportError(`invalid OCSP URL: ${url}`, 'network'));
  }
  const method = opts.method ?? 'POST';
  if (method === 'GET') {
    const b64 = encodeURIComponent(request.toString('base64'));
    target = new URL(`${target.href.replace(/\/+$/, '')}/${b64}`);
  }
  const lib = target.protocol === 'https:' ? https : http;
  return new Promise<Buffer>((resolve, reject) => {
    let settled = false;
    const finish = (err: Error | undefined, value?: Buffer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(value as Buffer);
    };
    const req = lib.request(
      target,
      {
        method,
        headers:
          method === 'POST'
            ? { 'content-type': OCSP_REQUEST_CONTENT_TYPE, accept: OCSP_RESPONSE_CONTENT_TYPE, 'content-length': String(request.length) }
            : { accept: OCSP_RESPONSE_CONTENT_TYPE },
        ...(target.protocol === 'https:' ? opts.tls : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > 1024 * 1024) {
            req.destroy();
            finish(new OcspTransportError('OCSP response larger than 1 MiB', 'network'));
            return;
          }
          chunks.push(c);
        });
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          if (res.statusCode !== 200) {
            finish(new OcspTransportError(`OCSP server answered HTTP ${res.statusCode}: ${body.toString('utf8').slice(0, 200).trim()}`, 'http-status', res.statusCode));
            return;
          }
          const type = String(res.headers['content-type'] ?? '');
          if (!type.startsWith(OCSP_RESPONSE_CONTENT_TYPE)) {
            finish(new OcspTransportError(`OCSP server answered with content-type "${type}"`, 'content-type', res.statusCode));
            return;
          }
          finish(undefined, body);
        });
        res.on('error', (e) => finish(new OcspTransportError(`OCSP response stream failed: ${e.message}`, 'network')));
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      finish(new OcspTransportError(`OCSP request to ${target.origin} timed out after ${timeoutMs} ms`, 'timeout'));
    }, timeoutMs);
    req.on('error', (e) => finish(new OcspTransportError(`OCSP request to ${target.origin} failed: ${e.message}`, 'network')));
    req.end(method === 'POST' ? request : undefined);
  });
}

/**
 * Asks the OCSP responder at `url` for the status of `cert` (issued by `issuer`).
 * Throws OcspTransportError (network, timeout, HTTP status) or OcspError (not an OCSP response).
 * The signature is not checked: call verifyOcspResponse on the result.
 */
export async function queryOcsp(url: string, cert: Buffer | string, issuer: Buffer | string, opts: QueryOcspOptions = {}): Promise<OcspQueryResult> {
  const nonce = opts.nonce === true ? crypto.randomBytes(16) : Buffer.isBuffer(opts.nonce) ? opts.nonce : undefined;
  const request = buildOcspRequest(asDer(cert), asDer(issuer), { nonce, hashAlgorithm: opts.hashAlgorithm });
  const der = await postOcspRequest(url, request, opts);
  return { ...parseOcspResponse(der), requestNonce: nonce, request };
}
