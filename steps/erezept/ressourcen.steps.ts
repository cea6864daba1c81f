/**
 * Steps of features/erezept/fachdienst/ressourcen.feature (A_18517, TAB_SYSLERP_019): the Fachdienst offers
 * every operation of the table to its user group. The CapabilityStatement (GET /metadata, read through the
 * insured's app's VAU channel) must list the FHIR interaction of each operation, and each operation must really
 * be answered for the right role: one E-Rezept lifecycle in which the practice's PVS, the pharmacy's AVS and
 * the insured's and the representative's E-Rezept-Apps (simulators/pvs, simulators/avs, simulators/fdv) call
 * every operation once. Each call is kept with its outcome: the HTTP status from the PVS's and AVS's answer
 * logs, for the apps the outcome of the app's own status check (the FdV throws FdvError with the status for
 * any answer but the one the operation defines), for the AVS's messages the same (MessageRefusal).
 *
 * Card readers: the pharmacy's workplace reaches slots 2 (eGK "Jonas Keller") and 3. The representative's
 * eGK goes into slot 3 first; she logs out and pulls it before the pharmacy's SMC-B goes in (cards admin
 * API, @simulator-only; whatever is still inserted is taken out after the scenario).
 */
import assert from 'node:assert/strict';
import { Then, When, type DataTable } from '@cucumber/cucumber';
import { loadPersona, type EgkPersona, type SmcbPersona } from '../../cards';
import type { Avs } from '../../simulators/avs/avs';
import { buildDispReq, readMessage, type ErpMessage } from '../../simulators/lib/erp-communication';
import { parseToken, type ERezeptToken } from '../../simulators/lib/erezept-token';
import type { Fdv } from '../../simulators/fdv/fdv';
import { parseFhir, serializeFhirJson, type FhirJson } from '../../simulators/lib/fhir';
import type { Pvs } from '../../simulators/pvs/pvs';
import type { KbvMedication } from '../../simulators/lib/kbv-bundle';
import { idpState } from '../idp/support';
import { EnvironmentError, TestDefectError } from '../support/errors';
import { verify } from '../verify';
import type { TiWorld } from '../world';
import { fdvState, openFdv } from './fdv-support';
import { createAvs, erpState, openPvs } from './support';
import { fhirBodyOf } from '../../simulators/lib/fachdienst-answer';

const MEDICATION: KbvMedication = { kind: 'pzn', pzn: '06313728', name: 'Ibuprofen AL 400 mg', normSize: 'N1', ingredient: { name: 'Ibuprofen', strength: { value: 400, unit: 'mg' } } };

/** One call of the lifecycle: the operation of TAB_SYSLERP_019, the user group, and what the Fachdienst answered. */
interface Call {
  operation: string;
  user: string;
  ok: boolean;
  /** HTTP status where the client logs it (PVS, AVS) or a refusal carries it. */
  status?: number;
  detail: string;
}

interface ResourceState {
  capability?: { status: number; body?: FhirJson };
  calls: Call[];
}

function state(world: TiWorld): ResourceState {
  const extra = erpState(world).extra;
  let s = extra.get('ressourcen') as ResourceState | undefined;
  if (!s) {
    s = { calls: [] };
    extra.set('ressourcen', s);
  }
  return s;
}

/** The status carried by a refusal of any of the clients (FdvError, FachdienstRefusal, FachdienstError, MessageRefusal). */
function refusalStatus(e: unknown): number | undefined {
  const status = (e as { status?: unknown })?.status;
  return typeof status === 'number' && status >= 400 ? status : undefined;
}

/**
 * Runs one operation and keeps its outcome. `log`: the client's answer log (PVS/AVS) and the operation names
 * there whose last status counts. Anything but a refusal of the Fachdienst is an environment failure.
 */
async function call<T>(world: TiWorld, operation: string, user: string, fn: () => Promise<T>, log?: { answers: Array<{ operation: string; status: number }>; names: string[] }): Promise<T | undefined> {
  const before = log?.answers.length ?? 0;
  try {
    const out = await fn();
    const logged = log ? [...log.answers.slice(before)].reverse().find((a) => log.names.includes(a.operation)) : undefined;
    state(world).calls.push({ operation, user, ok: true, ...(logged ? { status: logged.status } : {}), detail: logged ? `${logged.operation} ${logged.status}` : 'accepted by the client' });
    return out;
  } catch (e) {
    const status = refusalStatus(e);
    if (status === undefined) throw new EnvironmentError(`${user}: ${operation} failed: ${(e as Error).message}`, { cause: e });
    state(world).calls.push({ operation, user, ok: false, status, detail: (e as Error).message });
    return undefined;
  }
}

/**
 * The E-Rezept-Token in a message's basedOn. The Fachdienst answers it on GET /Communication in production's
 * read form "/Task/<id>/$accept?ac=…"; readMessage (simulators/lib/erp-communication.ts) only takes "Task/…"
 * or "<id>/…" and leaves `token` empty for it, so the leading "/" is dropped here (reported as an open point).
 */
function tokenIn(m: ErpMessage): ERezeptToken | undefined {
  if (m.token) return m.token;
  try {
    return m.basedOn ? parseToken(m.basedOn.replace(/^\/+/, '')) : undefined;
  } catch {
    return undefined;
  }
}

/** Takes the eGK of an insured out again (the pharmacy needs the reader); the app is closed first. */
async function logOutAndPull(world: TiWorld, insured: string): Promise<void> {
  const name = loadPersona(insured).name;
  const apps = fdvState(world).apps;
  await apps.get(name)?.close();
  apps.delete(name);
  await world.admin('cards', '/cards/remove', { persona: name });
  const inserted = idpState(world).inserted;
  const i = inserted.indexOf(name);
  if (i >= 0) inserted.splice(i, 1);
}

When('{string} ruft in der App das CapabilityStatement des Fachdienstes ab', async function (this: TiWorld, insured: string) {
  const fdv = await openFdv(this, insured);
  const r = await fdv.fachdienst.request('GET', '/metadata', { headers: { Accept: 'application/fhir+json' } });
  const body = fhirBodyOf(r);
  state(this).capability = { status: r.status, ...(body ? { body } : {}) };
});

/**
 * The lifecycle: three prescriptions for the insured — the first deleted by the prescriber, the second
 * accepted, returned, accepted again, closed (receipt), its receipt read again and finally deleted by the
 * insured, the third accepted and deleted by the pharmacy — and the messages: the insured assigns the third
 * to the pharmacy and sends the second to the representative, the representative reads it, passes it to the
 * pharmacy and takes her message back, the insured reads her messages and deletes the one to the
 * representative, the pharmacy reads, replies and deletes its reply.
 */
When(
  'die Ärztin {string}, die {string}, {string} und ihre Vertreterin {string} führen jede Operation ihrer Nutzergruppe einmal aus',
  async function (this: TiWorld, doctor: string, pharmacy: string, insured: string, representative: string) {
    const V = 'Verordnender';
    const A = 'Abgebender';
    const I = 'Versicherter';
    const R = 'Vertreter';
    const pvs: Pvs = await openPvs(this, { doctor });
    const app: Fdv = await openFdv(this, insured);
    const rep: Fdv = await openFdv(this, representative);
    const telematikId = (loadPersona(pharmacy) as SmcbPersona).telematikId as string;
    const kvnrOf = (p: string) => (loadPersona(p) as EgkPersona).insurance.kvnr;

    // Verordnender: $create and $activate for three prescriptions, $abort of the first
    const issued = (await call(this, 'E-Rezept-ID abrufen', V, () => pvs.prescribe([0, 1, 2].map(() => ({ patient: insured, medication: MEDICATION, dosage: '1-0-1-0' }))), { answers: pvs.answers, names: ['Task.$create'] })) ?? [];
    if (issued.length !== 3) throw new EnvironmentError(`the practice could not prescribe (${state(this).calls.at(-1)?.detail})`);
    erpState(this).prescriptions.push(...issued);
    const activated = pvs.answers.filter((a) => a.operation === 'Task.$activate').slice(-3);
    state(this).calls.push({ operation: 'E-Rezept einstellen', user: V, ok: activated.length === 3 && activated.every((a) => a.status === 200), status: activated.at(-1)?.status, detail: activated.map((a) => `${a.operation} ${a.status}`).join(', ') });
    const [toDelete, toDispense, toAbort] = issued;
    await call(this, 'E-Rezept durch Verordnenden löschen', V, () => pvs.delete(toDelete.taskId), { answers: pvs.answers, names: ['Task.$abort'] });

    // Versicherter and Vertreter (before the pharmacy: the representative's eGK needs the pharmacy's reader)
    await call(this, 'E-Rezepte durch Versicherten abrufen', I, async () => {
      const list = await app.listTasks();
      if (!list.items.some((t) => t.taskId === toDispense.taskId)) throw new EnvironmentError(`GET /Task of ${insured} does not list ${toDispense.taskId}`);
      await app.getPrescription(toDispense.taskId);
    });
    const sent = await call(this, 'E-Rezept-Nachricht einstellen', I, async () => {
      await app.sendToPharmacy(toAbort.token, telematikId, { version: 1, supplyOptionsType: 'onPremise' });
      return app.sendToRepresentative(toDispense.token, kvnrOf(representative), 'Kannst du das Rezept für mich einlösen?');
    });
    const sentId = sent?.id;
    if (!sentId) throw new EnvironmentError(`the message of ${insured} to ${representative} has no id`);
    const inbox = await call(this, 'E-Rezept-Nachrichten abrufen', R, () => rep.messages());
    const token = inbox?.items.map(tokenIn).find((t) => t?.prescriptionId === toDispense.taskId);
    if (!token) throw new EnvironmentError(`${representative} received no E-Rezept-Token for ${toDispense.taskId}`);
    // A_20885-03: a representative sends the AccessCode also as X-AccessCode, which Fdv.sendToPharmacy does not
    // set: the DispReq goes through her app's VAU channel as the app would send it (reported as an open point)
    const passedOn = await call(this, 'E-Rezept-Nachricht einstellen', R, async () => {
      const body = serializeFhirJson(buildDispReq({ token, telematikId, payload: { version: 1, supplyOptionsType: 'onPremise' } }));
      const r = await rep.fachdienst.request('POST', '/Communication', { headers: { Accept: 'application/fhir+json', 'Content-Type': 'application/fhir+json; charset=utf-8', 'X-AccessCode': token.accessCode }, body });
      state(this).calls.push({ operation: 'E-Rezept-Nachricht einstellen', user: R, ok: r.status === 201, status: r.status, detail: `POST /Communication ${r.status}` });
      return r.status === 201 ? readMessage(parseFhir(r.text(), r.headers['content-type'])) : undefined;
    });
    state(this).calls.splice(state(this).calls.length - 1, 1); // the raw call logged itself with its status
    const own = passedOn?.id;
    if (!own) throw new EnvironmentError(`the message of ${representative} has no id`);
    await call(this, 'E-Rezept-Nachricht löschen', R, () => rep.deleteMessage(own));
    // the insured's own messages (before the pharmacy redeems: messages about a redeemed E-Rezept are deleted, A_18870)
    const mine = await call(this, 'E-Rezept-Nachrichten abrufen', I, () => app.messages());
    if (mine && !mine.items.some((m) => m.id === sentId)) throw new EnvironmentError(`GET /Communication of ${insured} does not list her message ${sentId}`);
    await call(this, 'E-Rezept-Nachricht löschen', I, () => app.deleteMessage(sentId));
    await logOutAndPull(this, representative);

    // Abgebender
    const avs: Avs = await createAvs(this, { pharmacy });
    const received = await call(this, 'E-Rezept-Nachrichten abrufen', A, () => avs.messages.receive());
    const assigned = received?.map((m) => tokenIn(m.message)).find((t) => t?.prescriptionId === toAbort.taskId);
    if (!assigned) throw new EnvironmentError(`${pharmacy} received no DispReq for ${toAbort.taskId}`);
    avs.remember(assigned); // the insured's assignment by message
    avs.remember(toDispense.token); // the representative's came too; the insured also shows the code at the counter
    const reply = await call(this, 'E-Rezept-Nachricht einstellen', A, () => avs.messages.reply(toAbort.taskId, kvnrOf(insured), { version: 1, supplyOptionsType: 'onPremise', info_text: 'Wir haben Ihr Rezept erhalten.' }));
    if (!reply?.id) throw new EnvironmentError(`the reply of ${pharmacy} has no id`);
    const replyId = reply.id;
    await call(this, 'E-Rezept-Nachricht löschen', A, () => avs.messages.delete(replyId));
    const log = (names: string[]) => ({ answers: avs.answers, names });
    await call(this, 'E-Rezept durch Abgebenden abrufen', A, () => avs.accept(toDispense.taskId), log(['$accept']));
    await call(this, 'E-Rezept durch Abgebenden zurückgeben', A, () => avs.reject(toDispense.taskId), log(['$reject']));
    await avs.accept(toDispense.taskId);
    await call(this, 'Quittung abrufen', A, () => avs.close(toDispense.taskId), log(['$close']));
    await call(this, 'Quittung erneut abrufen', A, () => avs.receipt(toDispense.taskId), log(['GET Task']));
    await avs.accept(toAbort.taskId);
    await call(this, 'E-Rezept durch Abgebenden löschen', A, () => avs.abort(toAbort.taskId), log(['$abort']));

    // Versicherter: the rest
    await call(this, 'E-Rezept durch Versicherten löschen', I, () => app.delete(toDispense.taskId));
    await call(this, 'Zugriffsprotokolleinträge durch Versicherten abrufen', I, async () => {
      const log = await app.auditEvents({ prescriptionId: toDispense.taskId });
      if (!log.items.length) throw new EnvironmentError(`the access log of ${insured} has no entry about ${toDispense.taskId}`);
    });
  },
);

/** `Task $accept` → the CapabilityStatement's resource Task must list the operation accept; `Task read` the interaction read. */
function listed(capability: FhirJson | undefined, fhir: string): boolean {
  const [type, what] = fhir.split(' ');
  const rest = ((capability?.rest as FhirJson[] | undefined) ?? [])[0];
  const res = ((rest?.resource as FhirJson[] | undefined) ?? []).find((r) => r.type === type);
  if (!res) return false;
  if (what.startsWith('$')) return ((res.operation as FhirJson[] | undefined) ?? []).some((o) => o.name === what.slice(1));
  return ((res.interaction as FhirJson[] | undefined) ?? []).some((i) => i.code === what);
}

Then('bietet der Fachdienst jede Operation aus TAB_SYSLERP_019 ihrer Nutzergruppe an:', async function (this: TiWorld, table: DataTable) {
  const s = state(this);
  const rows = table.hashes();
  if (!rows.length || !rows.every((r) => r.Ressource && r.Operation && r.Nutzer && r.FHIR)) throw new TestDefectError('the table needs the columns Ressource, Operation, Nutzer, FHIR');
  const unknown = s.calls.filter((c) => !rows.some((r) => r.Operation === c.operation && r.Nutzer === c.user));
  if (unknown.length) throw new TestDefectError(`the lifecycle called operations the table does not name: ${unknown.map((c) => `${c.operation} (${c.user})`).join(', ')}`);
  await verify('A_18517', `Der Fachdienst bietet die ${rows.length} Operationen aus TAB_SYSLERP_019 an: im CapabilityStatement gelistet und für die Nutzergruppe beantwortet (2xx, kein 404/501)`, () => {
    assert.equal(s.capability?.status, 200, `GET /metadata answered ${s.capability?.status}`);
    assert.equal(s.capability?.body?.resourceType, 'CapabilityStatement');
    const problems: string[] = [];
    for (const r of rows) {
      if (!listed(s.capability?.body, r.FHIR)) problems.push(`${r.Operation} (${r.Nutzer}): ${r.FHIR} is not in the CapabilityStatement`);
      const c = s.calls.find((x) => x.operation === r.Operation && x.user === r.Nutzer);
      if (!c) problems.push(`${r.Operation} (${r.Nutzer}): not called`);
      else if (!c.ok || (c.status !== undefined && (c.status < 200 || c.status > 299))) problems.push(`${r.Operation} (${r.Nutzer}): ${c.status ?? ''} ${c.detail}`);
    }
    assert.deepEqual(problems, []);
  });
});
