/**
 * Client side of the gematik IDP protocol (gemSysL_eRp §4.2, wire contract in docs/idp.md, names in
 * idp-protocol.ts): what a relying party (PVS, AVS, FdV) and a user agent (the Authentisierungsmodul,
 * simulators/authenticator) send to the IDP and how they check the answers. No card code: the card
 * signature comes through a ChallengeSigner.
 *
 *   discovery        GET /.well-known/openid-configuration, JWS checked with x5c[0] chained to the PKI
 *                    root, then the puk_idp_enc / puk_idp_sig JWKs
 *   relying party    PKCE + state + nonce → authorization URL; code → key_verifier → token endpoint,
 *                    tokens decrypted with the token_key and verified with puk_idp_sig
 *   user agent       challenge (GET), signed challenge (POST, JWE to puk_idp_enc), consent, SSO
 *   session          logout (end_session), revocation (RFC 7009), introspection (RFC 7662)
 *
 * Transport: HTTPS with the PKI root (and its issuing CAs) as the only trust anchors; redirects are
 * never followed (the 302 Location carries the code). Every exchange is recorded, with secrets
 * redacted, in an ExchangeLog so tests can check which grant the parties spoke (A_18813, A_18814).
 *
 * Errors: what the IDP reports (JSON body or 302 Location with error/gematik_code) becomes an
 * IdpError; what the client itself finds wrong (untrusted certificate, bad signature, nonce
 * mismatch, transport failure) becomes an IdpProtocolError with a stable code.
 */
import * as crypto from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import { bp256PublicKeyFromJwk, bp256PublicKeyToJwk, type Bp256PublicJwk } from './bp256';
import {
  base64UrlEncode,
  decodeJws,
  decryptJweDir,
  encryptJweEcdhEs,
  JoseError,
  payloadJson,
  verifyJws,
  x5cCertificates,
} from './jose';
import { isSignedBy, parseCertificate, pemBlocks, toPem, type ParsedCertificate } from './x509';
import {
  CONSENT_ANSWER,
  CTY_NESTED_JWT,
  DISCOVERY_PATH,
  KID,
  PARAM,
  TOKEN_TYPE,
  parseIdpErrorRedirect,
  type ChallengeResponse,
  type IntrospectionResponse,
  type KeyVerifierPayload,
  type IdpDiscoveryDocument,
  type TokenResponse,
} from './idp-protocol';
import type { ChallengeSigner } from '../authenticator/signer';

// ============================================================================================ errors

/** An error the IDP reported: 400 JSON IdpErrorBody, or a 302 to the redirect_uri with error parameters. */
export class IdpError extends Error {
  override name = 'IdpError';
  /** HTTP status of the IDP's answer (302 for errors delivered by redirect). */
  readonly status: number;
  /** OAuth2 `error` (invalid_request, access_denied, invalid_grant, …). */
  readonly error: string;
  readonly gematikCode?: string;
  readonly gematikErrorText?: string;
  readonly gematikUuid?: string;
  readonly gematikTimestamp?: number;
  readonly errorDescription?: string;
  /** `state` of a redirect error (lets the client match it to its request). */
  readonly state?: string;
  /** The full Location of a redirect error (where a user agent would send the browser). */
  readonly location?: string;
  /** Where the error came from. */
  readonly source: 'json' | 'redirect' | 'http';

  constructor(fields: {
    status: number;
    error: string;
    source: IdpError['source'];
    gematikCode?: string;
    gematikErrorText?: string;
    gematikUuid?: string;
    gematikTimestamp?: number;
    errorDescription?: string;
    state?: string;
    location?: string;
    message?: string;
  }) {
    const text = fields.gematikErrorText ?? fields.errorDescription ?? fields.message;
    super(`IDP error ${fields.error}${fields.gematikCode ? ` (gematik_code ${fields.gematikCode})` : ''} [HTTP ${fields.status}]${text ? `: ${text}` : ''}`);
    this.status = fields.status;
    this.error = fields.error;
    this.source = fields.source;
    this.gematikCode = fields.gematikCode;
    this.gematikErrorText = fields.gematikErrorText;
    this.gematikUuid = fields.gematikUuid;
    this.gematikTimestamp = fields.gematikTimestamp;
    this.errorDescription = fields.errorDescription;
    this.state = fields.state;
    this.location = fields.location;
  }
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function num(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
  return undefined;
}

/**
 * The IdpError of an error answer with a body (400 JSON as the contract says; anything else still
 * gives an IdpError with `error` "http_<status>" and the start of the body as text).
 */
export function parseIdpErrorFromJson(status: number, body: string | Buffer): IdpError {
  const text = Buffer.isBuffer(body) ? body.toString('utf8') : body;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (parsed && typeof parsed === 'object' && !Array.isArray(parsed) && str((parsed as Record<string, unknown>).error)) {
    const b = parsed as Record<string, unknown>;
    return new IdpError({
      status,
      source: 'json',
      error: str(b.error) as string,
      gematikCode: str(b.gematik_code) ?? (typeof b.gematik_code === 'number' ? String(b.gematik_code) : undefined),
      gematikErrorText: str(b.gematik_error_text),
      gematikUuid: str(b.gematik_uuid),
      gematikTimestamp: num(b.gematik_timestamp),
      errorDescription: str(b.error_description),
    });
  }
  const snippet = text.replace(/\s+/g, ' ').trim().slice(0, 200);
  return new IdpError({ status, source: 'http', error: `http_${status}`, message: snippet || 'no body' });
}

/** The IdpError carried by a redirect Location (`…?error=…&gematik_code=…`), or undefined when it carries none. */
export function parseIdpErrorFromLocation(location: string, status = 302): IdpError | undefined {
  const body = parseIdpErrorRedirect(location);
  if (!body) return undefined;
  return new IdpError({
    status,
    source: 'redirect',
    error: body.error,
    gematikCode: str(body.gematik_code),
    gematikErrorText: str(body.gematik_error_text),
    gematikUuid: str(body.gematik_uuid),
    gematikTimestamp: body.gematik_timestamp || undefined,
    errorDescription: str(body.error_description),
    state: body.state,
    location,
  });
}

export type IdpProtocolErrorCode =
  /** Connection refused, timeout, reset, oversize answer. */
  | 'TRANSPORT'
  /** TLS handshake failed (certificate not from the PKI, wrong host name, no common cipher). */
  | 'TLS'
  /** An http:// URL where HTTPS is required (A_18862). */
  | 'INSECURE_URL'
  /** Status, content type or body not as the contract says. */
  | 'UNEXPECTED_RESPONSE'
  | 'DISCOVERY_INVALID'
  | 'DISCOVERY_EXPIRED'
  /** A certificate does not chain to the PKI root, is out of its validity window or has the wrong role. */
  | 'UNTRUSTED_CERTIFICATE'
  | 'BAD_SIGNATURE'
  | 'ISSUER_MISMATCH'
  | 'KEY_INVALID'
  | 'CHALLENGE_INVALID'
  | 'CHALLENGE_EXPIRED'
  /** A URL that is not the endpoint the discovery document names. */
  | 'ENDPOINT_MISMATCH'
  | 'STATE_MISMATCH'
  | 'NONCE_MISMATCH'
  | 'AUDIENCE_MISMATCH'
  | 'TOKEN_INVALID'
  | 'TOKEN_EXPIRED'
  /** The card signer returned something that is not a 64-byte r||s signature. */
  | 'SIGNER_FAILED'
  | 'INVALID_ARGUMENT';

/** A check the client made failed (the IDP said nothing wrong, or could not be reached). */
export class IdpProtocolError extends Error {
  override name = 'IdpProtocolError';
  constructor(
    readonly code: IdpProtocolErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

// ============================================================================================ exchange log

/** One HTTP exchange with the IDP (or a hand-over to a client), secrets redacted. */
export interface ExchangeRecord {
  seq: number;
  /** ISO time of the request (system time of the client). */
  at: string;
  /** GET / POST, or "REDIRECT" for a user agent handing a Location back to a client. */
  method: string;
  /** Request URL with secret query values replaced by "[redacted]". */
  url: string;
  /** Names (not values) of the form parameters sent. */
  formParams?: string[];
  /** HTTP status of the answer (0 when no answer came). */
  status: number;
  /** Location of a redirect answer, redacted like `url`. */
  location?: string;
  /** Short description of a transport failure. */
  failure?: string;
}

/** Query and form parameters whose values never go into the log. */
export const SECRET_PARAMS: ReadonlySet<string> = new Set([
  PARAM.code,
  PARAM.ssoToken,
  PARAM.clientSecret,
  PARAM.keyVerifier,
  PARAM.signedChallenge,
  PARAM.unsignedChallenge,
  PARAM.consentToken,
  PARAM.token,
  'code_verifier',
  'access_token',
  'id_token',
]);

/** The URL with the values of SECRET_PARAMS replaced. Unparseable input comes back as "[unparseable URL]". */
export function redactUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return '[unparseable URL]';
  }
  for (const name of [...new Set(url.searchParams.keys())]) {
    if (SECRET_PARAMS.has(name)) url.searchParams.set(name, '[redacted]');
  }
  return url.toString();
}

/** Append-only record of the exchanges one party (client system or authenticator) had. */
export class ExchangeLog {
  private readonly list: ExchangeRecord[] = [];
  private seq = 0;

  add(record: Omit<ExchangeRecord, 'seq' | 'at'>): ExchangeRecord {
    const full: ExchangeRecord = { seq: ++this.seq, at: new Date().toISOString(), ...record };
    this.list.push(full);
    return full;
  }

  get records(): readonly ExchangeRecord[] {
    return this.list;
  }

  clear(): void {
    this.list.length = 0;
  }
}

// ============================================================================================ trust

/** Trust anchors: the PKI root and the issuing CAs below it (TI-PKI: leaf ← CA ← root). */
export interface IdpTrust {
  /** PEM (or DER) of the root CA. */
  rootPem: string | Buffer;
  /** PEM (or DER) of issuing CAs signed by the root (komp-ca for C.IDP.SIG and TLS, …). */
  caPems?: Array<string | Buffer>;
}

/** The CA files the simulated PKI serves under /certs/ besides root.pem (simulators/pki/service.ts). */
export const PKI_CA_FILES = ['komp-ca', 'smcb-ca', 'hba-ca', 'hba-qca', 'egk-ca'] as const;

/**
 * Trust anchors from a PKI service: GET <pkiUrl>/certs/root.pem and the issuing CAs (plain HTTP, as the
 * TI publishes its CA certificates). A CA the PKI does not serve (404) is skipped.
 */
export async function fetchPkiTrust(pkiUrl: string, opts: { timeoutMs?: number } = {}): Promise<IdpTrust> {
  const base = pkiUrl.replace(/\/+$/, '');
  const get = async (file: string): Promise<{ status: number; text: string }> => {
    const res = await rawRequest('GET', `${base}/certs/${file}`, { timeoutMs: opts.timeoutMs ?? 10_000 });
    return { status: res.status, text: res.body.toString('utf8') };
  };
  const root = await get('root.pem');
  if (root.status !== 200 || !root.text.includes('BEGIN CERTIFICATE')) {
    throw new IdpProtocolError('UNEXPECTED_RESPONSE', `PKI ${base}: GET /certs/root.pem answered ${root.status}, no certificate`);
  }
  const caPems: string[] = [];
  for (const name of PKI_CA_FILES) {
    const r = await get(`${name}.pem`);
    if (r.status === 200 && r.text.includes('BEGIN CERTIFICATE')) caPems.push(r.text);
  }
  return { rootPem: root.text, caPems };
}

function toDerList(input: string | Buffer): Buffer[] {
  if (Buffer.isBuffer(input)) return [input];
  const blocks = pemBlocks(input, 'CERTIFICATE');
  if (!blocks.length) throw new IdpProtocolError('INVALID_ARGUMENT', 'trust anchor is not a PEM certificate');
  return blocks;
}

/** Parsed trust anchors with the chain check the IDP clients need. */
export class TrustAnchors {
  readonly root: ParsedCertificate;
  readonly cas: ParsedCertificate[];
  /** PEMs for node:tls (`ca` option): root and issuing CAs. */
  readonly tlsCa: string[];

  constructor(trust: IdpTrust) {
    const [rootDer] = toDerList(trust.rootPem);
    this.root = parseCertificate(rootDer);
    if (!isSignedBy(this.root, this.root)) throw new IdpProtocolError('INVALID_ARGUMENT', 'trust root is not a self-signed certificate');
    this.cas = (trust.caPems ?? []).flatMap(toDerList).map((d) => parseCertificate(d));
    this.tlsCa = [toPem(this.root.der), ...this.cas.map((c) => toPem(c.der))];
  }

  /**
   * Checks that `leaf` was issued by one of the CAs (or the root itself), that the CA was issued by the
   * root, and that every certificate on the way is valid at `nowMs`. `extraCas` (e.g. x5c[1..]) are
   * candidates for the issuing CA; they still must chain to the root.
   */
  verifyChain(leaf: Buffer | ParsedCertificate, nowMs: number, extraCas: Buffer[] = []): ParsedCertificate {
    const cert = Buffer.isBuffer(leaf) ? parseCertificate(leaf) : leaf;
    const within = (c: ParsedCertificate, what: string) => {
      if (nowMs < c.notBefore.getTime() || nowMs > c.notAfter.getTime()) {
        throw new IdpProtocolError(
          'UNTRUSTED_CERTIFICATE',
          `${what} "${c.subject}" is not valid at ${new Date(nowMs).toISOString()} (${c.notBefore.toISOString()} … ${c.notAfter.toISOString()})`,
        );
      }
    };
    within(cert, 'certificate');
    if (cert.issuerDer.equals(this.root.subjectDer) && isSignedBy(cert, this.root)) return cert;
    const candidates = [...this.cas, ...extraCas.map((d) => parseCertificate(d))];
    for (const ca of candidates) {
      if (!ca.subjectDer.equals(cert.issuerDer) || !isSignedBy(cert, ca)) continue;
      if (!ca.isCa) throw new IdpProtocolError('UNTRUSTED_CERTIFICATE', `issuer "${ca.subject}" is not a CA`);
      within(ca, 'issuing CA');
      if (!ca.issuerDer.equals(this.root.subjectDer) || !isSignedBy(ca, this.root)) continue;
      within(this.root, 'root CA');
      return cert;
    }
    throw new IdpProtocolError('UNTRUSTED_CERTIFICATE', `certificate "${cert.subject}" (issuer "${cert.issuer}") does not chain to the trusted root "${this.root.subject}"`);
  }
}

/** Technical role oid_idpd of the IDP's signature certificates (C.IDP.SIG). */
export const OID_IDPD = '1.2.276.0.76.4.260';

function hasRole(cert: ParsedCertificate, oid: string): boolean {
  return !!cert.admission?.professions.some((p) => p.professionOids.includes(oid));
}

// ============================================================================================ transport

export interface TransportResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** Upper bound for any IDP answer (discovery, JWKs, tokens are a few KiB). */
const MAX_RESPONSE_BYTES = 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 15_000;
export const USER_AGENT = 'ti-harness-idp-client/0.1 ti-harness';

/**
 * TLS as a TI client speaks it (gemSpec_Krypt): TLS 1.2, ECDHE on brainpoolP256r1 first, ECDSA or RSA
 * server certificates. Node's TLS 1.3 (OpenSSL 3.0) has no brainpool signature schemes, so offering
 * 1.3 would make a brainpool-only server fail the handshake; a server that also holds an RSA
 * compatibility certificate still chooses its brainpool one for us because we offer the curve.
 */
export const TI_TLS_CLIENT_OPTIONS = {
  minVersion: 'TLSv1.2',
  maxVersion: 'TLSv1.2',
  ecdhCurve: 'brainpoolP256r1:X25519:prime256v1:secp384r1',
  ciphers: ['ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES256-GCM-SHA384'].join(':'),
} as const satisfies https.RequestOptions;

interface RawRequestOptions {
  form?: Record<string, string>;
  headers?: Record<string, string>;
  ca?: string[];
  timeoutMs: number;
}

function rawRequest(method: string, url: string, opts: RawRequestOptions): Promise<TransportResponse> {
  return new Promise((resolve, reject) => {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      reject(new IdpProtocolError('INVALID_ARGUMENT', `not a URL: ${url}`));
      return;
    }
    const body = opts.form ? Buffer.from(new URLSearchParams(opts.form).toString(), 'utf8') : undefined;
    const headers: Record<string, string> = { 'user-agent': USER_AGENT, accept: '*/*', ...(opts.headers ?? {}) };
    if (body) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      headers['content-length'] = String(body.length);
    }
    const isHttps = target.protocol === 'https:';
    if (!isHttps && target.protocol !== 'http:') {
      reject(new IdpProtocolError('INVALID_ARGUMENT', `unsupported URL scheme ${target.protocol} in ${url}`));
      return;
    }
    const options: https.RequestOptions = { method, headers, agent: false, timeout: opts.timeoutMs };
    if (isHttps) {
      Object.assign(options, TI_TLS_CLIENT_OPTIONS);
      options.ca = opts.ca;
      options.rejectUnauthorized = true;
    }
    const req = (isHttps ? https : http).request(target, options, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_RESPONSE_BYTES) {
          req.destroy(new IdpProtocolError('TRANSPORT', `answer of ${method} ${target.origin}${target.pathname} exceeds ${MAX_RESPONSE_BYTES} bytes`));
          return;
        }
        chunks.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', (e) => reject(new IdpProtocolError('TRANSPORT', `${method} ${target.origin}${target.pathname}: ${e.message}`, { cause: e })));
    });
    req.on('timeout', () => req.destroy(new IdpProtocolError('TRANSPORT', `${method} ${target.origin}${target.pathname}: no answer within ${opts.timeoutMs} ms`)));
    req.on('error', (e: NodeJS.ErrnoException) => {
      if (e instanceof IdpProtocolError) return reject(e);
      const tls = /CERT|SSL|TLS|self.signed|altname|unable to (get|verify)/i.test(`${e.code ?? ''} ${e.message}`);
      reject(new IdpProtocolError(tls ? 'TLS' : 'TRANSPORT', `${method} ${target.origin}${target.pathname}: ${e.message}`, { cause: e }));
    });
    req.end(body);
  });
}

export interface IdpTransportOptions {
  trust: IdpTrust | TrustAnchors;
  /** Allow http:// IDP URLs (only for tests against fakes; the IDP itself refuses plain HTTP, A_18862). */
  allowPlainHttp?: boolean;
  timeoutMs?: number;
  log?: ExchangeLog;
}

/** HTTPS to the IDP with the PKI as the only trust anchor; never follows redirects; logs every exchange. */
export class IdpTransport {
  readonly anchors: TrustAnchors;
  readonly log: ExchangeLog;
  private readonly allowPlainHttp: boolean;
  private readonly timeoutMs: number;

  constructor(opts: IdpTransportOptions) {
    this.anchors = opts.trust instanceof TrustAnchors ? opts.trust : new TrustAnchors(opts.trust);
    this.log = opts.log ?? new ExchangeLog();
    this.allowPlainHttp = opts.allowPlainHttp ?? false;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  checkUrl(url: string, what: string): URL {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw new IdpProtocolError('INVALID_ARGUMENT', `${what} is not a URL: ${url}`);
    }
    if (u.protocol === 'https:') return u;
    if (u.protocol === 'http:' && this.allowPlainHttp) return u;
    throw new IdpProtocolError('INSECURE_URL', `${what} must be an https URL (the IDP speaks TLS only, A_18862): ${url}`);
  }

  async request(method: 'GET' | 'POST', url: string, form?: Record<string, string>, headers?: Record<string, string>): Promise<TransportResponse> {
    this.checkUrl(url, `${method} target`);
    const entry = { method, url: redactUrl(url), ...(form ? { formParams: Object.keys(form) } : {}) };
    try {
      const res = await rawRequest(method, url, { form, headers, ca: this.anchors.tlsCa, timeoutMs: this.timeoutMs });
      const location = typeof res.headers.location === 'string' ? redactUrl(res.headers.location) : undefined;
      this.log.add({ ...entry, status: res.status, ...(location ? { location } : {}) });
      return res;
    } catch (e) {
      this.log.add({ ...entry, status: 0, failure: (e as Error).message });
      throw e;
    }
  }
}

// ============================================================================================ PKCE, state, nonce

const PKCE_VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;

/** A fresh PKCE code_verifier: base64url of 32 random bytes (43 characters, RFC 7636 §4.1). */
export function createCodeVerifier(bytes = 32): string {
  if (!Number.isInteger(bytes) || bytes < 32 || bytes > 96) throw new IdpProtocolError('INVALID_ARGUMENT', 'code_verifier entropy must be 32..96 bytes');
  return crypto.randomBytes(bytes).toString('base64url');
}

/** S256 code_challenge = BASE64URL(SHA256(ASCII(code_verifier))) (RFC 7636 §4.2). */
export function codeChallengeS256(verifier: string): string {
  if (typeof verifier !== 'string' || !PKCE_VERIFIER.test(verifier)) {
    throw new IdpProtocolError('INVALID_ARGUMENT', 'code_verifier must be 43..128 characters of [A-Za-z0-9-._~] (RFC 7636 §4.1)');
  }
  return crypto.createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

/** Random state / nonce: 32 url-safe characters (192 bits). */
export function randomToken(): string {
  return crypto.randomBytes(24).toString('base64url');
}

// ============================================================================================ discovery

export interface IdpPublicKey {
  jwk: Bp256PublicJwk;
  key: crypto.KeyObject;
  /** DER of the JWK's x5c[0] (puk_idp_sig carries the C.IDP.SIG certificate). */
  certificate?: Buffer;
}

/** The checked discovery document with the IDP's keys. */
export interface IdpDiscovery {
  issuerUrl: string;
  document: IdpDiscoveryDocument;
  /** DER of the certificate that signed the discovery document (x5c[0]). */
  signerCertificate: Buffer;
  idpSig: IdpPublicKey;
  idpEnc: IdpPublicKey;
  /** exp of the document in ms. */
  expiresAtMs: number;
}

const REQUIRED_ENDPOINTS = [
  'authorization_endpoint',
  'sso_endpoint',
  'token_endpoint',
  'end_session_endpoint',
  'revocation_endpoint',
  'introspection_endpoint',
  'consent_endpoint',
  'uri_puk_idp_enc',
  'uri_puk_idp_sig',
] as const;

function asObject(v: unknown, what: string, code: IdpProtocolErrorCode): Record<string, unknown> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new IdpProtocolError(code, `${what} is not a JSON object`);
  return v as Record<string, unknown>;
}

function parseJsonBody(res: TransportResponse, what: string, code: IdpProtocolErrorCode = 'UNEXPECTED_RESPONSE'): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(res.body.toString('utf8'));
  } catch {
    throw new IdpProtocolError(code, `${what} is not JSON`);
  }
  return asObject(v, what, code);
}

function normalizeIssuer(u: string): string {
  return u.replace(/\/+$/, '');
}

function jwtClaims(jws: string): Record<string, unknown> {
  return payloadJson<Record<string, unknown>>(decodeJws(jws).payload);
}

function wrapJose<T>(code: IdpProtocolErrorCode, what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof IdpProtocolError) throw e;
    if (e instanceof JoseError) throw new IdpProtocolError(code, `${what}: ${e.message}`, { cause: e });
    throw new IdpProtocolError(code, `${what}: ${(e as Error).message}`, { cause: e });
  }
}

// ============================================================================================ flow types

/** A registered relying party as the client system knows itself (A_18810). */
export interface IdpRelyingParty {
  clientId: string;
  redirectUri: string;
  /** "openid e-rezept": openid plus exactly one service scope. */
  scope: string;
  /** Web clients only (A_18803, confidential client). */
  clientSecret?: string;
}

/** What a client system keeps while the user agent runs the flow. */
export interface AuthorizationRequest {
  url: string;
  codeVerifier: string;
  codeChallenge: string;
  state: string;
  nonce: string;
  relyingParty: IdpRelyingParty;
  prompt?: 'login';
}

export interface AuthorizationUrlParams {
  clientId: string;
  redirectUri: string;
  scope: string;
  state: string;
  nonce: string;
  codeChallenge: string;
  prompt?: 'login';
}

/** The authorization request URL (OIDC Core §3.1.2.1 with PKCE S256). */
export function authorizationUrl(authorizationEndpoint: string, p: AuthorizationUrlParams): string {
  const url = new URL(authorizationEndpoint);
  url.searchParams.set(PARAM.clientId, p.clientId);
  url.searchParams.set(PARAM.responseType, 'code');
  url.searchParams.set(PARAM.redirectUri, p.redirectUri);
  url.searchParams.set(PARAM.state, p.state);
  url.searchParams.set(PARAM.codeChallenge, p.codeChallenge);
  url.searchParams.set(PARAM.codeChallengeMethod, 'S256');
  url.searchParams.set(PARAM.scope, p.scope);
  url.searchParams.set(PARAM.nonce, p.nonce);
  if (p.prompt) url.searchParams.set(PARAM.prompt, p.prompt);
  return url.toString();
}

/** Claims of the IDP's challenge JWT (contract step 2). */
export interface ChallengeClaims {
  iss: string;
  iat: number;
  exp: number;
  token_type: string;
  jti?: string;
  client_id: string;
  redirect_uri: string;
  state: string;
  nonce?: string;
  scope: string;
  code_challenge?: string;
  code_challenge_method?: string;
  response_type?: string;
  prompt?: string;
  [claim: string]: unknown;
}

export interface FetchedChallenge {
  /** The challenge JWS as the IDP issued it. */
  challenge: string;
  claims: ChallengeClaims;
  /** What the user is shown (requested scopes and claims with their German texts). */
  userConsent: ChallengeResponse['user_consent'];
}

/** The IDP redirected to the client with a code (contract step 3, 4, 5). */
export interface CodeRedirect {
  kind: 'code';
  code: string;
  /** Only for clients registered with SSO. */
  ssoToken?: string;
  state: string;
  /** The full Location: the client's redirect_uri with code and state. */
  location: string;
}

/** The IDP asks for consent first (A_18887 Param-Out "Liste der angeforderten Identitätsattribute"). */
export interface ConsentRequired {
  kind: 'consent';
  consentToken: string;
  requestedClaims: Record<string, string>;
}

export type AuthorizationOutcome = CodeRedirect | ConsentRequired;

export interface TokenSet {
  /** The access token JWS (decrypted from the JWE the token endpoint returned). */
  accessToken: string;
  idToken: string;
  accessTokenClaims: Record<string, unknown>;
  idTokenClaims: Record<string, unknown>;
  tokenType: string;
  expiresIn: number;
  /** exp of the access token in ms. */
  expiresAtMs: number;
  /** iat of the access token in ms. */
  issuedAtMs: number;
  /** The JWEs as received. */
  encrypted: { accessToken: string; idToken: string };
}

export interface RedeemCodeParams {
  relyingParty: IdpRelyingParty;
  code: string;
  codeVerifier: string;
  /** The nonce of the authorization request; the ID token must carry it. */
  nonce: string;
}

// ============================================================================================ signed challenge

/**
 * The signed challenge for POST authorization_endpoint (contract step 3): card JWS
 * {alg BP256R1, typ JWT, cty NJWT, x5c [AUT certificate]} over {"njwt": challenge}, signed by the card
 * over SHA-256(signing input), wrapped in a JWE ECDH-ES/A256GCM (cty NJWT, exp = challenge exp) to
 * puk_idp_enc.
 */
export async function buildSignedChallenge(
  challengeJws: string,
  signer: ChallengeSigner,
  recipient: IdpDiscovery | IdpPublicKey | Bp256PublicJwk | crypto.KeyObject,
): Promise<{ jwe: string; cardJws: string }> {
  const claims = wrapJose('CHALLENGE_INVALID', 'challenge', () => jwtClaims(challengeJws));
  const exp = num(claims.exp);
  if (exp === undefined) throw new IdpProtocolError('CHALLENGE_INVALID', 'challenge has no exp');
  const certificate = await signer.autCertificate();
  if (!Buffer.isBuffer(certificate) || certificate.length === 0) throw new IdpProtocolError('SIGNER_FAILED', `${signer.label}: no AUT certificate`);
  const header = { alg: 'BP256R1', typ: 'JWT', cty: CTY_NESTED_JWT, x5c: [certificate.toString('base64')] };
  const signingInput = `${base64UrlEncode(JSON.stringify(header))}.${base64UrlEncode(JSON.stringify({ njwt: challengeJws }))}`;
  const digest = crypto.createHash('sha256').update(signingInput, 'ascii').digest();
  const signature = await signer.signDigest(digest);
  if (!Buffer.isBuffer(signature) || signature.length !== 64) {
    throw new IdpProtocolError('SIGNER_FAILED', `${signer.label}: card signature must be 64 bytes r||s, got ${Buffer.isBuffer(signature) ? signature.length : typeof signature}`);
  }
  const cardJws = `${signingInput}.${signature.toString('base64url')}`;
  const encKey = encryptionKeyOf(recipient);
  const jwe = wrapJose('KEY_INVALID', 'encrypting the signed challenge', () =>
    encryptJweEcdhEs(JSON.stringify({ njwt: cardJws }), encKey, { header: { cty: CTY_NESTED_JWT, exp } }),
  );
  return { jwe, cardJws };
}

function encryptionKeyOf(r: IdpDiscovery | IdpPublicKey | Bp256PublicJwk | crypto.KeyObject): Bp256PublicJwk | crypto.KeyObject {
  if (r instanceof crypto.KeyObject) return r;
  if ('idpEnc' in r && 'document' in r) return (r as IdpDiscovery).idpEnc.key;
  if ('key' in r && r.key instanceof crypto.KeyObject) return (r as IdpPublicKey).key;
  return r as Bp256PublicJwk;
}

// ============================================================================================ client

export interface IdpClientOptions extends IdpTransportOptions {
  /** Clock for exp checks, in ms (default Date.now). */
  clock?: () => number;
  /** Require the discovery signer certificate to carry the role oid_idpd (default true). */
  requireIdpRole?: boolean;
}

/**
 * One party's connection to one IDP: discovery (cached until its exp), the relying-party operations
 * and the user-agent operations. A client system and the authenticator each have their own IdpClient
 * (and so their own exchange log).
 */
export class IdpClient {
  readonly issuerUrl: string;
  readonly transport: IdpTransport;
  private readonly clock: () => number;
  private readonly requireIdpRole: boolean;
  private discovery?: IdpDiscovery;
  private discovering?: Promise<IdpDiscovery>;

  constructor(issuerUrl: string, opts: IdpClientOptions) {
    this.transport = new IdpTransport(opts);
    this.transport.checkUrl(issuerUrl, 'IDP issuer URL');
    this.issuerUrl = normalizeIssuer(issuerUrl);
    this.clock = opts.clock ?? Date.now;
    this.requireIdpRole = opts.requireIdpRole ?? true;
  }

  get log(): ExchangeLog {
    return this.transport.log;
  }

  nowMs(): number {
    return this.clock();
  }

  // ------------------------------------------------------------------ discovery

  /** The checked discovery document (fetched again when expired or when `force`). */
  async discover(force = false): Promise<IdpDiscovery> {
    if (!force && this.discovery && this.discovery.expiresAtMs > this.clock()) return this.discovery;
    if (!this.discovering) {
      this.discovering = this.fetchDiscovery().finally(() => (this.discovering = undefined));
    }
    this.discovery = await this.discovering;
    return this.discovery;
  }

  private async fetchDiscovery(): Promise<IdpDiscovery> {
    const url = `${this.issuerUrl}${DISCOVERY_PATH}`;
    const res = await this.transport.request('GET', url);
    if (res.status !== 200) throw parseIdpErrorFromJson(res.status, res.body);
    const type = String(res.headers['content-type'] ?? '');
    if (!/^application\/jwt\b/i.test(type)) {
      throw new IdpProtocolError('DISCOVERY_INVALID', `discovery document has content type "${type}", expected application/jwt`);
    }
    const jws = res.body.toString('utf8').trim();
    const verified = wrapJose('BAD_SIGNATURE', 'discovery document signature', () => verifyJws(jws));
    if (verified.header.kid !== KID.discoverySignature) {
      throw new IdpProtocolError('DISCOVERY_INVALID', `discovery JWS kid is ${JSON.stringify(verified.header.kid)}, expected ${KID.discoverySignature}`);
    }
    const x5c = x5cCertificates(verified.header).map((c) => c.raw);
    const now = this.clock();
    const signer = this.anchors.verifyChain(x5c[0], now, x5c.slice(1));
    if (this.requireIdpRole && !hasRole(signer, OID_IDPD)) {
      throw new IdpProtocolError('UNTRUSTED_CERTIFICATE', `discovery signer "${signer.subject}" lacks the IDP role oid_idpd (${OID_IDPD})`);
    }
    const doc = wrapJose('DISCOVERY_INVALID', 'discovery payload', () => payloadJson<IdpDiscoveryDocument>(verified.payload));
    const exp = num(doc.exp);
    if (exp === undefined || num(doc.iat) === undefined) throw new IdpProtocolError('DISCOVERY_INVALID', 'discovery document lacks iat/exp');
    if (exp * 1000 <= now) throw new IdpProtocolError('DISCOVERY_EXPIRED', `discovery document expired at ${new Date(exp * 1000).toISOString()}`);
    if (typeof doc.issuer !== 'string' || normalizeIssuer(doc.issuer) !== this.issuerUrl) {
      throw new IdpProtocolError('ISSUER_MISMATCH', `discovery issuer ${JSON.stringify(doc.issuer)} is not ${this.issuerUrl} (OIDC Discovery §4.3)`);
    }
    for (const name of REQUIRED_ENDPOINTS) {
      const v = doc[name];
      if (typeof v !== 'string') throw new IdpProtocolError('DISCOVERY_INVALID', `discovery document lacks ${name}`);
      this.transport.checkUrl(v, `discovery ${name}`);
    }
    const idpEnc = await this.fetchKey(doc.uri_puk_idp_enc, KID.idpEncryption, 'enc', now);
    const idpSig = await this.fetchKey(doc.uri_puk_idp_sig, KID.idpSignature, 'sig', now);
    return { issuerUrl: this.issuerUrl, document: doc, signerCertificate: signer.der, idpEnc, idpSig, expiresAtMs: exp * 1000 };
  }

  private get anchors(): TrustAnchors {
    return this.transport.anchors;
  }

  private async fetchKey(url: string, kid: string, use: 'sig' | 'enc', now: number): Promise<IdpPublicKey> {
    const res = await this.transport.request('GET', url);
    if (res.status !== 200) throw parseIdpErrorFromJson(res.status, res.body);
    const jwk = parseJsonBody(res, `${kid} JWK`, 'KEY_INVALID');
    if (jwk.kty !== 'EC' || jwk.crv !== 'BP-256') throw new IdpProtocolError('KEY_INVALID', `${kid}: expected an EC BP-256 JWK, got kty ${String(jwk.kty)} crv ${String(jwk.crv)}`);
    if (jwk.kid !== undefined && jwk.kid !== kid) throw new IdpProtocolError('KEY_INVALID', `JWK at ${url} has kid ${JSON.stringify(jwk.kid)}, expected ${kid}`);
    if (jwk.use !== undefined && jwk.use !== use) throw new IdpProtocolError('KEY_INVALID', `${kid}: use ${JSON.stringify(jwk.use)}, expected ${use}`);
    const key = wrapJose('KEY_INVALID', kid, () => bp256PublicKeyFromJwk(jwk));
    let certificate: Buffer | undefined;
    if (jwk.x5c !== undefined) {
      const certs = wrapJose('KEY_INVALID', `${kid} x5c`, () => x5cCertificates({ alg: 'BP256R1', x5c: jwk.x5c }));
      const leaf = this.anchors.verifyChain(certs[0].raw, now, certs.slice(1).map((c) => c.raw));
      const certJwk = wrapJose('KEY_INVALID', `${kid} certificate key`, () => bp256PublicKeyToJwk(leaf.publicKey));
      if (certJwk.x !== jwk.x || certJwk.y !== jwk.y) throw new IdpProtocolError('KEY_INVALID', `${kid}: JWK and its x5c certificate hold different keys`);
      certificate = leaf.der;
    }
    return { jwk: jwk as unknown as Bp256PublicJwk, key, certificate };
  }

  private async endpoint(name: (typeof REQUIRED_ENDPOINTS)[number]): Promise<string> {
    return (await this.discover()).document[name] as string;
  }

  // ------------------------------------------------------------------ relying party: authorization request

  /** PKCE verifier, state and nonce, and the authorization URL built from the discovery document. */
  async createAuthorizationRequest(
    rp: IdpRelyingParty,
    opts: { prompt?: 'login'; state?: string; nonce?: string; codeVerifier?: string } = {},
  ): Promise<AuthorizationRequest> {
    const codeVerifier = opts.codeVerifier ?? createCodeVerifier();
    const codeChallenge = codeChallengeS256(codeVerifier);
    const state = opts.state ?? randomToken();
    const nonce = opts.nonce ?? randomToken();
    const endpoint = await this.endpoint('authorization_endpoint');
    const url = authorizationUrl(endpoint, {
      clientId: rp.clientId,
      redirectUri: rp.redirectUri,
      scope: rp.scope,
      state,
      nonce,
      codeChallenge,
      prompt: opts.prompt,
    });
    return { url, codeVerifier, codeChallenge, state, nonce, relyingParty: rp, ...(opts.prompt ? { prompt: opts.prompt } : {}) };
  }

  // ------------------------------------------------------------------ user agent

  /** Whether `url` addresses the discovery document's authorization endpoint (same origin and path). */
  async isAuthorizationUrl(url: string): Promise<boolean> {
    const endpoint = new URL(await this.endpoint('authorization_endpoint'));
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return false;
    }
    return u.origin === endpoint.origin && u.pathname === endpoint.pathname;
  }

  /** GET the authorization URL → the challenge (signature checked with puk_idp_sig) and the consent text. */
  async fetchChallenge(authorizationRequestUrl: string): Promise<FetchedChallenge> {
    if (!(await this.isAuthorizationUrl(authorizationRequestUrl))) {
      throw new IdpProtocolError('ENDPOINT_MISMATCH', `${redactUrl(authorizationRequestUrl)} is not the authorization endpoint of ${this.issuerUrl}`);
    }
    const res = await this.transport.request('GET', authorizationRequestUrl);
    if (res.status >= 300 && res.status < 400) {
      const location = typeof res.headers.location === 'string' ? res.headers.location : '';
      throw parseIdpErrorFromLocation(location, res.status) ?? new IdpProtocolError('UNEXPECTED_RESPONSE', `challenge request answered ${res.status} without an error`);
    }
    if (res.status !== 200) throw parseIdpErrorFromJson(res.status, res.body);
    const body = parseJsonBody(res, 'challenge response', 'CHALLENGE_INVALID');
    if (typeof body.challenge !== 'string') throw new IdpProtocolError('CHALLENGE_INVALID', 'challenge response has no challenge');
    const userConsent = asObject(body.user_consent, 'user_consent', 'CHALLENGE_INVALID') as unknown as ChallengeResponse['user_consent'];
    const claims = await this.verifyChallenge(body.challenge);
    return { challenge: body.challenge, claims, userConsent };
  }

  /** Signature (puk_idp_sig), token_type and exp of a challenge. */
  async verifyChallenge(challenge: string): Promise<ChallengeClaims> {
    const d = await this.discover();
    const verified = wrapJose('BAD_SIGNATURE', 'challenge signature', () => verifyJws(challenge, d.idpSig.key));
    const claims = wrapJose('CHALLENGE_INVALID', 'challenge payload', () => payloadJson<ChallengeClaims>(verified.payload));
    if (claims.token_type !== TOKEN_TYPE.challenge) throw new IdpProtocolError('CHALLENGE_INVALID', `token_type ${JSON.stringify(claims.token_type)} is not "challenge"`);
    const exp = num(claims.exp);
    if (exp === undefined) throw new IdpProtocolError('CHALLENGE_INVALID', 'challenge has no exp');
    if (exp * 1000 <= this.clock()) throw new IdpProtocolError('CHALLENGE_EXPIRED', `challenge expired at ${new Date(exp * 1000).toISOString()}`);
    return claims;
  }

  /** Signs the challenge with the card and wraps it for the IDP (see buildSignedChallenge). */
  async signChallenge(challenge: string, signer: ChallengeSigner): Promise<string> {
    const d = await this.discover();
    return (await buildSignedChallenge(challenge, signer, d.idpEnc)).jwe;
  }

  /** POST signed_challenge → code redirect or consent request. */
  async submitSignedChallenge(signedChallenge: string): Promise<AuthorizationOutcome> {
    const res = await this.transport.request('POST', await this.endpoint('authorization_endpoint'), { [PARAM.signedChallenge]: signedChallenge });
    return this.authorizationOutcome(res, 'signed challenge');
  }

  /** POST consent (granted with exactly the consented claims, or denied) → code redirect; denied → IdpError access_denied. */
  async submitConsent(consentToken: string, decision: keyof typeof CONSENT_ANSWER, consentedClaims: string[] = []): Promise<CodeRedirect> {
    const res = await this.transport.request('POST', await this.endpoint('consent_endpoint'), {
      [PARAM.consentToken]: consentToken,
      [PARAM.consent]: CONSENT_ANSWER[decision],
      [PARAM.consentedClaims]: consentedClaims.join(' '),
    });
    const outcome = await this.authorizationOutcome(res, 'consent');
    if (outcome.kind !== 'code') throw new IdpProtocolError('UNEXPECTED_RESPONSE', 'consent answered with another consent request');
    return outcome;
  }

  /** POST ssotoken + unsigned_challenge → code redirect without a card signature (A_18809). */
  async redeemSso(ssoToken: string, unsignedChallenge: string): Promise<CodeRedirect> {
    const res = await this.transport.request('POST', await this.endpoint('sso_endpoint'), {
      [PARAM.ssoToken]: ssoToken,
      [PARAM.unsignedChallenge]: unsignedChallenge,
    });
    const outcome = await this.authorizationOutcome(res, 'SSO');
    if (outcome.kind !== 'code') throw new IdpProtocolError('UNEXPECTED_RESPONSE', 'SSO answered with a consent request');
    return outcome;
  }

  private async authorizationOutcome(res: TransportResponse, what: string): Promise<AuthorizationOutcome> {
    if (res.status === 302 || res.status === 303) {
      const location = typeof res.headers.location === 'string' ? res.headers.location : '';
      return parseCodeRedirect(location, res.status);
    }
    if (res.status === 200) {
      const body = parseJsonBody(res, `${what} answer`);
      if (body.consent_required === true && typeof body.consent_token === 'string') {
        const requested = asObject(body.requested_claims, 'requested_claims', 'UNEXPECTED_RESPONSE');
        return { kind: 'consent', consentToken: body.consent_token, requestedClaims: requested as Record<string, string> };
      }
      throw new IdpProtocolError('UNEXPECTED_RESPONSE', `${what} answered 200 without consent_required/consent_token`);
    }
    throw parseIdpErrorFromJson(res.status, res.body);
  }

  // ------------------------------------------------------------------ relying party: token endpoint

  /** Redeems the code (key_verifier with a fresh token_key), decrypts and verifies both tokens. */
  async redeemCode(p: RedeemCodeParams): Promise<TokenSet> {
    const d = await this.discover();
    const tokenKey = crypto.randomBytes(32);
    const payload: KeyVerifierPayload = { token_key: tokenKey.toString('base64url'), code_verifier: p.codeVerifier };
    const keyVerifier = wrapJose('KEY_INVALID', 'key_verifier', () => encryptJweEcdhEs(JSON.stringify(payload), d.idpEnc.key, { header: { cty: 'JSON' } }));
    const form: Record<string, string> = {
      [PARAM.grantType]: 'authorization_code',
      [PARAM.code]: p.code,
      [PARAM.clientId]: p.relyingParty.clientId,
      [PARAM.redirectUri]: p.relyingParty.redirectUri,
      [PARAM.keyVerifier]: keyVerifier,
    };
    if (p.relyingParty.clientSecret) form[PARAM.clientSecret] = p.relyingParty.clientSecret;
    const res = await this.transport.request('POST', d.document.token_endpoint, form);
    if (res.status !== 200) throw parseIdpErrorFromJson(res.status, res.body);
    const body = parseJsonBody(res, 'token response', 'TOKEN_INVALID') as unknown as Partial<TokenResponse>;
    if (typeof body.access_token !== 'string' || typeof body.id_token !== 'string') {
      throw new IdpProtocolError('TOKEN_INVALID', 'token response lacks access_token or id_token');
    }
    const accessToken = this.openToken(body.access_token, tokenKey, 'access token');
    const idToken = this.openToken(body.id_token, tokenKey, 'ID token');
    const accessTokenClaims = this.verifyIdpJwt(accessToken, d, 'at+JWT', 'access token');
    const idTokenClaims = this.verifyIdpJwt(idToken, d, 'JWT', 'ID token');
    const aud = idTokenClaims.aud;
    const audiences = Array.isArray(aud) ? aud : [aud];
    if (!audiences.includes(p.relyingParty.clientId)) {
      throw new IdpProtocolError('AUDIENCE_MISMATCH', `ID token aud ${JSON.stringify(aud)} does not name client ${p.relyingParty.clientId}`);
    }
    if (idTokenClaims.nonce !== p.nonce) throw new IdpProtocolError('NONCE_MISMATCH', 'ID token nonce differs from the authorization request');
    if (accessTokenClaims.client_id !== undefined && accessTokenClaims.client_id !== p.relyingParty.clientId) {
      throw new IdpProtocolError('AUDIENCE_MISMATCH', `access token was issued to ${JSON.stringify(accessTokenClaims.client_id)}`);
    }
    const exp = num(accessTokenClaims.exp) as number;
    const iat = num(accessTokenClaims.iat) ?? Math.floor(this.clock() / 1000);
    return {
      accessToken,
      idToken,
      accessTokenClaims,
      idTokenClaims,
      tokenType: typeof body.token_type === 'string' ? body.token_type : 'Bearer',
      expiresIn: typeof body.expires_in === 'number' ? body.expires_in : exp - iat,
      expiresAtMs: exp * 1000,
      issuedAtMs: iat * 1000,
      encrypted: { accessToken: body.access_token, idToken: body.id_token },
    };
  }

  private openToken(jwe: string, tokenKey: Buffer, what: string): string {
    const { plaintext } = wrapJose('TOKEN_INVALID', `decrypting the ${what}`, () => decryptJweDir(jwe, tokenKey));
    const inner = wrapJose('TOKEN_INVALID', `${what} plaintext`, () => payloadJson<{ njwt?: unknown }>(plaintext));
    if (typeof inner.njwt !== 'string') throw new IdpProtocolError('TOKEN_INVALID', `${what} plaintext has no njwt`);
    return inner.njwt;
  }

  private verifyIdpJwt(jws: string, d: IdpDiscovery, typ: string, what: string): Record<string, unknown> {
    const verified = wrapJose('BAD_SIGNATURE', `${what} signature`, () => verifyJws(jws, d.idpSig.key, { typ }));
    const claims = wrapJose('TOKEN_INVALID', `${what} payload`, () => payloadJson<Record<string, unknown>>(verified.payload));
    if (typeof claims.iss !== 'string' || normalizeIssuer(claims.iss) !== normalizeIssuer(d.document.issuer)) {
      throw new IdpProtocolError('ISSUER_MISMATCH', `${what} iss ${JSON.stringify(claims.iss)} is not ${d.document.issuer}`);
    }
    const exp = num(claims.exp);
    if (exp === undefined) throw new IdpProtocolError('TOKEN_INVALID', `${what} has no exp`);
    if (exp * 1000 <= this.clock()) throw new IdpProtocolError('TOKEN_EXPIRED', `${what} expired at ${new Date(exp * 1000).toISOString()}`);
    return claims;
  }

  // ------------------------------------------------------------------ session

  /** Ends the SSO session (and every token issued from it, A_18858). */
  async logout(p: { ssoToken?: string; accessToken?: string }): Promise<void> {
    if (!p.ssoToken && !p.accessToken) throw new IdpProtocolError('INVALID_ARGUMENT', 'logout needs an SSO token or an access token');
    const form: Record<string, string> = {};
    if (p.ssoToken) form[PARAM.ssoToken] = p.ssoToken;
    if (p.accessToken) form[PARAM.token] = p.accessToken;
    const res = await this.transport.request('POST', await this.endpoint('end_session_endpoint'), form);
    if (res.status !== 200) throw parseIdpErrorFromJson(res.status, res.body);
  }

  /** RFC 7009: the user declares a token invalid (A_18857). `token` is the access token JWS or its jti. */
  async revoke(token: string, tokenTypeHint?: string): Promise<void> {
    const form: Record<string, string> = { [PARAM.token]: token };
    if (tokenTypeHint) form[PARAM.tokenTypeHint] = tokenTypeHint;
    const res = await this.transport.request('POST', await this.endpoint('revocation_endpoint'), form);
    if (res.status !== 200) throw parseIdpErrorFromJson(res.status, res.body);
  }

  /** RFC 7662: {active:true, …claims} or {active:false}. */
  async introspect(token: string): Promise<IntrospectionResponse> {
    const res = await this.transport.request('POST', await this.endpoint('introspection_endpoint'), { [PARAM.token]: token });
    if (res.status !== 200) throw parseIdpErrorFromJson(res.status, res.body);
    const body = parseJsonBody(res, 'introspection response');
    if (typeof body.active !== 'boolean') throw new IdpProtocolError('UNEXPECTED_RESPONSE', 'introspection response lacks a boolean "active"');
    return body as IntrospectionResponse;
  }
}

/** Code, state and SSO token from a redirect Location; an error Location throws its IdpError. */
export function parseCodeRedirect(location: string, status = 302): CodeRedirect {
  const error = parseIdpErrorFromLocation(location, status);
  if (error) throw error;
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    throw new IdpProtocolError('UNEXPECTED_RESPONSE', `redirect (${status}) without a usable Location`);
  }
  const code = url.searchParams.get(PARAM.code);
  const state = url.searchParams.get(PARAM.state);
  if (!code) throw new IdpProtocolError('UNEXPECTED_RESPONSE', `redirect ${redactUrl(location)} carries neither code nor error`);
  const ssoToken = url.searchParams.get(PARAM.ssoToken) ?? undefined;
  return { kind: 'code', code, state: state ?? '', location, ...(ssoToken ? { ssoToken } : {}) };
}

export type DiscoverOptions = Omit<IdpClientOptions, 'trust'> &
  ({ trust: IdpTrust | TrustAnchors } | { trustRootPem: string | Buffer; caPems?: Array<string | Buffer> });

/**
 * The checked discovery document of `issuerUrl` (a one-off IdpClient). The root alone suffices when the
 * signer certificate is issued by the root or the JWS's x5c carries the issuing CA; otherwise pass the
 * issuing CAs (caPems, or `trust` from fetchPkiTrust).
 */
export async function discover(issuerUrl: string, opts: DiscoverOptions): Promise<IdpDiscovery> {
  const trust = 'trust' in opts ? opts.trust : { rootPem: opts.trustRootPem, caPems: opts.caPems };
  return new IdpClient(issuerUrl, { ...opts, trust }).discover();
}
