/**
 * Steps for features/konnektor: a client system (PVS/AVS) talking to the Konnektor only through
 * its SOAP 1.1 interface over HTTPS (hand-written envelopes per the gematik WSDLs, parsed with
 * simulators/lib/soap.ts and xml.ts; the PKI root from the PKI's public /certs/root.pem is the TLS
 * trust anchor). Inserting and pulling cards is a harness control (cards service admin API): the
 * scenarios that use it are @simulator-only.
 *
 * Which requirement a fault/status assertion proves follows from the last command sent
 * (SignDocument → TUC_KON_150, VerifyPin → TUC_KON_012, a foreign call context → TUC_KON_000, …),
 * so the generic "Fehler" step records against the right id.
 */
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import { After, Given, Then, When } from '@cucumber/cucumber';
import { loadPersona, type Persona } from '../../cards';
import { verifySignedData } from '../../simulators/lib/cms';
import { parseSoapEnvelope, readSoapFault, SOAP11_ENVELOPE_NS, type TelematikTrace } from '../../simulators/lib/soap';
import { parseCertificate } from '../../simulators/lib/x509';
import { escapeText, type NsElement } from '../../simulators/lib/xml';
import { EnvironmentError, TestDefectError } from '../support/errors';
import { verify } from '../verify';
import { KONNEKTOR_NS } from '../../simulators/lib/konnektor-namespaces';
import type { TiWorld } from '../world';

const NS = KONNEKTOR_NS;

/** Endpoints and SOAPAction prefixes as the WSDL bindings (and connector.sds) name them. */
const SERVICE = {
  event: { path: '/ws/EventService', action: `${NS.EVT}#` },
  card: { path: '/ws/CardService', action: `${NS.CARD}#` },
  certificate: { path: '/ws/CertificateService', action: `${NS.CERT}#` },
  signature: { path: '/ws/SignatureService', action: `${NS.SIG75}#` },
  auth: { path: '/ws/AuthSignatureService', action: `${NS.SIG74}#` },
} as const;

const CADES = 'urn:ietf:rfc:5652';
const CA_NAMES = ['hba-qca', 'hba-ca', 'smcb-ca', 'egk-ca', 'komp-ca'];

interface CallContext {
  mandantId: string;
  clientSystemId: string;
  workplaceId: string;
}

interface SoapAnswer {
  operation: string;
  /** Requirement the command relates to (for the generic fault step). */
  afo: string;
  status: number;
  text: string;
  body?: NsElement;
  fault?: { faultcode: string; faultstring: string; trace: TelematikTrace[] };
  parseError?: string;
}

interface KonnektorCard {
  persona: Persona;
  handle: string;
  type: string;
}

interface KonnektorState {
  ctx?: CallContext;
  cards: Map<string, KonnektorCard>;
  last?: SoapAnswer;
  autCertificate?: Buffer;
  hash?: Buffer;
  /** What was hashed (the challenge), to verify the signature over SHA-256(challenge). */
  challenge?: Buffer;
  document?: Buffer;
  cms?: Buffer;
  signResponses?: Array<{ result: string; code?: number; cms?: Buffer }>;
  /** Personas this scenario inserted (taken out again in the After hook). */
  inserted: string[];
}

function state(world: TiWorld): KonnektorState {
  let s = world.state.get('konnektor') as KonnektorState | undefined;
  if (!s) {
    s = { cards: new Map(), inserted: [] };
    world.state.set('konnektor', s);
  }
  return s;
}

function context(world: TiWorld): CallContext {
  const ctx = state(world).ctx;
  if (!ctx) throw new TestDefectError('no call context yet: start with "das Primärsystem ruft den Konnektor im Aufrufkontext … auf"');
  return ctx;
}

function last(world: TiWorld): SoapAnswer {
  const a = state(world).last;
  if (!a) throw new TestDefectError('no Konnektor call in this scenario yet');
  return a;
}

let rootPem: Promise<string> | undefined;

/** The TI trust anchor, fetched from the PKI's public interface once per process. */
function trustAnchor(world: TiWorld): Promise<string> {
  rootPem ??= world.http(world.serviceUrl('pki', '/certs/root.pem'), { service: 'PKI' }).then((res) => {
    if (res.status !== 200) throw new EnvironmentError(`PKI: GET /certs/root.pem answered ${res.status}`);
    return res.text();
  });
  rootPem.catch(() => (rootPem = undefined));
  return rootPem;
}

const contextXml = (c: CallContext): string =>
  `<CCTX:Context><CONN:MandantId>${escapeText(c.mandantId)}</CONN:MandantId><CONN:ClientSystemId>${escapeText(c.clientSystemId)}</CONN:ClientSystemId>` +
  `<CONN:WorkplaceId>${escapeText(c.workplaceId)}</CONN:WorkplaceId></CCTX:Context>`;

/** One SOAP 1.1 call: HTTP faults/timeouts are environment faults; the answer is parsed but never judged here. */
async function call(world: TiWorld, service: keyof typeof SERVICE, operation: string, inner: string, afo: string, timeoutMs = 30_000): Promise<SoapAnswer> {
  const { path, action } = SERVICE[service];
  const envelope =
    `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="${SOAP11_ENVELOPE_NS}" xmlns:CONN="${NS.CONN}" xmlns:CCTX="${NS.CCTX}" ` +
    `xmlns:CARDCMN="${NS.CARDCMN}" xmlns:CARD="${NS.CARD}" xmlns:EVT="${NS.EVT}" xmlns:CERT="${NS.CERT}" xmlns:CERTCMN="${NS.CERTCMN}" ` +
    `xmlns:SIG="${NS.SIG75}" xmlns:SIG4="${NS.SIG74}" xmlns:dss="${NS.DSS}" xmlns:vr="${NS.VR}"><soapenv:Header/><soapenv:Body>${inner}</soapenv:Body></soapenv:Envelope>`;
  const res = await world.http(world.serviceUrl('konnektor', path), {
    method: 'POST',
    body: envelope,
    headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: `"${action}${operation}"` },
    ca: await trustAnchor(world),
    timeoutMs,
    service: 'Konnektor',
  });
  const answer: SoapAnswer = { operation, afo, status: res.status, text: res.text() };
  try {
    answer.body = parseSoapEnvelope(answer.text).body;
    answer.fault = readSoapFault(answer.text);
  } catch (e) {
    answer.parseError = (e as Error).message;
  }
  state(world).last = answer;
  return answer;
}

/** The response element of a successful call, or an assertion failure saying what came instead. */
function okBody(a: SoapAnswer): NsElement {
  assert.equal(a.parseError, undefined, `${a.operation}: the answer is no SOAP 1.1 envelope (${a.parseError}): ${a.text.slice(0, 300)}`);
  assert.equal(a.fault, undefined, `${a.operation}: SOAP Fault ${a.fault?.trace[0]?.code} ${a.fault?.faultstring} (${a.fault?.trace[0]?.detail ?? ''})`);
  assert.equal(a.status, 200, `${a.operation}: HTTP ${a.status}`);
  return a.body as NsElement;
}

const resultOf = (e: NsElement | undefined): string | undefined => e?.child('Status', NS.CONN)?.child('Result', NS.CONN)?.text();

/** GetCards in the scenario's context; the persona's card by its ICCSN (polls briefly: a card just inserted needs a moment). */
async function cardOf(world: TiWorld, name: string, waitMs = 10_000): Promise<KonnektorCard> {
  const s = state(world);
  const persona = loadPersona(name);
  const known = s.cards.get(persona.name);
  if (known) return known;
  const deadline = Date.now() + waitMs;
  for (;;) {
    const a = await call(world, 'event', 'GetCards', `<EVT:GetCards mandant-wide="false">${contextXml(context(world))}</EVT:GetCards>`, 'A_18817');
    if (a.fault || a.parseError || a.status !== 200) {
      throw new EnvironmentError(`Konnektor GetCards failed (${a.fault?.trace[0]?.code ?? a.status}): the card of ${persona.name} cannot be looked up`);
    }
    const found = (a.body?.child('Cards', NS.CARD)?.children('Card', NS.CARD) ?? []).find((c) => c.child('Iccsn', NS.CARDCMN)?.text() === persona.iccsn);
    if (found) {
      const card = { persona, handle: found.child('CardHandle', NS.CONN)?.text() ?? '', type: found.child('CardType', NS.CARDCMN)?.text() ?? '' };
      s.cards.set(persona.name, card);
      return card;
    }
    if (Date.now() > deadline) throw new EnvironmentError(`the card of ${persona.name} (ICCSN ${persona.iccsn}) is not in the Konnektor's GetCards answer: is it inserted?`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function readCertificate(world: TiWorld, card: KonnektorCard, ref: string, afo: string): Promise<SoapAnswer> {
  return call(
    world,
    'certificate',
    'ReadCardCertificate',
    `<CERT:ReadCardCertificate><CONN:CardHandle>${escapeText(card.handle)}</CONN:CardHandle>${contextXml(context(world))}<CERT:CertRefList><CERT:CertRef>${escapeText(ref)}</CERT:CertRef></CERT:CertRefList></CERT:ReadCardCertificate>`,
    afo,
  );
}

function certificateFrom(a: SoapAnswer, ref: string): Buffer {
  const infos = okBody(a).child('X509DataInfoList', NS.CERTCMN)?.children('X509DataInfo', NS.CERTCMN) ?? [];
  const info = infos.find((i) => i.child('CertRef', NS.CERTCMN)?.text() === ref);
  const b64 = info?.child('X509Data', NS.CERTCMN)?.child('X509Certificate', NS.CERTCMN)?.text();
  assert.ok(b64, `ReadCardCertificate returned no ${ref} certificate`);
  return Buffer.from(b64, 'base64');
}

/** Finds the issuing CA among the PKI's published CA certificates and checks the signature. */
async function issuingCa(world: TiWorld): Promise<crypto.X509Certificate[]> {
  const cas: crypto.X509Certificate[] = [];
  for (const name of CA_NAMES) {
    const res = await world.http(world.serviceUrl('pki', `/certs/${name}.pem`), { service: 'PKI' });
    if (res.status === 200) cas.push(new crypto.X509Certificate(res.body));
  }
  if (cas.length === 0) throw new EnvironmentError('the PKI publishes none of its CA certificates');
  return cas;
}

async function signDocument(world: TiWorld, card: KonnektorCard, documents: Buffer[], ctx: CallContext, afo: string, timeoutMs = 30_000): Promise<SoapAnswer> {
  const job = await call(world, 'signature', 'GetJobNumber', `<SIG:GetJobNumber>${contextXml(ctx)}</SIG:GetJobNumber>`, afo);
  // A context the Konnektor refuses refuses GetJobNumber too; SignDocument then gets a well-formed number of its own.
  const jobNumber = job.fault || job.parseError ? 'ABC-123' : (job.body?.child('JobNumber', NS.SIG75)?.text() ?? 'ABC-123');
  const requests = documents
    .map(
      (d, i) =>
        `<SIG:SignRequest RequestID="Doc${i + 1}"><SIG:OptionalInputs><dss:SignatureType>${CADES}</dss:SignatureType><SIG:IncludeEContent>true</SIG:IncludeEContent></SIG:OptionalInputs>` +
        `<SIG:Document ShortText="Verordnung ${i + 1}"><dss:Base64Data MimeType="application/fhir+xml">${d.toString('base64')}</dss:Base64Data></SIG:Document>` +
        '<SIG:IncludeRevocationInfo>true</SIG:IncludeRevocationInfo></SIG:SignRequest>',
    )
    .join('');
  return call(
    world,
    'signature',
    'SignDocument',
    `<SIG:SignDocument><CONN:CardHandle>${escapeText(card.handle)}</CONN:CardHandle><SIG:Crypt>ECC</SIG:Crypt>${contextXml(ctx)}<SIG:TvMode>NONE</SIG:TvMode>` +
      `<SIG:JobNumber>${jobNumber}</SIG:JobNumber>${requests}</SIG:SignDocument>`,
    afo,
    timeoutMs,
  );
}

function signResponsesOf(a: SoapAnswer): Array<{ result: string; code?: number; cms?: Buffer }> {
  return okBody(a)
    .children('SignResponse', NS.SIG75)
    .map((r) => {
      const code = r.child('Status', NS.CONN)?.child('Error', NS.GERROR)?.child('Trace', NS.GERROR)?.child('Code', NS.GERROR)?.text();
      const b64 = r.child('SignatureObject', NS.DSS)?.child('Base64Signature', NS.DSS)?.text();
      return { result: resultOf(r) ?? '', ...(code ? { code: Number(code) } : {}), ...(b64 ? { cms: Buffer.from(b64, 'base64') } : {}) };
    });
}

const documentXml = (text: string): Buffer =>
  Buffer.from(`<Bundle xmlns="http://hl7.org/fhir"><id value="${crypto.randomUUID()}"/><note value="${escapeText(text)}"/></Bundle>`, 'utf8');

// --- context and cards -------------------------------------------------------

Given('das Primärsystem ruft den Konnektor im Aufrufkontext {string} \\/ {string} \\/ {string} auf', function (this: TiWorld, mandantId: string, clientSystemId: string, workplaceId: string) {
  state(this).ctx = { mandantId, clientSystemId, workplaceId };
});

Given('die Karte von {string} steckt frisch in einem freien Kartenleser am Arbeitsplatz', async function (this: TiWorld, name: string) {
  const persona = loadPersona(name);
  const ctx = context(this);
  const model = this.env.konnektor;
  const workplace = model.workplaces.find((w) => w.id === ctx.workplaceId);
  if (!workplace) throw new TestDefectError(`workplace ${ctx.workplaceId} is not in the environment's information model`);
  const slots = model.cardTerminals.filter((t) => workplace.localTerminals.includes(t.id)).flatMap((t) => t.slots);
  const res = await this.http(this.serviceUrl('cards', '/__admin/cards'));
  if (res.status !== 200) throw new EnvironmentError(`cards service: GET /__admin/cards answered ${res.status}`);
  const overview = res.json<{ slots: Array<{ slot: number; persona: string | null }> }>();
  const holding = overview.slots.find((s) => s.persona === persona.name);
  if (holding) await this.admin('cards', '/cards/remove', { persona: persona.name });
  const free = holding?.slot ?? overview.slots.find((s) => s.persona === null && slots.includes(s.slot))?.slot;
  if (free === undefined) throw new EnvironmentError(`no free slot in the card terminals local to ${ctx.workplaceId} (slots ${slots.join(', ')})`);
  if (!holding) state(this).inserted.push(persona.name);
  await this.admin('cards', '/cards/insert', { persona: persona.name, slot: free });
  state(this).cards.delete(persona.name);
  await cardOf(this, persona.name, 10_000);
});

// --- A_18817: SMC-B authentication through the Konnektor --------------------

When('das Primärsystem mit GetCards die SMC-B von {string} sucht', async function (this: TiWorld, name: string) {
  const persona = loadPersona(name);
  const a = await call(this, 'event', 'GetCards', `<EVT:GetCards mandant-wide="false">${contextXml(context(this))}<CARDCMN:CardType>SMC-B</CARDCMN:CardType></EVT:GetCards>`, 'A_18817');
  this.remember('getCards', { answer: a, persona });
});

Then('findet der Konnektor die SMC-B von {string}', async function (this: TiWorld, name: string) {
  const { answer, persona } = this.recall<{ answer: SoapAnswer; persona: Persona }>('getCards');
  await verify('A_18817', `Der Konnektor liefert mit GetCards die SMC-B von ${name} (ICCSN ${persona.iccsn}) mit einem CardHandle`, () => {
    const cards = okBody(answer).child('Cards', NS.CARD)?.children('Card', NS.CARD) ?? [];
    const card = cards.find((c) => c.child('Iccsn', NS.CARDCMN)?.text() === persona.iccsn);
    assert.ok(card, `no card with ICCSN ${persona.iccsn} among ${cards.length} SMC-B cards`);
    assert.equal(card.child('CardType', NS.CARDCMN)?.text(), 'SMC-B');
    const handle = card.child('CardHandle', NS.CONN)?.text();
    assert.ok(handle, 'the card has no CardHandle');
    state(this).cards.set(persona.name, { persona, handle, type: 'SMC-B' });
  });
});

When('das Primärsystem das Zertifikat {string} der Karte von {string} liest', async function (this: TiWorld, ref: string, name: string) {
  const card = await cardOf(this, name);
  const a = await readCertificate(this, card, ref, 'A_18817');
  this.remember('certificateRead', { answer: a, ref, persona: card.persona });
});

Then('ist das über den Konnektor gelesene AUT-Zertifikat von der TI-PKI für {string} ausgestellt', async function (this: TiWorld, name: string) {
  const { answer, ref, persona } = this.recall<{ answer: SoapAnswer; ref: string; persona: Persona }>('certificateRead');
  const cas = await issuingCa(this);
  await verify('A_18817', `ReadCardCertificate liefert das ${ref}-Zertifikat der SMC-B, von der TI-PKI ausgestellt für ${name} (Telematik-ID in der Admission)`, () => {
    const der = certificateFrom(answer, ref);
    const leaf = new crypto.X509Certificate(der);
    assert.ok(cas.some((ca) => leaf.checkIssued(ca) && leaf.verify(ca.publicKey)), `"${leaf.subject}" was not issued by a CA of the TI-PKI`);
    const cert = parseCertificate(der);
    const numbers = cert.admission?.professions.map((p) => p.registrationNumber) ?? [];
    const telematikId = persona.type === 'eGK' ? undefined : persona.telematikId;
    assert.ok(telematikId && numbers.includes(telematikId), `Telematik-ID ${telematikId} not in the admission (${numbers.join(', ') || 'none'})`);
    assert.ok(cert.keyUsage.includes('digitalSignature'), `keyUsage ${cert.keyUsage.join(', ')} lacks digitalSignature`);
    state(this).autCertificate = der;
  });
});

When('das Primärsystem die {string} der Karte von {string} verifiziert', async function (this: TiWorld, pin: string, name: string) {
  const card = await cardOf(this, name);
  await call(
    this,
    'card',
    'VerifyPin',
    `<CARD:VerifyPin>${contextXml(context(this))}<CONN:CardHandle>${escapeText(card.handle)}</CONN:CardHandle><CARDCMN:PinTyp>${escapeText(pin)}</CARDCMN:PinTyp></CARD:VerifyPin>`,
    'TUC_KON_012',
  );
});

Then('meldet der Konnektor das PIN-Ergebnis {string}', async function (this: TiWorld, expected: string) {
  const a = last(this);
  await verify('TUC_KON_012', `VerifyPin antwortet mit PinResult ${expected}`, () => {
    const body = okBody(a);
    assert.equal(resultOf(body), 'OK', 'Status/Result');
    assert.equal(body.child('PinResult', NS.CARDCMN)?.text(), expected, 'PinResult');
  });
});

When('das Primärsystem einen 32-Byte-Hash mit ExternalAuthenticate der Karte von {string} nach {string} signieren lässt', async function (this: TiWorld, name: string, type: string) {
  const card = await cardOf(this, name);
  const challenge = crypto.randomBytes(32);
  const hash = crypto.createHash('sha256').update(challenge).digest();
  state(this).hash = hash;
  state(this).challenge = challenge;
  await call(
    this,
    'auth',
    'ExternalAuthenticate',
    `<SIG4:ExternalAuthenticate><CONN:CardHandle>${escapeText(card.handle)}</CONN:CardHandle>${contextXml(context(this))}` +
      `<SIG4:OptionalInputs><dss:SignatureType>${escapeText(type)}</dss:SignatureType></SIG4:OptionalInputs>` +
      `<SIG4:BinaryString><dss:Base64Data MimeType="application/octet-stream">${hash.toString('base64')}</dss:Base64Data></SIG4:BinaryString></SIG4:ExternalAuthenticate>`,
    'A_18817',
  );
});

Then('ist die Authentisierungssignatur DER-kodiert und mit dem AUT-Zertifikat gültig', async function (this: TiWorld) {
  const a = last(this);
  const { autCertificate, challenge } = state(this);
  if (!autCertificate || !challenge) throw new TestDefectError('AUT certificate or hash missing: read C.AUT and call ExternalAuthenticate first');
  await verify('A_18817', 'ExternalAuthenticate liefert eine DER-kodierte ECDSA-Signatur über den Hash, gültig mit dem AUT-Zertifikat der SMC-B', () => {
    const body = okBody(a);
    assert.equal(resultOf(body), 'OK', 'Status/Result');
    const sig = body.child('SignatureObject', NS.DSS)?.child('Base64Signature', NS.DSS);
    assert.ok(sig, 'no dss:SignatureObject/dss:Base64Signature');
    assert.equal(sig.attr('Type'), 'urn:bsi:tr:03111:ecdsa', 'Base64Signature/@Type');
    const value = Buffer.from(sig.text(), 'base64');
    assert.equal(value[0], 0x30, 'not a DER SEQUENCE (ECDSA-Sig-Value)');
    assert.equal(value[1] + 2, value.length, 'DER length does not cover the signature');
    const key = parseCertificate(autCertificate).publicKey;
    // The card signs the 32-byte hash as given, i.e. an ECDSA signature over SHA-256(challenge).
    assert.ok(crypto.verify('sha256', challenge, { key, dsaEncoding: 'der' }, value), 'the signature does not verify over the hash with the C.AUT key');
  });
});

// --- QES: SignDocument and VerifyDocument -----------------------------------

When('das Primärsystem das Dokument {string} mit der Karte von {string} als CAdES mit Sperrinformationen signieren lässt', async function (this: TiWorld, text: string, name: string) {
  const card = await cardOf(this, name);
  const doc = documentXml(text);
  state(this).document = doc;
  await signDocument(this, card, [doc], context(this), 'TUC_KON_150');
});

When(
  'das Primärsystem im Aufrufkontext {string} \\/ {string} \\/ {string} mit der Karte von {string} signieren lässt',
  async function (this: TiWorld, mandantId: string, clientSystemId: string, workplaceId: string, name: string) {
    const card = await cardOf(this, name);
    await signDocument(this, card, [documentXml('Fremder Aufrufkontext')], { mandantId, clientSystemId, workplaceId }, 'TUC_KON_000');
  },
);

Then('liefert der Konnektor eine gültige CMS-Signatur mit dem QES-Zertifikat des HBA von {string}', async function (this: TiWorld, name: string) {
  const a = last(this);
  const doc = state(this).document;
  if (!doc) throw new TestDefectError('no document signed in this scenario');
  const card = await cardOf(this, name);
  const qes = await readCertificate(this, card, 'C.QES', 'TUC_KON_150');
  await verify('TUC_KON_150', `SignDocument liefert eine CAdES-Signatur (enveloping, OCSP eingebettet), mathematisch gültig, Signer ist C.HP.QES des HBA von ${name}`, () => {
    const responses = signResponsesOf(a);
    assert.equal(responses.length, 1, 'SignResponse count');
    assert.equal(responses[0].result, 'OK', `SignResponse Status ${responses[0].result} ${responses[0].code ?? ''}`);
    const cms = responses[0].cms;
    assert.ok(cms, 'SignResponse without dss:Base64Signature');
    let verification: ReturnType<typeof verifySignedData> | undefined;
    assert.doesNotThrow(() => {
      verification = verifySignedData(cms);
    }, 'the CMS does not verify');
    const v = verification as ReturnType<typeof verifySignedData>;
    assert.ok(v.content.equals(doc), 'the encapsulated content is not the document (enveloping signature expected)');
    assert.equal(v.signers.length, 1, 'signer count');
    assert.ok(v.signers[0].certificate.equals(certificateFrom(qes, 'C.QES')), "the signer certificate is not the HBA's C.HP.QES");
    assert.ok(v.parsed.ocspResponses.length >= 1, 'IncludeRevocationInfo=true, but no OCSP response is embedded');
    state(this).cms = cms;
  });
});

When('das Primärsystem die Signatur mit VerifyDocument prüfen lässt', async function (this: TiWorld) {
  const cms = state(this).cms;
  if (!cms) throw new TestDefectError('no signature in this scenario to verify');
  await verifyDocument(this, cms);
});

When('das Primärsystem die Signatur mit verändertem Dokumentinhalt prüfen lässt', async function (this: TiWorld) {
  const { cms, document } = state(this);
  if (!cms || !document) throw new TestDefectError('no signature in this scenario to tamper with');
  const at = cms.indexOf(document);
  if (at < 0) throw new TestDefectError('the document is not encapsulated in the CMS; cannot tamper with it');
  const tampered = Buffer.from(cms);
  const i = at + document.indexOf('note value="') + 12;
  tampered[i] = tampered[i] === 0x58 ? 0x59 : 0x58; // one letter of the note, same length
  await verifyDocument(this, tampered);
});

async function verifyDocument(world: TiWorld, cms: Buffer): Promise<void> {
  await call(
    world,
    'signature',
    'VerifyDocument',
    `<SIG:VerifyDocument>${contextXml(context(world))}<SIG:TvMode>NONE</SIG:TvMode>` +
      `<dss:SignatureObject><dss:Base64Signature Type="${CADES}">${cms.toString('base64')}</dss:Base64Signature></dss:SignatureObject>` +
      '<SIG:IncludeRevocationInfo>false</SIG:IncludeRevocationInfo></SIG:VerifyDocument>',
    'TUC_KON_151',
  );
}

Then('lautet das Prüfergebnis des Konnektors {string}', async function (this: TiWorld, expected: string) {
  const a = last(this);
  await verify('TUC_KON_151', `VerifyDocument antwortet mit HighLevelResult ${expected}`, () => {
    const body = okBody(a);
    assert.equal(body.child('VerificationResult', NS.SIG75)?.child('HighLevelResult', NS.SIG75)?.text(), expected, 'HighLevelResult');
  });
});

// --- faults -----------------------------------------------------------------

Then('antwortet der Konnektor mit dem Fehler {int}', async function (this: TiWorld, code: number) {
  const a = last(this);
  await verify(a.afo, `Der Konnektor weist ${a.operation} mit dem Fehlercode ${code} ab (SOAP-Fault mit GERROR-Trace)`, () => {
    assert.equal(a.parseError, undefined, `the answer is no SOAP 1.1 envelope: ${a.text.slice(0, 300)}`);
    assert.ok(a.fault, `${a.operation} succeeded (HTTP ${a.status}) instead of failing with ${code}`);
    assert.equal(a.status, 500, 'HTTP status of a SOAP Fault');
    assert.equal(a.fault.trace[0]?.code, code, `fault code (${a.fault.faultstring}: ${a.fault.trace[0]?.detail ?? ''})`);
  });
});

// --- card pulled during a batch (harness control) ---------------------------

When('das Primärsystem {int} Dokumente mit der Karte von {string} im Stapel signieren lässt und die Karte währenddessen gezogen wird', async function (this: TiWorld, n: number, name: string) {
  const card = await cardOf(this, name);
  const docs = Array.from({ length: n }, (_, i) => documentXml(`Stapel ${i + 1}`));
  const signing = signDocument(this, card, docs, context(this), 'TUC_KON_150', 120_000);
  await new Promise((r) => setTimeout(r, 700));
  await this.admin('cards', '/cards/remove', { persona: card.persona.name });
  await signing;
});

Then('signiert der Konnektor nach dem Ziehen kein Dokument mehr und meldet den Fehler {int}', async function (this: TiWorld, code: number) {
  const a = last(this);
  await verify('TUC_KON_150', `Nach dem Ziehen der Karte erhalten die restlichen Dokumente des Stapels keinen Signaturwert, sondern den Fehler ${code}`, () => {
    if (a.fault) {
      // Pulled before the first signature: the whole call fails with the first error.
      assert.equal(a.fault.trace[0]?.code, code, `fault code (${a.fault.faultstring})`);
      return;
    }
    const responses = signResponsesOf(a);
    const firstFailed = responses.findIndex((r) => r.result !== 'OK');
    assert.ok(firstFailed >= 0, `all ${responses.length} documents were signed: the card was pulled too late to test anything`);
    for (const r of responses.slice(0, firstFailed)) assert.ok(r.cms, 'a document reported OK has no signature');
    for (const r of responses.slice(firstFailed)) {
      assert.equal(r.result, 'Warning', 'Status/Result after the card was pulled');
      assert.equal(r.code, code, 'GERROR code after the card was pulled');
      assert.equal(r.cms, undefined, 'a signature was returned after the card was pulled');
    }
  });
});

// --- cleanup ----------------------------------------------------------------

After({ name: 'konnektor: take out the cards this scenario inserted' }, async function (this: TiWorld) {
  const s = this.state.get('konnektor') as KonnektorState | undefined;
  if (!s) return;
  for (const name of s.inserted) await this.admin('cards', '/cards/remove', { persona: name }).catch(() => undefined);
});
