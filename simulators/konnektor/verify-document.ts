/**
 * VerifyDocument for CMS (CAdES) signatures: signature mathematics, certificate path to a trust
 * anchor of the simulated TI, revocation status (OCSP embedded in the CMS or fetched from the
 * PKI's responder) and the signer's admission (profession OID), summarised as gemSpec_Kon's
 * HighLevelResult and reported per the OASIS DSS-X verification report profile.
 *
 * Decisions (facts and reasons in docs/konnektor.md):
 * - Determined signing time (TIP1-A_5540-01): the time given with UseVerificationTime
 *   (USER_DEFINED_TIMESTAMP), else the signingTime embedded in the signature
 *   (SIGNATURE_EMBEDDED_TIMESTAMP; the TI issues no qualified time stamps), else the system time
 *   (SYSTEM_TIMESTAMP). Validity period and revocation are judged at that time.
 * - INVALID: the CMS structure or the signature mathematics is broken (e.g. a tampered
 *   document: messageDigest mismatch), the signer certificate was revoked at or before the
 *   determined signing time, or it was outside its validity period at that time.
 * - INCONCLUSIVE: the mathematics holds but the certificate path does not lead to a trust
 *   anchor of the simulated TI (e.g. the real Konnektor samples: GEM.HBA-qCA24 TEST-ONLY is not
 *   ours), or no trustworthy OCSP answer (good/revoked) is available for the signer.
 * - VALID: mathematics, path, validity period and OCSP "good" (or revoked only after the
 *   determined signing time, which the report shows) all hold.
 */
import * as crypto from 'node:crypto';
import { parseSignedData, resolveSignatureScheme, verifySignedData, CmsError, type ParsedSignedData, type ParsedSignerInfo } from '../lib/cms';
import { parseOcspResponse, verifyOcspResponse, type ParsedOcspResponse, type ParsedSingleResponse } from '../lib/ocsp';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Name } from '@peculiar/asn1-x509';
import { formatName, isSignedBy, parseCertificate, subjectPublicKeyBits, type ParsedCertificate } from '../lib/x509';
import type { CertificateReport, DetailValue, HighLevelResult, SignerReport, TimestampType, VerificationReportInput } from './dss';

export interface TrustStore {
  /** Trust anchors (DER): the root(s) of the simulated TI. */
  anchors: Buffer[];
  /** CA certificates of the TI (DER), e.g. from the TSL. */
  intermediates: Buffer[];
}

export interface VerifyDeps {
  trust: TrustStore;
  /** Fetches a DER OCSPResponse for cert/issuer; resolves undefined (or rejects) when none is available. */
  fetchOcsp?: (cert: Buffer, issuer: Buffer) => Promise<Buffer | undefined>;
  now: () => Date;
}

export interface VerifyOptions {
  /** Content for a detached signature. */
  detachedContent?: Buffer;
  verificationTime?: { kind: 'current' } | { kind: 'specific'; time: Date };
  includeCertificateValues?: boolean;
}

export interface VerifyResult {
  highLevelResult: HighLevelResult;
  timestampType: TimestampType;
  timestamp: Date;
  report: VerificationReportInput;
  /** Parsed CMS (undefined when the structure could not be read). */
  parsed?: ParsedSignedData;
  /** OCSP responses used (DER), per signer index. */
  ocspUsed: Array<Buffer | undefined>;
}

/** Thrown when the input is not a CMS SignedData at all (the service answers 4112). */
export class NotCmsError extends Error {
  override name = 'NotCmsError';
}

const ALGORITHM_URI: Record<string, string> = {
  'ECDSA-SHA256': 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256',
  'ECDSA-SHA384': 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384',
  'ECDSA-SHA512': 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512',
  'RSASSA-PSS-SHA256': 'http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1',
  'RSASSA-PSS-SHA384': 'http://www.w3.org/2007/05/xmldsig-more#sha384-rsa-MGF1',
  'RSASSA-PSS-SHA512': 'http://www.w3.org/2007/05/xmldsig-more#sha512-rsa-MGF1',
  'RSA-PKCS1-SHA256': 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  'RSA-PKCS1-SHA384': 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha384',
  'RSA-PKCS1-SHA512': 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512',
};

const KEY_COMPROMISE_NAMES: Record<number, string> = {
  0: 'unspecified',
  1: 'keyCompromise',
  2: 'cACompromise',
  3: 'affiliationChanged',
  4: 'superseded',
  5: 'cessationOfOperation',
  6: 'certificateHold',
  8: 'removeFromCRL',
  9: 'privilegeWithdrawn',
  10: 'aACompromise',
};

const ok = (message?: string): DetailValue => ({ result: 'valid', ...(message ? { message } : {}) });
const bad = (message: string): DetailValue => ({ result: 'invalid', message });
const unknown = (message: string): DetailValue => ({ result: 'indetermined', message });

function worst(a: HighLevelResult, b: HighLevelResult): HighLevelResult {
  const rank = { VALID: 0, INCONCLUSIVE: 1, INVALID: 2 } as const;
  return rank[a] >= rank[b] ? a : b;
}

/** RFC 4514-ish display of a name (the parsed certificate's formatter). */
function decimalSerial(hex: string): string {
  return BigInt(`0x${hex || '0'}`).toString(10);
}

function tryParse(der: Buffer): ParsedCertificate | undefined {
  try {
    return parseCertificate(der);
  } catch {
    return undefined;
  }
}

/** Builds the path signer → … → anchor from the pool; stops at an anchor, a loop, or a dead end. */
function buildPath(signer: ParsedCertificate, pool: ParsedCertificate[], anchors: Buffer[]): { path: ParsedCertificate[]; anchored: boolean } {
  const path = [signer];
  let current = signer;
  for (let depth = 0; depth < 6; depth++) {
    if (anchors.some((a) => a.equals(current.der))) return { path, anchored: true };
    const issuer = pool.find((c) => c.subjectDer.equals(current.issuerDer) && !c.der.equals(current.der) && isSignedBy(current, c));
    if (!issuer) return { path, anchored: false };
    if (path.some((p) => p.der.equals(issuer.der))) return { path, anchored: false };
    path.push(issuer);
    current = issuer;
  }
  return { path, anchored: false };
}

function certIdMatches(sr: ParsedSingleResponse, cert: ParsedCertificate, issuer: ParsedCertificate): boolean {
  const alg = sr.certId.hashAlgorithm;
  if (!['sha1', 'sha256', 'sha384', 'sha512'].includes(alg)) return false;
  if (sr.serialNumber !== cert.serialNumber) return false;
  const nameHash = crypto.createHash(alg).update(cert.issuerDer).digest();
  const keyHash = crypto.createHash(alg).update(subjectPublicKeyBits(issuer.publicKey)).digest();
  return nameHash.equals(sr.certId.issuerNameHash) && keyHash.equals(sr.certId.issuerKeyHash);
}

interface OcspEvidence {
  parsed: ParsedOcspResponse;
  single: ParsedSingleResponse;
  trusted: boolean;
  reason?: string;
  source: 'embedded' | 'fetched';
}

/** Finds the single response about `cert` in an OCSP response and checks who signed it. */
function evaluateOcsp(der: Buffer, cert: ParsedCertificate, issuer: ParsedCertificate | undefined, source: 'embedded' | 'fetched'): OcspEvidence | undefined {
  let parsed: ParsedOcspResponse;
  try {
    parsed = parseOcspResponse(der);
  } catch {
    return undefined;
  }
  if (parsed.responseStatus !== 'successful') return undefined;
  const single = issuer ? parsed.responses.find((r) => certIdMatches(r, cert, issuer)) : parsed.responses.find((r) => r.serialNumber === cert.serialNumber);
  if (!single) return undefined;
  if (!issuer) return { parsed, single, trusted: false, reason: 'the issuer of the signer certificate is unknown, so the OCSP responder cannot be checked', source };
  const v = verifyOcspResponse(parsed, issuer.der);
  if (!v.valid) return { parsed, single, trusted: false, reason: `OCSP response signature: ${v.reason}`, source };
  if (single.certHash && !single.certHash.equals(crypto.createHash('sha256').update(cert.der).digest())) {
    return { parsed, single, trusted: false, reason: 'OCSP CertHash does not match the signer certificate', source };
  }
  return { parsed, single, trusted: true, source };
}

function responderName(p: ParsedOcspResponse): string {
  if (p.responderId?.byName) {
    try {
      return formatName(AsnConvert.parse(p.responderId.byName, Name));
    } catch {
      return `name:${crypto.createHash('sha256').update(p.responderId.byName).digest('hex').slice(0, 16)}`;
    }
  }
  if (p.responderId?.byKey) return `key:${p.responderId.byKey.toString('hex')}`;
  return 'unknown';
}

function admissionOf(c: ParsedCertificate): CertificateReport['admission'] {
  const a = c.admission;
  if (!a || !a.professions.length) return undefined;
  const reg = a.professions.map((p) => p.registrationNumber).find((r) => !!r);
  return {
    professionOids: a.professions.flatMap((p) => p.professionOids),
    professionItems: a.professions.flatMap((p) => p.professionItems),
    ...(reg ? { registrationNumber: reg } : {}),
  };
}

async function verifySigner(
  parsed: ParsedSignedData,
  s: ParsedSignerInfo,
  index: number,
  opts: VerifyOptions,
  deps: VerifyDeps,
  at: { time: Date; type: TimestampType },
): Promise<{ report: SignerReport; ocspUsed?: Buffer }> {
  const single: ParsedSignedData = { ...parsed, signers: [s] };
  let sigMath: DetailValue;
  let scheme = '';
  try {
    const v = verifySignedData(single, { detachedContent: opts.detachedContent, requireSignedAttributes: true });
    scheme = v.signers[0].signatureScheme;
    sigMath = ok();
  } catch (e) {
    const code = e instanceof CmsError ? e.code : 'ERROR';
    sigMath = bad(`${code}: ${(e as Error).message}`);
    try {
      scheme = resolveSignatureScheme(s.signatureAlgorithm, s.digestAlgorithm).name;
    } catch {
      scheme = '';
    }
  }
  const signatureAlgorithmUri = ALGORITHM_URI[scheme] ?? `urn:oid:${s.signatureAlgorithm.oid}`;
  const signerCert = s.certificate ? tryParse(s.certificate) : undefined;
  const base = {
    signatureValue: s.signature,
    format: ok(),
    sigMath,
    signatureAlgorithmUri,
    ...(s.signingTime ? { signingTime: s.signingTime } : {}),
  };
  if (!signerCert) {
    const result: HighLevelResult = sigMath.result === 'invalid' ? 'INVALID' : 'INCONCLUSIVE';
    return {
      report: {
        ...base,
        pathSummary: unknown('the signer certificate is not in the CMS'),
        trustAnchor: unknown('no signer certificate'),
        certificates: [],
        result,
        message: result === 'INVALID' ? `signature mathematics: ${sigMath.message}` : 'the signer certificate is missing',
      },
    };
  }

  const pool = [...deps.trust.intermediates, ...deps.trust.anchors, ...parsed.certificates].map(tryParse).filter((c): c is ParsedCertificate => !!c);
  const { path, anchored } = buildPath(signerCert, pool, deps.trust.anchors);
  const issuer = path[1] && anchored ? path[1] : undefined;

  // Revocation evidence for the signer certificate: embedded first, then the responder.
  let evidence: OcspEvidence | undefined;
  for (const der of parsed.ocspResponses) {
    const ev = evaluateOcsp(der, signerCert, issuer, 'embedded');
    if (ev && (!evidence || (ev.trusted && !evidence.trusted))) evidence = ev;
    if (evidence?.trusted) break;
  }
  let ocspUsed: Buffer | undefined = evidence?.trusted ? evidence.parsed.der : undefined;
  if (!evidence?.trusted && issuer && deps.fetchOcsp) {
    try {
      const der = await deps.fetchOcsp(signerCert.der, issuer.der);
      const ev = der ? evaluateOcsp(der, signerCert, issuer, 'fetched') : undefined;
      if (ev && (ev.trusted || !evidence)) evidence = ev;
      if (ev?.trusted) ocspUsed = ev.parsed.der;
    } catch {
      // no answer: stays without evidence
    }
  }

  const reports: CertificateReport[] = path.map((c, i) => {
    const parent = path[i + 1] ?? (anchored && i === path.length - 1 ? c : undefined);
    const isAnchor = anchored && i === path.length - 1;
    const inPeriod = c.notBefore.getTime() <= at.time.getTime() && at.time.getTime() <= c.notAfter.getTime();
    const sigOk = parent ? isSignedBy(c, parent) : false;
    let extensions: DetailValue = ok();
    if (i === 0 && !c.keyUsage.includes('nonRepudiation') && !c.keyUsage.includes('digitalSignature')) {
      extensions = bad('the signer certificate allows neither nonRepudiation nor digitalSignature');
    }
    if (i > 0 && !c.isCa) extensions = bad('an issuer in the path is not a CA certificate');
    let status: DetailValue;
    let revocation: CertificateReport['revocation'];
    let ocsp: CertificateReport['ocsp'];
    if (i === 0) {
      if (!evidence) status = unknown(anchored ? 'no OCSP response is available for the signer certificate' : 'the certificate is not from the TI trust space; its status cannot be checked');
      else if (!evidence.trusted) status = unknown(evidence.reason ?? 'the OCSP response cannot be trusted');
      else if (evidence.single.certStatus === 'good') status = ok(`OCSP ${evidence.source}: good`);
      else if (evidence.single.certStatus === 'revoked') {
        const when = evidence.single.revocationTime ?? new Date(0);
        const reason = KEY_COMPROMISE_NAMES[evidence.single.revocationReason ?? 0] ?? String(evidence.single.revocationReason);
        revocation = { date: when, reason };
        status = when.getTime() <= at.time.getTime() ? bad(`revoked at ${when.toISOString()} (${reason}), before the signing time`) : ok(`revoked at ${when.toISOString()} (${reason}), after the signing time`);
      } else status = unknown('the OCSP responder does not know the certificate');
      if (evidence) {
        ocsp = {
          responderId: responderName(evidence.parsed),
          producedAt: evidence.parsed.producedAt ?? new Date(0),
          der: evidence.parsed.der,
          signature: evidence.trusted ? ok() : unknown(evidence.reason ?? 'untrusted'),
          source: evidence.source,
        };
      }
    } else {
      // CA certificates: their status comes from the TSL (here: membership in the trust store).
      status = anchored ? ok('CA of the TI trust space (TSL)') : unknown('not a CA of the TI trust space');
    }
    return {
      der: c.der,
      issuer: c.issuer,
      serialDecimal: decimalSerial(c.serialNumber),
      subject: c.subject,
      notBefore: c.notBefore,
      notAfter: c.notAfter,
      signatureAlgorithmUri: `urn:oid:${c.signatureAlgorithm}`,
      chaining: parent ? (sigOk ? ok() : bad('the issuer signature does not verify')) : unknown('the issuer certificate is unknown'),
      validityPeriod: inPeriod ? ok() : bad(`outside ${c.notBefore.toISOString()} .. ${c.notAfter.toISOString()} at ${at.time.toISOString()}`),
      extensions,
      signature: parent ? (sigOk ? ok(isAnchor ? 'self-signed trust anchor' : undefined) : bad('the certificate signature does not verify')) : unknown('no issuer certificate to check the signature'),
      status,
      ...(revocation ? { revocation } : {}),
      ...(ocsp ? { ocsp } : {}),
      ...(i === 0 && admissionOf(c) ? { admission: admissionOf(c) } : {}),
      includeValue: !!opts.includeCertificateValues,
    };
  });

  const pathBroken = reports.some((r) => r.chaining.result === 'invalid' || r.signature.result === 'invalid' || r.extensions.result === 'invalid');
  const periodBad = reports.some((r) => r.validityPeriod.result === 'invalid');
  const pathSummary: DetailValue = !anchored
    ? unknown(`no certificate path from ${signerCert.issuer} to a trust anchor of the TI`)
    : pathBroken
      ? bad('the certificate path is broken')
      : periodBad
        ? bad('a certificate of the path is outside its validity period at the signing time')
        : reports[0].status.result === 'valid'
          ? ok()
          : reports[0].status.result === 'invalid'
            ? bad(reports[0].status.message ?? 'revoked')
            : unknown(reports[0].status.message ?? 'status unknown');
  const trustAnchor: DetailValue = anchored ? ok(path[path.length - 1].subject) : unknown('no trust anchor of the TI found');

  let result: HighLevelResult;
  let message: string;
  if (sigMath.result === 'invalid') {
    result = 'INVALID';
    message = `signature mathematics: ${sigMath.message}`;
  } else if (pathSummary.result === 'invalid') {
    result = 'INVALID';
    message = `certificate: ${pathSummary.message}`;
  } else if (pathSummary.result === 'indetermined') {
    result = 'INCONCLUSIVE';
    message = `certificate: ${pathSummary.message}`;
  } else {
    result = 'VALID';
    message = 'signature valid; certificate path and status valid at the signing time';
  }
  return {
    report: {
      ...base,
      pathSummary,
      trustAnchor,
      signerCertificate: { issuer: signerCert.issuer, serialDecimal: decimalSerial(signerCert.serialNumber) },
      certificates: reports,
      result,
      message,
    },
    ocspUsed,
  };
}

/** Verifies a CMS signature (DER/BER bytes). Throws NotCmsError when the bytes are not CMS at all. */
export async function verifyCmsSignature(cms: Buffer, opts: VerifyOptions, deps: VerifyDeps): Promise<VerifyResult> {
  const now = deps.now();
  let parsed: ParsedSignedData;
  try {
    parsed = parseSignedData(cms);
  } catch (e) {
    const code = e instanceof CmsError ? e.code : undefined;
    if (code === 'NOT_CMS' || code === 'EMPTY_INPUT' || !looksLikeDer(cms)) throw new NotCmsError(`not a CMS SignedData: ${(e as Error).message}`);
    const t = timeOf(opts, undefined, now);
    return {
      highLevelResult: 'INVALID',
      timestampType: t.type,
      timestamp: t.time,
      report: { verificationTime: now, signers: [], formatError: `the CMS structure cannot be read: ${code ?? 'ERROR'}: ${(e as Error).message}` },
      ocspUsed: [],
    };
  }
  if (!parsed.signers.length) {
    const t = timeOf(opts, undefined, now);
    return { highLevelResult: 'INVALID', timestampType: t.type, timestamp: t.time, report: { verificationTime: now, signers: [], formatError: 'the SignedData has no SignerInfo' }, parsed, ocspUsed: [] };
  }
  if (!parsed.content && !opts.detachedContent) {
    const t = timeOf(opts, undefined, now);
    return {
      highLevelResult: 'INVALID',
      timestampType: t.type,
      timestamp: t.time,
      report: { verificationTime: now, signers: [], formatError: 'the signature is detached and no document was given' },
      parsed,
      ocspUsed: [],
    };
  }
  let overall: HighLevelResult = 'VALID';
  const signers: SignerReport[] = [];
  const ocspUsed: Array<Buffer | undefined> = [];
  let first: { time: Date; type: TimestampType } | undefined;
  for (const [i, s] of parsed.signers.entries()) {
    const at = timeOf(opts, s.signingTime, now);
    first ??= at;
    const r = await verifySigner(parsed, s, i, opts, deps, at);
    signers.push(r.report);
    ocspUsed.push(r.ocspUsed);
    overall = worst(overall, r.report.result);
  }
  const t = first as { time: Date; type: TimestampType };
  return { highLevelResult: overall, timestampType: t.type, timestamp: t.time, report: { verificationTime: now, signers }, parsed, ocspUsed };
}

function timeOf(opts: VerifyOptions, signingTime: Date | undefined, now: Date): { time: Date; type: TimestampType } {
  if (opts.verificationTime?.kind === 'specific') return { time: opts.verificationTime.time, type: 'USER_DEFINED_TIMESTAMP' };
  if (opts.verificationTime?.kind === 'current') return { time: now, type: 'SYSTEM_TIMESTAMP' };
  if (signingTime) return { time: signingTime, type: 'SIGNATURE_EMBEDDED_TIMESTAMP' };
  return { time: now, type: 'SYSTEM_TIMESTAMP' };
}

function looksLikeDer(b: Buffer): boolean {
  return b.length >= 2 && b[0] === 0x30;
}
