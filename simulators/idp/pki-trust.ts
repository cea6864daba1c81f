/**
 * The IDP's use of the PKI (A_18819): the trust store comes from the TSL of the environment's PKI
 * service, every AUT certificate's status from that PKI's OCSP responder.
 *
 * TSL: GET <pki>/tsl.xml, XMLDSig checked, the signer must chain to the trust anchor (the PKI's
 * root, which the IDP knows from its own certificates); the CA certificates listed in the TSL that
 * the anchor issued are the trusted issuers. Cached for five minutes; reloaded early when a
 * certificate names an issuer the cached list does not know.
 *
 * AUT certificate check (the parts of TUC_PKI_018 the IDP needs; errors as the IDP-Dienst answers):
 * certificate type AUT (C.HCI.AUT, C.CH.AUT, C.HP.AUT) with keyUsage digitalSignature, issuer in the
 * TSL, signature by that CA, valid at the IDP's (simulated) time, OCSP answer signed by the CA's
 * responder with matching nonce and CertHash, status good → ok; anything else 2020; no OCSP or TSL
 * answer → 2021.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { SimClock } from '../lib/clock';
import { OcspError, OcspTransportError, queryOcsp, verifyOcspResponse } from '../lib/ocsp';
import { certificateSha256, isSignedBy, parseCertificate, type ParsedCertificate } from '../lib/x509';
import { CERT_TYPE } from '../pki/oids';
import { tslCaCertificates } from '../pki/tsl';
import { verifyEnveloped } from '../pki/xmldsig';
import { IdpError } from './errors';

export type CardKind = 'eGK' | 'SMC-B' | 'HBA';

/** Certificate type OIDs of AUT identities (gemSpec_OID Tab_PKI_405) and the card they live on. */
export const AUT_CERTIFICATE_TYPES: Record<string, CardKind> = {
  [CERT_TYPE.egkAut]: 'eGK',
  [CERT_TYPE.smcbAut]: 'SMC-B',
  [CERT_TYPE.hbaAut]: 'HBA',
};

export interface ValidatedAutCertificate {
  parsed: ParsedCertificate;
  kind: CardKind;
  /** Serial number of the OCSP request the PKI answered (hex). */
  ocspSerial: string;
}

export interface PkiTrustOptions {
  /** Base URL of the environment's PKI service (TSL at /tsl.xml, OCSP at /ocsp). */
  pkiUrl: string;
  /** DER of the trust anchor (the PKI's root CA certificate). */
  anchor: Buffer;
  clock: SimClock;
  ocspTimeoutMs: number;
  log?: (m: string) => void;
}

const TSL_MAX_AGE_MS = 5 * 60 * 1000;
const TSL_RELOAD_MIN_INTERVAL_MS = 5 * 1000;
/** Harness fault "OCSP unreachable": a port nothing listens on (connection refused). */
const UNREACHABLE_OCSP_URL = 'http://127.0.0.1:1/ocsp';

function httpGetText(url: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      reject(new Error(`not a URL: ${url}`));
      return;
    }
    const lib = target.protocol === 'https:' ? https : http;
    const req = lib.get(target, { timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > 8 * 1024 * 1024) req.destroy(new Error('TSL larger than 8 MiB'));
        else chunks.push(c);
      });
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`HTTP ${res.statusCode} from ${url}`));
        else resolve(Buffer.concat(chunks).toString('utf8'));
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

export class PkiTrust {
  private trusted: ParsedCertificate[] | undefined;
  private loadedAt = 0;
  private lastAttempt = 0;
  private loading: Promise<void> | undefined;
  private readonly anchor: ParsedCertificate;
  /** Harness fault injection (admin API): OCSP requests go to a closed port. */
  ocspUnreachable = false;

  constructor(private readonly opts: PkiTrustOptions) {
    this.anchor = parseCertificate(opts.anchor);
  }

  get ocspUrl(): string {
    return this.ocspUnreachable ? UNREACHABLE_OCSP_URL : `${this.opts.pkiUrl.replace(/\/+$/, '')}/ocsp`;
  }

  get tslUrl(): string {
    return `${this.opts.pkiUrl.replace(/\/+$/, '')}/tsl.xml`;
  }

  /** Loads the TSL now (the service calls this at start so the first login needs no download). */
  async refresh(): Promise<void> {
    this.loading ??= (async () => {
      this.lastAttempt = Date.now();
      try {
        const xml = await httpGetText(this.tslUrl, this.opts.ocspTimeoutMs);
        const sig = verifyEnveloped(xml);
        if (!sig.valid || !sig.signerCertificate) throw new Error(`TSL signature invalid: ${sig.reason}`);
        const cas = tslCaCertificates(xml).map((der) => parseCertificate(der));
        const signer = parseCertificate(sig.signerCertificate);
        const anchorIssued = (c: ParsedCertificate) => c.der.equals(this.anchor.der) || (c.issuerDer.equals(this.anchor.subjectDer) && isSignedBy(c, this.anchor));
        const trusted = cas.filter(anchorIssued);
        const signerOk = anchorIssued(signer) || trusted.some((ca) => signer.issuerDer.equals(ca.subjectDer) && isSignedBy(signer, ca));
        if (!signerOk) throw new Error('the TSL signer does not chain to the trust anchor');
        this.trusted = trusted;
        this.loadedAt = Date.now();
      } finally {
        this.loading = undefined;
      }
    })();
    return this.loading;
  }

  private async trustedCas(forceReload: boolean): Promise<ParsedCertificate[]> {
    const stale = !this.trusted || Date.now() - this.loadedAt > TSL_MAX_AGE_MS;
    const mayReload = forceReload && Date.now() - this.lastAttempt > TSL_RELOAD_MIN_INTERVAL_MS;
    if (stale || mayReload) {
      try {
        await this.refresh();
      } catch (e) {
        this.opts.log?.(`TSL not loaded from ${this.tslUrl}: ${(e as Error).message}`);
        if (!this.trusted) throw new IdpError('noResponseFromOcspOrTimeout', `the PKI's TSL could not be loaded from ${this.tslUrl}`);
      }
    }
    return this.trusted as ParsedCertificate[];
  }

  private async issuerOf(cert: ParsedCertificate): Promise<ParsedCertificate | undefined> {
    const find = (cas: ParsedCertificate[]) => cas.find((ca) => ca.subjectDer.equals(cert.issuerDer) && isSignedBy(cert, ca));
    return find(await this.trustedCas(false)) ?? find(await this.trustedCas(true));
  }

  /** Checks an AUT certificate (DER) against TSL and OCSP; throws IdpError 2020 / 2021. */
  async validateAutCertificate(der: Buffer): Promise<ValidatedAutCertificate> {
    const invalid = (why: string) => new IdpError('autCertificateInvalid', why);
    let cert: ParsedCertificate;
    try {
      cert = parseCertificate(der);
    } catch {
      throw invalid('the x5c certificate is not an X.509 certificate');
    }
    const type = cert.policies.find((p) => AUT_CERTIFICATE_TYPES[p]);
    if (!type) throw invalid('not an AUT certificate (C.HCI.AUT, C.CH.AUT or C.HP.AUT required)');
    if (!cert.keyUsage.includes('digitalSignature')) throw invalid('the AUT certificate lacks keyUsage digitalSignature');
    const ca = await this.issuerOf(cert);
    if (!ca) throw invalid('issuer unknown: not a CA of the TSL or the signature does not verify');
    const now = this.opts.clock.now();
    if (now < cert.notBefore || now > cert.notAfter) {
      throw invalid(`not valid at ${now.toISOString()} (valid ${cert.notBefore.toISOString()} to ${cert.notAfter.toISOString()})`);
    }
    let rsp;
    try {
      rsp = await queryOcsp(this.ocspUrl, cert.der, ca.der, { nonce: true, timeoutMs: this.opts.ocspTimeoutMs });
    } catch (e) {
      if (e instanceof OcspTransportError || e instanceof OcspError) {
        throw new IdpError('noResponseFromOcspOrTimeout', `OCSP responder ${this.ocspUrl}: ${e.message}`);
      }
      throw e;
    }
    if (rsp.responseStatus !== 'successful') throw new IdpError('noResponseFromOcspOrTimeout', `OCSP responseStatus ${rsp.responseStatus}`);
    const sig = verifyOcspResponse(rsp, ca.der);
    if (!sig.valid) throw invalid(`OCSP response not trustworthy: ${sig.reason}`);
    if (!rsp.nonce || !rsp.requestNonce || !rsp.nonce.equals(rsp.requestNonce)) throw invalid('OCSP response does not echo the request nonce');
    const single = rsp.responses.find((r) => r.serialNumber === cert.serialNumber);
    if (!single) throw invalid('OCSP response does not mention the certificate');
    if (single.certStatus === 'unknown') throw invalid('OCSP status unknown');
    if (single.certStatus === 'revoked' && (!single.revocationTime || single.revocationTime <= now)) throw invalid('OCSP status revoked');
    if (!single.certHash || !single.certHash.equals(certificateSha256(cert.der))) throw invalid('OCSP CertHash missing or not matching the certificate');
    return { parsed: cert, kind: AUT_CERTIFICATE_TYPES[type], ocspSerial: cert.serialNumber };
  }
}
