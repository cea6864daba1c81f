/**
 * The SOAP layer (simulators/lib/soap.ts) and the operation router (soap-router.ts) without
 * cards: strict envelope parsing, faults with a TelematikError detail that validates against
 * TelematikError.xsd, dispatch by body element and SOAPAction, context checks, internal errors,
 * oversized and garbage bodies — nothing crashes or hangs.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import { resolveEnvironment } from '../../../simulators/lib/config';
import { startHttpServer, type HttpServerHandle } from '../../../simulators/lib/http';
import { GEMATIK_ERRORS, konnektorFault, parseSoapEnvelope, readSoapFault, soapEnvelope, soapFaultEnvelope, SoapFault, SOAP11_ENVELOPE_NS } from '../../../simulators/lib/soap';
import { el } from '../../../simulators/lib/xml';
import { CallLog } from '../../../simulators/konnektor/admin';
import { InformationModel, type KonnektorContext } from '../../../simulators/konnektor/context';
import { expectSequence, NS, SoapRouter, statusElement } from '../../../simulators/konnektor/soap-router';
import { contextXml, CTX, envelope, request, TEST_KONNEKTOR, validateResponse, validateXml, XSD } from './helpers';

const env = resolveEnvironment({ name: 'soap-test', konnektor: TEST_KONNEKTOR as never }, 'soap-test.yaml');
let server: HttpServerHandle;
const calls = new CallLog(5);
const logs: string[] = [];
const k = { env, config: env.konnektor, model: new InformationModel(env.konnektor), calls, clock: () => new Date(), log: (m: string) => logs.push(m) } as unknown as KonnektorContext;
const PATH = '/ws/EventService';
const ACTION = 'http://ws.gematik.de/conn/EventService/v7.2#';

before(async () => {
  const router = new SoapRouter(() => k);
  router.registerOperation({
    path: PATH,
    soapAction: `${ACTION}GetCardTerminals`,
    requestElement: { ns: NS.EVT, local: 'GetCardTerminals' },
    handler: async (req) => {
      expectSequence(req.body, [{ local: 'Context', ns: NS.CCTX }]);
      return el('EVT:GetCardTerminalsResponse', { 'xmlns:EVT': NS.EVT, 'xmlns:CT': NS.CT }, [statusElement(), el('CT:CardTerminals')]);
    },
  });
  router.registerOperation({
    path: PATH,
    soapAction: `${ACTION}GetSubscription`,
    requestElement: { ns: NS.EVT, local: 'GetSubscription' },
    handler: async () => {
      throw new TypeError('boom');
    },
  });
  router.registerOperation({
    path: PATH,
    soapAction: `${ACTION}Unsubscribe`,
    requestElement: { ns: NS.EVT, local: 'Unsubscribe' },
    context: 'none',
    handler: async () => `<EVT:UnsubscribeResponse xmlns:EVT="${NS.EVT}"><CONN:Status xmlns:CONN="${NS.CONN}"><CONN:Result>OK</CONN:Result></CONN:Status></EVT:UnsubscribeResponse>`,
  });
  assert.throws(() => router.registerOperation({ path: PATH, soapAction: 'x', requestElement: { ns: NS.EVT, local: 'Unsubscribe' }, handler: async () => '' }), /already registered/);
  server = await startHttpServer({ host: '127.0.0.1', port: 0, routes: router.routes(8192), name: 'soap-test' });
});

after(async () => {
  await server?.close();
});

const post = (body: string | Buffer, headers: Record<string, string> = { 'content-type': 'text/xml; charset=utf-8' }) => request(`${server.url}${PATH}`, { method: 'POST', body, headers });
const terminals = (ctx = contextXml()) => envelope(`<EVT:GetCardTerminals xmlns:EVT="${NS.EVT}">${ctx}</EVT:GetCardTerminals>`);

function code(xml: string): number | undefined {
  return readSoapFault(xml)?.trace[0]?.code;
}

test('parseSoapEnvelope accepts a SOAP 1.1 envelope and rejects everything else with 4000 (or VersionMismatch)', () => {
  const ok = parseSoapEnvelope(terminals());
  assert.ok(ok.body.is(NS.EVT, 'GetCardTerminals'));
  assert.ok(ok.header);
  const bad: Array<[string | Buffer, RegExp]> = [
    ['', /empty/],
    ['<a>', /not well-formed/],
    ['<x:Envelope xmlns:x="urn:other"><x:Body/></x:Envelope>', /root element/],
    [`<s:Envelope xmlns:s="${SOAP11_ENVELOPE_NS}"/>`, /no soap:Body/],
    [`<s:Envelope xmlns:s="${SOAP11_ENVELOPE_NS}"><s:Body/></s:Envelope>`, /Body is empty/],
    [`<s:Envelope xmlns:s="${SOAP11_ENVELOPE_NS}"><s:Body><a/><b/></s:Body></s:Envelope>`, /holds 2 elements/],
    [`<s:Envelope xmlns:s="${SOAP11_ENVELOPE_NS}"><s:Body>text<a/></s:Body></s:Envelope>`, /text directly inside soap:Body/],
    [`<s:Envelope xmlns:s="${SOAP11_ENVELOPE_NS}"><s:Body><a/></s:Body><s:Body/></s:Envelope>`, /after soap:Body/],
    [`<!DOCTYPE x [<!ENTITY e "x">]><s:Envelope xmlns:s="${SOAP11_ENVELOPE_NS}"><s:Body><a/></s:Body></s:Envelope>`, /DOCTYPE/],
    [`<?xml version="1.0" encoding="ISO-8859-1"?><s:Envelope xmlns:s="${SOAP11_ENVELOPE_NS}"><s:Body><a/></s:Body></s:Envelope>`, /encoding/],
    [Buffer.from([0x3c, 0xff, 0xfe, 0x3e]), /UTF-8/],
  ];
  for (const [input, re] of bad) {
    assert.throws(
      () => parseSoapEnvelope(input),
      (e: unknown) => e instanceof SoapFault && e.code === 4000 && re.test(e.detail ?? ''),
      String(input),
    );
  }
  assert.throws(() => parseSoapEnvelope('<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body><a/></e:Body></e:Envelope>'), (e: unknown) => e instanceof SoapFault && e.faultcode === 'VersionMismatch');
  assert.throws(
    () => parseSoapEnvelope(`<s:Envelope xmlns:s="${SOAP11_ENVELOPE_NS}"><s:Header><h:X xmlns:h="urn:h" s:mustUnderstand="1"/></s:Header><s:Body><a/></s:Body></s:Envelope>`),
    /mustUnderstand/,
  );
});

test('konnektorFault renders a SOAP 1.1 Fault whose GERROR:Error validates against TelematikError.xsd', () => {
  const fault = konnektorFault(4004, 'no Mandant "X" & <y>');
  assert.equal(fault.faultstring, 'Ungültige Mandanten-ID');
  const xml = soapFaultEnvelope(fault);
  const back = readSoapFault(xml)!;
  assert.equal(back.faultcode, 'soap:Client');
  assert.deepEqual(back.trace.map((t) => [t.code, t.errorText, t.errorType, t.severity, t.detail]), [[4004, 'Ungültige Mandanten-ID', 'Security', 'Error', 'no Mandant "X" & <y>']]);
  const v = validateResponse(xml, XSD.error);
  assert.ok(v.ok, v.output);
  for (const code of Object.keys(GEMATIK_ERRORS).map(Number)) {
    const r = validateResponse(soapFaultEnvelope(konnektorFault(code, 'd')), XSD.error);
    assert.ok(r.ok, `${code}: ${r.output}`);
  }
  assert.equal(konnektorFault(4999).faultstring, 'Fehler 4999', 'unknown codes do not crash');
  assert.match(soapEnvelope('<?xml version="1.0"?><a/>'), /<soap:Body><a\/><\/soap:Body>/);
});

test('the router answers a valid request and checks the call context', async () => {
  const r = await post(terminals(), { 'content-type': 'text/xml', soapaction: `"${ACTION}GetCardTerminals"` });
  assert.equal(r.status, 200, r.text);
  assert.match(String(r.headers['content-type']), /^text\/xml/);
  const v = validateResponse(r.text, XSD.event);
  assert.ok(v.ok, v.output);
  // no SOAPAction header at all is fine (dispatch by element)
  assert.equal((await post(terminals())).status, 200);
  assert.equal(code((await post(terminals(contextXml({ ...CTX, mandantId: 'X' })))).text), 4004);
  assert.equal(code((await post(terminals(contextXml({ ...CTX, workplaceId: 'WP-APO' })))).text), 4011);
  // WP-APO belongs to Apotheke and is served by AVS-1 only
  assert.equal(code((await post(terminals(contextXml({ mandantId: 'Apotheke', clientSystemId: 'AVS-1', workplaceId: 'WP-1' })))).text), 4011);
  assert.equal(code((await post(terminals(contextXml({ mandantId: 'Apotheke', clientSystemId: 'PVS-1', workplaceId: 'WP-APO' })))).text), 4010);
  // Context with elements in the wrong order
  const swapped = `<CCTX:Context xmlns:CCTX="${NS.CCTX}" xmlns:CONN="${NS.CONN}"><CONN:ClientSystemId>PVS-1</CONN:ClientSystemId><CONN:MandantId>Praxis-Ebert</CONN:MandantId><CONN:WorkplaceId>WP-1</CONN:WorkplaceId></CCTX:Context>`;
  assert.equal(code((await post(terminals(swapped))).text), 4000);
  // no Context at all
  assert.equal(code((await post(envelope(`<EVT:GetCardTerminals xmlns:EVT="${NS.EVT}"/>`))).text), 4000);
});

test('unknown operations, SOAPAction mismatches, wrong content types, internal errors: faults, never crashes', async () => {
  const unknown = await post(envelope(`<EVT:Subscribe xmlns:EVT="${NS.EVT}">${contextXml()}</EVT:Subscribe>`));
  assert.equal(unknown.status, 500);
  assert.equal(code(unknown.text), 4000);
  assert.match(readSoapFault(unknown.text)!.trace[0].detail!, /unknown operation .*Subscribe/);
  const mismatch = await post(terminals(), { 'content-type': 'text/xml', soapaction: `"${ACTION}GetCards"` });
  assert.equal(code(mismatch.text), 4000);
  assert.match(readSoapFault(mismatch.text)!.trace[0].detail!, /SOAPAction/);
  const json = await post('{"a":1}', { 'content-type': 'application/json' });
  assert.equal(code(json.text), 4000);
  const boom = await post(envelope(`<EVT:GetSubscription xmlns:EVT="${NS.EVT}">${contextXml()}</EVT:GetSubscription>`));
  assert.equal(code(boom.text), 4001);
  assert.ok(logs.some((l) => /internal error in GetSubscription: TypeError: boom/.test(l)));
  const none = await post(envelope(`<EVT:Unsubscribe xmlns:EVT="${NS.EVT}"/>`));
  assert.equal(none.status, 200, 'context: none');
  // oversized: 413 from the HTTP layer
  const big = await post(envelope(`<EVT:GetCardTerminals xmlns:EVT="${NS.EVT}">${contextXml()}<!--${'x'.repeat(10_000)}--></EVT:GetCardTerminals>`));
  assert.equal(big.status, 413);
  // GET on a SOAP endpoint
  assert.equal((await request(`${server.url}${PATH}`)).status, 405);
  // garbage of all kinds: every answer is a fault that validates, the server stays up
  for (let i = 0; i < 40; i++) {
    const garbage = i % 2 ? crypto.randomBytes(200 + i) : Buffer.from(terminals().slice(0, 30 + i * 7));
    const r = await post(garbage);
    assert.equal(r.status, 500, `round ${i}`);
    assert.equal(code(r.text), 4000);
  }
  assert.equal((await post(terminals())).status, 200, 'still answering');
  // the call log is bounded
  assert.equal(calls.list().length, 5);
  assert.ok(calls.list().every((c, i, a) => i === 0 || c.id > a[i - 1].id));
});

test('validateXml really rejects what the schema forbids (the checker is not a rubber stamp)', () => {
  const wrong = `<EVT:GetCardTerminalsResponse xmlns:EVT="${NS.EVT}" xmlns:CONN="${NS.CONN}"><CONN:Status><CONN:Result>MAYBE</CONN:Result></CONN:Status></EVT:GetCardTerminalsResponse>`;
  const v = validateXml(wrong, XSD.event);
  assert.equal(v.ok, false);
  assert.match(v.output, /MAYBE|Result/);
});
