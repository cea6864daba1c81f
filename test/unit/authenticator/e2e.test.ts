/**
 * End to end against the real simulated IDP and PKI (ephemeral ports, temp data dir, real TLS,
 * real OCSP): client system wiring → Authentisierungsmodul with a software card → code → TokenManager.
 * Card signatures are counted at the signer (signDigest calls).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { SimClock } from '../../../simulators/lib/clock';
import { resolveEnvironment, type Environment } from '../../../simulators/lib/config';
import { fetchPkiTrust, IdpClient, IdpError, type IdpRelyingParty, type IdpTrust } from '../../../simulators/lib/idp-client';
import { freePort } from '../../../simulators/lib/net-probe';
import { TokenManager } from '../../../simulators/lib/token-manager';
import { Authenticator } from '../../../simulators/authenticator/authenticator';
import { KNOWN_CLIENTS } from '../../../simulators/authenticator/client-wiring';
import { denyAll, grantOnly, type ConsentPolicy } from '../../../simulators/authenticator/consent';
import { buildAuthenticatorUri } from '../../../simulators/authenticator/invocation';
import { startAuthenticatorService } from '../../../simulators/authenticator/service';
import type { ChallengeSigner } from '../../../simulators/authenticator/signer';
import { DeviceSsoStore } from '../../../simulators/authenticator/sso-store';
import { createPracticeAuthn } from '../../../simulators/pvs/authn';
import { createInsuredAuthn } from '../../../simulators/fdv/authn';
import { issueTestSigner } from '../../../simulators/idp/testing/software-signer';
import { startIdp, type RunningIdp } from '../../../simulators/idp/service';
import { startPkiService, type RunningPkiService } from '../../../simulators/pki/service';

/** Second app on the insured's device, registered with SSO (the environment has only one such client). */
const SECOND_APP: IdpRelyingParty = { clientId: 'ti-harness-fdv-2', redirectUri: 'https://fdv2.ti-harness.sim/callback', scope: 'openid e-rezept' };

let tmp: string;
let env: Environment;
let pkiService: RunningPkiService;
let idp: RunningIdp;
let clock: SimClock;
let trust: IdpTrust;
const logs: string[] = [];

/** Counts the card's signatures. */
class CountingSigner implements ChallengeSigner {
  count = 0;
  constructor(private readonly inner: ChallengeSigner) {}
  get kind() {
    return this.inner.kind;
  }
  get label() {
    return this.inner.label;
  }
  autCertificate() {
    return this.inner.autCertificate();
  }
  signDigest(d: Buffer) {
    this.count++;
    return this.inner.signDigest(d);
  }
}

function signer(profile: 'C.HCI.AUT' | 'C.CH.AUT', label: string) {
  const t = issueTestSigner(pkiService.pki, { profile, label, subject: { commonName: label, givenName: 'Test', surname: label } });
  return { signer: new CountingSigner(t.signer), issued: t.issued };
}

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'authn-e2e-'));
  const log = (m: string) => logs.push(m);
  const pkiPort = await freePort();
  env = resolveEnvironment({ name: 'authn-e2e', dataDir: tmp, services: { pki: { port: pkiPort } } }, path.join(tmp, 'authn-e2e.yaml'));
  pkiService = await startPkiService({ host: '127.0.0.1', port: pkiPort, dataDir: path.join(tmp, 'pki'), env, log });
  clock = new SimClock();
  idp = await startIdp({
    host: '127.0.0.1',
    port: 0,
    dataDir: path.join(tmp, 'idp'),
    env,
    log,
    pki: pkiService.pki,
    clock,
    config: {
      // generous OCSP wait: other test processes may load the 2-core machine (no timing is asserted)
      ocspTimeoutMs: 30_000,
      clients: [
        ...env.idp.clients,
        { client_id: SECOND_APP.clientId, redirect_uris: [SECOND_APP.redirectUri], profile: 'native', sso: true },
      ],
    },
  });
  env.services.idp.url = idp.url;
  trust = await fetchPkiTrust(pkiService.url);
});

after(async () => {
  await idp?.stop();
  await pkiService?.stop();
});

function get(url: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      })
      .on('error', reject);
  });
}

function moduleFor(s: ChallengeSigner, store: DeviceSsoStore, consent?: ConsentPolicy): Authenticator {
  return new Authenticator({ issuerUrl: idp.url, trust, signer: s, ssoStore: store, clock: () => clock.nowMs(), ...(consent ? { consent } : {}) });
}

function clientSide(rp: IdpRelyingParty, authenticator: Authenticator): { idp: IdpClient; tokens: TokenManager } {
  const rpIdp = new IdpClient(idp.url, { trust, clock: () => clock.nowMs() });
  return { idp: rpIdp, tokens: new TokenManager({ client: rp, authenticator, idp: rpIdp, clock: () => clock.nowMs() }) };
}

test('UC 5.2: PVS wiring from the environment; consent once; the module never calls the token endpoint', async () => {
  const { signer: card, issued } = signer('C.HCI.AUT', 'Praxis E2E');
  const pvs = await createPracticeAuthn({ env, signer: card });
  const tokens = await pvs.tokens.tokens();
  assert.equal(card.count, 1);
  assert.equal(pvs.authenticator.stats.consentsAsked, 1);
  assert.equal(tokens.accessTokenClaims.idNummer, issued.telematikId);
  assert.equal(tokens.accessTokenClaims.client_id, 'gematikTestPs');
  assert.equal(tokens.accessTokenClaims.acr, 'gematik-ehealth-loa-high');
  assert.equal(tokens.idTokenClaims.aud, 'gematikTestPs');
  assert.equal(tokens.expiresIn, 300);
  assert.deepEqual(pvs.tokens.stats, { logins: 1, renewals: 0, cardLogins: 1, ssoLogins: 0, cacheHits: 0 });
  assert.equal(await pvs.tokens.accessToken(), tokens.accessToken, 'cached');

  // A_18814 / A_18813 from the module's exchange log
  const d = await pvs.idp.discover();
  const moduleLog = pvs.authenticator.exchanges;
  assert.equal(moduleLog.some((r) => r.url.startsWith(d.document.token_endpoint)), false, 'the module never calls the token endpoint');
  const steps = moduleLog.filter((r) => r.url.startsWith(d.document.authorization_endpoint) || r.url.startsWith(d.document.consent_endpoint) || r.method === 'REDIRECT');
  assert.deepEqual(
    steps.map((r) => `${r.method} ${r.status}`),
    ['GET 200', 'POST 200', 'POST 302', 'REDIRECT 302'],
  );
  const authz = new URL(steps[0].url).searchParams;
  for (const p of ['client_id', 'redirect_uri', 'state', 'nonce', 'code_challenge', 'scope']) assert.ok(authz.get(p), p);
  assert.equal(authz.get('response_type'), 'code');
  assert.equal(authz.get('code_challenge_method'), 'S256');
  assert.ok(steps[3].url.startsWith('http://test-ps.gematik.de/erezept?'), 'code handed to the client redirect');
  assert.equal(JSON.stringify(moduleLog).includes(tokens.accessToken), false);
  assert.ok(pvs.idp.log.records.some((r) => r.method === 'POST' && r.url === d.document.token_endpoint && r.status === 200), 'the client redeems the code');

  // gematikTestPs has no SSO: a new login needs the card again, consent is remembered
  pvs.tokens.invalidate();
  await pvs.tokens.accessToken();
  assert.equal(card.count, 2);
  assert.equal(pvs.authenticator.stats.consentsAsked, 1);
  assert.equal(pvs.authenticator.hasSsoSession(), false);
  await pvs.close();
});

test('SSO across two clients on one device: the second app gets its code without a card signature', async () => {
  const { signer: card } = signer('C.CH.AUT', 'Keller');
  // Precondition: the insured consented to the second app earlier (on another device, own SSO store).
  const elsewhere = clientSide(SECOND_APP, moduleFor(card, new DeviceSsoStore()));
  await elsewhere.tokens.accessToken();
  assert.equal(card.count, 1);

  const device = new DeviceSsoStore({ file: path.join(tmp, 'device-keller', 'sso.json') });
  const fdv = await createInsuredAuthn({ env, signer: card, ssoStore: device, trust, clock: () => clock.nowMs() });
  await fdv.tokens.accessToken();
  assert.equal(card.count, 2, 'first app on the device: card');
  assert.equal(fdv.tokens.stats.cardLogins, 1);
  assert.ok(device.has(idp.url), 'SSO token kept on the device');

  const secondApp = clientSide(SECOND_APP, moduleFor(card, device));
  const t2 = await secondApp.tokens.tokens();
  assert.equal(card.count, 2, 'no second card signature');
  assert.equal(secondApp.tokens.stats.ssoLogins, 1);
  assert.equal(t2.accessTokenClaims.client_id, SECOND_APP.clientId);
  assert.equal(t2.accessTokenClaims.idNummer, (await fdv.tokens.tokens()).accessTokenClaims.idNummer);
  assert.notEqual(t2.accessTokenClaims.sub, (await fdv.tokens.tokens()).accessTokenClaims.sub, 'pairwise subjects per client');

  // the device store survives a restart of the module
  const restarted = clientSide(SECOND_APP, moduleFor(card, new DeviceSsoStore({ file: path.join(tmp, 'device-keller', 'sso.json') })));
  await restarted.tokens.accessToken();
  assert.equal(card.count, 2);

  // prompt=login forces the card despite the session
  await fdv.tokens.login({ forceLogin: true });
  assert.equal(card.count, 3);
  assert.equal(fdv.tokens.stats.cardLogins, 2);

  // logout ends the session at the IDP: the next flow needs the card
  assert.equal(await fdv.authenticator.logout(), true);
  assert.equal(device.has(idp.url), false);
  secondApp.tokens.invalidate();
  await secondApp.tokens.accessToken();
  assert.equal(card.count, 4);
});

test('token renewal: 60 s before exp the TokenManager renews through SSO, without the card', async () => {
  const { signer: card } = signer('C.CH.AUT', 'Renewal');
  const fdv = await createInsuredAuthn({ env, signer: card, trust, clock: () => clock.nowMs() });
  const events: string[] = [];
  fdv.tokens.on('token', (e: { kind: string; method?: string }) => events.push(`${e.kind}:${e.method}`));
  const first = await fdv.tokens.tokens();
  clock.advance(230_000);
  assert.equal(await fdv.tokens.accessToken(), first.accessToken, '70 s left: still cached');
  clock.advance(15_000);
  const second = await fdv.tokens.tokens();
  assert.notEqual(second.accessToken, first.accessToken);
  assert.ok(second.expiresAtMs > first.expiresAtMs);
  assert.equal(card.count, 1);
  assert.deepEqual(events, ['login:card', 'renewal:sso']);
  assert.deepEqual({ logins: fdv.tokens.stats.logins, renewals: fdv.tokens.stats.renewals }, { logins: 1, renewals: 1 });
  // the IDP sees the old token as expired once its exp passes, the new one as active
  clock.advance(60_000);
  assert.equal((await fdv.idp.introspect(first.accessToken)).active, false);
  assert.equal((await fdv.idp.introspect(second.accessToken)).active, true);
  await fdv.idp.revoke(second.accessToken);
  assert.equal((await fdv.idp.introspect(second.accessToken)).active, false);
});

test('consent denied → IdpError access_denied; a partial consent → 2042; no code, no token', async () => {
  const { signer: card } = signer('C.HCI.AUT', 'Praxis Nein');
  const pvs = await createPracticeAuthn({ env, signer: card, trust, consent: denyAll });
  await assert.rejects(pvs.tokens.accessToken(), (e: unknown) => e instanceof IdpError && e.error === 'access_denied' && e.source === 'redirect' && e.status === 302);
  assert.equal(pvs.tokens.current(), undefined);
  assert.equal(pvs.idp.log.records.some((r) => r.url.includes('/token')), false);

  const partial = await createPracticeAuthn({ env, signer: card, trust, consent: grantOnly(['idNummer']) });
  await assert.rejects(partial.tokens.accessToken(), (e: unknown) => e instanceof IdpError && e.gematikCode === '2042');

  // through the local interface the refusal reaches the client at its redirect_uri
  const service = await startAuthenticatorService({ authenticator: pvs.authenticator });
  try {
    const req = await pvs.idp.createAuthorizationRequest(KNOWN_CLIENTS.practice);
    const res = await get(service.authenticateUrl(req.url));
    assert.equal(res.status, 302);
    const loc = new URL(String(res.headers.location));
    assert.equal(`${loc.origin}${loc.pathname}`, KNOWN_CLIENTS.practice.redirectUri);
    assert.equal(loc.searchParams.get('error'), 'access_denied');
    assert.equal(loc.searchParams.get('state'), req.state);
    assert.equal(loc.searchParams.has('code'), false);
  } finally {
    await service.stop();
  }
});

test('the local interface serves one flow at a time: a second request while the card signs gets 409', async () => {
  const { signer: inner } = signer('C.HCI.AUT', 'Praxis Busy');
  let release!: () => void;
  let signing!: () => void;
  const signingStarted = new Promise<void>((r) => (signing = r));
  const gate = new Promise<void>((r) => (release = r));
  const slowCard: ChallengeSigner = {
    kind: inner.kind,
    label: inner.label,
    autCertificate: () => inner.autCertificate(),
    signDigest: async (d) => {
      signing();
      await gate;
      return inner.signDigest(d);
    },
  };
  const module = moduleFor(slowCard, new DeviceSsoStore());
  const client = new IdpClient(idp.url, { trust, clock: () => clock.nowMs() });
  const service = await startAuthenticatorService({ authenticator: module });
  try {
    const first = get(service.authenticateUrl((await client.createAuthorizationRequest(KNOWN_CLIENTS.practice)).url));
    await signingStarted;
    const second = await get(service.authenticateUrl((await client.createAuthorizationRequest(KNOWN_CLIENTS.practice)).url));
    assert.equal(second.status, 409);
    assert.equal(JSON.parse(second.body).error, 'flow_in_progress');
    release();
    assert.equal((await first).status, 302);
    assert.equal(JSON.parse((await get(`${service.url}/status`)).body).busy, false);
  } finally {
    release();
    await service.stop();
  }
});

test('authenticator:// and the loopback service return the code to the client, which redeems it', async () => {
  const { signer: card } = signer('C.HCI.AUT', 'Praxis Link');
  const module = moduleFor(card, new DeviceSsoStore());
  const rp = KNOWN_CLIENTS.practice;
  const client = new IdpClient(idp.url, { trust, clock: () => clock.nowMs() });

  const req = await client.createAuthorizationRequest(rp);
  const result = await module.handleInvocation(buildAuthenticatorUri(req.url, { cardType: 'SMC-B', callback: 'DIRECT' }));
  assert.deepEqual(result.invocation, { callback: 'DIRECT', cardType: 'SMC-B' });
  const loc = new URL(result.location);
  assert.equal(`${loc.origin}${loc.pathname}`, rp.redirectUri);
  assert.equal(loc.searchParams.get('state'), req.state);
  assert.equal(loc.searchParams.has('ssotoken'), false);
  assert.ok(Object.keys(result.userConsent.requested_claims).length > 0, 'user_consent shown');
  const tokens = await client.redeemCode({ relyingParty: rp, code: result.code, codeVerifier: req.codeVerifier, nonce: req.nonce });
  assert.equal(tokens.idTokenClaims.nonce, req.nonce);

  const service = await startAuthenticatorService({ authenticator: module });
  try {
    const req2 = await client.createAuthorizationRequest(rp);
    const res = await get(service.authenticateUrl(req2.url));
    assert.equal(res.status, 302);
    const l2 = new URL(String(res.headers.location));
    assert.equal(l2.searchParams.get('state'), req2.state);
    const t2 = await client.redeemCode({ relyingParty: rp, code: String(l2.searchParams.get('code')), codeVerifier: req2.codeVerifier, nonce: req2.nonce });
    assert.equal(t2.accessTokenClaims.client_id, rp.clientId);
    // replaying the code is refused by the IDP (single use)
    await assert.rejects(
      client.redeemCode({ relyingParty: rp, code: String(l2.searchParams.get('code')), codeVerifier: req2.codeVerifier, nonce: req2.nonce }),
      (e: unknown) => e instanceof IdpError && e.status === 400 && !!e.gematikCode,
    );
  } finally {
    await service.stop();
  }
});
