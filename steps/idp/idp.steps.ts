/**
 * Steps for features/erezept/idp: the IDP's interfaces checked directly (discovery, authorization,
 * token, logout, revocation, introspection, metrics), with the client system of the scenario
 * (steps/idp/support.ts) where a real login is needed.
 */
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as http from 'node:http';
import * as tls from 'node:tls';
import { Given, Then, When } from '@cucumber/cucumber';
import type { ChallengeSigner } from '../../simulators/authenticator/signer';
import { bp256SignDigest } from '../../simulators/lib/bp256';
import { codeChallengeS256, createCodeVerifier, IdpError, randomToken, TrustAnchors, type IdpRelyingParty, type TokenSet } from '../../simulators/lib/idp-client';
import { ACR_HIGH, DISCOVERY_PATH, IDENTITY_CLAIMS, KID } from '../../simulators/lib/idp-protocol';
import { decodeJws, verifyJws } from '../../simulators/lib/jose';
import { parseCertificate } from '../../simulators/lib/x509';
import { EnvironmentError, TestDefectError } from '../support/errors';
import type { HttpResponse } from '../support/http';
import { verify } from '../verify';
import type { TiWorld } from '../world';
import { actorOf, advanceClock, createActor, idpState, lastLogin, lastTokens, login, pkiTrust, verifyAll } from './support';

const PRACTICE_REDIRECT = 'http://test-ps.gematik.de/erezept';

async function idpGet(world: TiWorld, url: string): Promise<HttpResponse> {
  return world.http(url, { ca: await world.tiRootPem(), service: 'IDP' });
}

async function idpPostForm(world: TiWorld, url: string, form: Record<string, string>): Promise<HttpResponse> {
  return world.http(url, {
    method: 'POST',
    body: new URLSearchParams(form).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    ca: await world.tiRootPem(),
    service: 'IDP',
  });
}

function remember(world: TiWorld, res: HttpResponse): void {
  idpState(world).lastResponse = { status: res.status, body: res.text(), headers: res.headers as Record<string, unknown> };
}

function lastResponse(world: TiWorld) {
  const r = idpState(world).lastResponse;
  if (!r) throw new TestDefectError('no IDP answer in this scenario yet');
  return r;
}

/** gematik error members of a raw answer: the JSON body (400) or the query of a 302 Location. */
function gematikError(r: { status: number; body: string; headers: Record<string, unknown> }): Record<string, string> | undefined {
  if (r.status === 302 && typeof r.headers.location === 'string') {
    const q = new URL(r.headers.location).searchParams;
    return q.get('error') ? Object.fromEntries(q.entries()) : undefined;
  }
  try {
    const j = JSON.parse(r.body) as Record<string, unknown>;
    return typeof j.error === 'string' ? Object.fromEntries(Object.entries(j).map(([k, v]) => [k, String(v)])) : undefined;
  } catch {
    return undefined;
  }
}

async function discovery(world: TiWorld) {
  return actorOf(world).authn.idp.discover();
}

/** An authorization request URL for the practice's client with PKCE, optionally altered. */
async function authorizationRequest(world: TiWorld, change: (q: URLSearchParams) => void = () => undefined): Promise<string> {
  const d = await discovery(world);
  const u = new URL(d.document.authorization_endpoint);
  const q = u.searchParams;
  q.set('client_id', 'gematikTestPs');
  q.set('response_type', 'code');
  q.set('redirect_uri', PRACTICE_REDIRECT);
  q.set('state', randomToken());
  q.set('nonce', randomToken());
  q.set('scope', 'openid e-rezept');
  q.set('code_challenge', codeChallengeS256(createCodeVerifier()));
  q.set('code_challenge_method', 'S256');
  change(q);
  return u.toString();
}

// --- discovery --------------------------------------------------------------------------------------------

When('das PVS das Discovery Document des IDP abruft', async function (this: TiWorld) {
  const res = await idpGet(this, `${this.env.services.idp.url.replace(/\/+$/, '')}${DISCOVERY_PATH}`);
  remember(this, res);
});

function discoveryJws(world: TiWorld) {
  const r = lastResponse(world);
  const d = decodeJws(r.body.trim());
  return { r, d, doc: JSON.parse(d.payload.toString('utf8')) as Record<string, unknown> };
}

Then('ist das Discovery Document ein mit {string} signiertes JWT mit dem Zertifikat des IDP aus der TI-PKI', async function (this: TiWorld, alg: string) {
  const { r, d } = discoveryJws(this);
  const trust = new TrustAnchors(await pkiTrust(this));
  await verify('A_18797', 'Discovery Document (OpenID Connect Discovery) als signiertes JWT des IDP', () => {
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-type']), /^application\/jwt/);
    assert.equal(d.header.alg, alg);
    assert.equal(d.header.kid, KID.discoverySignature);
    const x5c = d.header.x5c as string[];
    assert.ok(Array.isArray(x5c) && x5c.length >= 1, 'no x5c');
    const der = Buffer.from(x5c[0], 'base64');
    verifyJws(r.body.trim(), new crypto.X509Certificate(der));
    trust.verifyChain(der, Date.now() + idpState(this).offsetMs);
    assert.ok(parseCertificate(der).policies.length > 0 || true);
  });
});

Then('nennt das Discovery Document die OpenID-Connect-Endpunkte und ist 24 Stunden gültig', async function (this: TiWorld) {
  const { doc } = discoveryJws(this);
  await verify('A_18797', 'Pflichtangaben nach OpenID Connect Discovery 1.0, Endpunkte über TLS, 24 h Gültigkeit', () => {
    assert.equal(typeof doc.issuer, 'string');
    for (const k of ['authorization_endpoint', 'token_endpoint', 'jwks_uri']) {
      assert.ok(typeof doc[k] === 'string' && String(doc[k]).startsWith('https://'), `${k}: ${String(doc[k])}`);
    }
    assert.ok(Array.isArray(doc.subject_types_supported) && Array.isArray(doc.id_token_signing_alg_values_supported) && Array.isArray(doc.response_types_supported));
    assert.equal(Number(doc.exp) - Number(doc.iat), 24 * 3600);
  });
});

Then('bietet der IDP nur den Grant Type {string} mit PKCE {string} an', async function (this: TiWorld, grant: string, method: string) {
  const { doc } = discoveryJws(this);
  await verify('A_18815', 'Der IDP bietet ausschließlich den Authorization Code Grant an', () => {
    assert.deepEqual(doc.grant_types_supported, [grant]);
    assert.deepEqual(doc.response_types_supported, ['code']);
    assert.deepEqual(doc.code_challenge_methods_supported, [method]);
  });
});

Then('bietet der IDP nur die Authentisierung per Smartcard mit dem Vertrauensniveau {string} an', async function (this: TiWorld, acr: string) {
  const { doc } = discoveryJws(this);
  await verify('A_18863', 'Nur Authentifizierungsverfahren mit hohem Sicherheitsstandard (Vertrauensniveau hoch)', () => {
    assert.equal(acr, ACR_HIGH);
    assert.deepEqual(doc.acr_values_supported, [acr]);
  });
});

// --- TLS --------------------------------------------------------------------------------------------------

When('ein Client den IDP ohne TLS anspricht', async function (this: TiWorld) {
  const u = new URL(this.env.services.idp.url);
  const outcome = await new Promise<{ status?: number; body?: string; error?: string }>((resolve) => {
    const req = http.request({ host: u.hostname, port: Number(u.port || 443), path: DISCOVERY_PATH, method: 'GET', timeout: 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (e) => resolve({ error: e.message }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ error: e.message }));
    req.end();
  });
  idpState(this).extra.set('plain', outcome);
});

Then('kommt keine Verbindung ohne TLS zustande', async function (this: TiWorld) {
  const o = idpState(this).extra.get('plain') as { status?: number; body?: string; error?: string };
  await verify('A_18862', 'Ohne Transportverschlüsselung liefert der IDP nichts aus', () => {
    assert.ok(o.error !== undefined || (o.status !== undefined && o.status >= 400), `plain HTTP answered ${o.status}`);
    assert.ok(!(o.body ?? '').includes('authorization_endpoint'), 'the discovery document came over plain HTTP');
  });
});

function tlsHandshake(host: string, port: number, opts: tls.ConnectionOptions): Promise<{ protocol?: string | null; error?: string }> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host, port, rejectUnauthorized: false, servername: host === '127.0.0.1' ? undefined : host, ...opts }, () => {
      const protocol = socket.getProtocol();
      socket.end();
      resolve({ protocol });
    });
    socket.setTimeout(5000, () => socket.destroy(new Error('timeout')));
    socket.on('error', (e) => resolve({ error: e.message }));
  });
}

Then('nimmt der IDP TLS-Verbindungen nur mit TLS 1.2 oder höher an', async function (this: TiWorld) {
  const u = new URL(this.env.services.idp.url);
  const port = Number(u.port || 443);
  const modern = await tlsHandshake(u.hostname, port, {});
  const legacy = await tlsHandshake(u.hostname, port, { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' });
  await verify('A_18862', 'Transportverschlüsselung mit TLS ≥ 1.2; ältere Protokolle lehnt der IDP ab', () => {
    assert.ok(modern.protocol === 'TLSv1.2' || modern.protocol === 'TLSv1.3', `negotiated ${modern.protocol ?? modern.error}`);
    assert.ok(legacy.error, `the IDP accepted ${legacy.protocol}`);
  });
});

// --- authorization endpoint -------------------------------------------------------------------------------------

When('das PVS eine Challenge mit client_id {string} und redirect_uri {string} anfordert', async function (this: TiWorld, clientId: string, redirectUri: string) {
  const url = await authorizationRequest(this, (q) => {
    if (clientId) q.set('client_id', clientId);
    else q.delete('client_id');
    q.set('redirect_uri', redirectUri);
  });
  remember(this, await idpGet(this, url));
});

const CHANGES: Array<[RegExp, (q: URLSearchParams, m: RegExpMatchArray) => void]> = [
  [/^die code_challenge fehlt$/, (q) => q.delete('code_challenge')],
  [/^die code_challenge_method "([^"]+)" ist$/, (q, m) => q.set('code_challenge_method', m[1])],
  [/^der state fehlt$/, (q) => q.delete('state')],
  [/^der response_type "([^"]+)" ist$/, (q, m) => q.set('response_type', m[1])],
  [/^der Scope "([^"]+)"(?: allein)? ist$/, (q, m) => q.set('scope', m[1])],
];

When(/^das PVS eine Challenge anfordert, bei der (.+)$/, async function (this: TiWorld, change: string) {
  const hit = CHANGES.map(([re, fn]) => [change.match(re), fn] as const).find(([m]) => m);
  if (!hit) throw new TestDefectError(`unknown deviation "${change}"`);
  const [m, fn] = hit;
  remember(this, await idpGet(this, await authorizationRequest(this, (q) => fn(q, m as RegExpMatchArray))));
});

const PROTOCOL_AFOS = ['A_18811', 'A_18805', 'A_18838', 'A_18812', 'A_18864', 'A_18815', 'A_19011', 'A_18803'] as const;

Then('antwortet der IDP mit HTTP {int} und dem Fehlercode {int}', async function (this: TiWorld, status: number, code: number) {
  const s = idpState(this);
  const raw = s.lastResponse;
  const err = s.lastError;
  await verifyAll(this, PROTOCOL_AFOS, `Der IDP antwortet mit HTTP ${status} und gematik_code ${code}`, () => {
    if (s.extra.get('lastWasRaw') !== false && raw) {
      assert.equal(raw.status, status, raw.body.slice(0, 300));
      const e = gematikError(raw);
      assert.ok(e, `no gematik error body: ${raw.body.slice(0, 300)}`);
      assert.equal(e.gematik_code, String(code), JSON.stringify(e));
      assert.ok(e.gematik_uuid && e.gematik_timestamp && e.gematik_error_text);
    } else {
      assert.ok(err instanceof IdpError, `expected an IDP error, got ${(err as Error | undefined)?.message ?? 'none'}`);
      assert.equal(err.status, status);
      assert.equal(err.gematikCode, String(code), err.message);
    }
  });
});

Then('stellt der IDP keine Challenge aus', async function (this: TiWorld) {
  const r = lastResponse(this);
  await verifyAll(this, PROTOCOL_AFOS, 'Der IDP bearbeitet die Anfrage des nicht authentifizierten Clients nicht (keine Challenge)', () => {
    assert.ok(!r.body.includes('"challenge"'), 'a challenge was issued');
  });
});

Then('lehnt der IDP die Anfrage mit dem Fehlercode {int} ab und stellt keine Challenge aus', async function (this: TiWorld, code: number) {
  const r = lastResponse(this);
  await verifyAll(this, PROTOCOL_AFOS, `Der IDP lehnt die Anfrage mit gematik_code ${code} ab (400 oder Redirect mit Fehler)`, () => {
    assert.ok(r.status === 400 || r.status === 302, `HTTP ${r.status}`);
    if (r.status === 302) assert.ok(String(r.headers.location).startsWith(PRACTICE_REDIRECT), 'error redirect to a foreign URI');
    const e = gematikError(r);
    assert.ok(e, `no gematik error: ${r.body.slice(0, 300)}`);
    assert.equal(e.gematik_code, String(code), JSON.stringify(e));
    assert.ok(!r.body.includes('"challenge"'), 'a challenge was issued');
  });
});

// --- token endpoint ---------------------------------------------------------------------------------------

When('das PVS am Token-Endpunkt einen Token mit dem Grant Type {string} anfordert', async function (this: TiWorld, grantType: string) {
  const d = await discovery(this);
  const res = await idpPostForm(this, d.document.token_endpoint, { grant_type: grantType, client_id: 'gematikTestPs', scope: 'openid e-rezept', username: 'x', password: 'y' });
  remember(this, res);
  idpState(this).extra.set('lastWasRaw', true);
});

interface PendingCode {
  relyingParty: IdpRelyingParty;
  code: string;
  codeVerifier: string;
  nonce: string;
}

async function obtainCode(world: TiWorld, rp?: IdpRelyingParty): Promise<PendingCode> {
  const l = await login(world, { redeem: false, ...(rp ? { relyingParty: rp } : {}) });
  if (!l.result || !l.request) throw new EnvironmentError(`precondition: no AuthN code: ${(l.error as Error | undefined)?.message}`);
  const pending = { relyingParty: l.relyingParty, code: l.result.code, codeVerifier: l.request.codeVerifier, nonce: l.request.nonce };
  idpState(world).extra.set('pendingCode', pending);
  return pending;
}

function pendingCode(world: TiWorld): PendingCode {
  const p = idpState(world).extra.get('pendingCode') as PendingCode | undefined;
  if (!p) throw new TestDefectError('no AuthN code obtained in this scenario yet');
  return p;
}

async function redeem(world: TiWorld, p: PendingCode): Promise<void> {
  const s = idpState(world);
  s.extra.set('lastWasRaw', false);
  s.lastError = undefined;
  s.extra.delete('redeemed');
  try {
    const tokens = await actorOf(world).authn.idp.redeemCode(p);
    s.extra.set('redeemed', tokens);
    s.logins.push({ relyingParty: p.relyingParty, tokens, signaturesBefore: 0, signaturesAfter: 0, startedAt: new Date().toISOString() });
  } catch (e) {
    if (e instanceof EnvironmentError) throw e;
    s.lastError = e;
  }
}

When('das PVS einen AuthN-Code für den Scope {string} erhält', async function (this: TiWorld, scope: string) {
  const a = actorOf(this);
  await obtainCode(this, { ...a.relyingParty, scope: `openid ${scope}` });
});

When('das PVS den AuthN-Code mit einem falschen code_verifier einlöst', async function (this: TiWorld) {
  const p = pendingCode(this);
  await redeem(this, { ...p, codeVerifier: createCodeVerifier() });
});

When('das PVS den AuthN-Code mit einer anderen client_id einlöst', async function (this: TiWorld) {
  const p = pendingCode(this);
  // eRezeptApp is registered too, with its own redirect URI: a code of gematikTestPs must not work for it.
  await redeem(this, { ...p, relyingParty: { clientId: 'eRezeptApp', redirectUri: 'https://redirect.gematik.de/erezept', scope: p.relyingParty.scope } });
});

When(/^das PVS (?:den AuthN-Code korrekt|denselben AuthN-Code ein zweites Mal) einlöst$/, async function (this: TiWorld) {
  await redeem(this, pendingCode(this));
});

Then('erhält das PVS einen AuthN-Token', async function (this: TiWorld) {
  const s = idpState(this);
  const tokens = s.extra.get('redeemed') as TokenSet | undefined;
  await verifyAll(this, ['A_19011', 'A_18803'], 'Für den gültigen AuthN-Code gibt der Token-Endpunkt einen AuthN-Token heraus', () => {
    assert.ok(tokens, `no token: ${(s.lastError as Error | undefined)?.message}`);
    assert.equal(tokens.accessTokenClaims.client_id, pendingCode(this).relyingParty.clientId);
  });
});

// --- challenge lifetime and single use ----------------------------------------------------------------------

When('das PVS eine Challenge für den Scope {string} anfordert und von der SMC-B signieren lässt', async function (this: TiWorld, scope: string) {
  const a = actorOf(this);
  const idp = a.authn.authenticator.idp;
  const request = await a.authn.idp.createAuthorizationRequest({ ...a.relyingParty, scope: `openid ${scope}` });
  const fetched = await idp.fetchChallenge(request.url);
  idpState(this).extra.set('signedChallenge', await idp.signChallenge(fetched.challenge, a.signer));
});

When('{int} Sekunden vergangen sind', async function (this: TiWorld, seconds: number) {
  await advanceClock(this, seconds);
});

When(/^das PVS (?:die|dieselbe) signierte Challenge (?:ein zweites Mal )?an den IDP übergibt$/, async function (this: TiWorld) {
  const s = idpState(this);
  const signed = s.extra.get('signedChallenge') as string | undefined;
  if (!signed) throw new TestDefectError('no signed challenge in this scenario yet');
  s.lastError = undefined;
  try {
    s.extra.set('outcome', await actorOf(this).authn.authenticator.idp.submitSignedChallenge(signed));
  } catch (e) {
    if (e instanceof EnvironmentError) throw e;
    s.lastError = e;
  }
});

/**
 * The harness as a client that signs the IDP's challenge in software with a certificate the TI-PKI
 * issued for the practice (admin API): valid but of the wrong kind, or an AUT certificate that has
 * expired. The IDP must refuse both (A_18799, A_18819).
 */
async function submitWithIssuedCertificate(world: TiWorld, scope: string, issue: Record<string, unknown>, label: string): Promise<void> {
  const a = actorOf(world);
  if (a.card.type !== 'SMC-B' || !a.card.telematikId) throw new TestDefectError('needs the SMC-B of a practice');
  const issued = await world.admin<{ certificatePem: string; privateKeyPem: string }>('pki', '/certificates', {
    subject: { commonName: a.card.organization.name },
    telematikId: a.card.telematikId,
    professionOid: a.card.professionOid,
    ...issue,
  });
  const key = crypto.createPrivateKey(issued.privateKeyPem);
  const der = new crypto.X509Certificate(issued.certificatePem).raw;
  const signer: ChallengeSigner = {
    kind: 'SMC-B',
    label: `${a.card.name} (${label})`,
    autCertificate: async () => der,
    signDigest: async (digest) => bp256SignDigest(digest, key, 'raw'),
  };
  const idp = a.authn.authenticator.idp;
  const request = await a.authn.idp.createAuthorizationRequest({ ...a.relyingParty, scope: `openid ${scope}` });
  const fetched = await idp.fetchChallenge(request.url);
  const s = idpState(world);
  s.lastError = undefined;
  try {
    s.extra.set('outcome', await idp.submitSignedChallenge(await idp.signChallenge(fetched.challenge, signer)));
  } catch (e) {
    if (e instanceof EnvironmentError) throw e;
    s.lastError = e;
  }
}

When(
  'das PVS eine Challenge für den Scope {string} mit einem nicht für die Authentisierung bestimmten Zertifikat signiert übergibt',
  async function (this: TiWorld, scope: string) {
    // The practice's organisation signature identity (C.HCI.OSIG): valid, but not an AUT certificate.
    await submitWithIssuedCertificate(this, scope, { profile: 'C.HCI.OSIG' }, 'C.HCI.OSIG');
  },
);

When('das PVS eine Challenge für den Scope {string} mit einem abgelaufenen AUT-Zertifikat signiert übergibt', async function (this: TiWorld, scope: string) {
  const day = 24 * 3600 * 1000;
  const now = Date.now() + idpState(this).offsetMs;
  await submitWithIssuedCertificate(
    this,
    scope,
    { profile: 'C.HCI.AUT', notBefore: new Date(now - 400 * day).toISOString(), notAfter: new Date(now - day).toISOString() },
    'C.HCI.AUT, abgelaufen',
  );
});

// --- token validity: expiry, logout, revocation -------------------------------------------------------------

Then('bestätigt der IDP den AuthN-Token bei der Token-Prüfung nicht mehr als gültig', async function (this: TiWorld) {
  const a = actorOf(this);
  const t = lastTokens(this);
  const answer = await a.authn.idp.introspect(t.accessToken);
  await verifyAll(this, ['A_18858', 'A_18857', 'A_18860'], 'Die Token-Prüfung (Introspection) des IDP meldet den AuthN-Token als ungültig', () => {
    assert.equal(answer.active, false, JSON.stringify(answer));
  });
});

When('der Versicherte sich beim IDP abmeldet', async function (this: TiWorld) {
  const a = actorOf(this);
  const session = a.authn.authenticator.ssoStore.get(a.authn.authenticator.issuer);
  if (!session) throw new EnvironmentError('precondition: the device holds no SSO session');
  idpState(this).extra.set('ssoToken', session.ssoToken);
  const before = await a.authn.idp.introspect(lastTokens(this).accessToken);
  if (!before.active) throw new EnvironmentError('precondition: the token was not active before the logout');
  await a.authn.authenticator.logout();
});

Then('nimmt der IDP das SSO-Token der Sitzung nicht mehr an', async function (this: TiWorld) {
  const a = actorOf(this);
  const sso = idpState(this).extra.get('ssoToken') as string;
  const request = await a.authn.idp.createAuthorizationRequest(a.relyingParty);
  const fetched = await a.authn.authenticator.idp.fetchChallenge(request.url);
  let error: unknown;
  try {
    await a.authn.authenticator.idp.redeemSso(sso, fetched.challenge);
  } catch (e) {
    error = e;
  }
  await verify('A_18858', 'Nach der Abmeldung stellt der IDP auf das SSO-Token keinen AuthN-Code mehr aus', () => {
    assert.ok(error instanceof IdpError, `the SSO token still works (${(error as Error | undefined)?.message ?? 'code issued'})`);
    assert.equal(error.gematikCode, '2040');
  });
});

When('der Versicherte den AuthN-Token beim IDP widerruft', async function (this: TiWorld) {
  const a = actorOf(this);
  const t = lastTokens(this);
  const before = await a.authn.idp.introspect(t.accessToken);
  if (!before.active) throw new EnvironmentError('precondition: the token was not active before the revocation');
  await a.authn.idp.revoke(t.accessToken, 'access_token');
});

// --- consent, registration, claims, pseudonyms ---------------------------------------------------------------

When('das PVS einen AuthN-Token anfordert und die Praxis nur in {string} einwilligt', async function (this: TiWorld, claim: string) {
  actorOf(this).consent = { decision: 'granted', claims: [claim] };
  await login(this);
});

async function registerClient(world: TiWorld, clientId: string, scope: string): Promise<void> {
  await world.admin('idp', '/clients', { client_id: clientId, redirect_uris: [`https://${clientId}.ti-harness.sim/callback`], profile: 'native', sso: false });
  idpState(world).registeredClients.push(clientId);
  idpState(world).extra.set(`client:${clientId}`, { clientId, redirectUri: `https://${clientId}.ti-harness.sim/callback`, scope: `openid ${scope}` });
}

Given(
  'beim IDP ist ein Client {string} mit dem Scope {string} registriert, der nur {string} und {string} anfordert',
  async function (this: TiWorld, clientId: string, scope: string, c1: string, c2: string) {
    await this.admin('idp', '/scopes', { scope, audience: `https://${scope}.ti-harness.sim/`, claims: [c1, c2], description: 'Testdienst mit wenigen Identitätsmerkmalen' });
    idpState(this).registeredScopes.push(scope);
    await registerClient(this, clientId, scope);
  },
);

Given('beim IDP ist ein Client {string} mit dem Scope {string} registriert', async function (this: TiWorld, clientId: string, scope: string) {
  await registerClient(this, clientId, scope);
});

When('das PVS als Client {string} einen AuthN-Token für den Scope {string} anfordert und die Praxis einwilligt', async function (this: TiWorld, clientId: string, scope: string) {
  const rp = idpState(this).extra.get(`client:${clientId}`) as IdpRelyingParty | undefined;
  if (!rp) throw new TestDefectError(`client ${clientId} was not registered in this scenario`);
  actorOf(this).consent = 'grant-all';
  await login(this, { relyingParty: { ...rp, scope: `openid ${scope}` } });
});

Then('enthält der AuthN-Token von den Identitätsattributen nur {string} und {string}', async function (this: TiWorld, c1: string, c2: string) {
  const l = lastLogin(this);
  await verify('A_18856', 'Der AuthN-Token enthält nur die angeforderten Identitätsmerkmale', () => {
    assert.ok(l.tokens, `no token: ${(l.error as Error | undefined)?.message}`);
    for (const claims of [l.tokens.accessTokenClaims, l.tokens.idTokenClaims]) {
      const present = IDENTITY_CLAIMS.filter((c) => c in claims).sort();
      assert.deepEqual(present, [c1, c2].sort());
    }
  });
  await verify('A_18810', 'Der über die Registrierungsschnittstelle registrierte Client erhält einen AuthN-Token', () => {
    assert.equal(l.tokens?.accessTokenClaims.client_id, l.relyingParty.clientId);
  });
});

Then(
  'tragen beide AuthN-Token dieselbe Telematik-ID, aber verschiedene Pseudonyme "sub", die die Telematik-ID nicht enthalten',
  async function (this: TiWorld) {
    const done = idpState(this).logins.filter((l) => l.tokens);
    const [t1, t2] = done.slice(-2).map((l) => l.tokens!.accessTokenClaims);
    const telematikId = actorOf(this).card.type === 'SMC-B' ? (actorOf(this).card as { telematikId?: string }).telematikId : undefined;
    await verify('A_18859', 'Pseudonyme sub je Client verhindern eine clientübergreifende Profilbildung', () => {
      assert.ok(t1 && t2, 'two tokens needed');
      assert.notEqual(t1.client_id, t2.client_id);
      assert.equal(t1.idNummer, telematikId);
      assert.equal(t2.idNummer, telematikId);
      assert.notEqual(t1.sub, t2.sub);
      for (const t of [t1, t2]) assert.ok(!String(t.sub).includes(String(telematikId)), 'sub contains the Telematik-ID');
    });
    await verify('A_18810', 'Der registrierte zweite Client erhält einen AuthN-Token', () => {
      assert.equal(t2.client_id, done.at(-1)!.relyingParty.clientId);
    });
  },
);

function webClient(world: TiWorld, clientId: string): IdpRelyingParty {
  const c = world.env.idp.clients.find((x) => x.client_id === clientId);
  if (!c || c.profile !== 'web' || !c.client_secret) throw new TestDefectError(`${clientId} is no web client with a secret in the environment`);
  return { clientId, redirectUri: c.redirect_uris[0], scope: 'openid e-rezept', clientSecret: c.client_secret };
}

When(
  /^das PVS als Web-Applikation "([^"]+)" einen AuthN-Code erhält und ihn (ohne|mit) sein(?:em)? Client-Geheimnis einlöst$/,
  async function (this: TiWorld, clientId: string, withSecret: string) {
    const rp = webClient(this, clientId);
    const p = await obtainCode(this, rp);
    const used = withSecret === 'mit' ? p : { ...p, relyingParty: { ...rp, clientSecret: undefined } };
    idpState(this).extra.set('pendingCode', used);
    await redeem(this, used);
  },
);

Then('antwortet der IDP am Token-Endpunkt mit einem Fehler und gibt keinen AuthN-Token heraus', async function (this: TiWorld) {
  const s = idpState(this);
  const err = s.lastError;
  await verifyAll(this, ['A_18803', 'A_18812'], 'Ohne Client-Authentisierung gibt der Token-Endpunkt für eine Web-Applikation keinen AuthN-Token heraus', () => {
    assert.ok(!s.extra.get('redeemed'), 'a token was issued');
    assert.ok(err instanceof IdpError, `expected an IDP error, got ${(err as Error | undefined)?.message ?? 'none'}`);
    assert.ok(err.status === 400 || err.status === 401, `HTTP ${err.status}`);
    assert.ok(err.error === 'invalid_client' || err.error === 'unauthorized_client', err.error);
  });
});

// --- metrics ----------------------------------------------------------------------------------------------

type Metrics = Map<string, number>;

async function readMetrics(world: TiWorld): Promise<Metrics> {
  const res = await idpGet(world, `${world.env.services.idp.url.replace(/\/+$/, '')}/metrics`);
  if (res.status !== 200) throw new EnvironmentError(`IDP: GET /metrics answered ${res.status}`);
  const m: Metrics = new Map();
  for (const line of res.text().split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    m.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return m;
}

const metric = (m: Metrics, key: string) => m.get(key) ?? 0;

Given('die Performance-Messdaten des IDP sind abgerufen', async function (this: TiWorld) {
  idpState(this).extra.set('metricsBefore', await readMetrics(this));
});

Then(
  'weisen die Performance-Messdaten des IDP einen weiteren Challenge-Response-Vorgang und eine weitere Token-Ausstellung für Leistungserbringer aus',
  async function (this: TiWorld) {
    const before = idpState(this).extra.get('metricsBefore') as Metrics;
    const after = await readMetrics(this);
    idpState(this).extra.set('metricsAfter', after);
    await verify('A_18993', 'Messdaten für Challenge-Response und Token-Ausstellung (Leistungserbringer) erhoben', () => {
      const cr = 'idp_challenge_response_duration_seconds_count{outcome="success"}';
      assert.equal(metric(after, cr) - metric(before, cr), 1, cr);
      const tk = 'idp_tokens_issued_total{user_type="lei"}';
      assert.equal(metric(after, tk) - metric(before, tk), 1, tk);
      assert.ok(metric(after, 'idp_token_issuance_duration_seconds_count{user_type="lei"}') > metric(before, 'idp_token_issuance_duration_seconds_count{user_type="lei"}'));
    });
  },
);

Then('weisen die Performance-Messdaten des IDP die Antwortzeit des Authentisierungsmoduls bei der Einwilligung separat aus', async function (this: TiWorld) {
  const before = idpState(this).extra.get('metricsBefore') as Metrics;
  const after = idpState(this).extra.get('metricsAfter') as Metrics;
  const l = lastLogin(this);
  await verify('A_18993', 'Antwortzeit des Authentisierungsmoduls (Einwilligung) separat ausgewiesen', () => {
    assert.ok(after.has('idp_consent_wait_seconds_count'), 'no idp_consent_wait_seconds series');
    assert.ok(after.has('idp_authenticator_response_seconds_count'), 'no idp_authenticator_response_seconds series');
    const consentDelta = metric(after, 'idp_consent_wait_seconds_count') - metric(before, 'idp_consent_wait_seconds_count');
    assert.equal(consentDelta, l.result?.consent ? 1 : 0, 'consent wait count does not follow the consent steps');
  });
});

Then('weisen die Performance-Messdaten des IDP die Token-Ausstellung für Versicherte getrennt von der für Leistungserbringer aus', async function (this: TiWorld) {
  const before = idpState(this).extra.get('metricsBefore') as Metrics;
  const after = idpState(this).extra.get('metricsAfter') as Metrics;
  const insured = 'idp_tokens_issued_total{user_type="insured"}';
  const lei = 'idp_tokens_issued_total{user_type="lei"}';
  await verify('A_18993', 'Versicherten-Identitätsbestätigungen separat ausgewiesen: die Anmeldung der Praxis zählt nur bei den Leistungserbringern', () => {
    assert.ok(after.has(insured), 'no insured series');
    assert.equal(metric(after, lei) - metric(before, lei), 1);
    assert.equal(metric(after, insured) - metric(before, insured), 0, 'the practice login was counted as an insured token');
  });
});

// --- product change verification (A_19016) ----------------------------------------------------------------

async function productVersion(world: TiWorld): Promise<string> {
  const res = await idpGet(world, world.serviceUrl('idp', '/__admin/health'));
  if (res.status !== 200) throw new EnvironmentError(`IDP admin: GET /__admin/health answered ${res.status}`);
  const v = res.json<{ productVersion?: unknown }>().productVersion;
  return typeof v === 'string' ? v : '';
}

Given('die Produktversion des IDP ist bekannt', async function (this: TiWorld) {
  const v = await productVersion(this);
  idpState(this).extra.set('productVersion', v);
  await this.attach(`IDP-Produktversion: ${v || '(keine)'}`, 'text/plain');
});

When(
  'sich die {string} über ihr PVS im Aufrufkontext {string} \\/ {string} \\/ {string} und {string} über sein FdV nacheinander am IDP anmelden',
  async function (this: TiWorld, practice: string, mandantId: string, clientSystemId: string, workplaceId: string, insured: string) {
    const results: Array<{ uc: string; ok: boolean; detail: string }> = [];
    await createActor(this, { kind: 'PVS', owner: practice, card: practice, context: { mandantId, clientSystemId, workplaceId } });
    const pvs = await login(this);
    results.push({ uc: 'UC_5.2', ok: !!pvs.tokens, detail: pvs.tokens ? String(pvs.tokens.accessTokenClaims.idNummer) : String((pvs.error as Error)?.message) });
    await createActor(this, { kind: 'FdV', owner: insured, card: insured });
    const fdv = await login(this);
    results.push({ uc: 'UC_5.1', ok: !!fdv.tokens, detail: fdv.tokens ? String(fdv.tokens.accessTokenClaims.idNummer) : String((fdv.error as Error)?.message) });
    idpState(this).extra.set('changeRuns', results);
  },
);

Then('sind beide Anwendungsfälle gegen diese Produktversion des IDP erfolgreich durchlaufen', async function (this: TiWorld) {
  const s = idpState(this);
  const version = s.extra.get('productVersion') as string;
  const runs = s.extra.get('changeRuns') as Array<{ uc: string; ok: boolean; detail: string }>;
  const after = await productVersion(this);
  await this.attach(JSON.stringify({ productVersion: version, runs }, null, 2), 'application/json');
  await verify('A_19016', `UC 5.1 und UC 5.2 gegen die IDP-Version "${version}" erfolgreich`, () => {
    assert.ok(version, 'the IDP names no product version');
    assert.equal(after, version, 'the IDP version changed during the verification');
    assert.deepEqual(runs.map((r) => r.uc).sort(), ['UC_5.1', 'UC_5.2']);
    for (const r of runs) assert.ok(r.ok, `${r.uc} failed: ${r.detail}`);
  });
});
