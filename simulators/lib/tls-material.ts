/**
 * TLS server material of a simulator, issued by the simulated PKI and cached in the simulator's
 * data directory (the Konnektor with C.AK.AUT, the IDP with C.FD.TLS-S, …).
 *
 * The TI profile is TLS 1.2 with ECDHE-ECDSA on brainpoolP256r1. Clients that offer
 * brainpoolP256r1 get the brainpool certificate. Clients that do not (curl, Node's defaults, most
 * TLS stacks) get a second certificate from the same CA with an RSA key, so generic tools can talk
 * to the simulator too. Both chain to the simulated PKI's root.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import type * as https from 'node:https';
import * as path from 'node:path';
import { toPem } from './x509';
import type { Pki } from '../pki/hierarchy';

export interface TlsMaterial {
  options: https.ServerOptions;
  /** The brainpool (TI) certificate, PEM. */
  eccCertificatePem: string;
  /** The RSA compatibility certificate, PEM. */
  rsaCertificatePem: string;
  /** The root every certificate chains to, PEM (the trust anchor for clients). */
  rootPem: string;
}

export interface TlsMaterialOptions {
  /** PKI profile of the server certificate, e.g. "C.AK.AUT" or "C.FD.TLS-S". */
  profile: string;
  /** Subject commonName of the certificate. */
  commonName: string;
  /** Ask clients for a certificate of the PKI (requestCert, not enforced here). */
  clientAuth?: boolean;
}

/** Cipher order: ECDHE-ECDSA first so brainpool-capable clients get the TI certificate. */
const CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES256-GCM-SHA384',
].join(':');

interface CachedCertificate {
  certPem: string;
  keyPem: string;
  chainPem: string[];
  names?: string[];
  commonName?: string;
}

const RENEW_BEFORE_MS = 24 * 3600 * 1000;

/**
 * The server certificates (`opts.profile`, subjectAltNames for `hosts` plus localhost/127.0.0.1),
 * issued on first start and cached in `dir` as `<profile>-ecc.json` / `<profile>-rsa.json`;
 * issued anew when the PKI changed, the names changed or they expire within a day.
 */
export function loadOrIssueTlsMaterial(pki: Pki, dir: string, hosts: string[], opts: TlsMaterialOptions): TlsMaterial {
  fs.mkdirSync(dir, { recursive: true });
  const dnsNames = [...new Set(['localhost', ...hosts.filter((h) => h && !/^[0-9.]+$/.test(h) && !h.includes(':'))])];
  const ipAddresses = [...new Set(['127.0.0.1', ...hosts.filter((h) => /^[0-9.]+$/.test(h) && h !== '0.0.0.0')])];
  const names = [...dnsNames, ...ipAddresses];
  const stem = opts.profile.toLowerCase().replace(/[^a-z0-9.-]/g, '_');
  const load = (kind: 'ecc' | 'rsa'): CachedCertificate => {
    const file = path.join(dir, `${stem}-${kind}.json`);
    try {
      const cached = JSON.parse(fs.readFileSync(file, 'utf8')) as CachedCertificate;
      const x = new crypto.X509Certificate(cached.certPem);
      const fresh = new Date(x.validTo).getTime() - Date.now() > RENEW_BEFORE_MS;
      const ours = !!pki.issuerOf(x.raw);
      const sameNames = JSON.stringify(cached.names) === JSON.stringify(names);
      // Caches written before the commonName was recorded belong to the one caller that existed then.
      const sameCn = cached.commonName === undefined || cached.commonName === opts.commonName;
      if (fresh && ours && sameNames && sameCn) return cached;
    } catch {
      // missing or damaged: issue anew
    }
    const keys = kind === 'ecc' ? undefined : crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const issued = pki.issue({
      profile: opts.profile,
      subject: { commonName: opts.commonName },
      dnsNames,
      ipAddresses,
      ...(keys ? { publicKey: keys.publicKey } : {}),
    });
    const keyPem = keys ? keys.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() : (issued.privateKeyPem as string);
    const out: CachedCertificate = { certPem: issued.certificatePem, keyPem, chainPem: issued.chainPem, names, commonName: opts.commonName };
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(out), { mode: 0o600 });
    fs.renameSync(tmp, file);
    return out;
  };
  const ecc = load('ecc');
  const rsa = load('rsa');
  const caPems = [pki.rootCertificatePem, ...Object.values(pki.cas).map((c) => c.certificatePem)];
  return {
    options: {
      key: [ecc.keyPem, rsa.keyPem],
      cert: [[ecc.certPem, ...ecc.chainPem.slice(0, -1)].join(''), [rsa.certPem, ...rsa.chainPem.slice(0, -1)].join('')],
      ecdhCurve: 'brainpoolP256r1:X25519:prime256v1:secp384r1',
      ciphers: CIPHERS,
      honorCipherOrder: true,
      minVersion: 'TLSv1.2',
      ...(opts.clientAuth ? { requestCert: true, rejectUnauthorized: false, ca: [...new Set(caPems)] } : {}),
    },
    eccCertificatePem: ecc.certPem,
    rsaCertificatePem: rsa.certPem,
    rootPem: pki.rootCertificatePem.includes('BEGIN') ? pki.rootCertificatePem : toPem(pki.rootCertificate),
  };
}
