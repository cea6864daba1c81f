/**
 * Steps for dispensing (features/erezept/abgeben: gemSysL_eRp UC 4.1–4.5, 4.8): the practice's
 * simulated PVS prescribes and prints the E-Rezept-Token as a DataMatrix code, the pharmacy's AVS
 * (simulators/avs/avs.ts) scans it and accepts, returns, deletes, closes, fetches the receipt again and
 * signs the dispensing data set — only through the TI's real interfaces (Konnektor SOAP, IDP,
 * Fachdienst via VAU). Actors and their cleanup come from ./support.ts; card insertion and removal
 * go through the cards admin API (@simulator-only scenarios) and are undone after the scenario.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Given, Then, When } from '@cucumber/cucumber';
import { loadPersona } from '../../cards';
import { Avs, FachdienstRefusal, NS_SECRET, type AcceptedPrescription, type Receipt, type SignedDispensation } from '../../simulators/avs/avs';
import { parseSignedData } from '../../simulators/lib/cms';
import type { ERezeptToken } from '../../simulators/lib/erezept-token';
import { patientKvnrOf, prescriptionIdOf, type FhirJson } from '../../simulators/lib/fhir';
import { KonnektorClient } from '../../simulators/lib/konnektor-client';
import { parseCertificate } from '../../simulators/lib/x509';
import type { PrescriptionResult } from '../../simulators/pvs/pvs';
import { idpState, pkiTrust, rootPem, verifyAll } from '../idp/support';
import { EnvironmentError, TestDefectError } from '../support/errors';
import { verify } from '../verify';
import type { TiWorld } from '../world';
import { avsOf, createAvs, erpState, insertCardAt, konnektorClient, openPvs, PHARMACY_CONTEXT } from './support';

/** Policy OIDs of the certificate profiles (gemSpec_OID). */
const OID_FD_SIG = '1.2.276.0.76.4.203';
const OID_SMCB_OSIG = '1.2.276.0.76.4.78';
const OID_HBA_QES = '1.2.276.0.76.4.72';

/** The ibuprofen prescription every scenario uses (PZN with a valid check digit). */
const IBUPROFEN = {
  kind: 'pzn' as const,
  pzn: '06313728',
  name: 'Ibuprofen AL 400 mg',
  normSize: 'N1',
  ingredient: { name: 'Ibuprofen', strength: { value: 400, unit: 'mg' } },
};

type Outcome<T> = { ok: true; value: T } | { ok: false; error: FachdienstRefusal };

interface DispensingState {
  issued: PrescriptionResult[];
  /** The DataMatrix code the PVS printed (one PNG: at most 3 tokens). */
  png?: Buffer;
  /** Tokens each pharmacy's AVS read from the code. */
  scanned: Map<string, ERezeptToken[]>;
  accepted: AcceptedPrescription[];
  /** Konnektor call log id before the last $accept (to find the AVS's VerifyDocument calls). */
  callsBefore?: number;
  /** Secret of the pharmacy that returned the prescription. */
  previousSecret?: string;
  receipts: Receipt[];
  signed?: SignedDispensation;
  /** Why the last scan read nothing. */
  scanError?: unknown;
  /** The last operation a step attempted: its result or the Fachdienst's refusal. */
  last?: Outcome<unknown>;
}

function dispensing(world: TiWorld): DispensingState {
  const extra = erpState(world).extra;
  let s = extra.get('abgeben') as DispensingState | undefined;
  if (!s) {
    s = { issued: [], scanned: new Map(), accepted: [], receipts: [] };
    extra.set('abgeben', s);
  }
  return s;
}

function firstIssued(world: TiWorld): PrescriptionResult {
  const p = dispensing(world).issued[0];
  if (!p) throw new TestDefectError('no prescription was issued in this scenario yet');
  return p;
}

/** Runs a Fachdienst operation of the AVS; a refusal is kept for the Then steps, anything else is thrown. */
async function attempt<T>(world: TiWorld, op: () => Promise<T>): Promise<Outcome<T>> {
  let outcome: Outcome<T>;
  try {
    outcome = { ok: true, value: await op() };
  } catch (e) {
    if (!(e instanceof FachdienstRefusal)) throw e;
    outcome = { ok: false, error: e };
  }
  dispensing(world).last = outcome;
  return outcome;
}

function lastOutcome(world: TiWorld): Outcome<unknown> {
  const l = dispensing(world).last;
  if (!l) throw new TestDefectError('no Fachdienst operation was attempted in this scenario yet');
  return l;
}

function lastRefusal(world: TiWorld): FachdienstRefusal | undefined {
  const l = lastOutcome(world);
  return l.ok ? undefined : l.error;
}

/** A precondition step failed: not the business of the step's requirement, so an environment fault. */
function precondition(what: string, e: unknown): EnvironmentError {
  return new EnvironmentError(`precondition failed (${what}): ${(e as Error).message}`, { cause: e });
}

async function loggedInAvs(world: TiWorld, pharmacy: string, pharmacist?: string): Promise<Avs> {
  const avs = await createAvs(world, { pharmacy, ...(pharmacist ? { pharmacist } : {}) });
  try {
    await avs.authn?.tokens.accessToken();
  } catch (e) {
    throw precondition(`IDP login of ${pharmacy}`, e);
  }
  return avs;
}

/** Takes a card the scenario inserted out of its reader (cards admin API); After no longer has to. */
async function pullCard(world: TiWorld, persona: string): Promise<void> {
  const name = loadPersona(persona).name;
  await world.admin('cards', '/cards/remove', { persona: name });
  const inserted = idpState(world).inserted;
  const i = inserted.indexOf(name);
  if (i >= 0) inserted.splice(i, 1);
  // wait until the Konnektor no longer reports the card (PC/SC removal is asynchronous)
  const iccsn = loadPersona(persona).iccsn;
  const konnektor = await konnektorClient(world, PHARMACY_CONTEXT);
  for (let n = 0; ; n++) {
    const cards = await konnektor.getCards({}).catch(() => undefined);
    if (cards && !cards.some((c) => c.iccsn === iccsn)) break;
    if (n >= 50) throw new EnvironmentError(`the Konnektor still reports the card ${iccsn} of ${name} after its removal`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function konnektorCalls(world: TiWorld, query: string): Promise<Array<{ id: number; operation?: string; faultCode?: number }>> {
  const res = await world.http(world.serviceUrl('konnektor', `/__admin/calls${query}`), { ca: await world.tiRootPem(), service: 'Konnektor' });
  if (res.status !== 200) throw new EnvironmentError(`Konnektor admin: GET /__admin/calls answered ${res.status}`);
  return res.json<{ calls: Array<{ id: number; operation?: string; faultCode?: number }> }>().calls;
}

function secretOf(task: FhirJson): string | undefined {
  const ids = (task.identifier as FhirJson[] | undefined) ?? [];
  return ids.find((i) => i.system === NS_SECRET)?.value as string | undefined;
}

// ---------------------------------------------------------------------------------------------- Given

Given(
  'die {string} hat mit dem HBA von {string} {int} E-Rezept(e) für {string} ausgestellt und als DataMatrix-Code gedruckt',
  async function (this: TiWorld, practice: string, doctor: string, count: number, patient: string) {
    if (count < 1 || count > 3) throw new TestDefectError('one DataMatrix code carries 1 to 3 E-Rezept-Token');
    const s = dispensing(this);
    try {
      const pvs = await openPvs(this, { practice, doctor });
      const results = await pvs.prescribe(Array.from({ length: count }, () => ({ patient, medication: IBUPROFEN, dosage: '1-0-1-0' })));
      const pngs = pvs.printDataMatrix(results.map((r) => r.token));
      if (pngs.length !== 1) throw new Error(`the PVS printed ${pngs.length} codes for ${count} tokens`);
      s.issued.push(...results);
      erpState(this).prescriptions.push(...results);
      s.png = pngs[0];
    } catch (e) {
      throw precondition(`${practice} prescribes ${count} E-Rezept(e)`, e);
    }
  },
);

Given('das AVS der {string} ist mit der SMC-B am Konnektor angemeldet', async function (this: TiWorld, pharmacy: string) {
  await loggedInAvs(this, pharmacy);
});

Given('das AVS der {string} mit der Apothekerin {string} ist mit der SMC-B am Konnektor angemeldet', async function (this: TiWorld, pharmacy: string, pharmacist: string) {
  await loggedInAvs(this, pharmacy, pharmacist);
});

Given('der Konnektor ist für die Signaturprüfung des AVS nicht erreichbar', async function (this: TiWorld) {
  // The same pharmacy and login, but a Konnektor address where nothing listens (port 1): the
  // AVS cannot call VerifyDocument.
  const s = erpState(this);
  const avs = avsOf(this);
  const unreachable = new KonnektorClient({ url: 'https://127.0.0.1:1', context: PHARMACY_CONTEXT, ca: await rootPem(this) });
  s.owned.push(unreachable);
  const blind = await Avs.create({ env: this.env, pharmacy: avs.pharmacy.name, konnektor: unreachable, ...(avs.authn ? { authn: avs.authn } : {}), trust: await pkiTrust(this) });
  s.avsByPharmacy.set(avs.pharmacy.name, blind);
  s.avs = blind;
});

Given('das AVS der {string} hat den DataMatrix-Code gescannt', async function (this: TiWorld, pharmacy: string) {
  const s = dispensing(this);
  if (!s.png) throw new TestDefectError('no DataMatrix code was printed in this scenario');
  try {
    s.scanned.set(pharmacy, avsOf(this, pharmacy).scan(s.png));
  } catch (e) {
    throw precondition('scan the DataMatrix code', e);
  }
});

Given('das AVS der {string} hat den DataMatrix-Code gescannt und das E-Rezept abgerufen', async function (this: TiWorld, pharmacy: string) {
  const s = dispensing(this);
  if (!s.png) throw new TestDefectError('no DataMatrix code was printed in this scenario');
  try {
    const avs = avsOf(this, pharmacy);
    const tokens = avs.scan(s.png);
    s.scanned.set(pharmacy, tokens);
    for (const t of tokens) s.accepted.push(await avs.accept(t.prescriptionId));
  } catch (e) {
    throw precondition(`${pharmacy} accepts the E-Rezept`, e);
  }
});

Given('das AVS der {string} hat die Abgabe mit dem Dispensierdatensatz abgeschlossen', async function (this: TiWorld, pharmacy: string) {
  try {
    dispensing(this).receipts.push(await avsOf(this, pharmacy).close(firstIssued(this).taskId));
  } catch (e) {
    throw precondition(`${pharmacy} closes the dispensing`, e);
  }
});

Given(
  'die SMC-B der {string} ist gezogen und das AVS der {string} ist mit deren SMC-B am Konnektor angemeldet',
  async function (this: TiWorld, first: string, second: string) {
    // The pharmacy's workplace reaches one free card slot: the first SMC-B makes room for the second.
    await pullCard(this, first);
    await loggedInAvs(this, second);
  },
);

Given(
  'die SMC-B der {string} ist gezogen und der HBA von {string} steckt im Kartenterminal der Apotheke',
  async function (this: TiWorld, pharmacy: string, pharmacist: string) {
    await pullCard(this, pharmacy);
    await insertCardAt(this, pharmacist, PHARMACY_CONTEXT.workplaceId);
    // wait until the Konnektor reports the inserted card (PC/SC insertion is asynchronous)
    const iccsn = loadPersona(pharmacist).iccsn;
    const konnektor = await konnektorClient(this, PHARMACY_CONTEXT);
    for (let i = 0; ; i++) {
      const cards = await konnektor.getCards({ cardType: 'HBA' }).catch(() => []);
      if (cards.some((c) => c.iccsn === iccsn)) break;
      if (i >= 50) throw new EnvironmentError(`the Konnektor does not report the HBA ${iccsn} of ${pharmacist} after insertion`);
      await new Promise((r) => setTimeout(r, 200));
    }
  },
);

// ---------------------------------------------------------------------------------------------- When

When('das AVS der {string} den DataMatrix-Code scannt', async function (this: TiWorld, pharmacy: string) {
  const s = dispensing(this);
  if (!s.png) throw new TestDefectError('no DataMatrix code was printed in this scenario');
  // a code the AVS cannot read is a finding of the Then step, not an error here
  let tokens: ERezeptToken[] = [];
  try {
    tokens = avsOf(this, pharmacy).scan(s.png);
  } catch (e) {
    s.scanError = e;
  }
  s.scanned.set(pharmacy, tokens);
});

When('das AVS die gescannten E-Rezepte beim Fachdienst abruft', async function (this: TiWorld) {
  const s = dispensing(this);
  const avs = avsOf(this);
  const tokens = s.scanned.get(avs.pharmacy.name) ?? [];
  if (tokens.length === 0) throw new TestDefectError('the AVS has scanned no E-Rezept-Token');
  s.callsBefore = (await konnektorCalls(this, '?limit=1')).at(-1)?.id ?? 0;
  // by task id only: the AVS must use the AccessCode it kept from the scan (A_18791)
  for (const t of tokens) {
    const r = await attempt(this, () => avs.accept(t.prescriptionId));
    if (r.ok) s.accepted.push(r.value);
  }
});

When('das AVS der {string} versucht, das E-Rezept beim Fachdienst abzurufen', async function (this: TiWorld, pharmacy: string) {
  const s = dispensing(this);
  const r = await attempt(this, () => avsOf(this, pharmacy).accept(firstIssued(this).taskId));
  if (r.ok) s.accepted.push(r.value);
});

When('das AVS der {string} das E-Rezept an den Fachdienst zurückgibt', async function (this: TiWorld, pharmacy: string) {
  const avs = avsOf(this, pharmacy);
  const taskId = firstIssued(this).taskId;
  dispensing(this).previousSecret = avs.get(taskId)?.secret;
  await attempt(this, () => avs.reject(taskId));
});

When('das AVS der {string} das E-Rezept löscht', async function (this: TiWorld, pharmacy: string) {
  await attempt(this, () => avsOf(this, pharmacy).abort(firstIssued(this).taskId));
});

When(/^das AVS der "([^"]+)" versucht, das E-Rezept mit einem (?:ausgedachten|falschen) Secret zu löschen$/, async function (this: TiWorld, pharmacy: string) {
  const avs = avsOf(this, pharmacy);
  const taskId = firstIssued(this).taskId;
  avs.overrideSecret(taskId, randomBytes(32).toString('hex'));
  await attempt(this, () => avs.abort(taskId));
});

When('das AVS der {string} die Abgabe mit dem Dispensierdatensatz abschließt', async function (this: TiWorld, pharmacy: string) {
  const r = await attempt(this, () => avsOf(this, pharmacy).close(firstIssued(this).taskId));
  if (r.ok) dispensing(this).receipts.push(r.value);
});

When('das AVS der {string} versucht, die Abgabe mit einem falschen Secret abzuschließen', async function (this: TiWorld, pharmacy: string) {
  const avs = avsOf(this, pharmacy);
  const taskId = firstIssued(this).taskId;
  avs.overrideSecret(taskId, randomBytes(32).toString('hex'));
  await attempt(this, () => avs.close(taskId));
});

When('das AVS der {string} versucht, die Abgabe erneut abzuschließen', async function (this: TiWorld, pharmacy: string) {
  await attempt(this, () => avsOf(this, pharmacy).close(firstIssued(this).taskId));
});

When('das AVS der {string} die Quittung erneut abruft', async function (this: TiWorld, pharmacy: string) {
  const r = await attempt(this, () => avsOf(this, pharmacy).receipt(firstIssued(this).taskId));
  if (r.ok) dispensing(this).receipts.push(r.value);
});

When('das AVS den Dispensierdatensatz mit der SMC-B der Apotheke signiert', async function (this: TiWorld) {
  dispensing(this).signed = await avsOf(this).signDispensation(firstIssued(this).taskId, 'osig-smcb');
});

When('das AVS den Dispensierdatensatz mit der QES des HBA der Apothekerin signiert', async function (this: TiWorld) {
  dispensing(this).signed = await avsOf(this).signDispensation(firstIssued(this).taskId, 'qes-hba');
});

// ---------------------------------------------------------------------------------------------- Then

Then('hat das AVS die E-Rezept-Token aller {int} E-Rezepte aus dem Code gelesen und ihre AccessCodes gespeichert', async function (this: TiWorld, count: number) {
  const s = dispensing(this);
  const avs = avsOf(this);
  const scanned = s.scanned.get(avs.pharmacy.name) ?? [];
  await verify('A_18548', `Das AVS liest aus einem DataMatrix-Code alle ${count} E-Rezept-Token, die das PVS gedruckt hat`, () => {
    assert.equal(s.scanError, undefined, `the AVS could not read the code: ${(s.scanError as Error | undefined)?.message}`);
    assert.equal(s.issued.length, count);
    assert.deepEqual(
      scanned.map((t) => ({ prescriptionId: t.prescriptionId, accessCode: t.accessCode })),
      s.issued.map((r) => ({ prescriptionId: r.token.prescriptionId, accessCode: r.token.accessCode })),
    );
  });
  await verify('A_18791', 'Das AVS speichert den AccessCode jedes gescannten E-Rezept-Tokens', () => {
    for (const r of s.issued) assert.equal(avs.get(r.taskId)?.accessCode, r.token.accessCode, `AccessCode of ${r.taskId}`);
  });
});

Then(
  'erhält das AVS je E-Rezept den Task im Status {string} mit Secret und den signierten Verordnungsdatensatz der Praxis',
  async function (this: TiWorld, status: string) {
    const s = dispensing(this);
    const avs = avsOf(this);
    const telematikId = avs.pharmacy.telematikId as string;
    const check = () => {
      assert.equal(lastOutcome(this).ok, true, `the Fachdienst refused: ${lastRefusal(this)?.message}`);
      assert.equal(s.accepted.length, s.issued.length);
      for (const r of s.issued) {
        const a = s.accepted.find((x) => x.taskId === r.taskId);
        assert.ok(a, `${r.taskId} was not accepted`);
        assert.equal(a.task.status, status);
        assert.match(secretOf(a.task) ?? '', /^[0-9a-f]{64}$/, 'the Task carries no Secret of 64 hex digits');
        assert.ok(a.signedPrescription.equals(r.signature), 'the Binary is not the QES the practice sent with $activate');
        assert.ok(JSON.stringify(a.task.owner ?? '').includes(telematikId), `Task.owner does not name the pharmacy ${telematikId}`);
      }
    };
    await verify('A_18559', '$accept mit dem AccessCode liefert das Bundle aus Task (in-progress, Secret) und QES-Objekt', check);
    await verify('A_18511', 'Die Apotheke ruft das E-Rezept mit dem Token aus dem DataMatrix-Code ab und erhält es für sich gesperrt', check);
  },
);

Then('hat das AVS das Secret jedes abgerufenen E-Rezepts gespeichert', async function (this: TiWorld) {
  const s = dispensing(this);
  const avs = avsOf(this);
  await verify('A_18553', 'Das AVS speichert das beim Abruf übermittelte Secret je E-Rezept', () => {
    assert.ok(s.accepted.length > 0, 'nothing was accepted');
    for (const a of s.accepted) {
      const sent = secretOf(a.task);
      assert.ok(sent, 'the Task carries no Secret');
      assert.equal(avs.get(a.taskId)?.secret, sent, `the AVS does not keep the Secret of ${a.taskId}`);
    }
  });
});

Then('hat das AVS die QES der Ärztin über den Konnektor als gültig geprüft und zeigt das E-Rezept ohne Warnung an', async function (this: TiWorld) {
  const s = dispensing(this);
  const verifyCalls = await konnektorCalls(this, `?operation=VerifyDocument&since=${s.callsBefore ?? 0}`);
  const ours = verifyCalls.filter((c) => c.faultCode === undefined);
  await verify('A_18551', 'Das AVS prüft die QES jedes E-Rezepts per VerifyDocument am Konnektor; Ergebnis VALID, keine Warnung', () => {
    assert.ok(s.accepted.length > 0, 'nothing was accepted');
    assert.ok(ours.length >= s.accepted.length, `the Konnektor saw ${ours.length} VerifyDocument calls for ${s.accepted.length} prescriptions`);
    for (const a of s.accepted) {
      assert.equal(a.signatureCheck.ok, true, `warning: ${JSON.stringify(a.signatureCheck)}`);
      if (a.signatureCheck.ok) assert.equal(a.signatureCheck.highLevelResult, 'VALID');
    }
  });
  await verify('A_18552', 'Das AVS zeigt das E-Rezept an: Verordnungsdatensatz mit PrescriptionID und KVNR des Versicherten', () => {
    for (const a of s.accepted) {
      const issued = s.issued.find((r) => r.taskId === a.taskId);
      assert.ok(a.prescription, `no readable prescription for ${a.taskId}`);
      assert.equal(prescriptionIdOf(a.prescription), a.taskId);
      assert.equal(patientKvnrOf(a.prescription)?.kvnr, issued?.kvnr);
    }
  });
});

Then('zeigt das AVS das E-Rezept an und warnt, dass die Signaturprüfung technisch nicht möglich war', async function (this: TiWorld) {
  const s = dispensing(this);
  await verify('A_18551', 'Ist die Signaturprüfung technisch nicht möglich, zeigt das AVS eine Warnung an', () => {
    assert.equal(lastOutcome(this).ok, true, `the Fachdienst refused: ${lastRefusal(this)?.message}`);
    assert.equal(s.accepted.length, 1);
    const c = s.accepted[0].signatureCheck;
    assert.equal(c.ok, false, 'the AVS reported the unchecked signature as valid');
    if (!c.ok) {
      assert.equal(c.warning, 'not-possible');
      assert.ok(c.message.length > 0, 'the warning has no text');
    }
  });
  await verify('A_18552', 'Das E-Rezept wird trotz nicht erfolgreicher Signaturprüfung angezeigt', () => {
    const a = s.accepted[0];
    assert.ok(a?.prescription, 'the AVS shows no prescription');
    assert.equal(prescriptionIdOf(a.prescription), a.taskId);
    assert.equal(patientKvnrOf(a.prescription)?.kvnr, s.issued[0].kvnr);
  });
});

const REFUSAL_AFOS = ['A_18522', 'A_18560', 'A_18561', 'A_18562', 'A_18952'];

Then('lehnt der Fachdienst die Operation mit HTTP-Status {int} und dem Text {string} ab', async function (this: TiWorld, status: number, text: string) {
  const refusal = lastRefusal(this);
  await verifyAll(this, REFUSAL_AFOS, `Der Fachdienst lehnt mit ${status} "${text}" ab`, () => {
    assert.ok(refusal, 'the Fachdienst accepted the operation');
    assert.equal(refusal.status, status, refusal.message);
    assert.ok(refusal.texts.includes(text), `OperationOutcome texts: ${JSON.stringify(refusal.texts)}`);
  });
});

Then('nennt der Fachdienst zusätzlich den Text {string}', async function (this: TiWorld, text: string) {
  const refusal = lastRefusal(this);
  await verify('A_18522', `Das OperationOutcome enthält zusätzlich "${text}"`, () => {
    assert.ok(refusal, 'the Fachdienst accepted the operation');
    assert.ok(refusal.texts.includes(text), `OperationOutcome texts: ${JSON.stringify(refusal.texts)}`);
  });
});

Then('zeigt das AVS den aktuellen Status {string} des E-Rezepts an', async function (this: TiWorld, status: string) {
  const refusal = lastRefusal(this);
  await verify('A_18747', `Das AVS weist auf den abgelehnten Statuswechsel mit dem aktuellen Status "${status}" hin`, () => {
    assert.ok(refusal, 'nothing was refused');
    assert.equal(refusal.currentStatus, status);
    assert.ok(refusal.hint.includes(status), `hint: ${refusal.hint}`);
  });
});

Then('hat der Fachdienst die Rückgabe angenommen und das AVS das Secret verworfen', async function (this: TiWorld) {
  const l = lastOutcome(this);
  const local = avsOf(this).get(firstIssued(this).taskId);
  await verify('A_18561', '$reject mit dem Secret wird angenommen; das AVS verwirft das Secret', () => {
    assert.equal(l.ok, true, `the Fachdienst refused: ${lastRefusal(this)?.message}`);
    assert.equal(local?.secret, undefined, 'the AVS still keeps the Secret');
    assert.equal(local?.status, 'ready');
  });
});

Then('hat die {string} das zurückgegebene E-Rezept mit einem neuen Secret abgerufen', async function (this: TiWorld, pharmacy: string) {
  const s = dispensing(this);
  const l = lastOutcome(this);
  const persona = loadPersona(pharmacy);
  const telematikId = persona.type === 'SMC-B' ? (persona.telematikId as string) : persona.name;
  const check = () => {
    assert.equal(l.ok, true, `the Fachdienst refused the second pharmacy: ${lastRefusal(this)?.message}`);
    const a = s.accepted.at(-1) as AcceptedPrescription;
    assert.equal(a.taskId, firstIssued(this).taskId);
    assert.equal(a.task.status, 'in-progress');
    assert.ok(s.previousSecret, 'no Secret of the first pharmacy was recorded');
    assert.notEqual(secretOf(a.task), s.previousSecret, 'the returned prescription kept the old Secret');
    assert.ok(JSON.stringify(a.task.owner ?? '').includes(telematikId), `Task.owner does not name ${telematikId}`);
  };
  await verify('A_18561', 'Nach $reject ist das E-Rezept wieder "ready": eine andere Apotheke ruft es ab und erhält ein neues Secret', check);
  await verify('A_18512', 'Das zurückgegebene E-Rezept kann in einer anderen Apotheke eingelöst werden', check);
});

Then('hat der Fachdienst das Löschen angenommen', async function (this: TiWorld) {
  const l = lastOutcome(this);
  const local = avsOf(this).get(firstIssued(this).taskId);
  const check = () => {
    assert.equal(l.ok, true, `the Fachdienst refused: ${lastRefusal(this)?.message}`);
    assert.equal(local, undefined, 'the AVS still lists the deleted prescription');
  };
  await verify('A_18560', '$abort mit dem Secret eines E-Rezepts in Abgabe wird angenommen', check);
  await verify('A_18513', 'Die Apotheke löscht das E-Rezept', check);
});

Then('erhält das AVS eine Quittung zum E-Rezept, deren Signatur des Fachdienstes der Konnektor als gültig bestätigt', async function (this: TiWorld) {
  const s = dispensing(this);
  const l = lastOutcome(this);
  const taskId = firstIssued(this).taskId;
  const receipt = s.receipts.at(-1);
  await verify('A_18562', '$close mit Secret und MedicationDispense liefert eine signierte Quittung (Bundle document)', () => {
    assert.equal(l.ok, true, `the Fachdienst refused: ${lastRefusal(this)?.message}`);
    assert.ok(receipt, 'no receipt');
    assert.equal(receipt.bundle.type, 'document');
    assert.ok(receipt.signature, 'the receipt carries no signature');
    assert.equal(avsOf(this).get(taskId)?.status, 'completed');
  });
  await verify('A_18523', 'Die Quittung ist mit C.FD.SIG des Fachdienstes signiert (VerifyDocument VALID) und referenziert das E-Rezept', () => {
    assert.ok(receipt?.signature);
    assert.equal(receipt.signatureCheck.ok, true, JSON.stringify(receipt.signatureCheck));
    const signer = parseSignedData(receipt.signature).signers[0]?.certificate;
    assert.ok(signer, 'the CAdES carries no signer certificate');
    assert.ok(parseCertificate(signer).policies.includes(OID_FD_SIG), 'the signer certificate is no C.FD.SIG');
    assert.deepEqual(receipt.problems, []);
    assert.equal(receipt.referencesPrescription, true);
  });
  await verify('A_18514', 'Die Apotheke erhält die Quittung zum abgegebenen E-Rezept', () => {
    assert.ok(receipt);
    assert.equal(receipt.referencesPrescription, true, receipt.problems.join('; '));
  });
});

Then('erhält das AVS den Task im Status {string} und dieselbe vom Fachdienst signierte Quittung wie beim Abschluss', async function (this: TiWorld, status: string) {
  const s = dispensing(this);
  const l = lastOutcome(this);
  const [first, again] = s.receipts;
  const check = () => {
    assert.equal(l.ok, true, `the Fachdienst refused: ${lastRefusal(this)?.message}`);
    assert.ok(first && again, 'two receipts expected ($close and GET Task)');
    assert.equal(avsOf(this).get(firstIssued(this).taskId)?.status, status);
    assert.ok(again.signature && first.signature && again.signature.equals(first.signature), 'the receipt fetched again is not the one of $close');
    assert.equal(again.signatureCheck.ok, true, JSON.stringify(again.signatureCheck));
    assert.equal(again.referencesPrescription, true, again.problems.join('; '));
  };
  await verify('A_19125', 'GET /Task/<id>?secret= liefert den Task (completed) mit der signierten Quittung', check);
  await verify('A_19117', 'Die Apotheke ruft die Quittung erneut ab', check);
});

async function verifySignedDispensation(world: TiWorld, owner: string, policy: string, kind: string): Promise<void> {
  const signed = dispensing(world).signed;
  if (!signed) throw new TestDefectError('no dispensing data set was signed');
  const konnektor = await konnektorClient(world, PHARMACY_CONTEXT);
  const result = await konnektor.verifyDocument(signed.cms);
  const taskId = firstIssued(world).taskId;
  await verify('A_18515', `Der Dispensierdatensatz ist mit ${kind} von "${owner}" signiert und die Signatur ist gültig`, () => {
    const parsed = parseSignedData(signed.cms);
    assert.ok(parsed.content?.equals(signed.document), 'the CMS does not enclose the dispensing data set');
    const doc = signed.document.toString('utf8');
    assert.ok(doc.includes('MedicationDispense') && doc.includes(taskId), 'the signed document is not the dispensing data set of the prescription');
    const cert = parseCertificate(parsed.signers[0]?.certificate as Buffer);
    assert.ok(cert.policies.includes(policy), `the signer certificate has policies ${cert.policies.join(', ')}`);
    const expected = loadPersona(owner);
    const id = expected.type === 'SMC-B' ? expected.name : `${(expected as { person?: { surname?: string } }).person?.surname ?? expected.name}`;
    assert.ok(cert.subject.includes(id), `signer ${cert.subject} is not ${owner}`);
    assert.equal(result.highLevelResult, 'VALID');
  });
}

Then('ist der Dispensierdatensatz mit dem OSIG-Zertifikat der {string} gültig signiert', async function (this: TiWorld, pharmacy: string) {
  await verifySignedDispensation(this, pharmacy, OID_SMCB_OSIG, 'der fortgeschrittenen Signatur (C.HCI.OSIG) der SMC-B');
});

Then('ist der Dispensierdatensatz mit dem QES-Zertifikat von {string} gültig signiert', async function (this: TiWorld, pharmacist: string) {
  await verifySignedDispensation(this, pharmacist, OID_HBA_QES, 'der QES (C.HP.QES) des HBA');
});
