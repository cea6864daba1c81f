/**
 * CertificateService 6.0 (CertificateService_v6_0_1.wsdl with schema 6.0.2, at
 * /ws/CertificateService): ReadCardCertificate and VerifyCertificate.
 *
 * ReadCardCertificate reads the certificates from the card through PC/SC (C.AUT, C.ENC; HBA C.QES;
 * SMC-B C.SIG = C.HCI.OSIG). A reference the card type does not have — or Crypt=RSA, since the
 * simulated cards are ECC-only — is answered with an X509DataInfo without X509Data.
 *
 * VerifyCertificate checks a certificate against the simulated PKI: issued by one of its CAs
 * whose chain reaches its root (else INVALID), valid at VerificationTime (default now; else
 * INVALID), and its OCSP status from the PKI's responder (`queryOcsp`, response signature checked
 * against the issuing CA; the AIA responder first, the environment's PKI service as fallback): good → VALID, revoked before VerificationTime or unknown → INVALID, no
 * usable answer → INCONCLUSIVE. RoleList holds the profession/institution OIDs of the admission.
 */
import { queryOcsp, verifyOcspResponse } from '../lib/ocsp';
import { konnektorFault } from '../lib/soap';
import { isSignedBy, parseCertificate, type ParsedCertificate } from '../lib/x509';
import { el, type XmlElement } from '../lib/xml';
import { CERT_REFS, type CertRef } from './card-access';
import type { CallContext, KonnektorContext } from './context';
import { expectSequence, leafText, NS, statusElement, type SoapRequest, type SoapRouter } from './soap-router';

const PATH = '/ws/CertificateService';
const ACTION = 'http://ws.gematik.de/conn/CertificateService/v6.0#';

/** RFC 4514 string of a name, most significant RDN last (as XMLDSig's X509IssuerName). */
function rfc4514(attrs: Array<{ type: string; value: string }>): string {
  const esc = (v: string) => v.replace(/([,+"\\<>;])/g, '\\$1').replace(/^([ #])/, '\\$1').replace(/ $/, '\\ ');
  return [...attrs]
    .reverse()
    .map((a) => `${a.type}=${esc(a.value)}`)
    .join(',');
}

function x509DataInfo(ref: string, der: Buffer | undefined): XmlElement {
  const C = (local: string, children: Array<XmlElement | string> | string = []) => el(`CERTCMN:${local}`, {}, children);
  if (!der) return C('X509DataInfo', [C('CertRef', ref)]);
  const cert = parseCertificate(der);
  return C('X509DataInfo', [
    C('CertRef', ref),
    C('X509Data', [
      C('X509IssuerSerial', [C('X509IssuerName', rfc4514(cert.issuerAttributes)), C('X509SerialNumber', BigInt(`0x${cert.serialNumber}`).toString(10))]),
      C('X509SubjectName', rfc4514(cert.subjectAttributes)),
      C('X509Certificate', der.toString('base64')),
    ]),
  ]);
}

async function readCardCertificate(req: SoapRequest, k: KonnektorContext): Promise<XmlElement> {
  const parts = expectSequence(req.body, [
    { local: 'CardHandle', ns: NS.CONN },
    { local: 'Context', ns: NS.CCTX },
    { local: 'CertRefList', ns: NS.CERT },
    { local: 'Crypt', ns: NS.CERT, min: 0 },
  ]);
  const refs = expectSequence(parts.get('CertRefList')![0], [{ local: 'CertRef', ns: NS.CERT, min: 1, max: Infinity }])
    .get('CertRef')!
    .map((r) => leafText(r));
  for (const r of refs) if (!(CERT_REFS as string[]).includes(r)) throw konnektorFault(4000, `unknown CertRef "${r}" (C.AUT, C.ENC, C.SIG, C.QES)`);
  const crypt = parts.get('Crypt')?.[0] ? leafText(parts.get('Crypt')![0]) : 'ECC';
  if (crypt !== 'ECC' && crypt !== 'RSA') throw konnektorFault(4000, `Crypt must be RSA or ECC, got "${crypt}"`);
  const handle = leafText(parts.get('CardHandle')![0]);
  const card = k.cards.require(handle);
  k.model.checkTerminalAccess(req.context as CallContext, card.ctId);
  const infos: XmlElement[] = [];
  for (const ref of refs as CertRef[]) {
    const der = crypt === 'RSA' ? undefined : await k.cards.readCertificate(handle, ref);
    infos.push(x509DataInfo(ref, der));
  }
  return el('CERT:ReadCardCertificateResponse', { 'xmlns:CERT': NS.CERT, 'xmlns:CERTCMN': NS.CERTCMN }, [statusElement(), el('CERTCMN:X509DataInfoList', {}, infos)]);
}

export type VerificationResult = 'VALID' | 'INCONCLUSIVE' | 'INVALID';

export interface CertificateVerification {
  result: VerificationResult;
  /** Why, in words (for logs and tests). */
  reason: string;
  roles: string[];
}

/** Checks `der` against the simulated PKI at `at` (chain, validity, OCSP). */
export async function verifyCertificateAgainstPki(k: KonnektorContext, der: Buffer, at: Date): Promise<CertificateVerification> {
  let cert: ParsedCertificate;
  try {
    cert = parseCertificate(der);
  } catch (e) {
    return { result: 'INVALID', reason: `not an X.509 certificate: ${(e as Error).message}`, roles: [] };
  }
  const roles = (cert.admission?.professions ?? []).flatMap((p) => p.professionOids);
  const ca = k.pki.issuerOf(cert);
  if (!ca) return { result: 'INVALID', reason: 'not issued by a CA of the simulated PKI (no chain to its root)', roles };
  if (ca.name !== 'root' && !isSignedBy(ca.parsed, k.pki.root.parsed)) return { result: 'INVALID', reason: `CA ${ca.name} does not chain to the root`, roles };
  if (at < cert.notBefore || at > cert.notAfter) {
    return { result: 'INVALID', reason: `not valid at ${at.toISOString()} (valid ${cert.notBefore.toISOString()} … ${cert.notAfter.toISOString()})`, roles };
  }
  // The responder of the certificate's AIA first; the environment's PKI service (the TSL's OCSP
  // address in the simulated TI) when that one does not answer.
  const urls = [...new Set([...cert.ocspUrls, `${k.pkiUrl}/ocsp`])];
  const failures: string[] = [];
  for (const ocspUrl of urls) {
    let rsp;
    try {
      rsp = await queryOcsp(ocspUrl, der, ca.certificate, { nonce: true, timeoutMs: 5000 });
    } catch (e) {
      failures.push(`${ocspUrl}: ${(e as Error).message}`);
      continue;
    }
    const sig = verifyOcspResponse(rsp, ca.certificate);
    if (!sig.valid) return { result: 'INCONCLUSIVE', reason: `OCSP response from ${ocspUrl} not trustworthy: ${sig.reason}`, roles };
    const single = rsp.responses.find((r) => r.serialNumber === cert.serialNumber);
    if (!single) return { result: 'INCONCLUSIVE', reason: `the OCSP response from ${ocspUrl} does not mention the certificate`, roles };
    if (single.certStatus === 'good') return { result: 'VALID', reason: 'chain, validity and OCSP status good', roles };
    if (single.certStatus === 'revoked') {
      if (single.revocationTime && single.revocationTime > at) return { result: 'VALID', reason: `revoked only after ${at.toISOString()}`, roles };
      return { result: 'INVALID', reason: `revoked${single.revocationTime ? ` at ${single.revocationTime.toISOString()}` : ''}`, roles };
    }
    return { result: 'INVALID', reason: 'OCSP status unknown', roles };
  }
  return { result: 'INCONCLUSIVE', reason: `no OCSP answer (${failures.join('; ')})`, roles };
}

async function verifyCertificate(req: SoapRequest, k: KonnektorContext): Promise<XmlElement> {
  const parts = expectSequence(req.body, [
    { local: 'Context', ns: NS.CCTX },
    { local: 'X509Certificate', ns: NS.CERTCMN },
    { local: 'VerificationTime', ns: NS.CERT, min: 0 },
  ]);
  const b64 = leafText(parts.get('X509Certificate')![0]).replace(/\s+/g, '');
  if (!b64 || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 !== 0) throw konnektorFault(4000, 'X509Certificate is not base64');
  const timeEl = parts.get('VerificationTime')?.[0];
  let at = k.clock();
  if (timeEl) {
    const t = leafText(timeEl);
    const d = new Date(t);
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$/.test(t) || Number.isNaN(d.getTime())) {
      throw konnektorFault(4000, `VerificationTime is not an xs:dateTime: "${t}"`);
    }
    at = d;
  }
  const v = await verifyCertificateAgainstPki(k, Buffer.from(b64, 'base64'), at);
  k.log(`VerifyCertificate: ${v.result} (${v.reason})`);
  return el('CERT:VerifyCertificateResponse', { 'xmlns:CERT': NS.CERT }, [
    statusElement(),
    el('CERT:VerificationStatus', {}, [el('CERT:VerificationResult', {}, v.result)]),
    el('CERT:RoleList', {}, (v.roles.length ? v.roles : ['']).map((r) => el('CERT:Role', {}, r))),
  ]);
}

export function register(router: SoapRouter): void {
  router.registerOperation({ path: PATH, soapAction: `${ACTION}ReadCardCertificate`, requestElement: { ns: NS.CERT, local: 'ReadCardCertificate' }, handler: readCardCertificate });
  router.registerOperation({ path: PATH, soapAction: `${ACTION}VerifyCertificate`, requestElement: { ns: NS.CERT, local: 'VerifyCertificate' }, handler: verifyCertificate });
}
