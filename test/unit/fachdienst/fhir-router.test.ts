/**
 * The Fachdienst's inner layer without transport: the OperationOutcome builder (production issue
 * codes, XML as in the ru-dumps), format negotiation and route matching. The inner HTTP codec is
 * tested in test/unit/lib/http-message.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { FhirError, issueCodeForStatus, operationOutcomeXml, renderOperationOutcome } from '../../../simulators/fachdienst/outcome';
import { FhirRouter, negotiateFormat } from '../../../simulators/fachdienst/fhir-router';
import { sharedPath } from '../../../simulators/lib/shared-data';

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
