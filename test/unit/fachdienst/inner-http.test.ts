/**
 * Inner HTTP/1.1 codec (strict parser: malformed → 400, oversize → 413), the OperationOutcome
 * builder (production issue codes, XML as in the ru-dumps), format negotiation, route matching.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { InnerHttpParseError, parseInnerRequest, serializeInnerResponse } from '../../../simulators/fachdienst/inner-http';
import { FhirError, issueCodeForStatus, operationOutcomeXml, renderOperationOutcome } from '../../../simulators/fachdienst/outcome';
import { FhirRouter, negotiateFormat } from '../../../simulators/fachdienst/fhir-router';
import { parseInnerHttpResponse } from '../../../simulators/lib/vau-client';
import { sharedPath } from '../../../simulators/lib/shared-data';

const req = (s: string) => Buffer.from(s, 'latin1');

test('parses request line, headers (lower-case), query and a Content-Length body', () => {
  const r = parseInnerRequest(req('POST /Task/160.1/$activate?ac=abc&x=1 HTTP/1.1\r\nAuthorization: Bearer t\r\nContent-Type: application/fhir+xml\r\nContent-Length: 5\r\n\r\nhello'), 1024);
  assert.equal(r.method, 'POST');
  assert.equal(r.path, '/Task/160.1/$activate');
  assert.equal(r.query.get('ac'), 'abc');
  assert.equal(r.headers.authorization, 'Bearer t');
  assert.equal(r.body.toString(), 'hello');
});

test('malformed requests → 400, declared body above the limit → 413', () => {
  const bad = [
    'GET /metadata HTTP/1.1\nHost: x\n\n',
    'GET /metadata HTTP/1.0\r\n\r\n',
    'GET metadata HTTP/1.1\r\n\r\n',
    'get /metadata HTTP/1.1\r\n\r\n',
    'GET /metadata HTTP/1.1\r\nNoColon\r\n\r\n',
    'GET /metadata HTTP/1.1\r\nA: b\r\n folded\r\n\r\n',
    'POST /x HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc',
    'POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\nabc',
    'POST /x HTTP/1.1\r\n\r\nabc',
    'POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
    'GET /metadata HTTP/1.1\r\nHost: x',
    'GET  /metadata HTTP/1.1\r\n\r\n',
  ];
  for (const b of bad) {
    assert.throws(() => parseInnerRequest(req(b), 1024), (e: unknown) => e instanceof InnerHttpParseError && e.status === 400, JSON.stringify(b));
  }
  assert.throws(() => parseInnerRequest(req('POST /x HTTP/1.1\r\nContent-Length: 2048\r\n\r\n'), 1024), (e: unknown) => e instanceof InnerHttpParseError && e.status === 413);
});

test('response serializer: status line, headers, Content-Length; the client parser reads it back', () => {
  const raw = serializeInnerResponse({ status: 403, headers: { 'Content-Type': 'application/fhir+xml' }, body: Buffer.from('<x/>') });
  assert.match(raw.toString(), /^HTTP\/1\.1 403 Forbidden\r\nContent-Type: application\/fhir\+xml\r\nContent-Length: 4\r\n\r\n<x\/>$/);
  const back = parseInnerHttpResponse(raw);
  assert.equal(back.status, 403);
  assert.equal(back.body.toString(), '<x/>');
});

test('OperationOutcome: production issue codes by status and the XML of the ru-dumps', () => {
  assert.deepEqual([400, 401, 403, 404, 405, 409, 410, 429, 500].map(issueCodeForStatus), ['invalid', 'unknown', 'forbidden', 'not-found', 'not-supported', 'conflict', 'processing', 'transient', 'processing']);
  const dump = sharedPath('reference', 'ru-dumps', 'Apotheke', 'apotheke_darf_dispensierinformationen_nicht_abrufen', '010_Response_OperationOutcome.xml');
  const expected = fs.readFileSync(dump, 'utf8').replace(/>\s+</g, '><').trim();
  const ours = operationOutcomeXml(new FhirError(403, 'endpoint is forbidden for professionOID 1.2.276.0.76.4.54').issues);
  assert.equal(ours, expected);
  const js = JSON.parse(renderOperationOutcome(new FhirError(409, 'a', { moreIssues: [{ code: 'conflict', text: 'b' }], diagnostics: 'd' }).issues, 'json').body);
  assert.deepEqual(js.issue.map((i: { details: { text: string } }) => i.details.text), ['a', 'b']);
  assert.equal(js.issue[0].diagnostics, 'd');
});

test('format negotiation: _format, then Accept, then the role default (insured JSON, others XML)', () => {
  const q = (s: string) => new URLSearchParams(s);
  assert.equal(negotiateFormat(q('_format=json'), { accept: 'application/fhir+xml' }, undefined), 'json');
  assert.equal(negotiateFormat(q(''), { accept: 'application/fhir+json' }, undefined), 'json');
  assert.equal(negotiateFormat(q(''), {}, '1.2.276.0.76.4.49'), 'json');
  assert.equal(negotiateFormat(q(''), {}, '1.2.276.0.76.4.50'), 'xml');
});

test('route matching: literal segments before parameters, parameters decoded, duplicates refused', () => {
  const router = new FhirRouter({ verifier: { verify: async () => { throw new Error('unused'); } }, context: { clock: undefined as never, store: undefined as never, baseUrl: '', log: () => undefined } });
  const h = () => ({ status: 200 });
  router.register({ method: 'POST', pattern: '/Task/:id', roles: 'any', operation: 'id', handler: h }, { method: 'POST', pattern: '/Task/$create', roles: 'any', operation: 'create', handler: h });
  assert.equal(router.match('POST', '/Task/$create')?.route.operation, 'create');
  assert.deepEqual(router.match('POST', '/Task/160.000%2E1')?.params, { id: '160.000.1' });
  assert.equal(router.match('GET', '/Task/1'), undefined);
  assert.throws(() => router.register({ method: 'POST', pattern: '/Task/:other', roles: 'any', operation: 'x', handler: h }), /registered twice/);
});
