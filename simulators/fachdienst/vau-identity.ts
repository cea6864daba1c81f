/**
 * The VAU's encryption identity (gemSpec_Krypt "E-Rezept-VAU", A_20160-01): a brainpoolP256r1 key
 * pair and its C.FD.ENC certificate (role oid_erp-vau) from the simulated PKI. Clients fetch the
 * certificate from GET /VAUCertificate, check it against the TI trust anchor and encrypt every
 * request to its key. Issued on first start and kept in the data directory; issued anew when the
 * PKI changed or the certificate expires within a day.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Pki } from '../pki/hierarchy';

export interface VauIdentity {
  privateKey: crypto.KeyObject;
  /** DER of the C.FD.ENC certificate (the body of GET /VAUCertificate). */
  certificate: Buffer;
  certificatePem: string;
  /** The issuing CA (komp-ca), PEM: needed for the OCSP request. */
  issuerPem: string;
  /** OCSP responder URL written into the certificate. */
  ocspUrl: string;
}

interface Cached {
  certPem: string;
  keyPem: string;
  issuerPem: string;
  ocspUrl: string;
}

const RENEW_BEFORE_MS = 24 * 3600 * 1000;
export const VAU_CERTIFICATE_PROFILE = 'C.FD.ENC';

export function loadOrIssueVauIdentity(pki: Pki, dir: string, log?: (m: string) => void): VauIdentity {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'vau-identity.json');
  let cached: Cached | undefined;
  try {
    const c = JSON.parse(fs.readFileSync(file, 'utf8')) as Cached;
    const x = new crypto.X509Certificate(c.certPem);
    const fresh = new Date(x.validTo).getTime() - Date.now() > RENEW_BEFORE_MS;
    if (fresh && pki.issuerOf(x.raw)) cached = c;
  } catch {
    // missing or damaged: issue anew
  }
  if (!cached) {
    const issued = pki.issue({ profile: VAU_CERTIFICATE_PROFILE, subject: { commonName: 'erp-vau.ti-harness.sim' } });
    cached = { certPem: issued.certificatePem, keyPem: issued.privateKeyPem, issuerPem: issued.issuerPem, ocspUrl: issued.ocspUrl };
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(cached), { mode: 0o600 });
    fs.renameSync(tmp, file);
    log?.(`issued VAU certificate ${VAU_CERTIFICATE_PROFILE} serial ${issued.serialNumber}`);
  }
  const x = new crypto.X509Certificate(cached.certPem);
  return {
    privateKey: crypto.createPrivateKey(cached.keyPem),
    certificate: x.raw,
    certificatePem: cached.certPem,
    issuerPem: cached.issuerPem,
    ocspUrl: cached.ocspUrl,
  };
}
