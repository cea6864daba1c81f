/**
 * The Konnektor's HTTP(S) server: TLS material from the simulated PKI and the routes (SOAP
 * endpoints, connector.sds, WSDL files, admin API).
 *
 * TLS: the TI profile is TLS 1.2 with ECDHE-ECDSA on brainpoolP256r1 (the Konnektor's C.AK.AUT
 * identity). Clients that offer brainpoolP256r1 get that certificate. Clients that do not (curl,
 * Node's defaults, most TLS stacks) get a second certificate from the same CA with an RSA key, so
 * generic tools can talk to the simulator too. Both chain to the simulated PKI's root.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as path from 'node:path';
import { startHttpServer, type HttpServerHandle, type Route } from '../lib/http';
import { toPem } from '../lib/x509';
import type { Pki } from '../pki/hierarchy';

export interface TlsMaterial {
  options: https.ServerOptions;
  /** The brainpool (TI) certificate, PEM. */
  eccCertificatePem: string;
  /** The RSA compatibility certificate, PEM. */
  rsaCertificatePem: string;
  /** The root every certificate chains to, PEM (the trust anchor for client systems). */
  rootPem: string;
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
}

/**
 * The server certificates (profile C.AK.AUT with subjectAltNames for `hosts`), issued on first
 * start and cached in `dir`; issued anew when the PKI changed or they expire within a day.
 */
export function loadOrIssueTlsMaterial(pki: Pki, dir: string, hosts: string[], opts: { clientAuth: boolean }): TlsMaterial {
  fs.mkdirSync(dir, { recursive: true });
  const dnsNames = [...new Set(['localhost', ...hosts.filter((h) => !/^[0-9.]+$/.test(h) && !h.includes(':'))])];
  const ipAddresses = [...new Set(['127.0.0.1', ...hosts.filter((h) => /^[0-9.]+$/.test(h) && h !== '0.0.0.0')])];
  const load = (kind: 'ecc' | 'rsa'): CachedCertificate => {
    const file = path.join(dir, `c.ak.aut-${kind}.json`);
    try {
      const cached = JSON.parse(fs.readFileSync(file, 'utf8')) as CachedCertificate & { names?: string[] };
      const x = new crypto.X509Certificate(cached.certPem);
      const fresh = new Date(x.validTo).getTime() - Date.now() > 24 * 3600 * 1000;
      const ours = !!pki.issuerOf(x.raw);
      const sameNames = JSON.stringify(cached.names) === JSON.stringify([...dnsNames, ...ipAddresses]);
      if (fresh && ours && sameNames) return cached;
    } catch {
      // missing or damaged: issue anew
    }
    const keys = kind === 'ecc' ? undefined : crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const issued = pki.issue({
      profile: 'C.AK.AUT',
      subject: { commonName: 'Konnektor-Simulator' },
      dnsNames,
      ipAddresses,
      ...(keys ? { publicKey: keys.publicKey } : {}),
    });
    const keyPem = keys ? keys.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() : (issued.privateKeyPem as string);
    const out: CachedCertificate & { names: string[] } = { certPem: issued.certificatePem, keyPem, chainPem: issued.chainPem, names: [...dnsNames, ...ipAddresses] };
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

export interface KonnektorServerOptions {
  host: string;
  port: number;
  routes: Route[];
  tls?: TlsMaterial;
  maxBodyBytes: number;
  log: (message: string) => void;
}

export function startKonnektorServer(opts: KonnektorServerOptions): Promise<HttpServerHandle> {
  return startHttpServer({
    host: opts.host,
    port: opts.port,
    routes: opts.routes,
    tls: opts.tls?.options,
    maxBodyBytes: opts.maxBodyBytes,
    log: opts.log,
    name: 'konnektor',
  });
}
