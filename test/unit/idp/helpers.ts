/**
 * Shared helpers of the IDP tests: a PKI service and an IDP on ephemeral ports (real HTTPS with the
 * PKI's root as trust anchor), a raw HTTPS client that does not follow redirects, and a test-side
 * client of the IDP protocol (PKCE, signed challenge, key_verifier, token decryption) written from
 * the wire contract, so the tests check the server against the contract rather than against itself.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';
import { SimClock } from '../../../simulators/lib/clock';
import { resolveEnvironment, type Environment, type IdpConfig } from '../../../simulators/lib/config';
import {
  CTY_NESTED_JWT,
  DISCOVERY_PATH,
  type ChallengeResponse,
  type IdpDiscoveryDocument,
  type TokenResponse,
} from '../../../simulators/lib/idp-protocol';
import { decryptJweDir, encryptJweEcdhEs, payloadJson, verifyJws, base64UrlEncode } from '../../../simulators/lib/jose';
import { freePort } from '../../../simulators/lib/net-probe';
import { isSignedBy, parseCertificate } from '../../../simulators/lib/x509';
import type { ChallengeSigner } from '../../../simulators/authenticator/signer';
import { startPkiService, type RunningPkiService } from '../../../simulators/pki/service';
import { startIdp, type RunningIdp } from '../../../simulators/idp/service';

export interface IdpFixture {
  tmp: string;
  env: Environment;
  pkiService: RunningPkiService;
  idp: RunningIdp;
  agent: https.Agent;
  logs: string[];
  clock: SimClock;
  stop(): Promise<void>;
}

export interface IdpFixtureOptions {
  config?: Partial<IdpConfig>;
  /** Share the PKI service of another fixture (a second IDP on the same PKI). */
  pkiService?: RunningPkiService;
  tmp?: string;
}

export async function startIdpFixture(opts: IdpFixtureOptions = {}): Promise<IdpFixture> {
  const tmp = opts.tmp ?? fs.mkdtempSync(path.join(os.tmpdir(), 'ti-idp-'));
  const logs: string[] = [];
  const log = (m: string) => logs.push(m);
  const started: Array<{ stop(): Promise<void> }> = [];
  try {
    const pkiPort = opts.pkiService ? Number(new URL(opts.pkiService.url).port) : await freePort();
    const env = resolveEnvironment({ name: 'idp-test', dataDir: tmp, services: { pki: { port: pkiPort } } }, path.join(tmp, 'idp-test.yaml'));
    const pkiService = opts.pkiService ?? (await startPkiService({ host: '127.0.0.1', port: pkiPort, dataDir: path.join(tmp, 'pki'), env, log }));
    if (!opts.pkiService) started.push(pkiService);
    const clock = new SimClock();
    const idp = await startIdp({
      host: '127.0.0.1',
      port: 0,
      dataDir: fs.mkdtempSync(path.join(tmp, 'idp-')),
      env,
      log,
      pki: pkiService.pki,
      clock,
      config: opts.config,
    });
    started.push(idp);
    const agent = new https.Agent({ ca: idp.trustRootPem, keepAlive: false });
    return {
      tmp,
      env,
      pkiService,
      idp,
      agent,
      logs,
      clock,
      async stop() {
        for (const s of started.reverse()) await s.stop().catch(() => undefined);
        agent.destroy();
        if (!opts.tmp && !opts.pkiService) fs.rmSync(tmp, { recursive: true, force: true });
      },
    };
  } catch (e) {
    for (const s of started.reverse()) await s.stop().catch(() => undefined);
    throw e;
  }
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json<T = any>(): T;
  location?: string;
}

/** One HTTPS request, no redirect following. `form` is sent as application/x-www-form-urlencoded. */
export function request(
  fx: { agent: https.Agent },
  method: string,
  url: string,
  opts: { form?: Record<string, string | undefined>; headers?: Record<string, string>; body?: string } = {},
): Promise<Reply> {
  const body =
    opts.form !== undefined
      ? new URLSearchParams(Object.entries(opts.form).filter(([, v]) => v !== undefined) as [string, string][]).toString()
      : opts.body;
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.form !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
  if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
  return new Promise((resolve, reject) => {
    const lib = url.startsWith('https:') ? https : http;
    const req = lib.request(url, { method, ...(url.startsWith('https:') ? { agent: fx.agent } : {}), headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          text,
          json: () => JSON.parse(text),
          location: typeof res.headers.location === 'string' ? res.headers.location : undefined,
        });
      });
      res.on('error', reject);
    });
    req.setTimeout(20_000, () => req.destroy(new Error('request timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

// ------------------------------------------------------------------------------ the protocol, client side

export interface Pkce {
  verifier: string;
  challenge: string;
}

export function pkce(): Pkce {
  const verifier = crypto.randomBytes(48).toString('base64url');
  return { verifier, challenge: crypto.createHash('sha256').update(verifier).digest('base64url') };
}

/** Discovery document, its signature checked with x5c[0] and x5c[0] checked against the PKI root. */
export async function discover(fx: IdpFixture): Promise<IdpDiscoveryDocument> {
  const r = await request(fx, 'GET', `${fx.idp.url}${DISCOVERY_PATH}`);
  if (r.status !== 200) throw new Error(`discovery: HTTP ${r.status} ${r.text}`);
  const v = verifyJws(r.text);
  const root = parseCertificate(fx.idp.trustRootPem);
  const ca = v.certificate ? fx.pkiService.pki.issuerOf(v.certificate.raw) : undefined;
  if (!ca || !isSignedBy(ca.parsed, root)) throw new Error('discovery signer does not chain to the PKI root');
  return payloadJson<IdpDiscoveryDocument>(v.payload);
}

export interface Jwks {
  sig: Record<string, any>;
  enc: Record<string, any>;
}

export async function keys(fx: IdpFixture, doc: IdpDiscoveryDocument): Promise<Jwks> {
  const j = (await request(fx, 'GET', doc.jwks_uri)).json<{ keys: Array<Record<string, any>> }>();
  return { sig: j.keys.find((k) => k.use === 'sig') as Record<string, any>, enc: j.keys.find((k) => k.use === 'enc') as Record<string, any> };
}

export interface AuthRequest {
  client_id?: string;
  redirect_uri?: string;
  scope?: string;
  state?: string;
  nonce?: string;
  response_type?: string;
  code_challenge?: string;
  code_challenge_method?: string;
  prompt?: string;
}

export const PS_CLIENT = { client_id: 'gematikTestPs', redirect_uri: 'http://test-ps.gematik.de/erezept' };
export const APP_CLIENT = { client_id: 'eRezeptApp', redirect_uri: 'https://redirect.gematik.de/erezept' };
export const WEB_CLIENT = {
  client_id: 'ti-harness-web-pvs',
  redirect_uri: 'https://web-pvs.ti-harness.sim/callback',
  client_secret: 'ti-harness-web-pvs-secret-NOT-FOR-PRODUCTION',
};

/** GET authorization_endpoint with sensible defaults (undefined removes a parameter). */
export function authorize(fx: IdpFixture, doc: IdpDiscoveryDocument, p: AuthRequest & { pkce?: Pkce }, omit: string[] = []): Promise<Reply> {
  const all: Record<string, string | undefined> = {
    client_id: PS_CLIENT.client_id,
    redirect_uri: PS_CLIENT.redirect_uri,
    response_type: 'code',
    scope: 'openid e-rezept',
    state: 'state-0123',
    nonce: 'nonce-4567',
    code_challenge: p.pkce?.challenge ?? pkce().challenge,
    code_challenge_method: 'S256',
    ...Object.fromEntries(Object.entries(p).filter(([k]) => k !== 'pkce')),
  };
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(all)) if (v !== undefined && !omit.includes(k)) q.set(k, v);
  return request(fx, 'GET', `${doc.authorization_endpoint}?${q.toString()}`);
}

/** The card's JWS over the challenge (header alg BP256R1, cty NJWT, x5c), signed via signDigest. */
export async function cardJws(signer: ChallengeSigner, challenge: string, header: Record<string, unknown> = {}): Promise<string> {
  const cert = await signer.autCertificate();
  const h = { alg: 'BP256R1', typ: 'JWT', cty: CTY_NESTED_JWT, x5c: [cert.toString('base64')], ...header };
  const input = `${base64UrlEncode(JSON.stringify(h))}.${base64UrlEncode(JSON.stringify({ njwt: challenge }))}`;
  const sig = await signer.signDigest(crypto.createHash('sha256').update(input, 'ascii').digest());
  return `${input}.${sig.toString('base64url')}`;
}

/** signed_challenge = JWE ECDH-ES/A256GCM to puk_idp_enc of {"njwt": <card JWS>}, exp = challenge exp. */
export function sealSignedChallenge(cardJwsText: string, encJwk: Record<string, any>, exp: number): string {
  return encryptJweEcdhEs(JSON.stringify({ njwt: cardJwsText }), encJwk as never, { header: { cty: CTY_NESTED_JWT, exp } });
}

export function challengeClaims(challenge: string): Record<string, any> {
  return JSON.parse(Buffer.from(challenge.split('.')[1], 'base64url').toString('utf8'));
}

export async function signChallenge(signer: ChallengeSigner, challenge: string, encJwk: Record<string, any>): Promise<string> {
  return sealSignedChallenge(await cardJws(signer, challenge), encJwk, challengeClaims(challenge).exp);
}

export function postSignedChallenge(fx: IdpFixture, doc: IdpDiscoveryDocument, signed: string | undefined): Promise<Reply> {
  return request(fx, 'POST', doc.authorization_endpoint, { form: { signed_challenge: signed } });
}

export function redirectParams(r: Reply): URLSearchParams {
  if (r.status !== 302 || !r.location) throw new Error(`expected a 302 redirect, got ${r.status}: ${r.text}`);
  return new URL(r.location).searchParams;
}

export interface KeyVerifier {
  jwe: string;
  tokenKey: Buffer;
}

export function keyVerifier(encJwk: Record<string, any>, codeVerifier: string | undefined, tokenKey = crypto.randomBytes(32), extra: Record<string, unknown> = {}): KeyVerifier {
  const payload: Record<string, unknown> = { token_key: tokenKey.toString('base64url'), ...(codeVerifier !== undefined ? { code_verifier: codeVerifier } : {}), ...extra };
  return { jwe: encryptJweEcdhEs(JSON.stringify(payload), encJwk as never, { header: { cty: 'JSON' } }), tokenKey };
}

export function redeem(
  fx: IdpFixture,
  doc: IdpDiscoveryDocument,
  p: { code: string; client_id: string; redirect_uri: string; key_verifier: string; client_secret?: string; grant_type?: string },
  headers: Record<string, string> = {},
): Promise<Reply> {
  return request(fx, 'POST', doc.token_endpoint, { form: { grant_type: 'authorization_code', ...p }, headers });
}

/** Opens a token JWE with the token_key: returns the inner JWS. */
export function openToken(jwe: string, tokenKey: Buffer): { jws: string; header: Record<string, unknown> } {
  const { header, plaintext } = decryptJweDir(jwe, tokenKey);
  return { jws: payloadJson<{ njwt: string }>(plaintext).njwt, header };
}

export function jwsClaims(jws: string): Record<string, any> {
  return JSON.parse(Buffer.from(jws.split('.')[1], 'base64url').toString('utf8'));
}

export interface LoginResult {
  doc: IdpDiscoveryDocument;
  jwks: Jwks;
  challenge: ChallengeResponse;
  code: string;
  ssoToken?: string;
  state: string;
  tokens: TokenResponse;
  accessJws: string;
  idJws: string;
  access: Record<string, any>;
  id: Record<string, any>;
  tokenKey: Buffer;
  consentAsked: boolean;
}

/**
 * The whole flow: challenge, card signature, consent (when asked: granted with exactly the requested
 * claims), token request. Throws with the server's answer when a step fails.
 */
export async function login(
  fx: IdpFixture,
  signer: ChallengeSigner,
  client: { client_id: string; redirect_uri: string; client_secret?: string } = PS_CLIENT,
  extra: AuthRequest = {},
): Promise<LoginResult> {
  const doc = await discover(fx);
  const jwks = await keys(fx, doc);
  const p = pkce();
  const state = `st-${crypto.randomBytes(6).toString('hex')}`;
  const a = await authorize(fx, doc, { client_id: client.client_id, redirect_uri: client.redirect_uri, state, pkce: p, ...extra });
  if (a.status !== 200) throw new Error(`authorization request: ${a.status} ${a.text} ${a.location ?? ''}`);
  const challenge = a.json<ChallengeResponse>();
  let r = await postSignedChallenge(fx, doc, await signChallenge(signer, challenge.challenge, jwks.enc));
  let consentAsked = false;
  if (r.status === 200 && r.json().consent_required) {
    consentAsked = true;
    const c = r.json();
    r = await request(fx, 'POST', doc.consent_endpoint, {
      form: { consent_token: c.consent_token, consent: 'granted', consented_claims: Object.keys(c.requested_claims).join(' ') },
    });
  }
  const q = redirectParams(r);
  if (q.get('error')) throw new Error(`login refused: ${r.location}`);
  const code = q.get('code') as string;
  const kv = keyVerifier(jwks.enc, p.verifier);
  const t = await redeem(fx, doc, { code, client_id: client.client_id, redirect_uri: client.redirect_uri, key_verifier: kv.jwe, client_secret: client.client_secret });
  if (t.status !== 200) throw new Error(`token request: ${t.status} ${t.text}`);
  const tokens = t.json<TokenResponse>();
  const accessJws = openToken(tokens.access_token, kv.tokenKey).jws;
  const idJws = openToken(tokens.id_token, kv.tokenKey).jws;
  return {
    doc,
    jwks,
    challenge,
    code,
    ssoToken: q.get('ssotoken') ?? undefined,
    state: q.get('state') as string,
    tokens,
    accessJws,
    idJws,
    access: jwsClaims(accessJws),
    id: jwsClaims(idJws),
    tokenKey: kv.tokenKey,
    consentAsked,
  };
}

export async function metricsText(fx: IdpFixture): Promise<string> {
  return (await request(fx, 'GET', `${fx.idp.url}/metrics`)).text;
}

/** Value of one Prometheus sample line, 0 when absent. */
export function metric(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

export async function admin(fx: IdpFixture, method: string, p: string, body?: unknown): Promise<Reply> {
  return request(fx, method, `${fx.idp.url}/__admin${p}`, body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
}
