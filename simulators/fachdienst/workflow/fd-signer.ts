/**
 * The Fachdienst's own signature identity (ID.FD.SIG, certificate profile C.FD.SIG of the simulated
 * PKI, komp-ca): signs the receipt of $close (A_18523, CAdES-BES enveloping) and the copy of the
 * prescription for the insured (patient confirmation). Issued on first use and kept in
 * <dataDir>/workflow/fd-sig.json; issued anew when the PKI changed or the certificate expires within a day.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildSignedData } from '../../lib/cms';
import type { Pki } from '../../pki/hierarchy';

export const FD_SIG_PROFILE = 'C.FD.SIG';
const RENEW_BEFORE_MS = 24 * 3600 * 1000;

export interface FdSigner {
  certificate: Buffer;
  certificatePem: string;
  /** Issuing CA … root, PEM. */
  chainPem: string[];
  /** CAdES-BES (enveloping) over `content` with signingTime from the caller (the SimClock). */
  sign(content: Buffer | string, signingTime: Date): Buffer;
}

interface Cached {
  certPem: string;
  keyPem: string;
  chainPem: string[];
}

const cache = new Map<string, FdSigner>();

export function loadOrIssueFdSigner(pki: Pki, dataDir: string, log?: (m: string) => void): FdSigner {
  const dir = path.join(dataDir, 'workflow');
  const file = path.join(dir, 'fd-sig.json');
  const hit = cache.get(file);
  if (hit && pki.issuerOf(hit.certificate)) return hit;
  fs.mkdirSync(dir, { recursive: true });
  let cached: Cached | undefined;
  try {
    const c = JSON.parse(fs.readFileSync(file, 'utf8')) as Cached;
    const x = new crypto.X509Certificate(c.certPem);
    if (new Date(x.validTo).getTime() - Date.now() > RENEW_BEFORE_MS && pki.issuerOf(x.raw)) cached = c;
  } catch {
    // missing or damaged: issue anew
  }
  if (!cached) {
    const issued = pki.issue({ profile: FD_SIG_PROFILE, subject: { commonName: 'erp-fachdienst-sig.ti-harness.sim' } });
    cached = { certPem: issued.certificatePem, keyPem: issued.privateKeyPem, chainPem: issued.chainPem };
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(cached), { mode: 0o600 });
    fs.renameSync(tmp, file);
    log?.(`issued Fachdienst signer certificate ${FD_SIG_PROFILE} serial ${issued.serialNumber}`);
  }
  const privateKey = crypto.createPrivateKey(cached.keyPem);
  const certificate = new crypto.X509Certificate(cached.certPem).raw;
  const chain = cached.chainPem.filter((p) => !new crypto.X509Certificate(p).raw.equals(certificate));
  const signer: FdSigner = {
    certificate,
    certificatePem: cached.certPem,
    chainPem: chain,
    sign: (content, signingTime) => buildSignedData({ content: typeof content === 'string' ? Buffer.from(content, 'utf8') : content, signerCertificate: certificate, chain, signingTime, privateKey }),
  };
  cache.set(file, signer);
  return signer;
}
