/**
 * The simulated FdV against a scripted Fachdienst (the requests it sends and how it reads the
 * answers): UC 3.1 paging and GET /Task/<id>, tokens (A_18789), DataMatrix with 1–3 tokens and
 * chunking (A_18534), scan (A_18535), token files (A_18537), content display (A_18539), $abort with
 * and without X-AccessCode (UC 3.2/3.6), messages (UC 3.3/3.4/3.8), the access log query (UC 3.5),
 * and FdvError with status + OperationOutcome text.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { scanERezeptPng } from '../../../simulators/lib/datamatrix';
import { buildPrescriptionId, ERezeptTokenError, type ERezeptToken } from '../../../simulators/lib/erezept-token';
import { FdvError, FdvUsageError } from '../../../simulators/fdv/errors';
import { prescriptionContent, readTask } from '../../../simulators/fdv/prescription';
import { TokenFileError } from '../../../simulators/fdv/token-file';
import { insuredTask, jsonReply, kbvBundle, offlineFdv, outcome, ScriptedFachdienst, searchset, taskBundle } from './helpers';

const JONAS = 'K204617388';
const id = (n: number) => buildPrescriptionId(160, 1000 + n);
const ac = (n: number) => n.toString(16).padStart(2, '0').repeat(32);
const RU = '/work/shared/reference/ru-dumps/Versicherter/abrufen_des_e_rezepts_als_vertreter';

test('UC 3.1: GET /Task follows next links (path+query of the absolute URL), then GET /Task/<id> per Task; cancelled Tasks are not read', async () => {
  const fd = new ScriptedFachdienst([
    jsonReply(200, searchset([insuredTask(id(1), JONAS, { accessCode: ac(1) }), insuredTask(id(2), JONAS, { accessCode: ac(2) })], 'https://erp.zentral.example/Task?_count=2&__offset=2', 3)),
    jsonReply(200, searchset([insuredTask(id(3), JONAS, { status: 'cancelled' })])),
    jsonReply(200, taskBundle(insuredTask(id(1), JONAS, { accessCode: ac(1) }), kbvBundle(id(1)))),
    jsonReply(200, taskBundle(insuredTask(id(2), JONAS, { accessCode: ac(2) }), kbvBundle(id(2)))),
  ]);
  const fdv = await offlineFdv(fd);
  const all = await fdv.downloadAll({ count: 2 });
  assert.deepEqual(fd.requests.map((r) => `${r.method} ${r.target}`), ['GET /Task?_count=2', 'GET /Task?_count=2&__offset=2', `GET /Task/${id(1)}`, `GET /Task/${id(2)}`]);
  assert.equal(fd.requests[0].opts.headers?.Accept, 'application/fhir+json');
  assert.equal(all.length, 3);
  assert.equal(all[0].accessCode, ac(1));
  assert.equal(all[0].prescription?.resourceType, 'Bundle');
  assert.equal(all[2].status, 'cancelled');
  assert.deepEqual(fdv.token(id(1)), { prescriptionId: id(1), accessCode: ac(1) }, 'A_18789: PrescriptionID + AccessCode');
  assert.equal(fdv.tokenText(id(2)), `Task/${id(2)}/$accept?ac=${ac(2)}`);
  assert.throws(() => fdv.token(id(3)), FdvUsageError, 'a cancelled Task without AccessCode has no token');
});

test('paging: a next link that repeats is refused (no endless loop)', async () => {
  const loop = 'https://erp.example/Task?__offset=1';
  const fd = new ScriptedFachdienst([jsonReply(200, searchset([], loop)), jsonReply(200, searchset([], loop))]);
  const fdv = await offlineFdv(fd);
  await assert.rejects(fdv.listTasks(), (e) => e instanceof FdvError && /repeats/.test(e.text));
});

test('A_18534/A_18535: codes with 1 and 3 tokens scan back; 4 tokens are refused for one code, chunked 3+3+1 for seven', async () => {
  const fdv = await offlineFdv(new ScriptedFachdienst([]));
  const tokens: ERezeptToken[] = Array.from({ length: 7 }, (_, i) => ({ prescriptionId: id(i), accessCode: ac(i + 1) }));
  assert.deepEqual(fdv.scan(fdv.dataMatrix([tokens[0]])), [tokens[0]]);
  assert.deepEqual(fdv.scan(fdv.dataMatrix(tokens.slice(0, 3))), tokens.slice(0, 3));
  assert.throws(() => fdv.dataMatrix(tokens.slice(0, 4)), FdvUsageError);
  const codes = fdv.dataMatrixCodes(tokens);
  assert.deepEqual(codes.map((c) => scanERezeptPng(c).length), [3, 3, 1]);
  assert.deepEqual(codes.flatMap((c) => scanERezeptPng(c)), tokens);
  assert.equal(fdv.receivedTokens().length, 3, 'scanned tokens are kept');
});

test('A_18535: a production code (ru-dump PNG) scans to its token; a code without E-Rezept payload is refused', async () => {
  const fdv = await offlineFdv(new ScriptedFachdienst([]));
  const [t] = fdv.scan(fs.readFileSync(`${RU}/006_dmc_160.000.239.761.392.78.png`));
  assert.deepEqual(t, { prescriptionId: '160.000.239.761.392.78', accessCode: 'de9ba46cbe150438304fcf0b370dac2a98c604be2084074e0a1e75b4431e5c45' });
  const { renderDataMatrixPng, encodeDataMatrix } = await import('../../../simulators/lib/datamatrix');
  assert.throws(() => fdv.scan(renderDataMatrixPng(encodeDataMatrix('{"urls":["Task/1/$accept?ac=x"]}'))), ERezeptTokenError);
});

test('A_18537: export/import round trip; strict refusals import nothing', async () => {
  const fdv = await offlineFdv(new ScriptedFachdienst([]));
  const tokens: ERezeptToken[] = [{ prescriptionId: id(1), accessCode: ac(1) }, { prescriptionId: id(2), accessCode: ac(2) }];
  const file = fdv.exportTokens(tokens);
  assert.deepEqual(JSON.parse(file), { urls: tokens.map((t) => `Task/${t.prescriptionId}/$accept?ac=${t.accessCode}`) });
  assert.deepEqual(fdv.importTokens(Buffer.from(file)), tokens);
  for (const bad of ['', 'nope', '[]', '{"urls":[]}', `{"urls":["Task/${id(1)}/$accept?ac=XYZ"]}`, `{"urls":[${JSON.stringify(`Task/${id(1)}/$accept?ac=${ac(1)}`)}],"x":1}`, `{"urls":[${JSON.stringify(`Task/${id(1)}/$accept?ac=${ac(1)}`)},${JSON.stringify(`Task/${id(1)}/$accept?ac=${ac(2)}`)}]}`]) {
    assert.throws(() => fdv.importTokens(bad), TokenFileError, bad);
  }
  assert.throws(() => fdv.exportTokens([]), TokenFileError);
});

test('A_18539: content of a prescription of our PVS (medication, dosage, quantity, prescriber, practice, patient, coverage, date)', () => {
  const c = prescriptionContent(kbvBundle(id(1)));
  assert.equal(c.prescriptionId, id(1));
  assert.equal(c.medication.kind, 'PZN');
  assert.equal(c.medication.name, 'Ibuprofen AL 400 mg 20 Filmtabletten N1');
  assert.equal(c.medication.pzn, '06313728');
  assert.equal(c.medication.form, 'FTA');
  assert.deepEqual(c.medication.ingredients, ['400 mg Ibuprofen']);
  assert.equal(c.dosage, '1-0-1-0');
  assert.equal(c.dosageGiven, true);
  assert.equal(c.quantity, 2);
  assert.equal(c.substitutionAllowed, false);
  assert.equal(c.authoredOn, '2025-03-28');
  assert.match(c.prescriber?.name ?? '', /Hanna Ebert/);
  assert.match(c.practice?.name ?? '', /Ebert/);
  assert.equal(c.patient?.kvnr, JONAS);
  assert.match(c.patient?.name ?? '', /Jonas Keller/);
  assert.equal(c.coverage?.type, 'GKV');
});

test('A_18539/A_20555: a production answer to GET /Task/<id> (ru-dump) — Task with AccessCode, content of the KBV bundle', async () => {
  const answer = JSON.parse(fs.readFileSync(`${RU}/007_Response_Bundle.json`, 'utf8'));
  const fd = new ScriptedFachdienst([jsonReply(200, answer)]);
  const fdv = await offlineFdv(fd);
  const held = await fdv.getPrescription('160.000.239.761.392.78');
  assert.equal(held.status, 'ready');
  assert.equal(held.accessCode, 'de9ba46cbe150438304fcf0b370dac2a98c604be2084074e0a1e75b4431e5c45');
  assert.equal(held.expiryDate, '2025-06-28');
  assert.equal(held.performerType, 'Öffentliche Apotheke');
  assert.equal(held.asRepresentative, true, 'the Task is for X110614233, not for Jonas Keller');
  const c = fdv.content('160.000.239.761.392.78');
  assert.match(c.prescriber?.name ?? '', /Schraßer/);
  assert.equal(c.practice?.name, 'Arztpraxis Schraßer');
  assert.equal(c.patient?.kvnr, 'X110614233');
  assert.equal(c.coPayment, '2');
  assert.ok(c.medication.pzn, 'PZN of the production medication');
});

test('UC 3.2/3.6: $abort without and with X-AccessCode; 403 OperationOutcome text in FdvError', async () => {
  const fd = new ScriptedFachdienst([
    jsonReply(204, undefined),
    jsonReply(403, outcome('forbidden', 'Task must not be in progress for users other than pharmacy, but is: in-progress')),
    jsonReply(200, taskBundle(insuredTask(id(5), 'R319754024', { accessCode: ac(5) }), kbvBundle(id(5), 'Anna Richter'))),
  ]);
  const fdv = await offlineFdv(fd);
  await fdv.delete(id(4));
  assert.equal(fd.requests[0].method, 'POST');
  assert.equal(fd.requests[0].target, `/Task/${id(4)}/$abort`);
  assert.equal(fd.requests[0].opts.headers?.['X-AccessCode'], undefined);
  const e = await fdv.delete(id(6), { accessCode: ac(6) }).then(() => assert.fail('expected 403'), (x: unknown) => x);
  assert.ok(e instanceof FdvError);
  assert.equal(e.status, 403);
  assert.equal(e.text, 'Task must not be in progress for users other than pharmacy, but is: in-progress');
  assert.equal(e.details.code, 'forbidden');
  assert.equal(fd.requests[1].opts.headers?.['X-AccessCode'], ac(6));
  const rep = await fdv.retrieveAsRepresentative({ prescriptionId: id(5), accessCode: ac(5) });
  assert.equal(fd.requests[2].opts.headers?.['X-AccessCode'], ac(5));
  assert.equal(rep.asRepresentative, true);
  assert.equal(fdv.content(id(5)).patient?.kvnr, 'R319754024');
});

test('UC 3.3/3.4/3.8: DispReq and Representative messages as sent; messages read; DELETE returns the Warning header', async () => {
  const sentBack = (req: { opts: { body?: Buffer | string } }) => ({ status: 201, body: JSON.stringify({ ...JSON.parse(String(req.opts.body)), id: 'c1', sent: '2025-03-28T08:04:20Z', sender: { identifier: { system: 'http://fhir.de/sid/gkv/kvid-10', value: JONAS } } }), headers: { 'content-type': 'application/fhir+json' } });
  const fd = new ScriptedFachdienst([sentBack, sentBack, jsonReply(200, searchset([{ resourceType: 'Communication', id: 'm1', meta: { profile: ['https://gematik.de/fhir/erp/StructureDefinition/GEM_ERP_PR_Communication_Representative|1.6'] }, basedOn: [{ reference: `${id(9)}/$accept?ac=${ac(9)}` }], status: 'unknown', recipient: [{ identifier: { system: 'http://fhir.de/sid/gkv/kvid-10', value: JONAS } }], sender: { identifier: { value: 'R319754024' } }, payload: [{ contentString: 'Bitte abholen' }] }])), jsonReply(204, undefined, { warning: '199 - "The Communication has already been received"' })]);
  const fdv = await offlineFdv(fd);
  const token = { prescriptionId: id(1), accessCode: ac(1) };
  const [m] = await fdv.sendToPharmacy(token, '3-SMC-B-Testkarte-883110000116873', { version: 1, supplyOptionsType: 'onPremise' });
  const dispReq = JSON.parse(String(fd.requests[0].opts.body));
  assert.equal(dispReq.meta.profile[0], 'https://gematik.de/fhir/erp/StructureDefinition/GEM_ERP_PR_Communication_DispReq|1.6');
  assert.equal(dispReq.basedOn[0].reference, `Task/${id(1)}/$accept?ac=${ac(1)}`);
  assert.deepEqual(dispReq.recipient[0].identifier, { system: 'https://gematik.de/fhir/sid/telematik-id', value: '3-SMC-B-Testkarte-883110000116873' });
  assert.equal(dispReq.extension[0].valueCoding.code, '160');
  assert.deepEqual(JSON.parse(dispReq.payload[0].contentString), { version: 1, supplyOptionsType: 'onPremise' });
  assert.equal(m.kind, 'DispReq');
  assert.equal(m.id, 'c1');
  await fdv.sendToRepresentative(token, 'R319754024', 'Kannst du das abholen?');
  const rep = JSON.parse(String(fd.requests[1].opts.body));
  assert.deepEqual(rep.recipient[0].identifier, { system: 'http://fhir.de/sid/gkv/kvid-10', value: 'R319754024' });
  assert.equal(rep.payload[0].contentString, 'Kannst du das abholen?');
  const inbox = await fdv.messages();
  assert.equal(inbox.items[0].kind, 'Representative');
  assert.deepEqual(inbox.items[0].token, { prescriptionId: id(9), accessCode: ac(9) }, 'the token without "Task/" as the production Fachdienst returns it');
  assert.ok(fdv.receivedTokens().some((t) => t.prescriptionId === id(9)));
  const del = await fdv.deleteMessage('m1');
  assert.equal(fd.requests[3].method, 'DELETE');
  assert.equal(fd.requests[3].target, '/Communication/m1');
  assert.match(del.warning ?? '', /already been received/);
});

test('UC 3.5: GET /AuditEvent with date range, subtype, _sort, _count and Accept-Language; entries read', async () => {
  const ev = { resourceType: 'AuditEvent', id: 'a1', language: 'de', text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">Praxis Dr. Hanna Ebert hat ein E-Rezept eingestellt.</div>' }, subtype: [{ system: 'http://hl7.org/fhir/restful-interaction', code: 'operation' }], action: 'C', recorded: '2025-03-28T08:04:19Z', outcome: '0', agent: [{ type: { coding: [{ code: 'humanuser' }] }, who: { identifier: { system: 'https://gematik.de/fhir/sid/telematik-id', value: '1-883110000116873' } }, name: 'Praxis Dr. Hanna Ebert', requestor: false }], entity: [{ what: { reference: `https://erp.example/Task/${id(1)}`, identifier: { system: 'https://gematik.de/fhir/erp/NamingSystem/GEM_ERP_NS_PrescriptionId', value: id(1) } }, description: id(1) }] };
  const fd = new ScriptedFachdienst([jsonReply(200, searchset([ev]))]);
  const fdv = await offlineFdv(fd);
  const log = await fdv.auditEvents({ since: '2025-03-01', until: new Date('2025-04-01T00:00:00Z'), subtype: 'operation', sort: '-date', count: 10, language: 'de' });
  assert.equal(fd.requests[0].target, '/AuditEvent?date=ge2025-03-01&date=lt2025-04-01T00%3A00%3A00Z&subtype=operation&_sort=-date&_count=10');
  assert.equal(fd.requests[0].opts.headers?.['Accept-Language'], 'de');
  const [e] = log.items;
  assert.equal(e.agentName, 'Praxis Dr. Hanna Ebert');
  assert.equal(e.agentId, '1-883110000116873');
  assert.equal(e.prescriptionId, id(1));
  assert.equal(e.action, 'C');
  assert.equal(e.text, 'Praxis Dr. Hanna Ebert hat ein E-Rezept eingestellt.');
  await assert.rejects(fdv.auditEvents({ subtype: 'drop-table' }), TypeError);
});

test('readTask: a Task of a direct assignment (169) has no AccessCode', () => {
  const t = readTask(insuredTask(buildPrescriptionId(169, 7), JONAS));
  assert.equal(t.flowType, '169');
  assert.equal(t.accessCode, undefined);
});

test('UC 3.3 as representative: a DispReq for a prescription held for someone else carries X-AccessCode; the own one does not; read references with a leading slash', async () => {
  const own = insuredTask(id(20), JONAS, { accessCode: ac(20) });
  const sentBack = (req: { opts: { body?: Buffer | string } }) => ({ status: 201, body: JSON.stringify({ ...JSON.parse(String(req.opts.body)), id: 'c2' }), headers: { 'content-type': 'application/fhir+json' } });
  const fd = new ScriptedFachdienst([
    jsonReply(200, taskBundle(own, kbvBundle(id(20)))),
    sentBack,
    sentBack,
    jsonReply(200, searchset([{ resourceType: 'Communication', id: 'm2', basedOn: [{ reference: `/Task/${id(21)}/$accept?ac=${ac(21)}` }], recipient: [{ identifier: { system: 'http://fhir.de/sid/gkv/kvid-10', value: JONAS } }], payload: [{ contentString: 'bitte' }] }])),
  ]);
  const fdv = await offlineFdv(fd);
  await fdv.getPrescription(id(20));
  await fdv.sendToPharmacy(fdv.token(id(20)), '3-SMC-B-Testkarte-883110000116873');
  const foreign = { prescriptionId: id(21), accessCode: ac(21) };
  await fdv.sendToPharmacy(foreign, '3-SMC-B-Testkarte-883110000116873');
  const header = (i: number) => Object.entries(fd.requests[i].opts.headers ?? {}).find(([k]) => k.toLowerCase() === 'x-accesscode')?.[1];
  assert.equal(header(1), undefined, 'the owner sends no X-AccessCode');
  assert.equal(header(2), ac(21), 'the representative proves the right with X-AccessCode');
  const inbox = await fdv.messages();
  assert.deepEqual(inbox.items[0].token, foreign, '"/Task/<id>/$accept?ac=…" (production read form) is read as the token');
});
