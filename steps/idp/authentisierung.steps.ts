/**
 * Steps for UC 5.1 / UC 5.2 (features/erezept/authentisierung) and the login-related steps the IDP
 * interface feature shares: a client system (FdV with the eGK in the device's reader, PVS/AVS with
 * the SMC-B behind the Konnektor) gets an AuthN token through its Authentisierungsmodul.
 */
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import { Given, Then, When } from '@cucumber/cucumber';
import { loadPersona, type Persona } from '../../cards';
import { CardSignerError } from '../../simulators/authenticator/signer';
import { startAuthenticatorService } from '../../simulators/authenticator/service';
import { buildAuthenticatorUri } from '../../simulators/authenticator/invocation';
import { IdpError, type TokenSet } from '../../simulators/lib/idp-client';
import { ACR_HIGH, IDENTITY_CLAIMS } from '../../simulators/lib/idp-protocol';
import { base64UrlEncode, verifyJws } from '../../simulators/lib/jose';
import { parseCertificate, type ParsedCertificate } from '../../simulators/lib/x509';
import { EnvironmentError, TestDefectError } from '../support/errors';
import { verify } from '../verify';
import type { TiWorld } from '../world';
import {
  actorOf,
  advanceClock,
  createActor,
  deleteAdmin,
  idpState,
  insertCard,
  lastLogin,
  lastTokens,
  login,
  verifyAll,
  workplaceSlots,
  type ClientKind,
  type LoginAttempt,
} from './support';

const VERSICHERTER_OID = '1.2.276.0.76.4.49';

function idNummerOf(p: Persona): string {
  if (p.type === 'eGK') return p.insurance.kvnr;
  if (p.type === 'SMC-B' || p.type === 'HBA') {
    if (!p.telematikId) throw new TestDefectError(`${p.name} has no Telematik-ID`);
    return p.telematikId;
  }
  throw new TestDefectError(`no idNummer for ${(p as Persona).name}`);
}

function professionOidOf(p: Persona): string {
  return p.type === 'eGK' ? VERSICHERTER_OID : p.professionOid;
}

function subjectAttribute(cert: ParsedCertificate, type: string): string | undefined {
  return cert.subjectAttributes.find((a) => a.type === type)?.value;
}

function requireSuccess(attempt: LoginAttempt): asserts attempt is LoginAttempt & { tokens: TokenSet } {
  if (!attempt.tokens) {
    assert.fail(`no AuthN token: ${attempt.error ? (attempt.error as Error).message : 'the flow ended without tokens'}`);
  }
}

// --- client systems ----------------------------------------------------------------------------------------

Given('das FdV von {string} nutzt das Authentisierungsmodul mit der eGK im Kartenleser des Geräts', async function (this: TiWorld, name: string) {
  await createActor(this, { kind: 'FdV', owner: name, card: name });
});

Given(
  /^das (PVS|AVS) der "([^"]+)" nutzt das Authentisierungsmodul mit der (?:SMC-B|Karte von "([^"]+)") am Konnektor im Aufrufkontext "([^"]+)" \/ "([^"]+)" \/ "([^"]+)"$/,
  async function (this: TiWorld, kind: string, owner: string, card: string | undefined, mandantId: string, clientSystemId: string, workplaceId: string) {
    await createActor(this, { kind: kind as ClientKind, owner, card: card ?? owner, context: { mandantId, clientSystemId, workplaceId } });
  },
);

Given('die eGK von {string} steckt im Kartenleser des Geräts', async function (this: TiWorld, name: string) {
  await insertCard(this, name);
});

Given(/^die SMC-B von "([^"]+)" steckt in einem freien Kartenleser (?:der Apotheke|am Arbeitsplatz)$/, async function (this: TiWorld, name: string) {
  // The pharmacy's workplace and the practice's both reach the free slot of terminal CT-Praxis-2.
  const workplace = name.toLowerCase().includes('apotheke') ? 'Apotheke-HV-1' : 'Arbeitsplatz-1';
  await insertCard(this, name, workplaceSlots(this, workplace));
});

Given(/^"([^"]+)" hat dem FdV noch keine Einwilligung in seine Identitätsattribute erteilt$/, async function (this: TiWorld, name: string) {
  await deleteAdmin(this, 'idp', `/consents?idNummer=${encodeURIComponent(idNummerOf(loadPersona(name)))}`);
});

Given('die Praxis hat dem PVS noch keine Einwilligung in ihre Identitätsattribute erteilt', async function (this: TiWorld) {
  await deleteAdmin(this, 'idp', `/consents?idNummer=${encodeURIComponent(idNummerOf(actorOf(this).card))}`);
});

// --- logins ------------------------------------------------------------------------------------------------

When(
  /^das (?:FdV|PVS|AVS) einen AuthN-Token für den Scope "([^"]+)" anfordert und (?:der Versicherte|die Praxis|die Apotheke) (einwilligt|die Einwilligung verweigert)$/,
  async function (this: TiWorld, scope: string, answer: string) {
    const a = actorOf(this);
    a.consent = answer === 'einwilligt' ? 'grant-all' : { decision: 'denied' };
    await login(this, { relyingParty: { ...a.relyingParty, scope: `openid ${scope}` } });
  },
);

When(/^das (?:FdV|PVS) (?:erneut )?einen AuthN-Token für den Scope "([^"]+)" anfordert$/, async function (this: TiWorld, scope: string) {
  const a = actorOf(this);
  await login(this, { relyingParty: { ...a.relyingParty, scope: `openid ${scope}` } });
});

When(/^das (?:FdV|PVS) einen AuthN-Token mit erzwungener erneuter Anmeldung anfordert$/, async function (this: TiWorld) {
  await login(this, { forceLogin: true });
});

Given(/^das (?:FdV|PVS|AVS) hat bereits einen AuthN-Token für den Scope "([^"]+)" erhalten$/, async function (this: TiWorld, scope: string) {
  const a = actorOf(this);
  if (`openid ${scope}` !== a.relyingParty.scope) throw new TestDefectError(`the client system is registered for "${a.relyingParty.scope}"`);
  // Through the client system's token cache, as the PVS/FdV does before every Fachdienst call.
  const tokens = await a.authn.tokens.tokens().catch((e: unknown) => {
    throw new EnvironmentError(`precondition: the client system got no AuthN token: ${(e as Error).message}`);
  });
  const s = idpState(this);
  s.logins.push({ relyingParty: a.relyingParty, tokens, signaturesBefore: 0, signaturesAfter: a.signer.signatures, startedAt: new Date().toISOString() });
  s.extra.set('cachedToken', tokens);
});

// --- UC 5.1 / 5.2 checks --------------------------------------------------------------------------------------

Then(
  'hat das Authentisierungsmodul das AUT-Zertifikat der eGK gelesen und die Challenge nach PIN-Eingabe von der eGK signieren lassen',
  async function (this: TiWorld) {
    const a = actorOf(this);
    const l = lastLogin(this);
    const cert = parseCertificate(await a.signer.inner.autCertificate());
    await verify('A_18818', 'Das Authentisierungsmodul nutzt das AUT-Zertifikat und die Signaturfunktion der eGK über den Kartenleser', () => {
      assert.equal(a.signer.kind, 'eGK');
      assert.ok(a.signer.certificateReads >= 1, 'the AUT certificate was not read from the eGK');
      assert.equal(l.signaturesAfter - l.signaturesBefore, 1, 'the eGK did not sign exactly one challenge');
      assert.ok(cert.admission?.professions.some((p) => p.professionOids.includes(VERSICHERTER_OID)), 'the certificate is no C.CH.AUT of an insured person');
      assert.ok(cert.subjectAttributes.some((x) => x.type === 'OU' && x.value === idNummerOf(a.card)), 'the certificate is not that of the eGK in the reader');
    });
    await verify('A_18816', 'Zertifikat der AUT-Identität ermittelt, Challenge von der Karte signiert und mit dem Zertifikat an den IDP übergeben', () => {
      assert.equal(l.result?.method, 'card');
      assert.ok(l.result?.code, 'the IDP issued no code for the signed challenge');
    });
  },
);

Then(
  'hat das Authentisierungsmodul das AUT-Zertifikat der SMC-B mit ReadCardCertificate gelesen und die Challenge mit ExternalAuthenticate signieren lassen',
  async function (this: TiWorld) {
    const a = actorOf(this);
    const l = lastLogin(this);
    requireSuccess(l);
    const res = await this.http(this.serviceUrl('konnektor', '/__admin/calls?limit=200'), { ca: await this.tiRootPem(), service: 'Konnektor' });
    if (res.status !== 200) throw new EnvironmentError(`Konnektor admin: GET /__admin/calls answered ${res.status}`);
    const calls = res.json<{ calls: Array<{ operation: string; receivedAt?: string; at?: string; time?: string }> }>().calls;
    const since = Date.parse(l.startedAt) - 1000;
    const recent = calls.filter((c) => Date.parse(c.receivedAt ?? c.at ?? c.time ?? '') >= since).map((c) => c.operation);
    await verify('A_18817', 'Das Authentisierungsmodul nutzt ReadCardCertificate und ExternalAuthenticate des Konnektors für die SMC-B', () => {
      assert.equal(a.signer.kind, 'SMC-B');
      assert.ok(recent.includes('ExternalAuthenticate'), `no ExternalAuthenticate at the Konnektor since the login started (${recent.join(', ') || 'no calls'})`);
      assert.ok(recent.includes('ReadCardCertificate') || a.signer.certificateReads >= 1, 'the AUT certificate was not read through the Konnektor');
      assert.equal(l.signaturesAfter - l.signaturesBefore, 1);
    });
    await verify('A_18816', 'Challenge von der SMC-B signiert und mit dem AUT-Zertifikat an den IDP übergeben', () => {
      assert.equal(l.result?.method, 'card');
      assert.ok(l.result?.code);
    });
  },
);

Then('hat der IDP die signierte Challenge geprüft und die Einwilligung in die angefragten Identitätsattribute verlangt', async function (this: TiWorld) {
  const l = lastLogin(this);
  const consent = l.result?.consent;
  await verify('A_18799', 'Der IDP authentisiert den Nutzer per Challenge-Response mit der AUT-Identität der Smartcard', () => {
    assert.ok(l.result, `the flow failed: ${(l.error as Error | undefined)?.message}`);
    assert.equal(l.result.method, 'card');
  });
  for (const afo of ['A_18914', 'A_18887']) {
    await verify(afo, 'Die signierte Challenge wird per POST übergeben; der IDP antwortet mit der Liste der angefragten Identitätsattribute', () => {
      assert.ok(consent, 'the IDP answered the signed challenge without asking for consent (first login)');
      assert.ok(Object.keys(consent.requestedClaims).length > 0);
    });
  }
  await verify('A_18865', 'Vor der erstmaligen Bereitstellung fordert der IDP die Einwilligung in genau die angefragten Identitätsattribute', () => {
    assert.ok(consent);
    const shown = Object.keys(l.result!.userConsent.requested_claims).sort();
    assert.deepEqual(Object.keys(consent.requestedClaims).sort(), shown);
    for (const c of Object.keys(consent.requestedClaims)) assert.ok((IDENTITY_CLAIMS as readonly string[]).includes(c), `unknown claim ${c}`);
  });
});

Then('hat das Authentisierungsmodul die Einwilligung eingeholt und an den IDP übergeben, der einen AuthN-Code ausgestellt hat', async function (this: TiWorld) {
  const l = lastLogin(this);
  const consent = l.result?.consent;
  await verify('A_18917', 'Das Authentisierungsmodul holt die Einwilligung des Nutzers ein und übergibt sie an den IDP', () => {
    assert.ok(consent, 'no consent was asked');
    assert.equal(consent.decision.decision, 'granted');
  });
  for (const afo of ['A_18915', 'A_18888']) {
    await verify(afo, 'Auf die übergebene Einwilligung antwortet der IDP mit einem AuthN-Code', () => {
      assert.ok(l.result?.code, 'no AuthN code after consent');
      assert.equal(l.result.state, l.request?.state);
    });
  }
});

Then(/^hat der IDP das AUT-Zertifikat der (?:eGK|SMC-B) bei der TI-PKI per OCSP geprüft$/, async function (this: TiWorld) {
  const a = actorOf(this);
  const l = lastLogin(this);
  const serial = parseCertificate(await a.signer.inner.autCertificate()).serialNumber;
  const res = await this.http(this.serviceUrl('pki', '/__admin/ocsp/requests'), { service: 'PKI' });
  if (res.status !== 200) throw new EnvironmentError(`PKI admin: GET /__admin/ocsp/requests answered ${res.status}`);
  const body = res.json<{ requests?: Array<{ at: string; serials: string[] }> } | Array<{ at: string; serials: string[] }>>();
  const entries = Array.isArray(body) ? body : (body.requests ?? []);
  const since = Date.parse(l.startedAt) - 1000;
  await verify('A_18819', 'Der IDP fragt den Status des AUT-Zertifikats beim OCSP-Responder der TI-PKI ab', () => {
    assert.ok(
      entries.some((e) => Date.parse(e.at) >= since && e.serials.includes(serial)),
      `no OCSP request for serial ${serial} since ${l.startedAt}`,
    );
  });
});

Then(/^hat das (?:FdV|PVS|AVS) den AuthN-Code am Token-Endpunkt gegen einen AuthN-Token eingelöst$/, async function (this: TiWorld) {
  const a = actorOf(this);
  const l = lastLogin(this);
  const ucAfo = a.kind === 'FdV' ? 'A_18822' : 'A_18827';
  await verify('A_19011', 'Der Token-Endpunkt gibt für den AuthN-Code einen AuthN-Token heraus', () => {
    requireSuccess(l);
    assert.equal(l.tokens.tokenType, 'Bearer');
    assert.equal(l.tokens.accessTokenClaims.client_id, l.relyingParty.clientId);
  });
  await verify(ucAfo, `Nachbedingung: ein AuthN-Token mit den angeforderten Identitätsmerkmalen liegt im ${a.kind} vor`, () => {
    requireSuccess(l);
    assert.ok(l.tokens.accessTokenClaims.idNummer, 'the token carries no idNummer');
    assert.ok(l.tokens.expiresAtMs > Date.now() + idpState(this).offsetMs, 'the token is already expired');
  });
});

Then(/^enthält der AuthN-Token die Identitätsattribute aus dem AUT-Zertifikat der (?:eGK|SMC-B) von "([^"]+)"$/, async function (this: TiWorld, name: string) {
  const persona = loadPersona(name);
  const a = actorOf(this);
  const claims = lastTokens(this).accessTokenClaims;
  const cert = parseCertificate(await a.signer.inner.autCertificate());
  await verify('A_18808', 'Der AuthN-Token enthält die fachlichen Identitätsattribute des Zertifikats', () => {
    assert.equal(claims.idNummer, idNummerOf(persona));
    assert.equal(claims.professionOID, professionOidOf(persona));
    assert.ok(cert.admission?.professions.some((p) => p.professionOids.includes(String(claims.professionOID))), 'professionOID is not the certificate admission');
    const gn = subjectAttribute(cert, 'GN');
    const sn = subjectAttribute(cert, 'SN');
    const o = subjectAttribute(cert, 'O');
    if (gn) assert.equal(claims.given_name, gn);
    if (sn) assert.equal(claims.family_name, sn);
    if (o) assert.equal(claims.organizationName, o);
  });
  await verify('A_18801', 'Identität im AuthN-Token und Zertifikat der TI-PKI widersprechen sich nicht (Inhalt und Gültigkeit)', () => {
    assert.equal(claims.idNummer, idNummerOf(persona));
    if (persona.type === 'eGK') {
      assert.equal(claims.given_name, persona.person.givenName);
      assert.equal(claims.family_name, persona.person.surname);
    }
    const exp = Number(claims.exp) * 1000;
    assert.ok(exp <= cert.notAfter.getTime(), 'the token outlives the certificate');
  });
});

Then('trägt der AuthN-Token das Vertrauensniveau {string} aus einer Smartcard-Authentisierung', async function (this: TiWorld, acr: string) {
  const c = lastTokens(this).accessTokenClaims;
  await verify('A_18863', 'AuthN-Token aus einem Authentifizierungsverfahren mit hohem Sicherheitsstandard (Smartcard, Vertrauensniveau hoch)', () => {
    assert.equal(acr, ACR_HIGH);
    assert.equal(c.acr, acr);
    assert.ok(Array.isArray(c.amr) && (c.amr as string[]).includes('sc') && (c.amr as string[]).includes('mfa'), `amr ${JSON.stringify(c.amr)}`);
  });
});

Then('ist der AuthN-Token höchstens {int} Sekunden gültig', async function (this: TiWorld, seconds: number) {
  const t = lastTokens(this);
  await verify('A_18860', `Der AuthN-Token ist zeitlich auf höchstens ${seconds} s begrenzt`, () => {
    const iat = Number(t.accessTokenClaims.iat);
    const exp = Number(t.accessTokenClaims.exp);
    assert.ok(Number.isInteger(iat) && Number.isInteger(exp), 'iat/exp missing');
    assert.ok(exp > iat && exp - iat <= seconds, `exp - iat = ${exp - iat}`);
    assert.ok(t.expiresIn > 0 && t.expiresIn <= seconds, `expires_in ${t.expiresIn}`);
  });
});

Then('ist der ID-Token ein gültiger OpenID-Connect-ID-Token für das FdV', async function (this: TiWorld) {
  const a = actorOf(this);
  const l = lastLogin(this);
  requireSuccess(l);
  const discovery = await a.authn.idp.discover();
  await verify('A_18797', 'ID-Token gemäß OpenID Connect Core (Signatur des IDP, iss, aud, nonce, at_hash, exp)', () => {
    const v = verifyJws(l.tokens.idToken, discovery.idpSig.key);
    const c = JSON.parse(v.payload.toString('utf8')) as Record<string, unknown>;
    assert.equal(c.iss, discovery.document.issuer);
    assert.equal(c.aud, l.relyingParty.clientId);
    assert.equal(c.nonce, l.request?.nonce);
    assert.ok(typeof c.sub === 'string' && c.sub.length > 0);
    assert.ok(Number(c.exp) > Number(c.iat));
    const digest = crypto.createHash('sha256').update(l.tokens.accessToken, 'ascii').digest();
    assert.equal(c.at_hash, base64UrlEncode(digest.subarray(0, 16)));
  });
});

Then(
  'hat das Authentisierungsmodul nur den Grant Type "Authorization Code" genutzt und den AuthN-Code nur an das FdV gegeben',
  async function (this: TiWorld) {
    const a = actorOf(this);
    const discovery = await a.authn.idp.discover();
    const ex = a.authn.authenticator.exchanges;
    await verify('A_18814', 'Das Authentisierungsmodul interagiert nur gemäß Authorization Code Grant (Code an die Redirect-URI des Clients)', () => {
      assert.ok(!ex.some((r) => r.url.startsWith(discovery.document.token_endpoint)), 'the module called the token endpoint itself');
      const handover = ex.filter((r) => r.method === 'REDIRECT');
      assert.ok(handover.length >= 1, 'no hand-over to the client');
      for (const h of handover) assert.ok(h.url.startsWith(a.relyingParty.redirectUri), `code handed to ${h.url}`);
    });
    await verify('A_18813', 'Das Authentisierungsmodul verhält sich als User Agent nach OpenID Connect (Authorization Request mit response_type=code über TLS)', () => {
      const authz = ex.filter((r) => r.method === 'GET' && r.url.startsWith(discovery.document.authorization_endpoint));
      assert.ok(authz.length >= 1, 'no authorization request');
      for (const r of authz) {
        const u = new URL(r.url);
        assert.equal(u.searchParams.get('response_type'), 'code');
        assert.ok(u.searchParams.get('client_id'));
      }
      for (const r of ex.filter((x) => x.method !== 'REDIRECT')) assert.ok(r.url.startsWith('https://'), `not TLS: ${r.url}`);
    });
  },
);

// --- SSO -------------------------------------------------------------------------------------------------

Then('erhält das FdV einen neuen AuthN-Token, ohne dass die eGK erneut signiert hat', async function (this: TiWorld) {
  const s = idpState(this);
  const l = lastLogin(this);
  const before = s.logins.at(-2)?.tokens;
  await verify('A_18809', 'Innerhalb der SSO-Sitzung stellt der IDP einen AuthN-Token ohne erneute Authentisierung mit der Karte aus', () => {
    requireSuccess(l);
    assert.equal(l.result?.method, 'sso');
    assert.equal(l.signaturesAfter, l.signaturesBefore, 'the eGK signed again');
    assert.notEqual(l.tokens.accessTokenClaims.jti, before?.accessTokenClaims.jti);
  });
  await verify('A_18822', 'UC 5.1 Schritt 3: bei gültiger Sitzung keine erneute Challenge-Response-Authentisierung', () => {
    assert.equal(l.signaturesAfter, l.signaturesBefore);
  });
});

Then('erhält das FdV einen neuen AuthN-Token, nachdem die eGK die Challenge erneut signiert hat', async function (this: TiWorld) {
  const l = lastLogin(this);
  await verify('A_18809', 'Eine von der Anwendung explizit angeforderte erneute Authentisierung erfolgt mit der Karte', () => {
    requireSuccess(l);
    assert.equal(l.result?.method, 'card');
    assert.equal(l.signaturesAfter - l.signaturesBefore, 1);
  });
});

// --- negative ------------------------------------------------------------------------------------------------

Then('erhält das FdV keinen AuthN-Code, sondern den Fehler {string}', async function (this: TiWorld, error: string) {
  const l = lastLogin(this);
  const check = () => {
    assert.ok(!l.result, 'the module returned a code');
    assert.ok(l.error instanceof IdpError, `expected an IDP error, got ${(l.error as Error | undefined)?.message ?? 'none'}`);
    assert.equal(l.error.error, error);
  };
  await verify('A_18917', 'Verweigert der Nutzer die Einwilligung, übergibt das Authentisierungsmodul die Ablehnung an den IDP', check);
  await verify('A_18865', 'Ohne Einwilligung stellt der IDP die Identitätsattribute nicht bereit', () => {
    check();
    assert.ok(!l.tokens);
  });
});

Then('meldet das Authentisierungsmodul, dass die PIN.CH der eGK gesperrt ist, und der IDP erhält keine signierte Challenge', async function (this: TiWorld) {
  const a = actorOf(this);
  const l = lastLogin(this);
  const discovery = await a.authn.idp.discover();
  await verify('A_18818', 'Mit gesperrter PIN.CH signiert die eGK nicht; keine signierte Challenge an den IDP', () => {
    assert.ok(l.error instanceof CardSignerError, `expected a card error, got ${(l.error as Error | undefined)?.message ?? 'success'}`);
    assert.equal(l.error.reason, 'pin-blocked');
    const posts = a.authn.authenticator.exchanges.filter((r) => r.method === 'POST' && r.url.startsWith(discovery.document.authorization_endpoint));
    assert.equal(posts.length, 0, 'a signed challenge was sent');
  });
});

Then('meldet das Authentisierungsmodul, dass die Karte keine SMC-B ist, und das PVS erhält keinen AuthN-Token', async function (this: TiWorld) {
  const l = lastLogin(this);
  await verify('A_18817', 'Für Leistungserbringerinstitutionen authentisiert das Modul nur mit der SMC-B (keine eGK über ExternalAuthenticate)', () => {
    assert.ok(l.error instanceof CardSignerError, `expected a card error, got ${(l.error as Error | undefined)?.message ?? 'success'}`);
    assert.equal(l.error.reason, 'wrong-card-type');
    assert.ok(!l.tokens);
  });
});

// --- renewal ---------------------------------------------------------------------------------------------

When(/^das PVS nach (?:weiteren )?(\d+) Sekunden wieder einen AuthN-Token braucht$/, async function (this: TiWorld, seconds: number) {
  await advanceClock(this, seconds);
  const a = actorOf(this);
  const s = idpState(this);
  s.extra.set('renewalsBefore', a.authn.tokens.stats.renewals);
  s.extra.set('previousToken', s.extra.get('currentToken') ?? s.extra.get('cachedToken'));
  s.extra.set('currentToken', await a.authn.tokens.tokens());
});

Then('verwendet das PVS den vorhandenen AuthN-Token weiter', async function (this: TiWorld) {
  const s = idpState(this);
  const cur = s.extra.get('currentToken') as TokenSet;
  const prev = s.extra.get('previousToken') as TokenSet;
  await verify('A_18827', 'Solange ein gültiger AuthN-Token vorliegt, fordert das PVS keinen neuen an', () => {
    assert.equal(cur.accessToken, prev.accessToken);
    assert.equal(actorOf(this).authn.tokens.stats.renewals, s.extra.get('renewalsBefore'));
  });
});

Then('hat das PVS vor Ablauf des alten einen neuen AuthN-Token angefordert', async function (this: TiWorld) {
  const s = idpState(this);
  const cur = s.extra.get('currentToken') as TokenSet;
  const prev = s.extra.get('previousToken') as TokenSet;
  const now = Date.now() + s.offsetMs;
  await verify('A_18827', 'Vor Ablauf des AuthN-Tokens fordert das PVS einen neuen an (Vorbedingung von UC 5.2)', () => {
    assert.notEqual(cur.accessToken, prev.accessToken);
    assert.equal(actorOf(this).authn.tokens.stats.renewals, Number(s.extra.get('renewalsBefore')) + 1);
    assert.ok(now < prev.expiresAtMs, 'renewed only after the old token had expired');
  });
  await verify('A_18860', 'Der IDP begrenzt jeden AuthN-Token zeitlich; der neue gilt länger als der alte', () => {
    assert.ok(cur.expiresAtMs > prev.expiresAtMs);
    assert.ok(cur.expiresAtMs - cur.issuedAtMs <= 300_000);
  });
});

// --- authenticator:// ----------------------------------------------------------------------------------------

When('das FdV das Authentisierungsmodul über einen "authenticator:\\/\\/"-Aufruf mit seiner Authentifizierungsanfrage startet', async function (this: TiWorld) {
  const a = actorOf(this);
  const s = idpState(this);
  const request = await a.authn.idp.createAuthorizationRequest(a.relyingParty);
  const service = await startAuthenticatorService({ authenticator: a.authn.authenticator });
  try {
    // The FdV hands the module its request the way the gematik Authenticator is invoked (authenticator://…).
    const uri = buildAuthenticatorUri(request.url);
    const local = service.authenticateUrl(new URL(uri).searchParams.get('challenge_path') ?? request.url);
    const res = await this.http(local, { service: 'Authentisierungsmodul', timeoutMs: 30_000 });
    s.extra.set('invocation', { uri, request, status: res.status, location: String(res.headers.location ?? '') });
  } finally {
    await service.stop();
  }
});

Then('leitet das Authentisierungsmodul die Anfrage an den IDP weiter und gibt den AuthN-Code an die Redirect-URI des FdV zurück', async function (this: TiWorld) {
  const a = actorOf(this);
  const inv = idpState(this).extra.get('invocation') as { uri: string; status: number; location: string; request: { state: string } };
  await verify('A_18940', 'Die Systemschnittstelle "Authentisierung anfordern" leitet an den IDP weiter und liefert den Code an die Redirect-URI', () => {
    assert.ok(inv.uri.startsWith('authenticator://'), inv.uri);
    assert.equal(inv.status, 302);
    assert.ok(inv.location.startsWith(a.relyingParty.redirectUri), inv.location);
    const u = new URL(inv.location);
    assert.ok(u.searchParams.get('code'));
    assert.equal(u.searchParams.get('state'), inv.request.state);
  });
});

Then('erhält das FdV mit diesem AuthN-Code einen AuthN-Token', async function (this: TiWorld) {
  const a = actorOf(this);
  const inv = idpState(this).extra.get('invocation') as { location: string; request: { codeVerifier: string; nonce: string } };
  const code = new URL(inv.location).searchParams.get('code') ?? '';
  let tokens: TokenSet | undefined;
  let error: unknown;
  try {
    tokens = await a.authn.idp.redeemCode({ relyingParty: a.relyingParty, code, codeVerifier: inv.request.codeVerifier, nonce: inv.request.nonce });
  } catch (e) {
    error = e;
  }
  await verify('A_18940', 'Der über die Systemschnittstelle erhaltene AuthN-Code ergibt einen AuthN-Token', () => {
    assert.ok(tokens, `no token: ${(error as Error | undefined)?.message}`);
    assert.equal(tokens.accessTokenClaims.idNummer, idNummerOf(a.card));
  });
});

// --- shared with the IDP feature -------------------------------------------------------------------------

Then(/^lehnt der IDP die (signierte Challenge|Einwilligung) mit dem Fehlercode (\d+) ab$/, async function (this: TiWorld, what: string, code: number) {
  const s = idpState(this);
  const err = s.lastError;
  await verifyAll(
    this,
    ['A_18819', 'A_18801', 'A_18864', 'A_18914', 'A_18799', 'A_18888', 'A_18915'],
    `Der IDP lehnt die ${what} mit gematik_code ${code} ab`,
    () => {
      assert.ok(err instanceof IdpError, `expected an IDP error, got ${(err as Error | undefined)?.message ?? 'no error'}`);
      assert.equal(err.gematikCode, String(code), err.message);
      assert.ok(err.gematikUuid && err.gematikErrorText, 'gematik_uuid / gematik_error_text missing');
    },
  );
});

When('die TI-PKI das AUT-Zertifikat der SMC-B von {string} sperrt', async function (this: TiWorld, _name: string) {
  const a = actorOf(this);
  const serial = parseCertificate(await a.signer.inner.autCertificate()).serialNumber;
  await this.admin('pki', `/certificates/${serial}/revoke`, { reason: 'keyCompromise' });
  idpState(this).revoked.push(serial);
});
