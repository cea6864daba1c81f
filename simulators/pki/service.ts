/**
 * The PKI simulator service: OCSP responder, TSL and CA certificate download over plain HTTP
 * (as in the real TI), plus the harness-only admin API.
 *
 *   POST /ocsp                      application/ocsp-request → application/ocsp-response
 *   GET  /ocsp/<base64 request>     RFC 6960 A.1 (URL-encoded base64 or base64url)
 *   GET  /tsl.xml                   signed TSL
 *   GET  /certs/root.pem            root CA; /certs/<ca>.pem (hba-qca, hba-ca, smcb-ca, egk-ca, komp-ca, tsl-ca),
 *                                   /certs/<ca>-ocsp.pem (OCSP signers), /certs/tsl-signer.pem
 *   /__admin/…                      see admin.ts; GET/DELETE /__admin/ocsp/requests[?serial=&since=] lists the
 *                                   recently answered OCSP requests (ocsp-log.ts)
 */
import { ADMIN_PATH } from '../lib/ports';
import { bytes, HttpError, json, startHttpServer, text, type Route } from '../lib/http';
import { OCSP_RESPONSE_CONTENT_TYPE } from '../lib/ocsp';
import type { RunningService, ServiceStartOptions, ServiceStarter } from '../lib/service';
import { adminRoutes } from './admin';
import { CA_NAMES, loadOrCreatePki, type KeyAndCertificate, type Pki, type PkiOptions } from './hierarchy';
import { createOcspResponder, type OcspResponderOptions } from './ocsp-responder';
import { OcspRequestLog } from './ocsp-log';
import { buildSignedTsl } from './tsl';

export interface PkiServiceOptions extends ServiceStartOptions {
  /** Controllable clock for OCSP times, TSL issue time and new certificates (default: system time). */
  clock?: () => Date;
  ocsp?: Omit<OcspResponderOptions, 'clock' | 'log'>;
}

export interface RunningPkiService extends RunningService {
  pki: Pki;
  /** Recently answered OCSP requests (also at GET /__admin/ocsp/requests). */
  ocspLog: OcspRequestLog;
}

/** OCSP requests are small; anything bigger is refused with 413. */
const MAX_OCSP_REQUEST_BYTES = 16 * 1024;

function decodeGetRequest(raw: string): Buffer {
  let s: string;
  try {
    s = decodeURIComponent(raw);
  } catch {
    throw new HttpError(400, 'OCSP GET path is not valid percent-encoding');
  }
  if (!/^[A-Za-z0-9+/_=-]+$/.test(s)) return Buffer.alloc(0);
  return Buffer.from(s, 'base64');
}

function certificateFiles(pki: Pki): Map<string, KeyAndCertificate> {
  const files = new Map<string, KeyAndCertificate>();
  for (const name of CA_NAMES) {
    files.set(`${name}.pem`, pki.cas[name]);
    files.set(`${name}-ocsp.pem`, pki.cas[name].ocspSigner);
  }
  files.set('tsl-signer.pem', pki.tslSigner);
  return files;
}

export async function startPkiService(opts: PkiServiceOptions): Promise<RunningPkiService> {
  const pkiOptions: PkiOptions = { clock: opts.clock };
  const pki = await loadOrCreatePki(opts.dataDir, pkiOptions);
  const respond = createOcspResponder(pki, { ...(opts.ocsp ?? {}), clock: opts.clock, log: opts.log });
  const files = certificateFiles(pki);
  let baseUrl = '';
  let tslCache: { xml: string; at: number } | undefined;
  const startedAt = new Date();

  const ocspLog = new OcspRequestLog();
  const ocspReply = (method: 'POST' | 'GET', der: Buffer) => {
    const answer = respond(der);
    ocspLog.record(method, der, answer);
    return bytes(200, OCSP_RESPONSE_CONTENT_TYPE, answer, { 'cache-control': 'no-cache' });
  };

  const routes: Route[] = [
    {
      method: 'POST',
      path: '/ocsp',
      maxBodyBytes: MAX_OCSP_REQUEST_BYTES,
      handler: (ctx) => ocspReply('POST', ctx.body),
    },
    {
      method: 'GET',
      path: '/ocsp/*',
      handler: (ctx) => ocspReply('GET', decodeGetRequest(ctx.params['*'])),
    },
    {
      method: 'GET',
      path: '/tsl.xml',
      handler: () => {
        // Regenerated at most once a minute (cheap, keeps ListIssueDateTime recent under a moving clock).
        const now = Date.now();
        if (!tslCache || now - tslCache.at > 60_000) tslCache = { xml: buildSignedTsl(pki, { baseUrl }), at: now };
        return bytes(200, 'application/xml; charset=utf-8', Buffer.from(tslCache.xml, 'utf8'));
      },
    },
    {
      method: 'GET',
      path: '/certs/:file',
      handler: (ctx) => {
        const kc = files.get(ctx.params.file);
        if (!kc) throw new HttpError(404, `no such certificate: ${ctx.params.file} (known: ${[...files.keys()].join(', ')})`);
        return bytes(200, 'application/x-pem-file', Buffer.from(kc.certificatePem, 'ascii'));
      },
    },
    { method: 'GET', path: '/', handler: () => text(200, 'ti-harness simulated TI-PKI: POST /ocsp, GET /tsl.xml, GET /certs/root.pem, /__admin/health') },
    ...adminRoutes(pki, () => ({ url: baseUrl, startedAt: startedAt.toISOString() })),
    {
      method: 'GET',
      path: `${ADMIN_PATH}/ocsp/requests`,
      handler: (ctx) => {
        const since = ctx.url.searchParams.get('since');
        const at = since ? new Date(since) : undefined;
        if (at && Number.isNaN(at.getTime())) throw new HttpError(400, `since is not an ISO time: ${since}`);
        return json(200, { requests: ocspLog.list({ serial: ctx.url.searchParams.get('serial') ?? undefined, since: at }) });
      },
    },
    { method: 'DELETE', path: `${ADMIN_PATH}/ocsp/requests`, handler: () => json(200, { removed: ocspLog.clear() }) },
  ];

  const server = await startHttpServer({ host: opts.host, port: opts.port, routes, log: opts.log, name: 'pki' });
  baseUrl = server.url;
  pki.ocspUrl = `${baseUrl}/ocsp`;
  opts.log(`listening on ${baseUrl} (OCSP ${pki.ocspUrl}, TSL ${baseUrl}/tsl.xml, data ${pki.dir})`);
  return {
    name: 'pki',
    url: baseUrl,
    endpoints: {
      ocsp: `${baseUrl}/ocsp`,
      tsl: `${baseUrl}/tsl.xml`,
      root: `${baseUrl}/certs/root.pem`,
      admin: `${baseUrl}${ADMIN_PATH}`,
    },
    pki,
    ocspLog,
    stop: () => server.close(),
  };
}

export const start: ServiceStarter = (opts) => startPkiService(opts);
