/**
 * The Konnektor's HTTP(S) server: TLS material from the simulated PKI and the routes (SOAP
 * endpoints, connector.sds, WSDL files, admin API).
 *
 * TLS: the TI profile is TLS 1.2 with ECDHE-ECDSA on brainpoolP256r1 (the Konnektor's C.AK.AUT
 * identity), plus an RSA compatibility certificate for generic clients (simulators/lib/tls-material.ts).
 */
import { startHttpServer, type HttpServerHandle, type Route } from '../lib/http';
import { loadOrIssueTlsMaterial as issueTlsMaterial, type TlsMaterial } from '../lib/tls-material';
import type { Pki } from '../pki/hierarchy';

export type { TlsMaterial } from '../lib/tls-material';

/** The Konnektor's server certificates: profile C.AK.AUT, CN Konnektor-Simulator (cached in `dir`). */
export function loadOrIssueTlsMaterial(pki: Pki, dir: string, hosts: string[], opts: { clientAuth: boolean }): TlsMaterial {
  return issueTlsMaterial(pki, dir, hosts, { profile: 'C.AK.AUT', commonName: 'Konnektor-Simulator', clientAuth: opts.clientAuth });
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
