/** TokenManager: caching, renewal window, SSO/card counting, shared flows, client-side checks. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IdpProtocolError, type AuthorizationRequest, type IdpRelyingParty, type RedeemCodeParams, type TokenSet } from '../../../simulators/lib/idp-client';
import { TokenManager, type AuthorizationAgent, type RelyingPartyIdp, type TokenEvent } from '../../../simulators/lib/token-manager';

const rp: IdpRelyingParty = { clientId: 'gematikTestPs', redirectUri: 'http://test-ps.gematik.de/erezept', scope: 'openid e-rezept' };

class FakeWorld implements RelyingPartyIdp, AuthorizationAgent {
  now = 1_700_000_000_000;
  lifetimeS = 300;
  hasSession = false;
  requests: AuthorizationRequest[] = [];
  authenticateCalls: Array<{ url: string; forceLogin?: boolean }> = [];
  redeemed: RedeemCodeParams[] = [];
  tamper?: 'state' | 'redirect';
  private n = 0;

  async createAuthorizationRequest(relyingParty: IdpRelyingParty, opts: { prompt?: 'login' } = {}): Promise<AuthorizationRequest> {
    const i = ++this.n;
    const req: AuthorizationRequest = {
      url: `https://idp.example/auth?client_id=${relyingParty.clientId}&state=st${i}${opts.prompt ? '&prompt=login' : ''}`,
      codeVerifier: `v${i}`.padEnd(43, 'x'),
      codeChallenge: 'c',
      state: `st${i}`,
      nonce: `n${i}`,
      relyingParty,
      ...(opts.prompt ? { prompt: opts.prompt } : {}),
    };
    this.requests.push(req);
    return req;
  }

  async authenticate(url: string, opts: { forceLogin?: boolean } = {}): Promise<{ location: string; code: string; state: string; method: 'card' | 'sso' }> {
    this.authenticateCalls.push({ url, forceLogin: opts.forceLogin });
    await new Promise((r) => setImmediate(r));
    const state = this.tamper === 'state' ? 'forged' : new URL(url).searchParams.get('state') ?? '';
    const method = this.hasSession && !opts.forceLogin ? 'sso' : 'card';
    this.hasSession = true;
    const base = this.tamper === 'redirect' ? 'https://evil.example/cb' : rp.redirectUri;
    const code = `code-${this.authenticateCalls.length}`;
    return { location: `${base}?code=${code}&state=${state}`, code, state, method };
  }

  async redeemCode(p: RedeemCodeParams): Promise<TokenSet> {
    this.redeemed.push(p);
    const iat = this.now;
    return {
      accessToken: `at-${this.redeemed.length}`,
      idToken: `id-${this.redeemed.length}`,
      accessTokenClaims: {},
      idTokenClaims: { nonce: p.nonce },
      tokenType: 'Bearer',
      expiresIn: this.lifetimeS,
      expiresAtMs: iat + this.lifetimeS * 1000,
      issuedAtMs: iat,
      encrypted: { accessToken: '', idToken: '' },
    };
  }
}

function setup(renewBeforeSeconds?: number) {
  const w = new FakeWorld();
  const tm = new TokenManager({ client: rp, authenticator: w, idp: w, clock: () => w.now, renewBeforeSeconds });
  const events: TokenEvent[] = [];
  tm.on('token', (e: TokenEvent) => events.push(e));
  return { w, tm, events };
}

test('first call logs in with the card; later calls inside the lifetime come from the cache', async () => {
  const { w, tm, events } = setup();
  assert.equal(await tm.accessToken(), 'at-1');
  w.now += 200_000;
  assert.equal(await tm.accessToken(), 'at-1');
  assert.deepEqual(tm.stats, { logins: 1, renewals: 0, cardLogins: 1, ssoLogins: 0, cacheHits: 1 });
  assert.equal(events.length, 1);
  assert.equal(events[0].kind, 'login');
  assert.equal(events[0].method, 'card');
  // the relying party redeems with its own verifier and nonce
  assert.equal(w.redeemed[0].codeVerifier, w.requests[0].codeVerifier);
  assert.equal(w.redeemed[0].nonce, w.requests[0].nonce);
  assert.equal(w.redeemed[0].code, 'code-1');
});

test('renewal starts renewBeforeSeconds (default 60) before exp and uses SSO when the module has a session', async () => {
  const { w, tm, events } = setup();
  await tm.accessToken();
  w.now += 239_000; // 61 s left
  assert.equal(await tm.accessToken(), 'at-1');
  w.now += 1_000; // 60 s left: renew
  assert.equal(await tm.accessToken(), 'at-2');
  assert.equal(tm.stats.renewals, 1);
  assert.equal(tm.stats.ssoLogins, 1);
  assert.equal(events[1].kind, 'renewal');
  assert.equal(events[1].method, 'sso');
  w.now += 400_000; // long expired: still a renewal of the cached token
  assert.equal(await tm.accessToken(), 'at-3');
  assert.equal(tm.stats.renewals, 2);
});

test('renewBeforeSeconds is configurable and capped at half the token lifetime', async () => {
  const a = setup(10);
  await a.tm.accessToken();
  a.w.now += 285_000;
  assert.equal(await a.tm.accessToken(), 'at-1');
  a.w.now += 5_000;
  assert.equal(await a.tm.accessToken(), 'at-2');
  const b = setup(600);
  await b.tm.accessToken();
  b.w.now += 149_000;
  assert.equal(await b.tm.accessToken(), 'at-1', 'a 600 s margin on a 300 s token would renew forever');
  b.w.now += 1_000;
  assert.equal(await b.tm.accessToken(), 'at-2');
  assert.throws(() => new TokenManager({ client: rp, authenticator: a.w, idp: a.w, renewBeforeSeconds: -1 }), IdpProtocolError);
  assert.throws(() => new TokenManager({ client: { ...rp, clientId: '' }, authenticator: a.w, idp: a.w }), /clientId/);
});

test('invalidate() forces a new login; concurrent callers share one flow', async () => {
  const { w, tm } = setup();
  const [a, b, c] = await Promise.all([tm.accessToken(), tm.accessToken(), tm.accessToken()]);
  assert.deepEqual([a, b, c], ['at-1', 'at-1', 'at-1']);
  assert.equal(w.authenticateCalls.length, 1);
  tm.invalidate();
  assert.equal(tm.current(), undefined);
  assert.equal(await tm.accessToken(), 'at-2');
  assert.equal(tm.stats.logins, 2);
});

test('login({forceLogin}) sends prompt=login and asks the module for the card', async () => {
  const { w, tm } = setup();
  await tm.accessToken();
  await tm.login({ forceLogin: true });
  assert.equal(w.requests[1].prompt, 'login');
  assert.equal(w.authenticateCalls[1].forceLogin, true);
  assert.equal(tm.stats.cardLogins, 2);
});

test('a foreign state or redirect target is refused and nothing is redeemed', async () => {
  const a = setup();
  a.w.tamper = 'state';
  await assert.rejects(a.tm.accessToken(), (e: unknown) => e instanceof IdpProtocolError && e.code === 'STATE_MISMATCH');
  const b = setup();
  b.w.tamper = 'redirect';
  await assert.rejects(b.tm.accessToken(), (e: unknown) => e instanceof IdpProtocolError && e.code === 'ENDPOINT_MISMATCH');
  assert.equal(a.w.redeemed.length + b.w.redeemed.length, 0);
  assert.equal(a.tm.current(), undefined);
});
