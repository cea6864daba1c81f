/**
 * The IDP login end to end (UC 5.1, client eRezeptApp of the insured): the simulated IDP over HTTPS
 * (startIdp, its own TLS certificate from the PKI), the PKI service answering the IDP's TSL and OCSP
 * requests, and the harness's client side (createInsuredAuthn: relying-party IdpClient + TokenManager
 * + Authentisierungsmodul). All figures are taken in one run, one flow after the other (no
 * concurrency); every HTTPS request opens a new TLS 1.2 connection (the IDP client uses no keep-alive).
 *
 *   idp.login_egk       complete card logins per second: authorization URL (PKCE, state, nonce) →
 *                       GET challenge (verified with puk_idp_sig) → eGK signature through PC/SC
 *                       (EgkPcscSigner: one transaction with card check, C.CH.AUT, VERIFY MRPIN.home,
 *                       MSE SET, PSO CDS on the virtual eGK behind a private pcscd) → JWE signed
 *                       challenge → IDP: decryption, card JWS, certificate against the TSL, OCSP at the
 *                       PKI service → code → token endpoint (key_verifier, tokens decrypted and
 *                       verified by the client). prompt=login, so the device's SSO session is not used.
 *                       Consent is asked once, in the first warm-up login; the measured logins find it
 *                       remembered. throughput (baseline idp.login_software: the ratio shows what the
 *                       card through PC/SC costs), latency median
 *   idp.login_software  the same flow with a software C.CH.AUT signer (issueTestSigner, no card):
 *                       throughput, latency median. The software signer and the virtual eGK's card OS
 *                       sign with the same pure-JavaScript brainpool ECDSA (bp256SignDigest), so the
 *                       ratio of idp.login_egk shows PC/SC and the card's command sequence, not a
 *                       difference in signing speed
 *   idp.token_endpoint  IdpClient.redeemCode alone (key_verifier JWE, POST token endpoint, the IDP signs
 *                       and encrypts access and ID token, the client decrypts and verifies both) for codes
 *                       obtained beforehand with the software signer: throughput (baseline
 *                       idp.login_software), latency median
 *   idp.sso_login       logins through the device's SSO session left by the eGK logins (no card):
 *                       authorization URL → GET challenge → POST sso_endpoint (ssotoken + unsigned
 *                       challenge; the reference profile does no second OCSP check) → code → token
 *                       endpoint: throughput (baseline idp.login_egk), latency median
 *
 * A stderr line gives the IDP's own mean processing time per operation (its /metrics histograms), to
 * tell server time from client, TLS and card time.
 *
 * Needs root (the harness's pcscd runs in its own mount namespace) like bench/cards.bench.ts.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { personaCatalog } from '../cards/index';
import { planLayout } from '../cards/pcscd/layout';
import { catalogFrom, startCardsService, type RunningCardsService } from '../cards/service';
import type { ClientSystemAuthn } from '../simulators/authenticator/client-wiring';
import { EgkPcscSigner } from '../simulators/authenticator/signers/egk-pcsc';
import type { ChallengeSigner } from '../simulators/authenticator/signer';
import { createInsuredAuthn } from '../simulators/fdv/authn';
import { issueTestSigner } from '../simulators/idp/testing/software-signer';
import { startIdp, type RunningIdp } from '../simulators/idp/service';
import { resolveEnvironment } from '../simulators/lib/config';
import { fetchPkiTrust, type RedeemCodeParams } from '../simulators/lib/idp-client';
import { freePort } from '../simulators/lib/net-probe';
import { startPkiService, type RunningPkiService } from '../simulators/pki/service';
import { benchVpcdPorts, percentile, round, type BenchContext, type Benchmark } from './run';

const MEASURE_MS = 3000;
const WARM_UP = 3;
/** Codes obtained beforehand for idp.token_endpoint: well inside the 60 s code lifetime. */
const CODE_COLLECT_MS = 5000;
const MAX_CODES = 400;
const EGK = 'Jonas Keller';

interface Measured {
  perSecond: number;
  count: number;
  latencies: number[];
}

/** Runs `op` for about `ms` (or until it returns false); operations per second and the sorted latencies (ms). */
async function measure(op: () => Promise<unknown>, ms = MEASURE_MS): Promise<Measured> {
  const t0 = process.hrtime.bigint();
  const latencies: number[] = [];
  let elapsed = 0;
  while (elapsed < ms) {
    const t = process.hrtime.bigint();
    const more = await op();
    const now = process.hrtime.bigint();
    latencies.push(Number(now - t) / 1e6);
    elapsed = Number(now - t0) / 1e6;
    if (more === false) break;
  }
  return { perSecond: (latencies.length * 1000) / elapsed, count: latencies.length, latencies: latencies.sort((a, b) => a - b) };
}

/** A signer that counts the card signatures, to prove which logins used the card. */
class CountingSigner implements ChallengeSigner {
  signatures = 0;
  constructor(private readonly inner: ChallengeSigner) {}
  get kind() {
    return this.inner.kind;
  }
  get label() {
    return this.inner.label;
  }
  autCertificate(): Promise<Buffer> {
    return this.inner.autCertificate();
  }
  signDigest(digest: Buffer): Promise<Buffer> {
    this.signatures++;
    return this.inner.signDigest(digest);
  }
  async close(): Promise<void> {
    await this.inner.close?.();
  }
}

/** Mean server-side time (ms) per operation from the IDP's Prometheus metrics (idp_operation_duration_seconds). */
function serverMeans(metricsText: string): string {
  const sums = new Map<string, number>();
  const counts = new Map<string, number>();
  for (const line of metricsText.split('\n')) {
    const m = /^idp_operation_duration_seconds_(sum|count)\{operation="([a-z_]+)"\} ([0-9.eE+-]+)$/.exec(line);
    if (m) (m[1] === 'sum' ? sums : counts).set(m[2], Number(m[3]));
  }
  return [...counts]
    .filter(([, n]) => n > 0)
    .map(([op, n]) => `${op} ${round(((sums.get(op) ?? 0) * 1000) / n, 3)} ms (${n})`)
    .join(', ');
}

function check(condition: boolean, message: string): void {
  if (!condition) throw new Error(message);
}

/** Card logins (prompt=login): warm-up (first one with consent), then measured; checks every one used the card. */
async function measureCardLogins(authn: ClientSystemAuthn, signer: CountingSigner): Promise<Measured> {
  for (let i = 0; i < WARM_UP; i++) await authn.tokens.login({ forceLogin: true });
  check(authn.authenticator.stats.consentsAsked === 1, `${signer.label}: consent asked ${authn.authenticator.stats.consentsAsked} times, expected once`);
  const before = signer.signatures;
  const m = await measure(() => authn.tokens.login({ forceLogin: true }));
  check(signer.signatures - before === m.count, `${signer.label}: ${signer.signatures - before} card signatures for ${m.count} logins`);
  check(authn.authenticator.stats.consentsAsked === 1, `${signer.label}: consent asked again in the measured logins`);
  return m;
}

export const benchmark: Benchmark = {
  name: 'idp',
  description: 'IDP logins over HTTPS: eGK through PC/SC vs software signer, token endpoint alone, SSO login',
  async run(ctx: BenchContext) {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ti-bench-idp-'));
    const quiet = () => undefined;
    let pkiService: RunningPkiService | undefined;
    let cards: RunningCardsService | undefined;
    let idp: RunningIdp | undefined;
    const sessions: ClientSystemAuthn[] = [];
    try {
      const vpcdPort = await benchVpcdPorts();
      const [pkiPort, cardsPort] = [await freePort(), await freePort()];
      const env = resolveEnvironment(
        { name: 'bench-idp', dataDir: tmp, services: { pki: { port: pkiPort }, cards: { port: cardsPort } }, cards: { slots: 2, vpcdPort, insert: [] } } as never,
        path.join(tmp, 'bench-idp.yaml'),
      );
      pkiService = await startPkiService({ host: '127.0.0.1', port: pkiPort, dataDir: path.join(tmp, 'pki'), env, log: quiet });
      const pki = pkiService.pki;
      const personas = personaCatalog({ pki, cacheDir: path.join(tmp, 'cards') });
      cards = await startCardsService({
        host: '127.0.0.1',
        port: cardsPort,
        dataDir: path.join(tmp, 'cards'),
        env,
        log: quiet,
        catalog: catalogFrom(new Map([[EGK, { description: EGK, create: () => personas.create(EGK) }]])),
      });
      await cards.insert(EGK, 0);
      idp = await startIdp({ host: '127.0.0.1', port: 0, dataDir: path.join(tmp, 'idp'), env, log: quiet, pki });
      env.services.idp.url = idp.url;
      const trust = await fetchPkiTrust(pkiService.url);

      const egk = new CountingSigner(new EgkPcscSigner({ persona: EGK, socket: cards.socketPath, reader: planLayout(2, vpcdPort).slots[0].readerName }));
      const egkAuthn = await createInsuredAuthn({ env, signer: egk, trust });
      sessions.push(egkAuthn);
      const software = new CountingSigner(
        issueTestSigner(pki, { profile: 'C.CH.AUT', label: 'software eGK', subject: { givenName: 'Bench', surname: 'Software' } }).signer,
      );
      const softwareAuthn = await createInsuredAuthn({ env, signer: software, trust });
      sessions.push(softwareAuthn);

      // --- idp.login_egk, idp.login_software
      const egkLogins = await measureCardLogins(egkAuthn, egk);
      const softwareLogins = await measureCardLogins(softwareAuthn, software);
      const first = egkAuthn.tokens.current();
      check(first?.accessTokenClaims.idNummer !== undefined && first.accessTokenClaims.client_id === 'eRezeptApp', 'eGK login: access token without idNummer or for another client');

      // --- idp.token_endpoint: codes first (software signer), then only the token endpoint
      const rp = softwareAuthn.relyingParty;
      const codes: RedeemCodeParams[] = [];
      await measure(async () => {
        const request = await softwareAuthn.idp.createAuthorizationRequest(rp, { prompt: 'login' });
        const answer = await softwareAuthn.authenticator.authenticate(request.url, { forceLogin: true });
        check(answer.state === request.state && answer.method === 'card', 'code collection: unexpected redirect');
        codes.push({ relyingParty: rp, code: answer.code, codeVerifier: request.codeVerifier, nonce: request.nonce });
        return codes.length < MAX_CODES;
      }, CODE_COLLECT_MS);
      let next = 0;
      const tokenCalls = await measure(async () => {
        const tokens = await softwareAuthn.idp.redeemCode(codes[next++]);
        check(tokens.accessTokenClaims.client_id === rp.clientId, 'token endpoint: access token for another client');
        return next < codes.length;
      }, Number.POSITIVE_INFINITY);
      check(tokenCalls.count === codes.length, `token endpoint: ${tokenCalls.count} calls for ${codes.length} codes`);

      // --- idp.sso_login: the eGK logins left an SSO session on the device
      check(egkAuthn.authenticator.hasSsoSession(), 'no SSO session after the eGK logins');
      const cardSignaturesBefore = egk.signatures;
      const ssoBefore = egkAuthn.tokens.stats.ssoLogins;
      const ssoLogins = await measure(() => egkAuthn.tokens.login());
      check(egk.signatures === cardSignaturesBefore, 'an SSO login asked the eGK for a signature');
      check(egkAuthn.tokens.stats.ssoLogins - ssoBefore === ssoLogins.count, 'not every SSO login went through the SSO endpoint');

      const emit = (bench: string, m: Measured, baseline?: { name: string; m: Measured }) => {
        ctx.emit({
          bench,
          metric: 'throughput',
          value: round(m.perSecond),
          unit: '1/s',
          ...(baseline ? { baseline: baseline.name, ratio: round(m.perSecond / baseline.m.perSecond, 3) } : {}),
        });
        ctx.emit({ bench, metric: 'latency_median', value: round(percentile(m.latencies, 50)), unit: 'ms' });
      };
      emit('idp.login_software', softwareLogins);
      emit('idp.login_egk', egkLogins, { name: 'idp.login_software', m: softwareLogins });
      emit('idp.token_endpoint', tokenCalls, { name: 'idp.login_software', m: softwareLogins });
      emit('idp.sso_login', ssoLogins, { name: 'idp.login_egk', m: egkLogins });
      ctx.log(
        `eGK logins ${round(egkLogins.perSecond)}/s (${egkLogins.count}), software logins ${round(softwareLogins.perSecond)}/s (${softwareLogins.count}), ` +
          `token endpoint ${round(tokenCalls.perSecond)}/s (${tokenCalls.count} codes), SSO logins ${round(ssoLogins.perSecond)}/s (${ssoLogins.count})`,
      );
      ctx.log(`IDP server-side mean per request, whole run: ${serverMeans(idp.context.metrics.render())}`);
    } finally {
      for (const s of sessions) await s.close().catch(() => undefined);
      await idp?.stop().catch(() => undefined);
      await cards?.stop().catch(() => undefined);
      await pkiService?.stop().catch(() => undefined);
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  },
};
