/**
 * KonnektorClient and KonnektorSmcbSigner (A_18817): the SMC-B answers the IDP challenge through
 * the Konnektor — ReadCardCertificate C.AUT and ExternalAuthenticate over SOAP/HTTPS, endpoints
 * from connector.sds, the PKI root as trust anchor, real persona cards behind a private pcscd.
 * Each signature is checked against C.HCI.AUT and traced to the Konnektor's call log and the
 * card's own PSO COMPUTE DIGITAL SIGNATURE.
 */
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { loadPersona, type SmcbPersona } from '../../../cards/index';
import { CardSignerError } from '../../../simulators/authenticator/signer';
import { KonnektorSmcbSigner } from '../../../simulators/authenticator/signers/konnektor-smcb';
import { bp256VerifyDigest } from '../../../simulators/lib/bp256';
import { KonnektorClient, KonnektorClientError, KonnektorFault, parseServiceDirectory, type KonnektorClientOptions } from '../../../simulators/lib/konnektor-client';
import { KONNEKTOR_NS as NS } from '../../../simulators/lib/konnektor-namespaces';
import { SOAP11_ENVELOPE_NS } from '../../../simulators/lib/soap';
import { parseCertificate } from '../../../simulators/lib/x509';
import { CERT_TYPE } from '../../../simulators/pki/oids';
import { CONTEXT, count, INTERNAL_AUTHENTICATE, PSO_CDS, startSignerStack, type SignerStack } from './helpers';

const PRAXIS = 'Praxis Dr. Hanna Ebert';
const APOTHEKE = 'Apotheke am Markt';
const HBA = 'Dr. Hanna Ebert';
const EGK = 'Jonas Keller';

let stack: SignerStack;
let url: string;
const closers: Array<{ close(): Promise<void> }> = [];

const digestOf = (text: string) => crypto.createHash('sha256').update(text).digest();

function clientOptions(extra: Partial<KonnektorClientOptions> = {}): KonnektorClientOptions {
  return { url, ca: stack.rootPem, context: CONTEXT, ...extra };
}

function client(extra: Partial<KonnektorClientOptions> = {}): KonnektorClient {
  const c = new KonnektorClient(clientOptions(extra));
  closers.push(c);
  return c;
}

function signer(opts: Partial<ConstructorParameters<typeof KonnektorSmcbSigner>[0]>): KonnektorSmcbSigner {
  const s = new KonnektorSmcbSigner({ konnektor: clientOptions(), ...opts });
  closers.push(s);
  return s;
}

/** The Konnektor's admin call log (GET /__admin/calls), as a harness step would read it. */
function calls(operation?: string): Promise<Array<{ id: number; operation?: string; faultCode?: number; context?: { mandantId: string } }>> {
  return new Promise((resolve, reject) => {
    const q = operation ? `?operation=${operation}` : '';
    https
      .get(`${url}/__admin/calls${q}`, { ca: stack.rootPem }, (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve((JSON.parse(text) as { calls: never[] }).calls));
      })
      .on('error', reject);
  });
}

async function rejectsWith(p: Promise<unknown>, reason: CardSignerError['reason'], konnektorCode?: string): Promise<CardSignerError> {
  const e = await p.then(
    () => assert.fail(`expected CardSignerError ${reason}, but it succeeded`),
    (err: unknown) => err,
  );
  assert.ok(e instanceof CardSignerError, `expected CardSignerError, got ${(e as Error)?.name}: ${(e as Error)?.message}`);
  assert.equal(e.reason, reason, e.message);
  if (konnektorCode !== undefined) assert.equal(e.detail?.konnektorCode, konnektorCode, e.message);
  return e;
}

before(async () => {
  stack = await startSignerStack({ vpcdFrom: 46700, personas: [PRAXIS, APOTHEKE, HBA, EGK], insert: [PRAXIS, HBA, APOTHEKE, EGK], konnektor: true });
  url = stack.konnektor!.url;
});

after(async () => {
  for (const c of closers) await c.close();
  await stack?.stop();
});

// ---------------------------------------------------------------------------
// The client
// ---------------------------------------------------------------------------

test('KonnektorClient takes every endpoint from connector.sds (a Konnektor with other paths and CardService 8.2 only)', async () => {
  const seen: Array<{ path?: string; action?: string; body: string }> = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push({ path: req.url, action: req.headers.soapaction as string | undefined, body });
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const envelope = (inner: string) => `<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="${SOAP11_ENVELOPE_NS}"><s:Body>${inner}</s:Body></s:Envelope>`;
      if (req.method === 'GET' && req.url === '/konnektor/connector.sds') {
        const version = (ns: string, v: string, path: string) =>
          `<SI:Version TargetNamespace="${ns}" Version="${v}"><SI:Abstract>x</SI:Abstract><SI:EndpointTLS Location="${base}${path}"/><SI:WSDL Location="${base}/w.wsdl"/></SI:Version>`;
        res.end(
          `<?xml version="1.0"?><SDS:ConnectorServices xmlns:SDS="${NS.SDS}" xmlns:SI="${NS.SI}" xmlns:PI="${NS.PI}"><PI:ProductInformation><PI:ProductIdentification><PI:ProductVendorID>VEND</PI:ProductVendorID><PI:ProductCode>K1</PI:ProductCode></PI:ProductIdentification></PI:ProductInformation>` +
            `<SDS:TLSMandatory>false</SDS:TLSMandatory><SDS:ClientAutMandatory>false</SDS:ClientAutMandatory><SI:ServiceInformation>` +
            `<SI:Service Name="EventService"><SI:Abstract>e</SI:Abstract><SI:Versions>${version(NS.EVT, '7.2.0', '/soap/evt72')}</SI:Versions></SI:Service>` +
            `<SI:Service Name="CardService"><SI:Abstract>c</SI:Abstract><SI:Versions>${version(NS.CARD82, '8.2.1', '/soap/card82')}</SI:Versions></SI:Service>` +
            `<SI:Service Name="SignatureService"><SI:Abstract>s</SI:Abstract><SI:Versions>${version(NS.SIG74, '7.4.2', '/soap/not-the-auth-service')}</SI:Versions></SI:Service>` +
            `</SI:ServiceInformation></SDS:ConnectorServices>`,
        );
      } else if (req.url === '/soap/evt72') {
        res.end(
          envelope(
            `<EVT:GetCardsResponse xmlns:EVT="${NS.EVT}" xmlns:CARD="${NS.CARD}" xmlns:CONN="${NS.CONN}" xmlns:CARDCMN="${NS.CARDCMN}"><CONN:Status><CONN:Result>OK</CONN:Result></CONN:Status><CARD:Cards>` +
              `<CARD:Card><CONN:CardHandle>H-1</CONN:CardHandle><CARDCMN:CardType>SMC-B</CARDCMN:CardType><CARDCMN:Iccsn>80276883119920000001</CARDCMN:Iccsn><CARDCMN:CtId>CT-9</CARDCMN:CtId><CARDCMN:SlotId>2</CARDCMN:SlotId><CARD:InsertTime>2025-01-02T03:04:05Z</CARD:InsertTime><CARD:CardHolderName>Praxis X</CARD:CardHolderName></CARD:Card>` +
              `</CARD:Cards></EVT:GetCardsResponse>`,
          ),
        );
      } else if (req.url === '/soap/card82' && body.includes('GetPinStatus')) {
        res.statusCode = 500;
        res.end(
          envelope(
            `<s:Fault><faultcode>s:Server</faultcode><faultstring>Karte nicht als gesteckt identifiziert</faultstring><detail><GERROR:Error xmlns:GERROR="${NS.GERROR}"><GERROR:MessageID>m</GERROR:MessageID><GERROR:Timestamp>2025-01-01T00:00:00Z</GERROR:Timestamp>` +
              `<GERROR:Trace><GERROR:EventID>e</GERROR:EventID><GERROR:Instance>i</GERROR:Instance><GERROR:LogReference/><GERROR:CompType>KON</GERROR:CompType><GERROR:Code>4008</GERROR:Code><GERROR:Severity>Error</GERROR:Severity><GERROR:ErrorType>Technical</GERROR:ErrorType><GERROR:ErrorText>Karte nicht als gesteckt identifiziert</GERROR:ErrorText><GERROR:Detail>no card H-1</GERROR:Detail></GERROR:Trace></GERROR:Error></detail></s:Fault>`,
          ),
        );
      } else if (req.url === '/soap/card82') {
        res.end(`this is not XML`);
      } else {
        res.statusCode = 404;
        res.end('no such endpoint');
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const port = (server.address() as AddressInfo).port;
    const c = new KonnektorClient({ url: `http://127.0.0.1:${port}/konnektor/connector.sds`, context: { ...CONTEXT, userId: 'user-1' } });
    closers.push(c);
    const dir = await c.discover();
    assert.equal(dir.product.vendorId, 'VEND');
    assert.deepEqual([...dir.services.keys()], ['EventService', 'CardService', 'SignatureService']);

    const cards = await c.getCards({ cardType: 'SMC-B' });
    assert.deepEqual(cards, [
      { cardHandle: 'H-1', cardType: 'SMC-B', iccsn: '80276883119920000001', ctId: 'CT-9', slotId: 2, insertTime: new Date('2025-01-02T03:04:05Z'), cardHolderName: 'Praxis X' },
    ]);
    const getCards = seen.find((s) => s.path === '/soap/evt72');
    assert.ok(getCards, 'GetCards went to the EventService endpoint of the directory');
    assert.equal(getCards.action, `"${NS.EVT}#GetCards"`);
    assert.match(getCards.body, /<CONN:MandantId>Praxis<\/CONN:MandantId><CONN:ClientSystemId>PVS-1<\/CONN:ClientSystemId><CONN:WorkplaceId>WP-1<\/CONN:WorkplaceId><CONN:UserId>user-1<\/CONN:UserId>/);
    assert.match(getCards.body, /<CARDCMN:CardType>SMC-B<\/CARDCMN:CardType>/);

    // CardService only in 8.2: the request speaks the 8.2 namespace; a SOAP Fault becomes KonnektorFault
    const fault = await c.getPinStatus('H-1', 'PIN.SMC').then(
      () => assert.fail('expected a fault'),
      (e: unknown) => e,
    );
    assert.ok(fault instanceof KonnektorFault, String(fault));
    assert.equal(fault.code, 4008);
    assert.equal(fault.errorText, 'Karte nicht als gesteckt identifiziert');
    assert.equal(fault.detail, 'no card H-1');
    assert.equal(fault.operation, 'GetPinStatus');
    assert.equal(fault.httpStatus, 500);
    const pinCall = seen.find((s) => s.path === '/soap/card82');
    assert.equal(pinCall?.action, `"${NS.CARD82}#GetPinStatus"`);
    assert.match(pinCall?.body ?? '', new RegExp(`<CARD:GetPinStatus xmlns:CARD="${NS.CARD82.replace(/[.]/g, '\\.')}">`));

    await assert.rejects(c.verifyPin('H-1', 'PIN.SMC'), (e: unknown) => e instanceof KonnektorClientError && e.kind === 'protocol' && /no SOAP 1\.1 envelope/.test(e.message));
    // the directory has a SignatureService 7.4 but no AuthSignatureService: ExternalAuthenticate has no endpoint
    await assert.rejects(c.externalAuthenticate('H-1', digestOf('x')), (e: unknown) => e instanceof KonnektorClientError && e.kind === 'discovery' && /AuthSignatureService/.test(e.message));
    assert.ok(!seen.some((s) => s.path === '/soap/not-the-auth-service'));
    // bad input never reaches the wire
    const before = seen.length;
    await assert.rejects(c.externalAuthenticate('H-1', Buffer.alloc(0)), RangeError);
    await assert.rejects(c.readCardCertificates('', ['C.AUT']), TypeError);
    await assert.rejects(c.getCards({ slotId: 1 }), TypeError);
    assert.equal(seen.length, before);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
  assert.throws(() => new KonnektorClient({ url: 'not a url', context: CONTEXT }), TypeError);
  assert.throws(() => new KonnektorClient({ url: 'ftp://x', context: CONTEXT }), TypeError);
  assert.throws(() => new KonnektorClient({ url: 'https://x', context: undefined as never }), TypeError);
  assert.throws(() => parseServiceDirectory('<nope/>'), KonnektorClientError);
});

test('KonnektorClient against the simulated Konnektor over HTTPS: GetCards by CardType, ReadCardCertificate, GetPinStatus, VerifyPin', async () => {
  const c = client();
  const dir = await c.discover();
  assert.equal(dir.tlsMandatory, true);
  assert.equal(dir.services.get('AuthSignatureService')?.[0].endpoint, `${url}/ws/AuthSignatureService`);

  const all = await c.getCards();
  assert.deepEqual(all.map((x) => x.cardType).sort(), ['EGK', 'HBA', 'SMC-B', 'SMC-B']);
  const smcbs = await c.getCards({ cardType: 'SMC-B' });
  const praxis = loadPersona(PRAXIS) as SmcbPersona;
  assert.deepEqual(smcbs.map((x) => x.iccsn).sort(), [praxis.iccsn, loadPersona(APOTHEKE).iccsn].sort());
  const egk = await c.getCards({ cardType: 'EGK' });
  assert.equal(egk.length, 1);
  assert.equal(egk[0].kvnr, 'K204617388');
  assert.deepEqual((await c.getCards({ ctId: 'CT-A', slotId: 1 })).map((x) => x.iccsn), [praxis.iccsn]);

  const handle = smcbs.find((x) => x.iccsn === praxis.iccsn)!.cardHandle;
  const certs = await c.readCardCertificates(handle, ['C.AUT', 'C.SIG', 'C.QES']);
  assert.deepEqual(certs.map((x) => [x.ref, !!x.der]), [['C.AUT', true], ['C.SIG', true], ['C.QES', false]]);
  assert.ok(parseCertificate(certs[0].der!).policies.includes(CERT_TYPE.smcbAut));
  assert.equal(await c.readCardCertificate(handle, 'C.AUT', { crypt: 'RSA' }), undefined, 'the cards hold ECC keys only');

  const apotheke = smcbs.find((x) => x.iccsn !== praxis.iccsn)!.cardHandle;
  assert.equal((await c.getPinStatus(apotheke, 'PIN.SMC')).status, 'VERIFIABLE');
  assert.deepEqual(await c.verifyPin(apotheke, 'PIN.SMC'), { result: 'OK' });
  assert.equal((await c.getPinStatus(apotheke, 'PIN.SMC')).status, 'VERIFIED');

  const wrong = await c.withContext({ ...CONTEXT, mandantId: 'Unbekannt' }).getCards().then(
    () => assert.fail('expected 4004'),
    (e: unknown) => e,
  );
  assert.ok(wrong instanceof KonnektorFault);
  assert.equal(wrong.code, 4004);
  assert.equal(wrong.errorText, 'Ungültige Mandanten-ID');
});

test('KonnektorClient trusts only the given anchor; the TI TLS profile (brainpool) works through the tls option', async () => {
  // the eGK CA of the same PKI is no anchor for the Konnektor's certificate (issued by the KOMP CA)
  const c = client({ ca: stack.pki.cas['egk-ca'].certificatePem });
  await assert.rejects(c.getCards(), (e: unknown) => e instanceof KonnektorClientError && e.kind === 'transport' && /certificate/i.test(e.message));
  // the TI profile (TLS 1.2, brainpoolP256r1) through the tls option: the Konnektor's brainpool C.AK.AUT, same trust anchor
  assert.equal((await client({ tls: { maxVersion: 'TLSv1.2', ecdhCurve: 'brainpoolP256r1' } }).getCards({ cardType: 'EGK' })).length, 1);
  const noCa = client({ ca: undefined });
  await assert.rejects(noCa.getCards(), (e: unknown) => e instanceof KonnektorClientError && e.kind === 'transport' && /certificate/i.test(e.message));
});

// ---------------------------------------------------------------------------
// The signer
// ---------------------------------------------------------------------------

test('the SMC-B of Praxis Dr. Hanna Ebert: C.HCI.AUT of the persona, ExternalAuthenticate signatures made by the card and valid with it', async () => {
  const persona = loadPersona(PRAXIS) as SmcbPersona;
  const s = signer({ persona: PRAXIS });
  assert.equal(s.kind, 'SMC-B');
  assert.equal(s.label, PRAXIS);
  const der = await s.autCertificate();
  const cert = parseCertificate(der);
  assert.ok(cert.policies.includes(CERT_TYPE.smcbAut), `certificate type C.HCI.AUT (${CERT_TYPE.smcbAut}) in ${cert.policies.join(', ')}`);
  assert.equal(stack.pki.issuerOf(cert)?.name, 'smcb-ca', 'issued by the SMC-B CA of the simulated PKI');
  assert.ok(cert.admission?.professions.some((p) => p.registrationNumber === persona.telematikId), `Telematik-ID ${persona.telematikId} in the admission`);

  const since = (await calls()).at(-1)?.id ?? 0;
  const pso = count(stack.commands, PRAXIS, PSO_CDS);
  for (let i = 0; i < 3; i++) {
    const digest = digestOf(`challenge ${i}`);
    const sig = await s.signDigest(digest);
    assert.equal(sig.length, 64, 'raw r‖s (converted from the Konnektor\'s DER)');
    assert.ok(bp256VerifyDigest(digest, sig, cert.publicKey), `signature ${i} verifies with C.HCI.AUT`);
  }
  const after = (await calls()).filter((c) => c.id > since);
  // PIN.SMC is verified once through the Konnektor (as gematik's Authenticator does), then three ExternalAuthenticate
  assert.deepEqual(after.map((c) => c.operation), ['GetPinStatus', 'VerifyPin', 'ExternalAuthenticate', 'ExternalAuthenticate', 'ExternalAuthenticate']);
  assert.ok(after.every((c) => c.faultCode === undefined && c.context?.mandantId === 'Praxis'));
  assert.equal(count(stack.commands, PRAXIS, PSO_CDS) - pso, 3, 'the card computed each signature (PSO COMPUTE DIGITAL SIGNATURE)');
  assert.equal(count(stack.commands, PRAXIS, INTERNAL_AUTHENTICATE), 0);
  await assert.rejects(s.signDigest(Buffer.alloc(20)), RangeError);
});

test('the SMC-B is found by Telematik-ID or ICCSN too; an unknown one is missing, an HBA is the wrong card type, two SMC-Bs must be told apart', async () => {
  const persona = loadPersona(PRAXIS) as SmcbPersona;
  const byPersona = await signer({ persona: PRAXIS }).autCertificate();
  const byTid = signer({ telematikId: persona.telematikId });
  assert.deepEqual(await byTid.autCertificate(), byPersona);
  assert.equal(byTid.label, PRAXIS, 'the card holder name from GetCards');
  assert.deepEqual(await signer({ iccsn: persona.iccsn }).autCertificate(), byPersona);
  const digest = digestOf('by telematik-id');
  assert.ok(bp256VerifyDigest(digest, await byTid.signDigest(digest), parseCertificate(byPersona).publicKey));

  await rejectsWith(signer({ telematikId: '1-SMC-B-unbekannt' }).autCertificate(), 'card-missing');
  await rejectsWith(signer({ iccsn: loadPersona(HBA).iccsn }).signDigest(digestOf('hba')), 'wrong-card-type');
  await rejectsWith(signer({}).autCertificate(), 'card-error'); // Praxis and Apotheke
  assert.throws(() => new KonnektorSmcbSigner({ konnektor: clientOptions(), persona: HBA }), TypeError);
  assert.throws(() => new KonnektorSmcbSigner({ konnektor: clientOptions(), iccsn: '42' }), TypeError);
});

test('PIN.SMC status lost after it was checked (a wrong VerifyPin elsewhere): 4047, the signer verifies again and signs', async () => {
  const s = signer({ persona: PRAXIS });
  const cert = parseCertificate(await s.autCertificate());
  await s.signDigest(digestOf('warm')); // PIN checked
  const persona = loadPersona(PRAXIS);
  const c = client();
  const handle = (await c.getCards({ cardType: 'SMC-B' })).find((x) => x.iccsn === persona.iccsn)!.cardHandle;
  stack.konnektor!.context.cards.pinPad.queue(persona.iccsn, ['000000']);
  assert.equal((await c.verifyPin(handle, 'PIN.SMC')).result, 'REJECTED'); // the card deletes the PIN's security status
  const since = (await calls()).at(-1)?.id ?? 0;
  const digest = digestOf('after the wrong PIN');
  assert.ok(bp256VerifyDigest(digest, await s.signDigest(digest), cert.publicKey));
  const after = (await calls()).filter((x) => x.id > since);
  assert.deepEqual(after.map((x) => [x.operation, x.faultCode]), [
    ['ExternalAuthenticate', 4047],
    ['GetPinStatus', undefined],
    ['VerifyPin', undefined],
    ['ExternalAuthenticate', undefined],
  ]);
});

test('a call context the Konnektor does not know: konnektor-fault with the gematik code', async () => {
  const s = signer({ persona: PRAXIS, konnektor: clientOptions({ context: { ...CONTEXT, mandantId: 'Unbekannt' } }) });
  await rejectsWith(s.autCertificate(), 'konnektor-fault', '4004');
  const t = signer({ persona: PRAXIS, konnektor: clientOptions({ context: { ...CONTEXT, workplaceId: '' } }) });
  await rejectsWith(t.signDigest(digestOf('x')), 'konnektor-fault', '4021');
});

test('wrong PIN typed at the PIN pad: pin-wrong, then pin-blocked; the card is never asked to sign', async () => {
  // Apotheke am Markt: a fresh card, PIN.SMC not verified. The PIN pad types three wrong PINs.
  await stack.remove(APOTHEKE);
  await stack.insert(APOTHEKE, 2);
  const persona = loadPersona(APOTHEKE);
  stack.konnektor!.context.cards.pinPad.queue(persona.iccsn, ['000000', '000000', '000000']);
  const s = signer({ persona: APOTHEKE });
  const pso = count(stack.commands, APOTHEKE, PSO_CDS);
  assert.match((await rejectsWith(s.signDigest(digestOf('1')), 'pin-wrong')).message, /2 tries left/);
  await rejectsWith(s.signDigest(digestOf('2')), 'pin-wrong');
  await rejectsWith(s.signDigest(digestOf('3')), 'pin-blocked');
  await rejectsWith(s.signDigest(digestOf('4')), 'pin-blocked'); // GetPinStatus: BLOCKED
  assert.equal(count(stack.commands, APOTHEKE, PSO_CDS), pso);
});

test('card pulled: card-missing; put back (new card handle, PIN.SMC to verify again): the same signer signs again', async () => {
  const s = signer({ persona: PRAXIS });
  const cert = parseCertificate(await s.autCertificate());
  await s.signDigest(digestOf('before'));
  await stack.remove(PRAXIS);
  await rejectsWith(s.signDigest(digestOf('gone')), 'card-missing');
  await rejectsWith(s.autCertificate(), 'card-missing');
  await stack.insert(PRAXIS, 0);
  const since = (await calls()).at(-1)?.id ?? 0;
  const digest = digestOf('back');
  assert.ok(bp256VerifyDigest(digest, await s.signDigest(digest), cert.publicKey));
  const ops = (await calls()).filter((c) => c.id > since).map((c) => c.operation);
  // looked up again (by ICCSN, Telematik-ID checked in C.AUT — the certificate handed out before), PIN verified on the fresh card
  assert.deepEqual(ops, ['GetCards', 'ReadCardCertificate', 'GetPinStatus', 'VerifyPin', 'ExternalAuthenticate']);
});
