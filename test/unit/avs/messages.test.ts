/**
 * AVS messages (simulators/avs/messages.ts) against a scripted Fachdienst: UC 4.6 (A_18758) DispReq
 * tokens received, validated and handed to the accept path; messages for others and broken tokens
 * are not; UC 4.7 Reply as the profile demands (JSON payload, recipient KVNR, basedOn Task/<id>);
 * UC 4.9 delete with the Warning header; refusals carry status and OperationOutcome text.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildPrescriptionId } from '../../../simulators/lib/erezept-token';
import { CommunicationError } from '../../../simulators/lib/erp-communication';
import { parseFhirXml } from '../../../simulators/lib/fhir';
import { MessageRefusal } from '../../../simulators/avs/messages';
import { offlineAvs, outcomeXml, ScriptedFachdienst } from './helpers';

const PHARMACY_TID = '3-SMC-B-Testkarte-883119920000005';
const id = (n: number) => buildPrescriptionId(160, 2000 + n);
const ac = (n: number) => n.toString(16).padStart(2, '0').repeat(32);

function dispReq(n: number, recipient: string, basedOn = `Task/${id(n)}/$accept?ac=${ac(n)}`): string {
  return `<Communication xmlns="http://hl7.org/fhir"><id value="m${n}"/><meta><profile value="https://gematik.de/fhir/erp/StructureDefinition/GEM_ERP_PR_Communication_DispReq|1.6"/></meta><basedOn><reference value="${basedOn}"/></basedOn><status value="unknown"/><sent value="2025-03-28T08:04:20Z"/><recipient><identifier><system value="https://gematik.de/fhir/sid/telematik-id"/><value value="${recipient}"/></identifier></recipient><sender><identifier><system value="http://fhir.de/sid/gkv/kvid-10"/><value value="K204617388"/></identifier></sender><payload><contentString value="{&quot;version&quot;:1,&quot;supplyOptionsType&quot;:&quot;onPremise&quot;}"/></payload></Communication>`;
}

function searchsetXml(entries: string[], next?: string): string {
  return `<Bundle xmlns="http://hl7.org/fhir"><type value="searchset"/>${next ? `<link><relation value="next"/><url value="${next}"/></link>` : ''}${entries.map((e) => `<entry><resource>${e}</resource></entry>`).join('')}</Bundle>`;
}

test('UC 4.6 (A_18758): DispReq tokens for this pharmacy are remembered; other recipients and broken tokens are not; pages followed', async () => {
  const avs = await offlineAvs({
    fachdienst: new ScriptedFachdienst([
      () => ({ status: 200, body: searchsetXml([dispReq(1, PHARMACY_TID), dispReq(2, '3-other-pharmacy')], 'https://erp.example/Communication?__offset=2') }),
      () => ({ status: 200, body: searchsetXml([dispReq(3, PHARMACY_TID, `Task/${id(3)}/$accept?ac=NOTHEX`)]) }),
    ]),
  });
  assert.equal(avs.pharmacy.telematikId, PHARMACY_TID, 'the persona of the test pharmacy');
  const got = await avs.messages.receive();
  const fd = avs.fachdienst as ScriptedFachdienst;
  assert.deepEqual(fd.requests.map((r) => r.target), ['/Communication', '/Communication?__offset=2']);
  assert.equal(got.length, 3);
  assert.deepEqual(got[0].token, { prescriptionId: id(1), accessCode: ac(1) });
  assert.equal(got[1].token, undefined, 'addressed to another pharmacy');
  assert.match(got[2].problem ?? '', /no valid E-Rezept-Token/);
  assert.deepEqual(avs.list().map((t) => t.taskId), [id(1)], 'only the valid token of a DispReq to us reaches the accept path');
  assert.equal(avs.get(id(1))?.accessCode, ac(1));
});

test('UC 4.6: acceptReceived hands each new DispReq token to $accept once; a refusal is reported, not thrown', async () => {
  const avs = await offlineAvs({
    fachdienst: new ScriptedFachdienst([
      () => ({ status: 200, body: searchsetXml([dispReq(4, PHARMACY_TID)]) }),
      () => ({ status: 410, body: outcomeXml('processing', 'Task has already been deleted') }),
      () => ({ status: 200, body: searchsetXml([dispReq(4, PHARMACY_TID)]) }),
    ]),
  });
  const first = await avs.messages.acceptReceived();
  const fd = avs.fachdienst as ScriptedFachdienst;
  assert.equal(fd.requests[1].target, `/Task/${id(4)}/$accept?ac=${ac(4)}`);
  assert.equal(first.length, 1);
  assert.match(first[0].error?.message ?? '', /410.*already been deleted/);
  assert.deepEqual(await avs.messages.acceptReceived(), [], 'the same message is not accepted twice');
  assert.equal(fd.requests.length, 3);
});

test('UC 4.7: Reply with the JSON payload, basedOn Task/<id>, recipient KVNR; bad payloads refused before sending', async () => {
  const avs = await offlineAvs({
    fachdienst: new ScriptedFachdienst([(req) => ({ status: 201, body: String(req.opts.body).replace('<Communication xmlns="http://hl7.org/fhir">', '<Communication xmlns="http://hl7.org/fhir"><id value="r1"/>') })]),
  });
  const m = await avs.messages.reply(id(5), 'K204617388', { version: 1, supplyOptionsType: 'onPremise', info_text: 'Liegt zur Abholung bereit', pickUpCodeHR: '12341234' });
  const fd = avs.fachdienst as ScriptedFachdienst;
  const sent = parseFhirXml(String(fd.requests[0].opts.body));
  assert.equal((sent.meta as { profile: string[] }).profile[0], 'https://gematik.de/fhir/erp/StructureDefinition/GEM_ERP_PR_Communication_Reply|1.6');
  assert.equal(((sent.basedOn as Array<{ reference: string }>)[0]).reference, `Task/${id(5)}`);
  assert.deepEqual((sent.recipient as Array<{ identifier: unknown }>)[0].identifier, { system: 'http://fhir.de/sid/gkv/kvid-10', value: 'K204617388' });
  assert.deepEqual(JSON.parse((sent.payload as Array<{ contentString: string }>)[0].contentString), { version: 1, supplyOptionsType: 'onPremise', info_text: 'Liegt zur Abholung bereit', pickUpCodeHR: '12341234' });
  assert.equal(m.kind, 'Reply');
  assert.equal(m.id, 'r1');
  await assert.rejects(avs.messages.reply(id(5), 'not-a-kvnr', { version: 1, supplyOptionsType: 'onPremise' }), CommunicationError);
  await assert.rejects(avs.messages.reply(id(5), 'K204617388', { version: 1, supplyOptionsType: 'teleport' as never }), CommunicationError);
  assert.equal(fd.requests.length, 1, 'nothing sent for refused input');
});

test('UC 4.9: delete returns the Warning header; a refusal carries status and text', async () => {
  const avs = await offlineAvs({
    fachdienst: new ScriptedFachdienst([
      () => ({ status: 204, headers: { warning: '199 - "the recipient has already received the Communication"' } }),
      () => ({ status: 204 }),
      () => ({ status: 404, body: outcomeXml('not-found', 'Communication not found') }),
    ]),
  });
  assert.match((await avs.messages.delete('r1')).warning ?? '', /already received/);
  assert.deepEqual(await avs.messages.delete('r2'), {});
  await assert.rejects(avs.messages.delete('r3'), (e) => e instanceof MessageRefusal && e.status === 404 && e.texts[0] === 'Communication not found');
  const fd = avs.fachdienst as ScriptedFachdienst;
  assert.deepEqual(fd.requests.map((r) => `${r.method} ${r.target}`), ['DELETE /Communication/r1', 'DELETE /Communication/r2', 'DELETE /Communication/r3']);
  await assert.rejects(avs.messages.delete('../Task'), TypeError);
});
