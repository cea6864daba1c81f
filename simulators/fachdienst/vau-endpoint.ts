/**
 * The outer interface of the Fachdienst's VAU (api-erp docs/authentisieren.adoc "VAU-Transport",
 * gemSpec_Krypt ch. 7; production VauRequestHandler):
 *
 *   GET  /VAUCertificate               DER of the VAU's C.FD.ENC certificate (application/pkix-cert)
 *   GET  /VAUCertificateOCSPResponse   a fresh OCSP response for it from the PKI (application/ocsp-response)
 *   POST /VAU/{0|<Userpseudonym>}      application/octet-stream: the ECIES envelope
 *                                      0x01 || X || Y || IV || AES-128-GCM(inner request) || tag
 *
 * Outer headers: X-erp-user (l = Leistungserbringer, v = Versicherter), X-erp-resource (the inner
 * resource type, for the load balancer), User-Agent. The inner request is
 * "1 <access token> <requestId> <responseKey> <HTTP/1.1 request>"; the answer is
 * AES-128-GCM(responseKey, "1 <requestId> <HTTP/1.1 response>") with 200 and the outer header
 * Userpseudonym (user-pseudonym.ts).
 *
 * Outer errors (no usable response key, so not encrypted): JSON {x-request-id, status, error,
 * message?} as production's OuterResponseErrorData —
 *   400 the envelope does not decrypt / is truncated / the inner fields are malformed ("vau decryption
 *       failed: …", production's wording), a malformed pseudonym path, a missing or invalid X-erp-user,
 *       a Content-Type other than application/octet-stream
 *   403 no User-Agent (as gematik's reference Fachdienst: "Missing User-Agent Header should return 403")
 *   405 another method than POST on /VAU/… (http.ts, with Allow)
 *   413 an envelope above maxBodyBytes + 64 KiB (the inner body limit plus room for token and header)
 * Everything after decryption is answered inside the encrypted response (inner 400/401/403/405/413/500
 * as OperationOutcome; fhir-router.ts), with VAU-Error-Code outside where a handler sets one.
 */
import * as crypto from 'node:crypto';
import type { SimClock } from '../lib/clock';
import { bytes, HttpError, json, type HttpResponse, type RequestContext, type Route } from '../lib/http';
import { InnerHttpParseError, parseInnerRequest, serializeInnerResponse, type InnerHttpRequest, type InnerHttpResponse } from '../lib/http-message';
import { OCSP_RESPONSE_CONTENT_TYPE, queryOcsp } from '../lib/ocsp';
import { openVauRequest, sealVauResponse, VauError, type VauInnerRequest } from '../lib/vau';
import type { FhirRouter } from './fhir-router';
import { FhirError, renderOperationOutcome } from './outcome';
import { negotiateFormat } from './fhir-router';
import { NO_PSEUDONYM, PSEUDONYM_PATTERN, type UserPseudonyms } from './user-pseudonym';
import type { VauIdentity } from './vau-identity';

export const VAU_HEADERS = {
  user: 'x-erp-user',
  resource: 'x-erp-resource',
  pseudonym: 'Userpseudonym',
  errorCode: 'VAU-Error-Code',
  requestId: 'x-request-id',
} as const;

/** Room for the access token, the VAU fields and the inner header block above the inner body limit. */
export const VAU_ENVELOPE_ALLOWANCE = 64 * 1024;
const OCSP_CACHE_MS = 10 * 60 * 1000;

export interface VauEndpointDeps {
  identity: VauIdentity;
  router: FhirRouter;
  pseudonyms: UserPseudonyms;
  clock: SimClock;
  maxBodyBytes: number;
  log: (message: string) => void;
}

function outerError(requestId: string, status: number, error: string, message?: string): HttpResponse {
  return json(status, { 'x-request-id': requestId, status, error, ...(message ? { message } : {}) }, { connection: 'close' });
}

/** Inner OperationOutcome for a request the router never saw (parse errors). */
function innerParseError(e: InnerHttpParseError, professionOid?: string): InnerHttpResponse {
  const fe = new FhirError(e.status, e.message);
  const r = renderOperationOutcome(fe.issues, negotiateFormat(new URLSearchParams(), {}, professionOid));
  return { status: e.status, headers: { 'Content-Type': r.contentType }, body: Buffer.from(r.body, 'utf8') };
}

export function vauRoutes(deps: VauEndpointDeps): Route[] {
  let ocspCache: { der: Buffer; fetchedAt: number } | undefined;
  const certificate: Route = {
    method: 'GET',
    path: '/VAUCertificate',
    handler: () => bytes(200, 'application/pkix-cert', deps.identity.certificate),
  };
  const ocsp: Route = {
    method: 'GET',
    path: '/VAUCertificateOCSPResponse',
    handler: async () => {
      const now = deps.clock.nowMs();
      if (!ocspCache || now - ocspCache.fetchedAt > OCSP_CACHE_MS || now < ocspCache.fetchedAt) {
        try {
          const r = await queryOcsp(deps.identity.ocspUrl, deps.identity.certificate, deps.identity.issuerPem, { timeoutMs: 10_000 });
          ocspCache = { der: r.der, fetchedAt: now };
        } catch (e) {
          deps.log(`VAU certificate OCSP at ${deps.identity.ocspUrl} failed: ${(e as Error).message}`);
          throw new HttpError(503, `OCSP responder for the VAU certificate not reachable: ${(e as Error).message}`);
        }
      }
      return bytes(200, OCSP_RESPONSE_CONTENT_TYPE, ocspCache.der);
    },
  };
  const vau: Route = {
    method: 'POST',
    path: '/VAU/:up',
    maxBodyBytes: deps.maxBodyBytes + VAU_ENVELOPE_ALLOWANCE,
    errorFormat: 'json',
    handler: (rc) => handleVau(rc, deps),
  };
  return [certificate, ocsp, vau];
}

async function handleVau(rc: RequestContext, deps: VauEndpointDeps): Promise<HttpResponse> {
  const headerValue = (name: string): string | undefined => {
    const v = rc.req.headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  const requestId = headerValue(VAU_HEADERS.requestId) ?? crypto.randomUUID();
  const up = rc.params.up;
  if (up !== NO_PSEUDONYM && !PSEUDONYM_PATTERN.test(up)) {
    return outerError(requestId, 400, 'invalid user pseudonym', 'the path is /VAU/0 or /VAU/<Userpseudonym of the previous answer: 32 hex characters>');
  }
  if (!headerValue('user-agent')) return outerError(requestId, 403, 'missing User-Agent header');
  const user = headerValue(VAU_HEADERS.user);
  if (user !== 'l' && user !== 'v') {
    return outerError(requestId, 400, 'missing or invalid X-erp-user header', 'X-erp-user must be "l" (Leistungserbringer) or "v" (Versicherter)');
  }
  const type = (headerValue('content-type') ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/octet-stream') return outerError(requestId, 400, 'invalid Content-Type', 'the VAU request body is application/octet-stream');

  let inner: VauInnerRequest;
  try {
    inner = openVauRequest(rc.body, deps.identity.privateKey);
  } catch (e) {
    const code = e instanceof VauError ? e.code : 'unexpected';
    return outerError(requestId, 400, `vau decryption failed: ${code}`, (e as Error).message);
  }

  let innerResponse: InnerHttpResponse;
  const outerHeaders: Record<string, string> = {};
  let parsed: InnerHttpRequest | undefined;
  try {
    parsed = parseInnerRequest(inner.httpRequest, deps.maxBodyBytes);
  } catch (e) {
    if (!(e instanceof InnerHttpParseError)) throw e;
    innerResponse = innerParseError(e);
  }
  if (parsed) {
    const result = await deps.router.dispatch(parsed, inner.accessToken, { erpUser: user, userAgent: headerValue('user-agent') });
    innerResponse = result.response;
    Object.assign(outerHeaders, result.outerHeaders);
    if (result.auth) {
      if (up !== NO_PSEUDONYM && !deps.pseudonyms.belongsTo(up, result.auth.sub)) {
        deps.log(`VAU: user pseudonym ${up} does not belong to the caller, a new one is returned`);
      }
      outerHeaders[VAU_HEADERS.pseudonym] = deps.pseudonyms.of(result.auth.sub);
    }
    deps.log(`VAU ${user} ${parsed.method} ${parsed.path} -> ${result.response.status}${result.operation ? ` (${result.operation})` : ''}`);
  }
  const sealed = sealVauResponse(inner, serializeInnerResponse(innerResponse!));
  return bytes(200, 'application/octet-stream', sealed, { ...outerHeaders, [VAU_HEADERS.requestId]: requestId });
}

/**
 * Plain mode (fachdienst.vau: false): the FHIR interface directly over HTTPS, the Authorization
 * header as the only token. For diagnosis and load only; service.ts logs it loudly.
 */
export function plainFhirRoute(deps: Pick<VauEndpointDeps, 'router' | 'maxBodyBytes' | 'log'>): Route {
  return {
    method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
    path: /^\/(?!__admin(?:\/|$)).*/,
    maxBodyBytes: deps.maxBodyBytes,
    handler: async (rc) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(rc.req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
      const target = rc.req.url ?? '/';
      const req: InnerHttpRequest = { method: rc.method, target, path: rc.url.pathname, query: rc.url.searchParams, headers, body: rc.body };
      const result = await deps.router.dispatch(req, undefined);
      return { status: result.response.status, headers: { ...result.response.headers, ...result.outerHeaders }, body: result.response.body };
    },
  };
}
