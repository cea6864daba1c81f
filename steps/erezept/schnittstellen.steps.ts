/**
 * Steps of features/erezept/schnittstellen: which interfaces a client system uses (gemSysL_eRp
 * A_18542 TAB_SYSLERP_023 PS verordnende LEI, A_18547 TAB_SYSLERP_024 PS abgebende LEI, A_18533
 * TAB_SYSLERP_022 E-Rezept-FdV) and the AVS's token
 * import (A_18549).
 *
 * The scenarios run the use cases through the simulated PVS, AVS and FdV and then read what the
 * servers recorded — never the clients' in-process state:
 *   - the Fachdienst's harness-only request log (GET /__admin/requests?after=<id>; simulators/fachdienst/request-log.ts):
 *     operation, status, X-erp-user, User-Agent and the identity of the verified access token;
 *   - the Konnektor's call log (GET /__admin/calls?since=<id>): SOAP operation and call context.
 * A client system is identified as a vendor's product would be: at the Fachdienst by the identity in
 * its access token (Telematik-ID of the SMC-B, KVNR of the eGK) and the X-erp-user it sends, at the
 * Konnektor by its ClientSystemId in the call context. Both logs are read from a mark taken at the
 * start of the scenario (ids, independent of the simulated clock).
 *
 * Mapping of logged operations to the rows of the tables (the rows are gemSysL_eRp's wording):
 *
 *   Fachdienst operation (route name)      condition                       TAB_SYSLERP_023 / 024 / 022 row
 *   Task.$create                           prescriber                      023 "E-Rezept-ID abrufen"
 *   Task.$activate                         prescriber                      023 "E-Rezept einstellen"
 *   Task.$abort                            prescriber                      023 "E-Rezept durch Verordnenden löschen"
 *   Task.$accept                           pharmacy                        024 "E-Rezept durch Abgebenden abrufen"
 *   Task.$abort                            pharmacy                        024 "E-Rezept durch Abgebenden löschen"
 *   Task.$reject                           pharmacy                        024 "E-Rezept durch Abgebenden zurückgeben"
 *   Task.$close                            pharmacy                        024 "Quittung abrufen"
 *   Task.read                              pharmacy, with `secret`         024 "Quittung erneut abrufen"
 *   Communication.create                   pharmacy / insured              024 / 022 "E-Rezept-Nachricht einstellen"
 *   Communication.search, .read            pharmacy / insured              024 / 022 "E-Rezept-Nachrichten abrufen"
 *   Communication.delete                   insured                         022 "E-Rezept-Nachricht löschen"
 *   Task.search; Task.read without AC      insured                         022 "E-Rezepte durch Versicherten abrufen"
 *   Task.read with AccessCode              insured (representative)        022 "E-Rezept durch Vertreter abrufen"
 *   Task.$abort                            insured                         022 "E-Rezept durch Versicherten löschen"
 *   AuditEvent.search, .read               insured                         022 "Zugriffsprotokolleinträge durch Versicherten abrufen"
 *   anything else (Task.$dispense, MedicationDispense.*, Task.read?ac= by a pharmacy, metadata, …): outside the table
 *
 *   Konnektor operation                    row
 *   SignDocument, VerifyDocument, GetJobNumber, StopSignature, ActivateComfortSignature,
 *   DeactivateComfortSignature, GetSignatureMode                          "I_SAK_Operations" (Konnektor)
 *   ExternalAuthenticate, ReadCardCertificate, GetPinStatus, VerifyPin     "Authentifizierung anfordern" (the client
 *                                                                          system's Authentisierungsmodul unlocks the SMC-B
 *                                                                          (PIN.SMC) and signs the IDP challenge with it via
 *                                                                          the Konnektor; simulators/authenticator/signers/konnektor-smcb.ts)
 *   GetCards, GetCardTerminals, GetResourceInformation                     card discovery: the CardHandle these rows need
 *                                                                          (gemSpec_Kon: the handle comes from the EventService);
 *                                                                          accepted as part of the rows above, not required
 *   anything else                                                          outside the table
 *
 * "I_Authenticate (AuthN-Token anfordern)" at the IDP shows in the Fachdienst log: every call of the
 * client system carried an access token the Fachdienst verified against the IDP of the environment
 * (issuer = the IDP's discovery document issuer). I_IP_Transport (the Konnektor's VPN routing) and
 * I_Directory_Query (VZD) are not observable here: the simulated TI has no Konnektor VPN and no VZD.
 */
import type { RequestLogEntry } from '../../simulators/fachdienst/request-log';
import assert from 'node:assert/strict';
import { Given, Then, When } from '@cucumber/cucumber';
import { loadPersona } from '../../cards';
import type { Avs, AcceptedPrescription } from '../../simulators/avs/avs';
import type { KbvMedication } from '../../simulators/lib/kbv-bundle';
import type { ERezeptToken } from '../../simulators/lib/erezept-token';
import { DISCOVERY_PATH } from '../../simulators/lib/idp-protocol';
import type { PrescriptionResult } from '../../simulators/pvs/pvs';
import { rootPem } from '../idp/support';
import { EnvironmentError, TestDefectError } from '../support/errors';
import { verify } from '../verify';
import type { TiWorld } from '../world';
import { avsOf, createAvs, erpState, openPvs, PHARMACY_CONTEXT, PRACTICE_CONTEXT } from './support';
import { fdvOf, openFdv, scenarioSince } from './fdv-support';

const MEDICATION: KbvMedication = { kind: 'pzn', pzn: '06313728', name: 'Ibuprofen AL 400 mg', normSize: 'N1', ingredient: { name: 'Ibuprofen', strength: { value: 400, unit: 'mg' } } };

// ---------------------------------------------------------------------------------------------- logs

/** One entry of GET /__admin/requests: the wire format of the admin API (type only; no simulator code runs here). */
type FachdienstRequest = RequestLogEntry;

/** One entry of GET /__admin/calls of the Konnektor. */
interface KonnektorCall {
  id: number;
  operation?: string;
  httpStatus: number;
  faultCode?: number;
  context?: { mandantId?: string; clientSystemId?: string; workplaceId?: string };
}

interface InterfaceState {
  fachdienstMark: number;
  konnektorMark: number;
  /** Prescriptions of the scenario in order (1-based in the Gherkin). */
  prescriptions: PrescriptionResult[];
  /** What the AVS accepted, by task id. */
  accepted: Map<string, AcceptedPrescription>;
  /** The token file an insured exported and the tokens in it. */
  tokenFile?: { text: string; tokens: ERezeptToken[] };
  /** The result of the last import (tokens or the refusal). */
  imported?: { tokens?: ERezeptToken[]; error?: Error };
}

function ifState(world: TiWorld): InterfaceState {
  let s = world.state.get('schnittstellen') as InterfaceState | undefined;
  if (!s) {
    s = { fachdienstMark: -1, konnektorMark: -1, prescriptions: [], accepted: new Map() };
    world.state.set('schnittstellen', s);
  }
  return s;
}

function marked(world: TiWorld): InterfaceState {
  const s = ifState(world);
  if (s.fachdienstMark < 0 || s.konnektorMark < 0) throw new TestDefectError('the step "die Schnittstellennutzung wird ab jetzt ausgewertet" must come first');
  return s;
}

async function adminGet<T>(world: TiWorld, service: 'fachdienst' | 'konnektor', path: string): Promise<T> {
  const res = await world.http(world.serviceUrl(service, path), { ca: await world.tiRootPem(), service });
  if (res.status !== 200) throw new EnvironmentError(`${service}: GET ${path} answered ${res.status}: ${res.text().slice(0, 200)}`);
  return res.json<T>();
}

async function fachdienstRequests(world: TiWorld, after: number): Promise<FachdienstRequest[]> {
  return (await adminGet<{ requests: FachdienstRequest[] }>(world, 'fachdienst', `/__admin/requests?after=${after}`)).requests;
}

async function konnektorCalls(world: TiWorld, since: number): Promise<KonnektorCall[]> {
  return (await adminGet<{ calls: KonnektorCall[] }>(world, 'konnektor', `/__admin/calls?since=${since}`)).calls;
}

/** The issuer of the environment's IDP from its public discovery document (a signed JWS). */
async function idpIssuer(world: TiWorld): Promise<string> {
  const res = await world.http(world.serviceUrl('idp', DISCOVERY_PATH), { ca: await rootPem(world), service: 'idp' });
  if (res.status !== 200) throw new EnvironmentError(`IDP: GET ${DISCOVERY_PATH} answered ${res.status}`);
  const jws = res.text().trim();
  const payload = JSON.parse(Buffer.from(jws.split('.')[1] ?? '', 'base64url').toString('utf8')) as { issuer?: unknown };
  if (typeof payload.issuer !== 'string') throw new EnvironmentError('IDP: the discovery document has no issuer');
  return payload.issuer;
}

// ------------------------------------------------------------------------------------ table mapping

type Caller = 'prescriber' | 'pharmacy' | 'insured';

interface InterfaceTable {
  name: 'TAB_SYSLERP_022' | 'TAB_SYSLERP_023' | 'TAB_SYSLERP_024';
  caller: Caller;
  /** X-erp-user the client system sends. */
  erpUser: 'l' | 'v';
  /** The Fachdienst rows of the table. */
  rows: readonly string[];
  /** The row a logged request belongs to, or undefined (outside the table). */
  rowOf(r: FachdienstRequest): string | undefined;
  /** Whether the table has Konnektor rows (PS: I_SAK_Operations; the FdV has none). */
  konnektor: boolean;
}

const TAB_023: InterfaceTable = {
  name: 'TAB_SYSLERP_023',
  caller: 'prescriber',
  erpUser: 'l',
  rows: ['E-Rezept-ID abrufen', 'E-Rezept einstellen', 'E-Rezept durch Verordnenden löschen'],
  rowOf: (r) => ({ 'Task.$create': 'E-Rezept-ID abrufen', 'Task.$activate': 'E-Rezept einstellen', 'Task.$abort': 'E-Rezept durch Verordnenden löschen' })[r.operation ?? ''],
  konnektor: true,
};

const TAB_024: InterfaceTable = {
  name: 'TAB_SYSLERP_024',
  caller: 'pharmacy',
  erpUser: 'l',
  rows: [
    'E-Rezept durch Abgebenden abrufen',
    'E-Rezept durch Abgebenden löschen',
    'E-Rezept durch Abgebenden zurückgeben',
    'Quittung abrufen',
    'Quittung erneut abrufen',
    'E-Rezept-Nachricht einstellen',
    'E-Rezept-Nachrichten abrufen',
  ],
  rowOf: (r) => {
    if (r.operation === 'Task.read') return r.queryParams.includes('secret') && !r.accessCode ? 'Quittung erneut abrufen' : undefined;
    return (
      {
        'Task.$accept': 'E-Rezept durch Abgebenden abrufen',
        'Task.$abort': 'E-Rezept durch Abgebenden löschen',
        'Task.$reject': 'E-Rezept durch Abgebenden zurückgeben',
        'Task.$close': 'Quittung abrufen',
        'Communication.create': 'E-Rezept-Nachricht einstellen',
        'Communication.search': 'E-Rezept-Nachrichten abrufen',
        'Communication.read': 'E-Rezept-Nachrichten abrufen',
      } as Record<string, string>
    )[r.operation ?? ''];
  },
  konnektor: true,
};

const TAB_022: InterfaceTable = {
  name: 'TAB_SYSLERP_022',
  caller: 'insured',
  erpUser: 'v',
  rows: [
    'E-Rezepte durch Versicherten abrufen',
    'E-Rezept durch Vertreter abrufen',
    'E-Rezept durch Versicherten löschen',
    'E-Rezept-Nachricht einstellen',
    'E-Rezept-Nachrichten abrufen',
    'E-Rezept-Nachricht löschen',
    'Zugriffsprotokolleinträge durch Versicherten abrufen',
  ],
  rowOf: (r) => {
    if (r.operation === 'Task.read') return r.accessCode ? 'E-Rezept durch Vertreter abrufen' : 'E-Rezepte durch Versicherten abrufen';
    return (
      {
        'Task.search': 'E-Rezepte durch Versicherten abrufen',
        'Task.$abort': 'E-Rezept durch Versicherten löschen',
        'Communication.create': 'E-Rezept-Nachricht einstellen',
        'Communication.search': 'E-Rezept-Nachrichten abrufen',
        'Communication.read': 'E-Rezept-Nachrichten abrufen',
        'Communication.delete': 'E-Rezept-Nachricht löschen',
        'AuditEvent.search': 'Zugriffsprotokolleinträge durch Versicherten abrufen',
        'AuditEvent.read': 'Zugriffsprotokolleinträge durch Versicherten abrufen',
      } as Record<string, string>
    )[r.operation ?? ''];
  },
  konnektor: false,
};

const TABLES: Record<string, InterfaceTable> = { TAB_SYSLERP_022: TAB_022, TAB_SYSLERP_023: TAB_023, TAB_SYSLERP_024: TAB_024 };
const AFO_OF_TABLE: Record<InterfaceTable['name'], string> = { TAB_SYSLERP_022: 'A_18533', TAB_SYSLERP_023: 'A_18542', TAB_SYSLERP_024: 'A_18547' };

const SAK_OPERATIONS = ['SignDocument', 'VerifyDocument', 'GetJobNumber', 'StopSignature', 'ActivateComfortSignature', 'DeactivateComfortSignature', 'GetSignatureMode'];
const AUTHN_OPERATIONS = ['ExternalAuthenticate', 'ReadCardCertificate', 'GetPinStatus', 'VerifyPin'];
const CARD_DISCOVERY = ['GetCards', 'GetCardTerminals', 'GetResourceInformation'];

function konnektorRowOf(operation: string | undefined): string | undefined {
  if (!operation) return undefined;
  if (SAK_OPERATIONS.includes(operation)) return 'I_SAK_Operations';
  if (AUTHN_OPERATIONS.includes(operation)) return 'Authentifizierung anfordern';
  if (CARD_DISCOVERY.includes(operation)) return 'Kartenermittlung';
  return undefined;
}

function table(name: string): InterfaceTable {
  const t = TABLES[name];
  if (!t) throw new TestDefectError(`unknown interface table ${name} (known: ${Object.keys(TABLES).join(', ')})`);
  return t;
}

/** Identities (idNummer in the access token) of personas: Telematik-ID of an SMC-B/HBA, KVNR of an eGK. */
function identities(names: string): string[] {
  return names.split(/\s*(?:,|\bund\b)\s*/).filter(Boolean).map((n) => {
    const p = loadPersona(n.replace(/^"|"$/g, ''));
    const id = p.type === 'eGK' ? p.insurance.kvnr : p.telematikId;
    if (!id) throw new TestDefectError(`persona ${p.name} has no identity (Telematik-ID/KVNR)`);
    return id;
  });
}

/** The Fachdienst requests of the client system: its token identities since the mark. */
async function requestsOf(world: TiWorld, ids: readonly string[]): Promise<FachdienstRequest[]> {
  const all = await fachdienstRequests(world, marked(world).fachdienstMark);
  return all.filter((r) => r.idNummer !== undefined && ids.includes(r.idNummer));
}

function describe(rs: readonly FachdienstRequest[]): string {
  return rs.map((r) => `${r.operation ?? `${r.method} ${r.path}`}→${r.status}`).join(', ');
}

// ------------------------------------------------------------------------------------------- Given

Given('die Schnittstellennutzung wird ab jetzt an Fachdienst und Konnektor ausgewertet', async function (this: TiWorld) {
  const s = ifState(this);
  const fd = await adminGet<{ requests: FachdienstRequest[] }>(this, 'fachdienst', '/__admin/requests?limit=1');
  s.fachdienstMark = fd.requests.at(-1)?.id ?? 0;
  const k = await adminGet<{ calls: KonnektorCall[] }>(this, 'konnektor', '/__admin/calls?limit=1');
  s.konnektorMark = k.calls.at(-1)?.id ?? 0;
});

Given('das PVS der {string} hat mit dem HBA von {string} {int} E-Rezept(e) für {string} ausgestellt', async function (this: TiWorld, practice: string, doctor: string, count: number, patient: string) {
  await prescribe(this, practice, doctor, count, patient);
});

// -------------------------------------------------------------------------------------------- When

When('das PVS der {string} mit dem HBA von {string} {int} E-Rezept(e) für {string} ausstellt', async function (this: TiWorld, practice: string, doctor: string, count: number, patient: string) {
  await prescribe(this, practice, doctor, count, patient);
});

async function prescribe(world: TiWorld, practice: string, doctor: string, count: number, patient: string): Promise<void> {
  const pvs = await openPvs(world, { practice, doctor, context: PRACTICE_CONTEXT });
  const results = await pvs.prescribe(Array.from({ length: count }, () => ({ patient, medication: MEDICATION, dosage: '1-0-1-0' })));
  ifState(world).prescriptions.push(...results);
  erpState(world).prescriptions.push(...results);
}

function nth(world: TiWorld, n: number): PrescriptionResult {
  const p = ifState(world).prescriptions[n - 1];
  if (!p) throw new TestDefectError(`the scenario has no ${n}. E-Rezept (only ${ifState(world).prescriptions.length})`);
  return p;
}

When('das PVS das {int}. E-Rezept wieder löscht', async function (this: TiWorld, n: number) {
  await erpState(this).pvs!.delete(nth(this, n).taskId);
});

When('das AVS der {string} die E-Rezepte {int} bis {int} vom Ausdruck des PVS einscannt', async function (this: TiWorld, pharmacy: string, from: number, to: number) {
  const tokens = Array.from({ length: to - from + 1 }, (_, i) => nth(this, from + i).token);
  const pngs = erpState(this).pvs!.printDataMatrix(tokens);
  const avs = await createAvs(this, { pharmacy, context: PHARMACY_CONTEXT });
  for (const png of pngs) avs.scan(png);
});

async function acceptNth(world: TiWorld, avs: Avs, n: number): Promise<AcceptedPrescription> {
  const taskId = nth(world, n).taskId;
  const a = await avs.accept(taskId);
  ifState(world).accepted.set(taskId, a);
  return a;
}

When('das AVS das {int}. E-Rezept abruft und an den Fachdienst zurückgibt', async function (this: TiWorld, n: number) {
  const avs = avsOf(this);
  await acceptNth(this, avs, n);
  await avs.reject(nth(this, n).taskId);
});

When('das AVS das {int}. E-Rezept abruft und löscht', async function (this: TiWorld, n: number) {
  const avs = avsOf(this);
  await acceptNth(this, avs, n);
  await avs.abort(nth(this, n).taskId);
});

When('das AVS das {int}. E-Rezept abruft, die Abgabe abschließt und die Quittung erneut abruft', async function (this: TiWorld, n: number) {
  const avs = avsOf(this);
  await acceptNth(this, avs, n);
  await avs.close(nth(this, n).taskId);
  await avs.receipt(nth(this, n).taskId);
});

When('{string} das {int}. E-Rezept in der E-Rezept-App der {string} zuweist', async function (this: TiWorld, insured: string, n: number, pharmacy: string) {
  const fdv = await openFdv(this, insured);
  const taskId = nth(this, n).taskId;
  await fdv.getPrescription(taskId);
  const p = loadPersona(pharmacy);
  const telematikId = p.type === 'eGK' ? undefined : p.telematikId;
  if (!telematikId) throw new TestDefectError(`${pharmacy} has no Telematik-ID`);
  await fdv.sendToPharmacy(fdv.token(taskId), telematikId, { version: 1, supplyOptionsType: 'onPremise' });
});

When('das AVS seine Nachrichten abruft, das zugewiesene E-Rezept abruft und dem Versicherten antwortet', async function (this: TiWorld) {
  const avs = avsOf(this);
  const received = await avs.messages.receive();
  const withToken = received.filter((m) => m.token && ifState(this).prescriptions.some((p) => p.taskId === m.token!.prescriptionId));
  if (withToken.length === 0) throw new EnvironmentError(`the AVS received no assignment of this scenario's prescriptions (${received.length} messages)`);
  for (const m of withToken) {
    avs.remember(m.token!);
    const a = await avs.accept(m.token!.prescriptionId);
    ifState(this).accepted.set(a.taskId, a);
    const kvnr = nth(this, ifState(this).prescriptions.findIndex((p) => p.taskId === a.taskId) + 1).kvnr;
    await avs.messages.reply(a.taskId, kvnr, { version: 1, supplyOptionsType: 'onPremise', info_text: 'Ihr Arzneimittel liegt zur Abholung bereit.' });
  }
});

When('{string} in der E-Rezept-App seine E-Rezepte abruft', async function (this: TiWorld, insured: string) {
  const fdv = await openFdv(this, insured);
  await fdv.downloadAll({ modifiedSince: scenarioSince(this) });
});

When('{string} das {int}. E-Rezept in der E-Rezept-App löscht', async function (this: TiWorld, insured: string, n: number) {
  await fdvOf(this, insured).delete(nth(this, n).taskId);
});

When('{string} das {int}. E-Rezept als DataMatrix-Code an {string} weitergibt, die es als Vertreterin abruft', async function (this: TiWorld, insured: string, n: number, representative: string) {
  const owner = fdvOf(this, insured);
  const png = owner.dataMatrix([owner.token(nth(this, n).taskId)]);
  const rep = await openFdv(this, representative);
  const [token] = rep.scan(png);
  await rep.retrieveAsRepresentative(token);
});

When('{string} in der E-Rezept-App die Nachrichten abruft und die gesendete Zuweisung löscht', async function (this: TiWorld, insured: string) {
  const fdv = fdvOf(this, insured);
  const { items } = await fdv.messages();
  const ids = new Set(ifState(this).prescriptions.map((p) => p.taskId));
  const sent = items.find((m) => m.kind === 'DispReq' && m.prescriptionId && ids.has(m.prescriptionId) && m.id);
  if (!sent) throw new EnvironmentError(`the app lists no assignment of this scenario (${items.length} messages)`);
  await fdv.deleteMessage(sent.id!);
});

When('{string} in der E-Rezept-App das Zugriffsprotokoll abruft', async function (this: TiWorld, insured: string) {
  await fdvOf(this, insured).auditEvents();
});

When('{string} die E-Rezepte in der E-Rezept-App als Token-Datei exportiert', async function (this: TiWorld, insured: string) {
  const fdv = await openFdv(this, insured);
  const tokens: ERezeptToken[] = [];
  for (const p of ifState(this).prescriptions) {
    await fdv.getPrescription(p.taskId);
    tokens.push(fdv.token(p.taskId));
  }
  ifState(this).tokenFile = { text: fdv.exportTokens(tokens), tokens };
});

When('die Token-Datei unterwegs verändert wird', function (this: TiWorld) {
  const f = ifState(this).tokenFile;
  if (!f) throw new TestDefectError('no token file in this scenario');
  // The AccessCode of the first token loses its last character: no valid E-Rezept-Token any more.
  f.text = f.text.replace(/(\?ac=[0-9a-f]{63})[0-9a-f]/, '$1');
});

When('das AVS der {string} die Token-Datei importiert', async function (this: TiWorld, pharmacy: string) {
  const f = ifState(this).tokenFile;
  if (!f) throw new TestDefectError('no token file in this scenario');
  const avs = await createAvs(this, { pharmacy, context: PHARMACY_CONTEXT });
  try {
    ifState(this).imported = { tokens: avs.importTokens(Buffer.from(f.text, 'utf8')) };
  } catch (e) {
    ifState(this).imported = { error: e as Error };
  }
});

When('das AVS die importierten E-Rezepte abruft', async function (this: TiWorld) {
  const imported = ifState(this).imported;
  if (!imported?.tokens) throw new TestDefectError(`the import did not succeed: ${imported?.error?.message ?? 'no import step'}`);
  const avs = avsOf(this);
  for (const t of imported.tokens) {
    const a = await avs.accept(t.prescriptionId);
    ifState(this).accepted.set(a.taskId, a);
  }
});

// -------------------------------------------------------------------------------------------- Then

Then(
  'hat das Primärsystem mit der Identität von {string} am E-Rezept-Fachdienst genau die Operationen der {word} genutzt',
  async function (this: TiWorld, personas: string, tableName: string) {
    await checkFachdienstUse(this, personas, table(tableName));
  },
);

Then(
  'hat das E-Rezept-FdV von {string} und der Vertreterin {string} am E-Rezept-Fachdienst genau die Operationen der {word} genutzt',
  async function (this: TiWorld, insured: string, representative: string, tableName: string) {
    await checkFachdienstUse(this, `${insured}, ${representative}`, table(tableName));
  },
);

async function checkFachdienstUse(world: TiWorld, personas: string, t: InterfaceTable): Promise<void> {
  const afo = AFO_OF_TABLE[t.name];
  const rs = await requestsOf(world, identities(personas));
  const agents = [...new Set(rs.map((r) => r.userAgent ?? '(kein User-Agent)'))].join(', ');
  const gap = t.name === 'TAB_SYSLERP_022' ? ' (Zeile I_Directory_Query des VZD nicht prüfbar: kein VZD-Simulator)' : '';
  await verify(afo, `${t.name}: alle Fachdienst-Aufrufe des Clientsystems (${personas}; User-Agent ${agents}) gehören zu Zeilen der Tabelle – keine Operation außerhalb${gap}`, () => {
    if (rs.length === 0) assert.fail(`the Fachdienst recorded no call of ${personas} since the start of the scenario`);
    const outside = rs.filter((r) => t.rowOf(r) === undefined);
    if (outside.length) assert.fail(`operations outside ${t.name}: ${describe(outside)}`);
  });
  await verify(afo, `${t.name}: jede Fachdienst-Zeile der Tabelle (${t.rows.join('; ')}) wurde im Anwendungsfall erfolgreich genutzt`, () => {
    const missing = t.rows.filter((row) => !rs.some((r) => t.rowOf(r) === row && r.status >= 200 && r.status < 300));
    if (missing.length) assert.fail(`rows of ${t.name} not used successfully: ${missing.join('; ')} (calls: ${describe(rs)})`);
  });
  await verify(afo, `${t.name}: das Clientsystem ruft den Fachdienst als ${t.erpUser === 'l' ? 'Leistungserbringer (X-erp-user l)' : 'Versicherter (X-erp-user v)'} mit User-Agent auf`, () => {
    const wrong = rs.filter((r) => r.erpUser !== t.erpUser || !r.userAgent);
    if (wrong.length) assert.fail(`calls with another X-erp-user or without User-Agent: ${wrong.map((r) => `${r.operation} X-erp-user=${r.erpUser} UA=${r.userAgent}`).join(', ')}`);
  });
}

Then('hat sich das Clientsystem mit der Identität von {string} mit AuthN-Tokens des Identity Providers ausgewiesen', async function (this: TiWorld, personas: string) {
  await checkIdpTokens(this, personas);
});

Then('hat sich das E-Rezept-FdV von {string} und der Vertreterin {string} mit AuthN-Tokens des Identity Providers ausgewiesen', async function (this: TiWorld, insured: string, representative: string) {
  await checkIdpTokens(this, `${insured}, ${representative}`);
});

async function checkIdpTokens(world: TiWorld, personas: string): Promise<void> {
  const ids = identities(personas);
  const rs = await requestsOf(world, ids);
  const issuer = await idpIssuer(world);
  const tableAfos = ['A_18533', 'A_18542', 'A_18547'].filter((a) => (world.scenario?.tags ?? []).includes(`@AFO-ID:${a}`));
  if (tableAfos.length === 0) throw new TestDefectError('the step proves A_18533, A_18542 or A_18547: tag the scenario with one of them');
  for (const afo of tableAfos) {
    await verify(afo, `I_Authenticate (AuthN-Token anfordern): jeder Fachdienst-Aufruf trug ein vom Fachdienst geprüftes Access-Token des IDP ${issuer} mit client_id`, () => {
      if (rs.length === 0) assert.fail(`the Fachdienst recorded no call of ${personas}`);
      const bad = rs.filter((r) => r.issuer !== issuer || !r.clientId || !r.professionOID);
      if (bad.length) assert.fail(`calls without a verified token of ${issuer}: ${bad.map((r) => `${r.operation} iss=${r.issuer} client_id=${r.clientId}`).join(', ')}`);
      const clients = new Set(rs.map((r) => r.clientId));
      if (clients.size !== 1) assert.fail(`one client system, but tokens of several IDP clients: ${[...clients].join(', ')}`);
    });
  }
}

Then('hat das Primärsystem {string} am Konnektor nur Operationen der {word} genutzt, darunter I_SAK_Operations und die Authentisierung', async function (this: TiWorld, clientSystemId: string, tableName: string) {
  const t = table(tableName);
  if (!t.konnektor) throw new TestDefectError(`${t.name} has no Konnektor rows`);
  const afo = AFO_OF_TABLE[t.name];
  const calls = (await konnektorCalls(this, marked(this).konnektorMark)).filter((c) => c.context?.clientSystemId === clientSystemId);
  await verify(afo, `${t.name}: alle Konnektor-Aufrufe des Clientsystems ${clientSystemId} gehören zu I_SAK_Operations oder zur Authentisierung (mit der dafür nötigen Kartenermittlung); I_IP_Transport ist im simulierten Netz nicht beobachtbar`, () => {
    if (calls.length === 0) assert.fail(`the Konnektor recorded no call of ${clientSystemId}`);
    const outside = calls.filter((c) => konnektorRowOf(c.operation) === undefined);
    if (outside.length) assert.fail(`Konnektor operations outside ${t.name}: ${[...new Set(outside.map((c) => c.operation ?? '(unbekannt)'))].join(', ')}`);
  });
  await verify(afo, `${t.name}: ${clientSystemId} nutzte I_SAK_Operations und forderte die Authentifizierung (ExternalAuthenticate) über den Konnektor an`, () => {
    const ok = (row: string) => calls.some((c) => konnektorRowOf(c.operation) === row && c.httpStatus === 200 && c.faultCode === undefined);
    const missing = ['I_SAK_Operations', 'Authentifizierung anfordern'].filter((row) => !ok(row));
    if (missing.length) assert.fail(`not used successfully: ${missing.join(', ')} (calls: ${calls.map((c) => c.operation).join(', ')})`);
  });
});

Then('hält das AVS die importierten E-Rezepte im Status {string} mit dem Secret des Fachdienstes', async function (this: TiWorld, status: string) {
  const s = ifState(this);
  const expected = s.tokenFile?.tokens ?? [];
  await verify('A_18549', `Die aus der Token-Datei des E-Rezept-FdV importierten ${expected.length} E-Rezepte wurden mit ihrem AccessCode abgerufen und sind beim Fachdienst im Status "${status}"`, () => {
    if (!s.imported?.tokens) assert.fail(`the AVS refused the token file: ${s.imported?.error?.message ?? 'no import'}`);
    if (expected.length === 0) throw new TestDefectError('no exported tokens in this scenario');
    for (const t of expected) {
      const a = s.accepted.get(t.prescriptionId);
      if (!a) assert.fail(`${t.prescriptionId} was not accepted`);
      if (a.accessCode !== t.accessCode) assert.fail(`${t.prescriptionId}: accepted with another AccessCode`);
      if (a.task.status !== status) assert.fail(`${t.prescriptionId}: Task status ${String(a.task.status)}, expected ${status}`);
      if (!/^[0-9a-f]{64}$/.test(a.secret)) assert.fail(`${t.prescriptionId}: no Secret`);
    }
  });
});

Then('weist das AVS die Token-Datei ab, übernimmt kein E-Rezept daraus und ruft keines beim Fachdienst ab', async function (this: TiWorld) {
  const s = ifState(this);
  const avs = avsOf(this);
  const pharmacyId = identities(avs.pharmacy.name);
  const accepts = (await requestsOf(this, pharmacyId)).filter((r) => r.operation === 'Task.$accept');
  await verify('A_18549', 'Eine verfälschte Token-Datei wird beim Import abgelehnt; das AVS übernimmt kein E-Rezept daraus und ruft keines beim Fachdienst ab', () => {
    if (!s.imported?.error) assert.fail(`the AVS imported the altered file: ${JSON.stringify(s.imported?.tokens)}`);
    if (avs.list().length) assert.fail(`the AVS holds ${avs.list().map((t) => t.taskId).join(', ')} after the refused import`);
    if (accepts.length) assert.fail(`the pharmacy called $accept ${accepts.length} time(s)`);
  });
});
