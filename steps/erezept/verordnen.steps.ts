/**
 * Steps of features/erezept/verordnen: UC 2.1 (E-Rezepte erzeugen), UC 2.3 (einstellen), UC 2.5 (löschen),
 * the signature modes of A_18541 and the guard of A_18613.
 *
 * The practice is the simulated PVS (simulators/pvs/pvs.ts) with a Konnektor client the support module
 * opens in the practice's call context; the pharmacy is the simulated AVS. What the PVS sends to the
 * Fachdienst and to the Konnektor is observed at its two clients (request recorders below); PIN entries
 * come from the Konnektor's admin call log and a Task's stored status from the Fachdienst's admin API
 * (both @simulator-only). Raw Fachdienst calls (a draft Task with a tampered signature or a wrong
 * AccessCode) go through the PVS's own VAU client.
 */
import assert from 'node:assert/strict';
import { After, Given, Then, When } from '@cucumber/cucumber';
import { loadPersona } from '../../cards';
import { FachdienstRefusal } from '../../simulators/avs/avs';
import { isValidAccessCode, isValidPrescriptionId, formatToken, parseDataMatrixPayload, type ERezeptToken } from '../../simulators/lib/erezept-token';
import { scanERezeptPng } from '../../simulators/lib/datamatrix';
import { parseFhir, serializeFhirXml, type FhirJson, type FhirResource } from '../../simulators/lib/fhir';
import { buildKbvBundle, KbvBundleError, serializeKbvBundle, withPrescriptionId, type KbvMedication } from '../../simulators/lib/kbv-bundle';
import type { KonnektorClient } from '../../simulators/lib/konnektor-client';
import type { VauResponse } from '../../simulators/lib/vau-client';
import { FachdienstError, UnsignedPrescriptionError } from '../../simulators/pvs/errors';
import { ERP_NS, SIGNATURE_MODE_ENV, type Pvs, type PrescriptionResult } from '../../simulators/pvs/pvs';
import type { SignatureMode } from '../../simulators/pvs/signing';
import { EnvironmentError, TestDefectError } from '../support/errors';
import { verify } from '../verify';
import type { TiWorld } from '../world';
import { verifyAll } from '../idp/support';
import { createAvs, erpState, insertCardAt, lastPrescription, openPvs, PRACTICE_CONTEXT, pvsOf } from './support';

const IBUPROFEN: KbvMedication = {
  kind: 'pzn',
  pzn: '06313728',
  name: 'Ibuprofen AL 400 mg',
  normSize: 'N1',
  ingredient: { name: 'Ibuprofen', strength: { value: 400, unit: 'mg' } },
};
const DOSAGES = ['1-0-1-0', '1-0-0-0', '0-0-1-0', '1-1-1-0'];

// ------------------------------------------------------------------ observation of the PVS's two clients

interface FdCall {
  method: string;
  target: string;
  status: number;
}

interface VerordnenState {
  fdCalls: FdCall[];
  /** PrescriptionIDs of the Tasks the PVS created (from the $create answers). */
  createdIds: string[];
  signDocumentCalls: number;
  /** Konnektor call log id before the scenario's prescribing step. */
  konnektorSince?: number;
  /** Documents the wrapped Konnektor client alters before signing (A_18613 scenario). */
  alterSignedContent: boolean;
  draft?: Draft;
  lastAnswer?: VauResponse;
  deleted?: string;
  envBefore?: { value: string | undefined };
}

function vState(world: TiWorld): VerordnenState {
  const s = erpState(world);
  let v = s.extra.get('verordnen') as VerordnenState | undefined;
  if (!v) {
    v = { fdCalls: [], createdIds: [], signDocumentCalls: 0, alterSignedContent: false };
    s.extra.set('verordnen', v);
  }
  return v;
}

/** Records every request the PVS sends to the Fachdienst and every SignDocument it asks the Konnektor for. */
function observe(world: TiWorld, pvs: Pvs): void {
  const v = vState(world);
  const fd = pvs.fachdienst;
  const request = fd.request.bind(fd);
  fd.request = async (method, target, opts) => {
    const call: FdCall = { method, target, status: 0 };
    v.fdCalls.push(call);
    const r = await request(method, target, opts);
    call.status = r.status;
    if (target === '/Task/$create' && r.status === 201) {
      const id = identifierOf(parseFhir(r.text(), r.headers['content-type']) as FhirJson, ERP_NS.prescriptionId);
      if (id) v.createdIds.push(id);
    }
    return r;
  };
  const k: KonnektorClient = pvs.konnektor;
  const signDocument = k.signDocument.bind(k);
  k.signDocument = async (handle, documents, opts) => {
    v.signDocumentCalls++;
    const docs = v.alterSignedContent ? documents.map((d) => ({ ...d, content: Buffer.concat([d.content, Buffer.from('\n<!-- altered -->')]) })) : documents;
    return signDocument(handle, docs, opts);
  };
}

async function openObservedPvs(world: TiWorld, practice: string, doctor: string, signatureMode?: SignatureMode): Promise<Pvs> {
  const pvs = await openPvs(world, { practice, doctor, context: PRACTICE_CONTEXT, ...(signatureMode ? { signatureMode } : {}) });
  observe(world, pvs);
  return pvs;
}

async function konnektorCalls(world: TiWorld, since?: number): Promise<Array<{ id: number; operation?: string; httpStatus: number; pinEntries?: number; context?: { clientSystemId?: string } }>> {
  const q = since === undefined ? '?limit=1' : `?since=${since}`;
  const res = await world.http(world.serviceUrl('konnektor', `/__admin/calls${q}`), { ca: await world.tiRootPem(), service: 'konnektor' });
  if (res.status !== 200) throw new EnvironmentError(`Konnektor: GET /__admin/calls answered ${res.status}`);
  return res.json<{ calls: Array<{ id: number; operation?: string; httpStatus: number; pinEntries?: number }> }>().calls;
}

interface StoredTaskView {
  status: string;
  stored: { kvnr: boolean; accessCode: boolean; secret: boolean; owner: boolean; binaries: Record<string, number> };
}

/** The Fachdienst's harness-only view of a task: status and which data it still stores (never the data). */
async function taskAtFachdienst(world: TiWorld, id: string): Promise<StoredTaskView> {
  const res = await world.http(world.serviceUrl('fachdienst', `/__admin/tasks/${encodeURIComponent(id)}`), { ca: await world.tiRootPem(), service: 'fachdienst' });
  if (res.status !== 200) throw new EnvironmentError(`Fachdienst: GET /__admin/tasks/${id} answered ${res.status}: ${res.text().slice(0, 200)}`);
  return res.json<StoredTaskView>();
}

async function taskStatusAtFachdienst(world: TiWorld, id: string): Promise<string> {
  return (await taskAtFachdienst(world, id)).status;
}

// ------------------------------------------------------------------ Given

Given('die Praxis {string} verordnet mit dem HBA von {string}', async function (this: TiWorld, practice: string, doctor: string) {
  await openObservedPvs(this, practice, doctor);
});

Given('die Praxis {string} verordnet mit dem HBA von {string} im Signaturverfahren {string}', async function (this: TiWorld, practice: string, doctor: string, mode: string) {
  if (!['single', 'batch', 'comfort'].includes(mode)) throw new TestDefectError(`unknown signature mode "${mode}"`);
  await openObservedPvs(this, practice, doctor, mode as SignatureMode);
});

Given('der HBA von {string} steckt in einem freien Kartenleser der Praxis', async function (this: TiWorld, name: string) {
  await insertCardAt(this, name, PRACTICE_CONTEXT.workplaceId);
});

Given('das Standard-Signaturverfahren des PVS ist {string}', function (this: TiWorld, mode: string) {
  const v = vState(this);
  v.envBefore = { value: process.env[SIGNATURE_MODE_ENV] };
  if (mode === '') delete process.env[SIGNATURE_MODE_ENV];
  else process.env[SIGNATURE_MODE_ENV] = mode;
});

Given('der Konnektor liefert statt der Signatur einen CMS-Container über einen anderen Datensatz', function (this: TiWorld) {
  vState(this).alterSignedContent = true;
});

// ------------------------------------------------------------------ prescribing

function prescriptionsFor(patient: string, n: number, medication: KbvMedication = IBUPROFEN) {
  loadPersona(patient);
  return Array.from({ length: n }, (_, i) => ({ patient, medication, dosage: DOSAGES[i % DOSAGES.length] }));
}

async function prescribe(world: TiWorld, patient: string, n: number, medication?: KbvMedication, keepError = true): Promise<void> {
  const s = erpState(world);
  const v = vState(world);
  if (v.konnektorSince === undefined && world.scenario?.tags.includes('@simulator-only')) {
    v.konnektorSince = (await konnektorCalls(world)).at(-1)?.id ?? 0;
  }
  try {
    s.prescriptions.push(...(await pvsOf(world).prescribe(prescriptionsFor(patient, n, medication))));
  } catch (e) {
    if (!keepError || !(e instanceof KbvBundleError || e instanceof FachdienstError || e instanceof UnsignedPrescriptionError)) throw e;
    s.lastError = e;
  }
}

When('die Ärztin für {string} {int} Arzneimittel verordnet', async function (this: TiWorld, patient: string, n: number) {
  await prescribe(this, patient, n);
});

Given('die Ärztin hat für {string} {int} Arzneimittel verordnet', async function (this: TiWorld, patient: string, n: number) {
  await prescribe(this, patient, n, undefined, false);
});

When('die Ärztin für {string} ein Arzneimittel mit der ungültigen PZN {string} verordnet', async function (this: TiWorld, patient: string, pzn: string) {
  await prescribe(this, patient, 1, { ...IBUPROFEN, pzn });
});

function results(world: TiWorld): PrescriptionResult[] {
  const r = erpState(world).prescriptions;
  if (!r.length) {
    const e = erpState(world).lastError;
    throw new TestDefectError(`no prescription was issued in this scenario${e ? ` (${(e as Error).message})` : ''}`);
  }
  return r;
}

function identifierOf(res: FhirJson, system: string): string | undefined {
  const ids = (res.identifier as FhirJson[] | FhirJson | undefined) ?? [];
  return (Array.isArray(ids) ? ids : [ids]).find((i) => i.system === system)?.value as string | undefined;
}

function kvnrOf(patient: string): string {
  const p = loadPersona(patient);
  if (p.type !== 'eGK') throw new TestDefectError(`${patient} is not an eGK persona`);
  return p.insurance.kvnr;
}

function sequenceOf(id: string): bigint {
  return BigInt(id.split('.').slice(1, 5).join(''));
}

// ------------------------------------------------------------------ Then: UC 2.1

Then('hat der Fachdienst je Verordnung eine E-Rezept-ID des Workflows {string} mit gültigen Prüfziffern vergeben', async function (this: TiWorld, flow: string) {
  const rs = results(this);
  await verify('A_18555', `Das PVS hat je Verordnung eine E-Rezept-ID des Workflows ${flow} abgerufen`, () => {
    const creates = vState(this).fdCalls.filter((c) => c.target === '/Task/$create');
    assert.equal(creates.length, rs.length, 'one $create per prescription');
    assert.ok(creates.every((c) => c.status === 201), `every $create answered 201: ${creates.map((c) => c.status).join(', ')}`);
  });
  await verify('A_18519', `Die E-Rezept-IDs haben die Form aaa.bbb.bbb.bbb.bbb.cc, Workflow ${flow} und Prüfziffern nach ISO 7064 MOD 97-10`, () => {
    for (const r of rs) {
      assert.ok(isValidPrescriptionId(r.taskId), `${r.taskId} is a PrescriptionID with valid check digits`);
      assert.equal(r.taskId.slice(0, 3), flow);
      assert.equal(identifierOf(r.task as FhirJson, ERP_NS.prescriptionId), r.taskId);
    }
  });
});

Then('ist der AccessCode jeder Verordnung ein 64-stelliger Hexadezimalwert', async function (this: TiWorld) {
  const rs = results(this);
  await verify('A_18520', 'Der AccessCode jeder Verordnung besteht aus 64 Hexadezimalzeichen (256 Bit) und ist je Verordnung verschieden', () => {
    for (const r of rs) {
      assert.match(r.token.accessCode, /^[0-9a-f]{64}$/);
      assert.ok(isValidAccessCode(r.token.accessCode));
    }
    assert.equal(new Set(rs.map((r) => r.token.accessCode)).size, rs.length);
  });
});

Then('trägt jeder signierte Verordnungsdatensatz die E-Rezept-ID seines Tasks als Identifier', async function (this: TiWorld) {
  const rs = results(this);
  await verify('A_18544', 'Bundle.identifier des signierten Verordnungsdatensatzes ist die E-Rezept-ID des Tasks', () => {
    for (const r of rs) {
      const bundle = parseFhir(r.bundle.toString('utf8'), 'application/fhir+xml') as FhirJson;
      assert.equal((bundle.identifier as FhirJson | undefined)?.system, ERP_NS.prescriptionId);
      assert.equal((bundle.identifier as FhirJson).value, r.taskId);
    }
  });
});

Then('ist jedes E-Rezept beim Fachdienst für {string} einlösbar', async function (this: TiWorld, patient: string) {
  const rs = results(this);
  const kvnr = kvnrOf(patient);
  const check = () => {
    for (const r of rs) {
      const task = r.task as FhirJson;
      assert.equal(task.status, 'ready', `Task ${r.taskId} is ready`);
      assert.equal(((task.for as FhirJson | undefined)?.identifier as FhirJson | undefined)?.value, kvnr);
    }
    const activates = vState(this).fdCalls.filter((c) => c.target.endsWith('/$activate'));
    assert.equal(activates.length, rs.length);
    assert.ok(activates.every((c) => c.status === 200));
  };
  await verifyAll(this, ['A_18502', 'A_18503'], `Jedes E-Rezept wurde mit $activate eingestellt und ist im Status ready für ${patient}`, check);
  if (this.scenario?.tags.includes('@AFO-ID:A_18556')) {
    await verify('A_18556', 'Der Fachdienst hat die QES geprüft, das E-Rezept angenommen und in den Status ready gesetzt', check);
  }
});

Then('hält das PVS für {string} die E-Rezept-Token {string} vor', async function (this: TiWorld, patient: string, _form: string) {
  const rs = results(this);
  const kvnr = kvnrOf(patient);
  const pvs = pvsOf(this);
  await verify('A_18614', 'Das E-Rezept-Token ist Task/<E-Rezept-ID>/$accept?ac=<AccessCode> aus dem Task des Fachdienstes', () => {
    for (const r of rs) {
      assert.equal(formatToken(r.token), `Task/${r.taskId}/$accept?ac=${identifierOf(r.task as FhirJson, ERP_NS.accessCode) ?? r.token.accessCode}`);
      assert.equal(r.token.accessCode, identifierOf(r.task as FhirJson, ERP_NS.accessCode));
    }
  });
  await verify('A_18616', 'Das PVS hält die E-Rezept-Token der einlösbaren E-Rezepte des Versicherten vor', () => {
    const held = pvs.tokens.redeemable(kvnr).map(formatToken).sort();
    assert.deepEqual(held, rs.map((r) => formatToken(r.token)).sort());
  });
});

Then('enthält der gedruckte DataMatrix-Code genau die E-Rezept-Token der Verordnung', async function (this: TiWorld) {
  const rs = results(this);
  const pvs = pvsOf(this);
  const pngs = pvs.printDataMatrix(rs.map((r) => r.token));
  const decoded: ERezeptToken[][] = pngs.map((png) => scanERezeptPng(png));
  await verify('A_18543', 'Das PVS druckt die E-Rezept-Token als DataMatrix-Code, höchstens drei Token je Code', () => {
    assert.equal(pngs.length, Math.ceil(rs.length / 3));
    assert.ok(decoded.every((d) => d.length >= 1 && d.length <= 3));
    assert.deepEqual(decoded.flat().map(formatToken), rs.map((r) => formatToken(r.token)));
  });
  await verify('A_18516', 'Der DataMatrix-Code enthält {"urls":["Task/<ID>/$accept?ac=<AccessCode>", …]}', () => {
    for (const d of decoded) {
      const payload = JSON.stringify({ urls: d.map(formatToken) });
      assert.deepEqual(parseDataMatrixPayload(payload).map(formatToken), d.map(formatToken));
    }
  });
});

Then('hat das PVS für jede Verordnung genau einmal eine E-Rezept-ID abgerufen', async function (this: TiWorld) {
  const rs = results(this);
  await verify('A_18545', 'Je Verordnung genau ein $create; jede E-Rezept-ID steckt in genau einem Verordnungsdatensatz', () => {
    const creates = vState(this).fdCalls.filter((c) => c.target === '/Task/$create');
    assert.equal(creates.length, rs.length);
    const ids = rs.map((r) => r.taskId);
    assert.equal(new Set(ids).size, ids.length, 'no PrescriptionID used for two bundles');
    const inBundles = rs.map((r) => (parseFhir(r.bundle.toString('utf8'), 'application/fhir+xml') as FhirJson).identifier as FhirJson).map((i) => i.value);
    assert.deepEqual(inBundles, ids);
  });
});

Then('sind die E-Rezept-IDs je Workflow aufsteigend vergeben und nicht wiederverwendet', async function (this: TiWorld) {
  const rs = results(this);
  const check = () => {
    for (const r of rs) assert.ok(isValidPrescriptionId(r.taskId));
    const seq = rs.map((r) => sequenceOf(r.taskId));
    for (let i = 1; i < seq.length; i++) assert.ok(seq[i] > seq[i - 1], `${rs[i].taskId} follows ${rs[i - 1].taskId}`);
  };
  await verify('A_18519', 'Die E-Rezept-IDs eines Workflows sind fortlaufend (aufsteigend) mit MOD-97-10-Prüfziffern vergeben', check);
  await verify('A_18764', 'Jede E-Rezept-ID identifiziert genau einen Task und wird nicht wiederverwendet', () => {
    check();
    assert.equal(new Set(rs.map((r) => r.taskId)).size, rs.length);
  });
});

Then('weist das PVS den Verordnungsdatensatz mit einem Hinweis auf die PZN zurück', async function (this: TiWorld) {
  const e = erpState(this).lastError;
  await verify('A_18612', 'Das PVS prüft den Verordnungsdatensatz vor dem Signieren und weist die ungültige PZN zurück', () => {
    assert.ok(e instanceof KbvBundleError, `expected a KbvBundleError, got ${e === undefined ? 'no error' : (e as Error).name}`);
    assert.ok(e.issues.some((i) => /PZN/i.test(`${i.location} ${i.message}`)), `an issue names the PZN: ${e.issues.map((i) => i.message).join('; ')}`);
  });
});

Then('hat das PVS weder eine E-Rezept-ID abgerufen noch etwas zur Signatur an den Konnektor gegeben', async function (this: TiWorld) {
  const v = vState(this);
  await verify('A_18612', 'Nach der fehlgeschlagenen Prüfung hat das PVS keinen Task angelegt und nichts signieren lassen', () => {
    assert.deepEqual(v.fdCalls, []);
    assert.equal(v.signDocumentCalls, 0);
  });
  await verify('A_18502', 'Ein ungültiger Verordnungsdatensatz erzeugt kein E-Rezept', () => {
    assert.equal(erpState(this).prescriptions.length, 0);
  });
});

// ------------------------------------------------------------------ UC 2.3: raw $activate of a draft Task

interface Draft {
  taskId: string;
  accessCode: string;
  bundle: Buffer;
  cms: Buffer;
}

function parametersWith(cms: Buffer): string {
  return serializeFhirXml(
    { resourceType: 'Parameters', parameter: [{ name: 'ePrescription', resource: { resourceType: 'Binary', contentType: 'application/pkcs7-mime', data: cms.toString('base64') } }] },
    { declaration: true },
  );
}

const FHIR_XML_HEADERS = { 'Content-Type': 'application/fhir+xml; charset=utf-8', Accept: 'application/fhir+xml' };

Given('für {string} liegt ein Task im Status draft mit signiertem Verordnungsdatensatz vor', async function (this: TiWorld, patient: string) {
  const pvs = pvsOf(this);
  const body = serializeFhirXml({ resourceType: 'Parameters', parameter: [{ name: 'workflowType', valueCoding: { system: ERP_NS.flowType, code: '160' } }] }, { declaration: true });
  const r = await pvs.fachdienst.request('POST', '/Task/$create', { headers: FHIR_XML_HEADERS, body });
  if (r.status !== 201) throw new EnvironmentError(`Fachdienst: $create answered ${r.status}: ${r.text().slice(0, 200)}`);
  const task = parseFhir(r.text(), r.headers['content-type']) as FhirJson;
  const taskId = identifierOf(task, ERP_NS.prescriptionId);
  const accessCode = identifierOf(task, ERP_NS.accessCode);
  if (!taskId || !accessCode) throw new EnvironmentError('Fachdienst: the created Task has no PrescriptionID or AccessCode');
  const bundle = serializeKbvBundle(withPrescriptionId(buildKbvBundle(pvs.prescriptionInput(prescriptionsFor(patient, 1)[0]), { now: new Date() }), taskId));
  const hba = (await pvs.konnektor.getCards({ cardType: 'HBA' })).find((c) => c.iccsn === pvs.doctor.iccsn);
  if (!hba) throw new EnvironmentError(`the HBA of ${pvs.doctor.name} is not in a card terminal of the workplace`);
  const [signed] = await pvs.konnektor.signDocument(hba.cardHandle, [{ content: bundle, mimeType: 'text/plain; charset=utf-8', shortText: 'E-Rezept 1' }]);
  if (!signed?.signature) throw new EnvironmentError(`SignDocument returned no signature (${signed?.result})`);
  vState(this).draft = { taskId, accessCode, bundle, cms: signed.signature };
});

function draftOf(world: TiWorld): Draft {
  const d = vState(world).draft;
  if (!d) throw new TestDefectError('no draft Task in this scenario yet');
  return d;
}

async function activateRaw(world: TiWorld, d: Draft, cms: Buffer, accessCode: string): Promise<VauResponse> {
  const r = await pvsOf(world).fachdienst.request('POST', `/Task/${d.taskId}/$activate`, { headers: { ...FHIR_XML_HEADERS, 'X-AccessCode': accessCode }, body: parametersWith(cms) });
  vState(world).lastAnswer = r;
  return r;
}

When('das PVS den Datensatz nach dem Signieren verändert einstellt', async function (this: TiWorld) {
  const d = draftOf(this);
  const at = d.cms.indexOf(Buffer.from('Ibuprofen AL 400 mg'));
  if (at < 0) throw new TestDefectError('the CMS does not enclose the bundle as one piece');
  const tampered = Buffer.from(d.cms);
  tampered.write('Ibuprofen AL 800 mg', at, 'latin1');
  await activateRaw(this, d, tampered, d.accessCode);
});

When('das PVS das E-Rezept mit einem falschen AccessCode einstellt', async function (this: TiWorld) {
  const d = draftOf(this);
  const wrong = d.accessCode.slice(0, -1) + (d.accessCode.endsWith('0') ? '1' : '0');
  await activateRaw(this, d, d.cms, wrong);
});

function outcomeTexts(r: VauResponse): string[] {
  let oo: FhirResource;
  try {
    oo = parseFhir(r.text(), r.headers['content-type']);
  } catch {
    return [];
  }
  if (oo.resourceType !== 'OperationOutcome') return [];
  return ((oo.issue as FhirJson[] | undefined) ?? []).map((i) => String((i.details as FhirJson | undefined)?.text ?? i.diagnostics ?? ''));
}

Then('lehnt der Fachdienst das Einstellen mit {int} {string} ab', async function (this: TiWorld, status: number, text: string) {
  const v = vState(this);
  let got: { status: number; text: string };
  if (v.lastAnswer) got = { status: v.lastAnswer.status, text: outcomeTexts(v.lastAnswer)[0] ?? '' };
  else {
    const e = erpState(this).lastError;
    if (!(e instanceof FachdienstError)) throw new TestDefectError(`expected a refusal of the Fachdienst, got ${e ? (e as Error).message : 'none (the prescription went through)'}`);
    got = { status: e.status, text: e.text };
  }
  await verifyAll(this, ['A_18503', 'A_18556'], `Der Fachdienst lehnt $activate mit ${status} "${text}" ab`, () => {
    assert.equal(got.status, status);
    assert.equal(got.text, text);
  });
});

Then('kann das PVS das unveränderte E-Rezept danach einstellen', async function (this: TiWorld) {
  const d = draftOf(this);
  const r = await activateRaw(this, d, d.cms, d.accessCode);
  await verify('A_18556', 'Der abgelehnte Versuch hat den Task nicht verändert: das korrekt signierte E-Rezept mit richtigem AccessCode wird danach eingestellt (ready)', () => {
    assert.equal(r.status, 200, outcomeTexts(r).join('; '));
    assert.equal((parseFhir(r.text(), r.headers['content-type']) as FhirJson).status, 'ready');
  });
});

// ------------------------------------------------------------------ UC 2.5

When('die Ärztin das zuletzt eingestellte E-Rezept löscht', async function (this: TiWorld) {
  const p = lastPrescription(this);
  try {
    await pvsOf(this).delete(p.taskId);
    vState(this).deleted = p.taskId;
  } catch (e) {
    if (!(e instanceof FachdienstError)) throw e;
    erpState(this).lastError = e;
  }
});

Then('bestätigt der Fachdienst das Löschen mit 204 und das PVS hält das E-Rezept-Token nicht mehr vor', async function (this: TiWorld) {
  const p = lastPrescription(this);
  const v = vState(this);
  await verifyAll(this, ['A_18505', 'A_18557'], 'Der Fachdienst beantwortet $abort mit 204; das PVS hat das Token entfernt', () => {
    assert.equal(v.deleted, p.taskId, `delete failed: ${(erpState(this).lastError as Error | undefined)?.message ?? ''}`);
    const aborts = v.fdCalls.filter((c) => c.target === `/Task/${p.taskId}/$abort`);
    assert.deepEqual(aborts.map((c) => c.status), [204]);
    assert.equal(pvsOf(this).tokens.get(p.taskId), undefined);
  });
});

Then('kann die Apotheke {string} das gelöschte E-Rezept nicht annehmen: {int} {string}', async function (this: TiWorld, pharmacy: string, status: number, text: string) {
  const p = lastPrescription(this);
  const avs = await createAvs(this, { pharmacy });
  let refusal: unknown;
  try {
    await avs.accept(p.token);
  } catch (e) {
    refusal = e;
  }
  await verifyAll(this, ['A_18505', 'A_18557'], `$accept des gelöschten E-Rezepts wird mit ${status} "${text}" abgelehnt`, () => {
    assert.ok(refusal instanceof FachdienstRefusal, `expected a refusal, got ${refusal === undefined ? 'an accepted prescription' : (refusal as Error).message}`);
    assert.equal(refusal.status, status);
    assert.equal(refusal.texts[0], text);
  });
});

Then('erhält die nächste Verordnung eine neue E-Rezept-ID', async function (this: TiWorld) {
  const deleted = vState(this).deleted;
  if (!deleted) throw new TestDefectError('nothing was deleted in this scenario');
  const patient = loadPersona('Jonas Keller').name;
  await prescribe(this, patient, 1, undefined, false);
  const next = lastPrescription(this).taskId;
  await verify('A_18764', 'Die E-Rezept-ID des gelöschten Tasks wird nicht wiederverwendet; die nächste ID des Workflows ist größer', () => {
    assert.notEqual(next, deleted);
    assert.equal(next.slice(0, 3), deleted.slice(0, 3));
    assert.ok(sequenceOf(next) > sequenceOf(deleted), `${next} after ${deleted}`);
  });
});

Given('die Apotheke {string} hat das E-Rezept angenommen', async function (this: TiWorld, pharmacy: string) {
  const avs = await createAvs(this, { pharmacy });
  await avs.accept(lastPrescription(this).token);
});

Then('lehnt der Fachdienst das Löschen mit {int} {string} ab', async function (this: TiWorld, status: number, text: string) {
  const e = erpState(this).lastError;
  const p = lastPrescription(this);
  await verifyAll(this, ['A_18505', 'A_18557'], `Der Fachdienst lehnt $abort durch die Praxis mit ${status} "${text}" ab; das PVS behält das Token`, () => {
    assert.ok(e instanceof FachdienstError, `expected a refusal, got ${e === undefined ? 'a deletion' : (e as Error).message}`);
    assert.equal(e.operation, 'Task.$abort');
    assert.equal(e.status, status);
    assert.equal(e.text, text);
    assert.ok(pvsOf(this).tokens.get(p.taskId));
  });
});

// ------------------------------------------------------------------ A_18541 signature modes

Then(
  'hat das PVS die {int} Verordnungen mit {int} SignDocument-Aufrufen und insgesamt {int} PIN-Eingaben beim Signieren signieren lassen',
  async function (this: TiWorld, n: number, calls: number, pins: number) {
    const rs = results(this);
    const since = vState(this).konnektorSince;
    if (since === undefined) throw new TestDefectError('the Konnektor call log baseline was not taken (scenario not @simulator-only?)');
    const log = (await konnektorCalls(this, since)).filter((c) => c.context?.clientSystemId === PRACTICE_CONTEXT.clientSystemId && c.operation === 'SignDocument');
    await verify('A_18541', `${n} Verordnungen: ${calls} SignDocument-Aufrufe mit zusammen ${pins} PIN-Eingaben`, () => {
      assert.equal(rs.length, n);
      assert.equal(log.length, calls, 'SignDocument calls');
      assert.ok(log.every((c) => c.httpStatus === 200));
      assert.equal(log.reduce((a, c) => a + (c.pinEntries ?? 0), 0), pins, 'PIN entries during SignDocument');
    });
  },
);

Then('hat das PVS {word} Komfortsignatur mit einer PIN-Eingabe aktiviert', async function (this: TiWorld, howMany: string) {
  const expected = howMany === 'keine' ? 0 : howMany === 'eine' ? 1 : undefined;
  if (expected === undefined) throw new TestDefectError(`"${howMany}": expected "keine" or "eine"`);
  const since = vState(this).konnektorSince as number;
  const log = (await konnektorCalls(this, since)).filter((c) => c.context?.clientSystemId === PRACTICE_CONTEXT.clientSystemId && c.operation === 'ActivateComfortSignature');
  await verify('A_18541', expected ? 'Die Komfortsignatur wurde einmal mit einer PIN-Eingabe aktiviert' : 'Ohne Komfortsignatur wurde keine aktiviert', () => {
    assert.equal(log.length, expected);
    for (const c of log) assert.equal(c.pinEntries, 1);
  });
});

Then('signiert das PVS im Verfahren {string}', async function (this: TiWorld, mode: string) {
  const pvs = pvsOf(this);
  await verify('A_18541', `Das Signaturverfahren ist konfigurierbar; ohne Auswahl gilt "${mode}"`, () => {
    assert.equal(pvs.signatureMode, mode);
  });
});

// ------------------------------------------------------------------ A_18613

Then('verweigert das PVS das Einstellen, weil die Verordnung nicht gültig signiert ist', async function (this: TiWorld) {
  const e = erpState(this).lastError;
  await verify('A_18613', 'Das PVS erkennt, dass die Signatur nicht genau den Verordnungsdatensatz umschließt, und sendet ihn nicht', () => {
    assert.ok(e instanceof UnsignedPrescriptionError, `expected UnsignedPrescriptionError, got ${e === undefined ? 'none' : (e as Error).message}`);
    assert.equal(erpState(this).prescriptions.length, 0);
  });
});

Then('hat das PVS kein $activate an den Fachdienst gesendet', async function (this: TiWorld) {
  const v = vState(this);
  await verify('A_18613', 'Das PVS hat den Task angelegt, aber kein $activate gesendet', () => {
    assert.equal(v.fdCalls.filter((c) => c.target === '/Task/$create').length, 1);
    assert.equal(v.fdCalls.filter((c) => c.target.endsWith('/$activate')).length, 0);
  });
});

Then('bleibt der Task beim Fachdienst im Status {string}', async function (this: TiWorld, status: string) {
  const ids = vState(this).createdIds;
  if (!ids.length) throw new TestDefectError('the PVS created no Task in this scenario');
  const statuses = await Promise.all(ids.map((id) => taskStatusAtFachdienst(this, id)));
  await verifyAll(this, ['A_18613', 'A_18502'], `Der Task ist beim Fachdienst im Status ${status} geblieben`, () => {
    assert.ok(ids.length >= 1);
    for (const s of statuses) assert.equal(s, status);
  });
});

After({ name: 'erezept/verordnen: restore the PVS signature mode default' }, function (this: TiWorld) {
  const v = (this.state.get('erezept') as { extra?: Map<string, unknown> } | undefined)?.extra?.get('verordnen') as VerordnenState | undefined;
  if (!v?.envBefore) return;
  if (v.envBefore.value === undefined) delete process.env[SIGNATURE_MODE_ENV];
  else process.env[SIGNATURE_MODE_ENV] = v.envBefore.value;
});

// ------------------------------------------------------------------ A_18820: deletion of personal and medical data

Given('der Fachdienst speichert zu dem E-Rezept die KVNR, den AccessCode und die signierte Verordnung', async function (this: TiWorld) {
  const p = lastPrescription(this);
  const t = await taskAtFachdienst(this, p.taskId);
  await verify('A_18820', 'Vor dem Löschen hält der Fachdienst KVNR, AccessCode und die signierte Verordnung des E-Rezepts', () => {
    assert.equal(t.status, 'ready');
    assert.ok(t.stored.kvnr && t.stored.accessCode, JSON.stringify(t.stored));
    assert.ok((t.stored.binaries['signed-prescription'] ?? 0) >= 1, JSON.stringify(t.stored.binaries));
  });
});

Then('hält der Fachdienst zu dem gelöschten E-Rezept keine personenbezogenen und medizinischen Daten mehr', async function (this: TiWorld) {
  const p = lastPrescription(this);
  const t = await taskAtFachdienst(this, p.taskId);
  await verify('A_18820', 'Nach dem Löschen sind KVNR, AccessCode, Secret und alle gespeicherten Dokumente des E-Rezepts gelöscht', () => {
    assert.equal(t.status, 'cancelled');
    // the insured's access log (audit events) stays by design (A_18937: 3 years); everything else is gone
    const { auditEvents: _auditEvents, ...stored } = t.stored as Record<string, unknown>;
    assert.deepEqual(stored, { kvnr: false, accessCode: false, secret: false, owner: false, binaries: {} });
  });
});
