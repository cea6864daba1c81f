/**
 * Client of the E-Rezept VAU transport (api-erp docs/authentisieren.adoc "VAU-Transport", gemSpec_Krypt
 * ch. 7) for the harness's PVS, AVS and FdV and for steps: a FHIR request goes out as
 *
 *   POST <fachdienst>/VAU/{0|Userpseudonym}   Content-Type: application/octet-stream
 *   X-erp-user: l|v   X-erp-resource: <resource type>   User-Agent: <product>
 *   body = ECIES(VAU certificate key, "1 <token> <requestId> <responseKey> <HTTP/1.1 request>")
 *
 * and comes back as AES-128-GCM(responseKey, "1 <requestId> <HTTP/1.1 response>").
 *
 * - The VAU certificate (GET /VAUCertificate) must chain to the PKI trust anchor, be valid by the
 *   client's clock, be a C.FD.ENC certificate (policy 1.2.276.0.76.4.202, keyAgreement) of the role
 *   oid_erp-vau (1.2.276.0.76.4.258) with a brainpoolP256r1 key. It is cached and fetched again when
 *   it expires or when the VAU answers "vau decryption failed" (key change).
 * - The Userpseudonym header of each answer is kept and used as path of the next request.
 * - TLS: TLS 1.2 with brainpool first (TI_TLS_CLIENT_OPTIONS), the PKI as the only trust anchor.
 *
 * Retries (documented in docs/fachdienst.md; only where repeating cannot do harm):
 *   - outer 400 "vau decryption failed": the request was never processed; fetch the certificate
 *     again and resend once (any method).
 *   - connection errors, outer 503/504 (api-erp: "Retry gemäß Exponential Backoff ist zulässig") and
 *     outer 429: resend GET requests up to `maxRetries` times with exponential backoff (250 ms · 2^n).
 *     POST/PUT/DELETE are not resent: the caller decides (a repeated $activate is answered with
 *     403 "Task not in status draft …", A_18825/A_18826).
 * Inner errors (FHIR OperationOutcome) are returned, not thrown: `status` is the inner status.
 * The inner HTTP/1.1 messages are written and read by http-message.ts (the Fachdienst's rules); an
 * inner response that breaks them is a VauClientError of kind 'response'.
 */
import * as https from 'node:https';
import { InnerHttpParseError, parseInnerResponse, serializeInnerRequest, type InnerHttpResponse } from './http-message';
import { TI_TLS_CLIENT_OPTIONS, TrustAnchors, type IdpTrust } from './idp-client';
import { createVauRequest, openVauResponse, VauError } from './vau';
import type { ParsedCertificate } from './x509';

/** Certificate type C.FD.ENC (gemSpec_OID) and the technical role oid_erp-vau. */
export const OID_CERT_TYPE_FD_ENC = '1.2.276.0.76.4.202';
export const OID_ROLE_ERP_VAU = '1.2.276.0.76.4.258';

export class VauClientError extends Error {
  override name = 'VauClientError';
  constructor(
    readonly kind: 'certificate' | 'transport' | 'outer-status' | 'response',
    message: string,
    readonly outerStatus?: number,
    readonly outerBody?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface VauClientOptions {
  /** Base URL of the Fachdienst (https://host:port). */
  fachdienstUrl: string;
  /** PKI root (and issuing CAs): anchor of the TLS and the VAU certificate. */
  trust: IdpTrust | TrustAnchors;
  /** The current access token (JWS); called for every request (a TokenManager renews it). */
  accessToken: () => Promise<string>;
  /** l = Leistungserbringer (PVS/AVS), v = Versicherter (FdV). */
  user: 'l' | 'v';
  userAgent: string;
  timeoutMs?: number;
  /** Retries of safe requests (see header); default 2. */
  maxRetries?: number;
  /** Clock for the certificate validity check (ms; default Date.now). */
  clock?: () => number;
}

export interface VauRequestOptions {
  headers?: Record<string, string>;
  body?: Buffer | string;
}

export interface VauResponse {
  /** Inner HTTP status. */
  status: number;
  /** Inner headers, lower-case names. */
  headers: Record<string, string>;
  body: Buffer;
  text(): string;
  /** The outer response: status (200) and headers (Userpseudonym, VAU-Error-Code, …). */
  outer: { status: number; headers: Record<string, string> };
}

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** Bound of the outer answer and of the inner response body. */
const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

function flatHeaders(h: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

export class VauClient {
  readonly baseUrl: string;
  private readonly anchors: TrustAnchors;
  private readonly clock: () => number;
  private certificate?: ParsedCertificate;
  private pseudonymValue?: string;

  constructor(private readonly opts: VauClientOptions) {
    const u = new URL(opts.fachdienstUrl);
    if (u.protocol !== 'https:') throw new VauClientError('transport', `the Fachdienst is reached over HTTPS only, got ${opts.fachdienstUrl}`);
    this.baseUrl = opts.fachdienstUrl.replace(/\/+$/, '');
    this.anchors = opts.trust instanceof TrustAnchors ? opts.trust : new TrustAnchors(opts.trust);
    this.clock = opts.clock ?? Date.now;
  }

  /** The user pseudonym of the last answer (used as path of the next request). */
  get pseudonym(): string | undefined {
    return this.pseudonymValue;
  }

  /** The checked VAU certificate (fetched when missing, expired or `force`). */
  async vauCertificate(force = false): Promise<ParsedCertificate> {
    const now = this.clock();
    if (!force && this.certificate && this.certificate.notAfter.getTime() > now) return this.certificate;
    const r = await this.raw('GET', '/VAUCertificate', {}, undefined);
    if (r.status !== 200) throw new VauClientError('certificate', `GET /VAUCertificate answered ${r.status}`, r.status, r.body.toString('utf8').slice(0, 500));
    let cert: ParsedCertificate;
    try {
      cert = this.anchors.verifyChain(r.body, now);
    } catch (e) {
      throw new VauClientError('certificate', `VAU certificate not trusted: ${(e as Error).message}`, undefined, undefined, { cause: e });
    }
    if (!cert.policies.includes(OID_CERT_TYPE_FD_ENC)) throw new VauClientError('certificate', `VAU certificate is not a C.FD.ENC certificate (policies ${cert.policies.join(', ')})`);
    if (!cert.admission?.professions.some((p) => p.professionOids.includes(OID_ROLE_ERP_VAU))) throw new VauClientError('certificate', 'VAU certificate lacks the role oid_erp-vau');
    if (!cert.keyUsage.includes('keyAgreement')) throw new VauClientError('certificate', 'VAU certificate does not allow keyAgreement');
    if (cert.namedCurve !== 'brainpoolP256r1') throw new VauClientError('certificate', `VAU key is on ${String(cert.namedCurve)}, expected brainpoolP256r1`);
    this.certificate = cert;
    return cert;
  }

  /** One FHIR request through the VAU; returns the inner response (errors included). */
  async request(method: string, target: string, opts: VauRequestOptions = {}): Promise<VauResponse> {
    if (!target.startsWith('/')) throw new VauClientError('transport', `inner target must start with "/": ${target}`);
    const body = opts.body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(opts.body) ? opts.body : Buffer.from(opts.body, 'utf8');
    const safe = method === 'GET' || method === 'HEAD';
    const maxRetries = this.opts.maxRetries ?? 2;
    let certRetried = false;
    for (let attempt = 0; ; attempt++) {
      let outer: RawResponse;
      let sent: { requestId: string; responseKey: Buffer };
      try {
        ({ outer, sent } = await this.send(method, target, opts.headers ?? {}, body));
      } catch (e) {
        if (safe && attempt < maxRetries && e instanceof VauClientError && e.kind === 'transport') {
          await delay(250 * 2 ** attempt);
          continue;
        }
        throw e;
      }
      if (outer.status === 400 && !certRetried && /vau decryption failed/.test(outer.body.toString('utf8'))) {
        certRetried = true;
        await this.vauCertificate(true);
        continue;
      }
      if ([429, 503, 504].includes(outer.status) && safe && attempt < maxRetries) {
        await delay(250 * 2 ** attempt);
        continue;
      }
      if (outer.status !== 200) {
        throw new VauClientError('outer-status', `POST /VAU answered ${outer.status}: ${outer.body.toString('utf8').slice(0, 300)}`, outer.status, outer.body.toString('utf8'));
      }
      let inner;
      try {
        inner = openVauResponse(outer.body, sent.responseKey, sent.requestId);
      } catch (e) {
        throw new VauClientError('response', `VAU response cannot be opened: ${(e as Error).message}`, 200, undefined, { cause: e });
      }
      let parsed: InnerHttpResponse;
      try {
        parsed = parseInnerResponse(inner.httpResponse, MAX_RESPONSE_BYTES);
      } catch (e) {
        if (e instanceof InnerHttpParseError) throw new VauClientError('response', e.message, undefined, undefined, { cause: e });
        throw e;
      }
      const up = outer.headers.userpseudonym;
      if (up) this.pseudonymValue = up;
      return { ...parsed, text: () => parsed.body.toString('utf8'), outer: { status: outer.status, headers: outer.headers } };
    }
  }

  private async send(method: string, target: string, headers: Record<string, string>, body: Buffer): Promise<{ outer: RawResponse; sent: { requestId: string; responseKey: Buffer } }> {
    const cert = await this.vauCertificate();
    const token = await this.opts.accessToken();
    const innerHeaders: Record<string, string> = {
      Host: new URL(this.baseUrl).host,
      Authorization: `Bearer ${token}`,
      'User-Agent': this.opts.userAgent,
      Accept: 'application/fhir+xml',
      ...headers,
    };
    if (body.length && !Object.keys(innerHeaders).some((k) => k.toLowerCase() === 'content-type')) innerHeaders['Content-Type'] = 'application/fhir+xml';
    const { body: envelope, requestId, responseKey } = createVauRequest({
      vauPublicKey: cert.publicKey,
      accessToken: token,
      httpRequest: serializeInnerRequest({ method, target, headers: innerHeaders, body }),
    });
    const resource = target.split(/[/?]/).filter(Boolean)[0] ?? '';
    const outer = await this.raw('POST', `/VAU/${this.pseudonymValue ?? '0'}`, { 'content-type': 'application/octet-stream', 'x-erp-user': this.opts.user, 'x-erp-resource': resource }, envelope);
    return { outer, sent: { requestId, responseKey } };
  }

  private raw(method: string, path: string, headers: Record<string, string>, body: Buffer | undefined): Promise<RawResponse> {
    const timeoutMs = this.opts.timeoutMs ?? 30_000;
    return new Promise((resolve, reject) => {
      const req = https.request(
        `${this.baseUrl}${path}`,
        {
          method,
          ...TI_TLS_CLIENT_OPTIONS,
          ca: this.anchors.tlsCa,
          rejectUnauthorized: true,
          agent: false,
          timeout: timeoutMs,
          headers: { 'user-agent': this.opts.userAgent, ...headers, ...(body ? { 'content-length': String(body.length) } : {}) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > MAX_RESPONSE_BYTES) req.destroy(new VauClientError('transport', `answer exceeds ${MAX_RESPONSE_BYTES} bytes`));
            else chunks.push(c);
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: flatHeaders(res.headers), body: Buffer.concat(chunks) }));
          res.on('error', (e) => reject(new VauClientError('transport', `${method} ${path}: ${e.message}`, undefined, undefined, { cause: e })));
        },
      );
      req.on('timeout', () => req.destroy(new VauClientError('transport', `${method} ${path}: no answer within ${timeoutMs} ms`)));
      req.on('error', (e) => reject(e instanceof VauClientError ? e : new VauClientError('transport', `${method} ${path}: ${e.message}`, undefined, undefined, { cause: e })));
      req.end(body);
    });
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export { VauError };
