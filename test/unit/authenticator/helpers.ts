/**
 * Helpers of the authenticator/IDP-client unit tests: a throw-away PKI in a temp dir, a software
 * ChallengeSigner (counts its signatures), and a small fake IDP over HTTPS that serves exactly the
 * parts the client checks on its own (discovery, JWKs, token endpoint) with switches to break them.
 * The full protocol runs against the real IDP in e2e.test.ts.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { bp256PublicKeyToJwk, bp256SignDigest, generateBp256KeyPair } from '../../../simulators/lib/bp256';
import { json, startHttpServer, type HttpServerHandle } from '../../../simulators/lib/http';
import { decryptJweEcdhEs, encryptJweDir, payloadJson, signJws } from '../../../simulators/lib/jose';
import { DISCOVERY_PATH, KID } from '../../../simulators/lib/idp-protocol';
import { loadOrCreatePki, type IssuedCertificateWithKey, type Pki } from '../../../simulators/pki/hierarchy';
import type { ChallengeSigner } from '../../../simulators/authenticator/signer';

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

let pkiPromise: Promise<Pki> | undefined;
/** One PKI per test process (generated in a temp dir on first use). */
export function testPki(): Promise<Pki> {
  return (pkiPromise ??= loadOrCreatePki(tempDir('authn-pki-')));
}

/** A ChallengeSigner with a software key (the card stand-in for unit tests). */
export class SoftwareSigner implements ChallengeSigner {
  readonly kind = 'SMC-B' as const;
  digests: Buffer[] = [];
  constructor(
    readonly label: string,
    private readonly certificate: Buffer,
    private readonly key: crypto.KeyObject,
    private readonly mangle?: (sig: Buffer) => Buffer,
  ) {}

  get signatures(): number {
    return this.digests.length;
  }

  async autCertificate(): Promise<Buffer> {
    return this.certificate;
  }

  async signDigest(digest: Buffer): Promise<Buffer> {
    this.digests.push(Buffer.from(digest));
    const sig = bp256SignDigest(digest, this.key);
    return this.mangle ? this.mangle(sig) : sig;
  }
}

export async function smcbSigner(label = 'Praxis Test'): Promise<{ signer: SoftwareSigner; issued: IssuedCertificateWithKey }> {
  const pki = await testPki();
  const issued = pki.issue({ profile: 'C.HCI.AUT', subject: { organization: label, commonName: label } });
  return { signer: new SoftwareSigner(label, issued.certificate, issued.privateKey), issued };
}

export interface FakeIdpBehaviour {
  /** Sign the discovery document with this key/certificate instead of the C.IDP.SIG one. */
  discoverySigner?: { key: crypto.KeyObject; certificate: Buffer };
  discoveryKid?: string;
  discoveryExpOffsetS?: number;
  discoveryIssuer?: string;
  discoveryContentType?: string;
  tamperDiscovery?: boolean;
  /** Token endpoint: overrides of the ID token claims. */
  idTokenClaims?: Record<string, unknown>;
  /** Token endpoint: sign the tokens with this key instead of puk_idp_sig. */
  tokenSigningKey?: crypto.KeyObject;
  /** Token endpoint: answer with this error body (400). */
  tokenError?: Record<string, unknown>;
}

export interface FakeIdp {
  url: string;
  server: HttpServerHandle;
  behaviour: FakeIdpBehaviour;
  sigKey: crypto.KeyObject;
  encKey: crypto.KeyObject;
  /** What the token endpoint received (form) and the key_verifier content. */
  tokenRequests: Array<{ form: Record<string, string>; keyVerifier: Record<string, unknown>; keyVerifierHeader: Record<string, unknown> }>;
  stop(): Promise<void>;
}

/** An HTTPS server with a TLS certificate of the test PKI, exposing only discovery, JWKs and token endpoint. */
export async function startFakeIdp(): Promise<FakeIdp> {
  const pki = await testPki();
  const sig = pki.issue({ profile: 'C.IDP.SIG' });
  const tls = pki.issue({ profile: 'TLS-SERVER', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  const enc = generateBp256KeyPair();
  const behaviour: FakeIdpBehaviour = {};
  const tokenRequests: FakeIdp['tokenRequests'] = [];
  let base = '';
  const now = () => Math.floor(Date.now() / 1000);

  const document = () => ({
    issuer: behaviour.discoveryIssuer ?? base,
    authorization_endpoint: `${base}/sign_response`,
    sso_endpoint: `${base}/sso_response`,
    token_endpoint: `${base}/token`,
    end_session_endpoint: `${base}/logout`,
    revocation_endpoint: `${base}/revoke`,
    introspection_endpoint: `${base}/introspect`,
    consent_endpoint: `${base}/consent`,
    jwks_uri: `${base}/jwks`,
    uri_disc: `${base}${DISCOVERY_PATH}`,
    uri_puk_idp_enc: `${base}/idpEnc/jwk.json`,
    uri_puk_idp_sig: `${base}/idpSig/jwk.json`,
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['BP256R1'],
    response_types_supported: ['code'],
    scopes_supported: ['openid', 'e-rezept'],
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code'],
    acr_values_supported: ['gematik-ehealth-loa-high'],
    token_endpoint_auth_methods_supported: ['none'],
    code_challenge_methods_supported: ['S256'],
    iat: now(),
    exp: now() + (behaviour.discoveryExpOffsetS ?? 24 * 3600),
  });

  const server = await startHttpServer({
    host: '127.0.0.1',
    port: 0,
    tls: { key: tls.privateKeyPem, cert: [tls.certificatePem, ...tls.chainPem.slice(0, -1)].join('') },
    routes: [
      {
        method: 'GET',
        path: DISCOVERY_PATH,
        handler: () => {
          const signer = behaviour.discoverySigner ?? { key: sig.privateKey, certificate: sig.certificate };
          let jws = signJws(document(), signer.key, { kid: behaviour.discoveryKid ?? KID.discoverySignature, typ: 'JWT', x5c: [signer.certificate.toString('base64')] });
          if (behaviour.tamperDiscovery) {
            const [h, p, s] = jws.split('.');
            const payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
            payload.token_endpoint = 'https://evil.example/token';
            jws = `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}`;
          }
          return { status: 200, headers: { 'content-type': behaviour.discoveryContentType ?? 'application/jwt;charset=UTF-8' }, body: jws };
        },
      },
      { method: 'GET', path: '/idpEnc/jwk.json', handler: () => json(200, { ...bp256PublicKeyToJwk(enc.publicKey), kid: KID.idpEncryption, use: 'enc' }) },
      {
        method: 'GET',
        path: '/idpSig/jwk.json',
        handler: () => json(200, { ...bp256PublicKeyToJwk(sig.privateKey), kid: KID.idpSignature, use: 'sig', x5c: [sig.certificate.toString('base64')] }),
      },
      {
        method: 'POST',
        path: '/token',
        handler: (ctx) => {
          const form = Object.fromEntries(new URLSearchParams(ctx.body.toString('utf8')));
          if (behaviour.tokenError) return json(400, behaviour.tokenError);
          const kv = decryptJweEcdhEs(form.key_verifier, enc.privateKey);
          const keyVerifier = payloadJson<Record<string, unknown>>(kv.plaintext);
          tokenRequests.push({ form, keyVerifier, keyVerifierHeader: kv.header });
          const tokenKey = Buffer.from(String(keyVerifier.token_key), 'base64url');
          const key = behaviour.tokenSigningKey ?? sig.privateKey;
          const t = now();
          const common = { iss: base, sub: 'pairwise-sub', iat: t, exp: t + 300, auth_time: t, acr: 'gematik-ehealth-loa-high', amr: ['mfa', 'sc', 'pin'], azp: form.client_id };
          const at = signJws({ ...common, aud: 'https://erp-test.zentral.erp.splitdns.ti-dienste.de/', jti: crypto.randomUUID(), scope: 'openid e-rezept', client_id: form.client_id }, key, { kid: KID.idpSignature, typ: 'at+JWT' });
          const id = signJws({ ...common, aud: form.client_id, nonce: 'NONCE-FROM-CODE', ...(behaviour.idTokenClaims ?? {}) }, key, { kid: KID.idpSignature, typ: 'JWT' });
          const wrap = (jws: string) => encryptJweDir(JSON.stringify({ njwt: jws }), tokenKey, { header: { cty: 'NJWT', exp: t + 300 } });
          return json(200, { access_token: wrap(at), id_token: wrap(id), token_type: 'Bearer', expires_in: 300 });
        },
      },
    ],
  });
  base = server.url;
  return { url: base, server, behaviour, sigKey: sig.privateKey, encKey: enc.privateKey, tokenRequests, stop: () => server.close() };
}
