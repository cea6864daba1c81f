/**
 * Steps for features/karten: the personas' virtual cards, reached only as a
 * real PC/SC client would (pcsc-mini → pcscd → vpcd → card OS). Inserting
 * and removing a card is a harness control (cards service admin API), so the
 * scenarios that use it are @simulator-only.
 *
 * Which requirement an assertion proves follows from the command that was
 * sent (SELECT → ISO7816-4_SELECT, VERIFY → ISO7816-4_VERIFY, …), so the
 * generic "Statuswort" step records against the right id.
 */
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import { After, Given, Then, When } from '@cucumber/cucumber';
import { loadPersona, type Persona } from '../../cards';
import { ATR } from '../../cards/objsys/common';
import { buildApdu, swHex } from '../../simulators/lib/apdu';
import { openReader, usePcscSocket, type PcscReader } from '../../simulators/lib/pcsc-reader';
import { encodePinBlock } from '../../simulators/lib/pin-block';
import { parseCertificate, type ParsedCertificate } from '../../simulators/lib/x509';
import { EnvironmentError, TestDefectError } from '../support/errors';
import { verify } from '../verify';
import type { TiWorld } from '../world';

const AID_QES = 'D27600006601';
const AID_ESIGN = 'A000000167455349474E';
const CA_NAMES = ['hba-qca', 'hba-ca', 'smcb-ca', 'egk-ca', 'komp-ca'];

/** Card-side facts of the G2.1 object systems (docs/cards.md): where the AUT identity lives and which PIN unlocks it. */
const AUT_IDENTITY: Record<Persona['type'], { sfi: number; keyRef: number; pinRef: number; pinName: string; afo: string }> = {
  // PrK.HP.AUT.E256 (key 06 in DF.ESIGN), EF.C.HP.AUT.E256 SFI 06, PIN.CH
  HBA: { sfi: 0x06, keyRef: 0x86, pinRef: 0x01, pinName: 'PIN.CH', afo: 'A_18816' },
  // PrK.HCI.AUT.E256 (key 06), EF.C.HCI.AUT.E256 SFI 06, PIN.SMC
  'SMC-B': { sfi: 0x06, keyRef: 0x86, pinRef: 0x01, pinName: 'PIN.SMC', afo: 'A_18817' },
  // PrK.CH.AUT.E256 (key 04), EF.C.CH.AUT.E256 SFI 04, MRPIN.home (checks the PIN.CH secret)
  eGK: { sfi: 0x04, keyRef: 0x84, pinRef: 0x02, pinName: 'PIN.CH', afo: 'A_18818' },
};

interface CardsOverview {
  socket: string;
  slots: Array<{ slot: number; reader: string; persona: string | null; atr: string | null }>;
}

interface SlotView {
  slot: number;
  reader: string;
  persona: string | null;
}

interface CardContext {
  persona: Persona;
  slot: number;
  reader: PcscReader;
  /** Requirement the last command relates to (for the status-word step). */
  afo?: string;
  lastResponse?: Buffer;
  signature?: { data: Buffer; value: Buffer; certificate?: ParsedCertificate };
  autCertificate?: Buffer;
}

interface ScenarioCards {
  /** Personas whose card this scenario inserted although it was not in a reader before. */
  addedByScenario: Set<string>;
  byName: Map<string, CardContext>;
  current?: CardContext;
}

function scenarioCards(world: TiWorld): ScenarioCards {
  let s = world.state.get('cards') as ScenarioCards | undefined;
  if (!s) {
    s = { addedByScenario: new Set(), byName: new Map() };
    world.state.set('cards', s);
  }
  return s;
}

function current(world: TiWorld): CardContext {
  const c = scenarioCards(world).current;
  if (!c) throw new TestDefectError('no card in this scenario yet: start with "die Karte von … steckt frisch in einem Kartenleser"');
  return c;
}

async function cardsOverview(world: TiWorld): Promise<CardsOverview> {
  const res = await world.http(world.serviceUrl('cards', '/__admin/cards'));
  if (res.status !== 200) throw new EnvironmentError(`cards service: GET /__admin/cards answered ${res.status}`);
  return JSON.parse(res.body.toString('utf8')) as CardsOverview;
}

async function transmit(ctx: CardContext, apdu: Buffer): Promise<Buffer> {
  const res = await ctx.reader.transmit(apdu);
  ctx.lastResponse = res;
  return res;
}

/**
 * Runs a step's APDU sequence inside a PC/SC transaction, as a careful PC/SC
 * client does: other clients of the same card (e.g. a Konnektor identifying a
 * freshly inserted card) cannot interleave their APDUs with ours.
 */
function atomically<T>(ctx: CardContext, fn: () => Promise<T>): Promise<T> {
  return ctx.reader.transaction(fn, { timeoutMs: 10_000 });
}

const sw = (res: Buffer): string => swHex(res.readUInt16BE(res.length - 2)).toUpperCase();
const data = (res: Buffer): Buffer => res.subarray(0, res.length - 2);

async function select(ctx: CardContext, aidHex: string): Promise<Buffer> {
  return transmit(ctx, buildApdu(0x00, 0xa4, 0x04, 0x0c, Buffer.from(aidHex, 'hex')));
}

async function expect9000(ctx: CardContext, res: Buffer, what: string): Promise<void> {
  if (sw(res) !== '9000') throw new TestDefectError(`${ctx.persona.name}: ${what} answered ${sw(res)}; the scenario cannot go on`);
}

/** READ BINARY by short file identifier, whole file (extended Le). */
async function readBySfi(ctx: CardContext, sfi: number): Promise<Buffer> {
  const res = await transmit(ctx, buildApdu(0x00, 0xb0, 0x80 | sfi, 0x00, undefined, 65536, true));
  await expect9000(ctx, res, `READ BINARY SFI ${sfi.toString(16)}`);
  return data(res);
}

function pinOf(persona: Persona, name: string): { pin: string; puk: string } {
  const p = persona.pins[name];
  if (!p) throw new TestDefectError(`${persona.name} has no ${name} (pins: ${Object.keys(persona.pins).join(', ')})`);
  return p;
}

/** A PIN that is certainly wrong: the right one with its last digit changed. */
function wrongPin(pin: string): string {
  const last = Number(pin[pin.length - 1]);
  return pin.slice(0, -1) + String((last + 1) % 10);
}

async function signHash(ctx: CardContext, keyRef: number, message: Buffer): Promise<Buffer> {
  const mse = await transmit(ctx, buildApdu(0x00, 0x22, 0x41, 0xb6, Buffer.from([0x84, 0x01, keyRef, 0x80, 0x01, 0x00])));
  await expect9000(ctx, mse, 'MSE SET (DST)');
  const hash = crypto.createHash('sha256').update(message).digest();
  return transmit(ctx, buildApdu(0x00, 0x2a, 0x9e, 0x9a, hash, 256));
}

/** Finds the issuing CA of a certificate among the PKI's published CA certificates and checks its signature. */
async function issuedByTiPki(world: TiWorld, certificate: Buffer): Promise<string> {
  const leaf = new crypto.X509Certificate(certificate);
  for (const name of CA_NAMES) {
    const res = await world.http(world.serviceUrl('pki', `/certs/${name}.pem`));
    if (res.status !== 200) continue;
    const ca = new crypto.X509Certificate(res.body);
    if (leaf.checkIssued(ca) && leaf.verify(ca.publicKey)) return ca.subject;
  }
  throw new assert.AssertionError({ message: `certificate "${leaf.subject}" was not issued by any CA of the TI-PKI (${CA_NAMES.join(', ')})` });
}

function identityMatches(persona: Persona, cert: ParsedCertificate): void {
  if (persona.type === 'eGK') {
    const ous = cert.subjectAttributes.filter((a) => a.type === 'OU').map((a) => a.value);
    assert.ok(ous.includes(persona.insurance.kvnr), `KVNR ${persona.insurance.kvnr} not in the subject (${cert.subject})`);
  } else {
    const numbers = cert.admission?.professions.map((p) => p.registrationNumber) ?? [];
    assert.ok(persona.telematikId && numbers.includes(persona.telematikId), `Telematik-ID ${persona.telematikId} not in the admission (${numbers.join(', ') || 'none'})`);
    const oids = cert.admission?.professions.flatMap((p) => p.professionOids) ?? [];
    assert.ok(oids.includes(persona.professionOid), `profession OID ${persona.professionOid} not in the admission (${oids.join(', ')})`);
  }
}

// --- insertion and removal (harness control) --------------------------------

Given('die Karte von {string} steckt frisch in einem Kartenleser', async function (this: TiWorld, name: string) {
  const persona = loadPersona(name);
  const cards = scenarioCards(this);
  const before = await cardsOverview(this);
  usePcscSocket(before.socket);
  const holding = before.slots.find((s) => s.persona === persona.name);
  if (holding) await this.admin('cards', '/cards/remove', { persona: persona.name });
  else cards.addedByScenario.add(persona.name);
  const slot = await this.admin<SlotView>('cards', '/cards/insert', { persona: persona.name, ...(holding ? { slot: holding.slot } : {}) });
  const reader = await openReader(slot.reader, { timeoutMs: 10_000 });
  await reader.waitForCard({ timeoutMs: 10_000 });
  // Other PC/SC clients watching this reader (a Konnektor) read a new card right away, in a
  // transaction; an empty transaction of ours waits until they are done.
  await new Promise((r) => setTimeout(r, 300));
  await reader.transaction(async () => undefined, { timeoutMs: 10_000 });
  const ctx: CardContext = { persona, slot: slot.slot, reader };
  cards.byName.set(persona.name, ctx);
  cards.current = ctx;
});

When('die Karte von {string} gezogen wird', async function (this: TiWorld, name: string) {
  const ctx = scenarioCards(this).byName.get(loadPersona(name).name) ?? current(this);
  await this.admin('cards', '/cards/remove', { persona: ctx.persona.name });
  ctx.afo = 'PCSC_CARD_PRESENCE';
});

When('die Karte von {string} wieder gesteckt wird', async function (this: TiWorld, name: string) {
  const ctx = scenarioCards(this).byName.get(loadPersona(name).name) ?? current(this);
  await this.admin('cards', '/cards/insert', { persona: ctx.persona.name, slot: ctx.slot });
});

Then('meldet der Kartenleser über PC\\/SC keine Karte', async function (this: TiWorld) {
  const ctx = current(this);
  await verify('PCSC_CARD_PRESENCE', `Der Kartenleser "${ctx.reader.name}" meldet nach dem Ziehen keine Karte`, async () => {
    await ctx.reader.waitForRemoval({ timeoutMs: 5000 });
    assert.equal(ctx.reader.status().present, false, 'reader still reports a card');
  });
});

Then('ein PC\\/SC-Client kann keine Kommandos mehr an die Karte senden', async function (this: TiWorld) {
  const ctx = current(this);
  await verify('PCSC_CARD_PRESENCE', 'Ein APDU an die gezogene Karte wird von PC/SC abgewiesen', async () => {
    let answered: Buffer | undefined;
    try {
      answered = await ctx.reader.transmit(buildApdu(0x00, 0xa4, 0x04, 0x0c, Buffer.from(AID_ESIGN, 'hex')));
    } catch (e) {
      assert.match(String((e as { code?: string }).code), /NoSmartcard|RemovedCard/, `unexpected PC/SC error ${(e as Error).message}`);
      return;
    }
    assert.fail(`the removed card still answered ${answered.toString('hex')}`);
  });
});

Then('meldet der Kartenleser über PC\\/SC eine Karte mit dem ATR der SMC-B', async function (this: TiWorld) {
  const ctx = current(this);
  await verify('PCSC_CARD_PRESENCE', 'Nach dem Stecken meldet der Kartenleser die Karte mit dem G2.1-ATR der SMC-B', async () => {
    const atr = await ctx.reader.waitForCard({ timeoutMs: 10_000 });
    assert.equal(atr.toString('hex').toUpperCase(), ATR['SMC-B'].toString('hex').toUpperCase());
    const res = await select(ctx, AID_ESIGN);
    assert.equal(sw(res), '9000', 'the reinserted card does not answer SELECT DF.ESIGN');
  });
});

// --- commands ---------------------------------------------------------------

When('ein PC\\/SC-Client die Anwendung mit der AID {string} auswählt', async function (this: TiWorld, aid: string) {
  const ctx = current(this);
  ctx.afo = 'ISO7816-4_SELECT';
  await atomically(ctx, () => select(ctx, aid));
});

Then('antwortet die Karte mit dem Statuswort {string}', async function (this: TiWorld, expected: string) {
  const ctx = current(this);
  const res = ctx.lastResponse;
  if (!ctx.afo || !res) throw new TestDefectError('no command was sent to the card before this step');
  await verify(ctx.afo, `${ctx.persona.name}: die Karte antwortet mit ${expected}`, () => {
    assert.equal(sw(res), expected.toUpperCase(), `status word ${sw(res)}, expected ${expected}`);
  });
});

When('ein PC\\/SC-Client ohne PIN-Eingabe eine QES-Signatur anfordert', async function (this: TiWorld) {
  const ctx = current(this);
  ctx.afo = 'ISO7816-4_SECURITY_STATUS';
  await atomically(ctx, async () => {
    await expect9000(ctx, await select(ctx, AID_QES), 'SELECT DF.QES');
    await signHash(ctx, 0x86, crypto.randomBytes(48));
  });
});

When('ein PC\\/SC-Client die PIN.QES korrekt eingibt', async function (this: TiWorld) {
  const ctx = current(this);
  await atomically(ctx, async () => {
    await expect9000(ctx, await select(ctx, AID_QES), 'SELECT DF.QES');
    const res = await transmit(ctx, buildApdu(0x00, 0x20, 0x00, 0x81, encodePinBlock(pinOf(ctx.persona, 'PIN.QES').pin)));
    await expect9000(ctx, res, 'VERIFY PIN.QES with the right PIN');
  });
});

When('ein PC\\/SC-Client eine QES-Signatur anfordert', async function (this: TiWorld) {
  const ctx = current(this);
  const message = Buffer.from(`Verordnung ${crypto.randomUUID()}`, 'utf8');
  ctx.afo = 'ISO7816-4_SECURITY_STATUS';
  const res = await atomically(ctx, () => signHash(ctx, 0x86, message));
  ctx.signature = { data: message, value: data(res) };
  await expect9000(ctx, res, 'PSO COMPUTE DIGITAL SIGNATURE after VERIFY PIN.QES');
});

Then('ist die Signatur mit dem QES-Zertifikat der Karte aus der TI-PKI gültig', async function (this: TiWorld) {
  const ctx = current(this);
  const signature = ctx.signature;
  if (!signature) throw new TestDefectError('no signature was requested in this scenario');
  const der = await atomically(ctx, async () => {
    await expect9000(ctx, await select(ctx, AID_QES), 'SELECT DF.QES');
    return readBySfi(ctx, 0x06); // EF.C.HP.QES.E256
  });
  await verify('ISO7816-4_SECURITY_STATUS', 'Nach VERIFY PIN.QES ist die QES-Signatur (r‖s) mit dem Zertifikat C.HP.QES der Karte gültig', async () => {
    const cert = parseCertificate(der);
    await issuedByTiPki(this, der);
    assert.ok(cert.policies.includes('1.2.276.0.76.4.72'), `C.HP.QES policy 1.2.276.0.76.4.72 missing (${cert.policies.join(', ')})`);
    assert.equal(signature.value.length, 64, `signature of ${signature.value.length} bytes, expected r‖s (64)`);
    const ok = crypto.verify('sha256', signature.data, { key: cert.publicKey, dsaEncoding: 'ieee-p1363' }, signature.value);
    assert.ok(ok, 'the signature does not verify with the card certificate');
  });
});

When('ein PC\\/SC-Client die PIN.CH falsch eingibt', async function (this: TiWorld) {
  const ctx = current(this);
  ctx.afo = 'ISO7816-4_VERIFY';
  await atomically(ctx, () => transmit(ctx, buildApdu(0x00, 0x20, 0x00, 0x01, encodePinBlock(wrongPin(pinOf(ctx.persona, 'PIN.CH').pin)))));
});

When('ein PC\\/SC-Client die PIN.CH korrekt eingibt', async function (this: TiWorld) {
  const ctx = current(this);
  ctx.afo = 'ISO7816-4_VERIFY';
  await atomically(ctx, () => transmit(ctx, buildApdu(0x00, 0x20, 0x00, 0x01, encodePinBlock(pinOf(ctx.persona, 'PIN.CH').pin))));
});

When('ein PC\\/SC-Client die PIN.CH mit der PUK entsperrt', async function (this: TiWorld) {
  const ctx = current(this);
  ctx.afo = 'ISO7816-4_RESET_RETRY_COUNTER';
  // RESET RETRY COUNTER, P1=01: resetting code only (the PIN stays), P2=01 PIN.CH
  await atomically(ctx, () => transmit(ctx, buildApdu(0x00, 0x2c, 0x01, 0x01, encodePinBlock(pinOf(ctx.persona, 'PIN.CH').puk))));
});

When('ein PC\\/SC-Client das AUT-Zertifikat der Karte liest', async function (this: TiWorld) {
  const ctx = current(this);
  ctx.autCertificate = await atomically(ctx, async () => {
    await expect9000(ctx, await select(ctx, AID_ESIGN), 'SELECT DF.ESIGN');
    return readBySfi(ctx, AUT_IDENTITY[ctx.persona.type].sfi);
  });
});

When('ein PC\\/SC-Client nach Eingabe der PIN eine Challenge mit dem AUT-Schlüssel signieren lässt', async function (this: TiWorld) {
  const ctx = current(this);
  const aut = AUT_IDENTITY[ctx.persona.type];
  const challenge = crypto.randomBytes(32);
  const res = await atomically(ctx, async () => {
    await expect9000(ctx, await select(ctx, AID_ESIGN), 'SELECT DF.ESIGN');
    const pin = await transmit(ctx, buildApdu(0x00, 0x20, 0x00, aut.pinRef, encodePinBlock(pinOf(ctx.persona, aut.pinName).pin)));
    await expect9000(ctx, pin, `VERIFY ${aut.pinName}`);
    return signHash(ctx, aut.keyRef, challenge);
  });
  await expect9000(ctx, res, 'PSO COMPUTE DIGITAL SIGNATURE with the AUT key');
  ctx.signature = { data: challenge, value: data(res) };
});

Then('ist das AUT-Zertifikat von der TI-PKI für {string} ausgestellt', async function (this: TiWorld, name: string) {
  const ctx = current(this);
  const der = ctx.autCertificate;
  if (!der) throw new TestDefectError('the AUT certificate was not read in this scenario');
  const persona = loadPersona(name);
  await verify(AUT_IDENTITY[ctx.persona.type].afo, `Kartenseite: die Karte liefert ihr AUT-Zertifikat, ausgestellt von der TI-PKI für ${persona.name}`, async () => {
    await issuedByTiPki(this, der);
    const cert = parseCertificate(der);
    assert.ok(cert.keyUsage.includes('digitalSignature'), `keyUsage ${cert.keyUsage.join(', ')} lacks digitalSignature`);
    identityMatches(persona, cert);
  });
});

Then('ist die Signatur der Challenge mit dem AUT-Zertifikat gültig', async function (this: TiWorld) {
  const ctx = current(this);
  const der = ctx.autCertificate;
  const signature = ctx.signature;
  if (!der || !signature) throw new TestDefectError('AUT certificate or challenge signature missing in this scenario');
  await verify(AUT_IDENTITY[ctx.persona.type].afo, 'Kartenseite: die mit dem AUT-Schlüssel signierte Challenge ist mit dem AUT-Zertifikat gültig', () => {
    const cert = parseCertificate(der);
    assert.equal(signature.value.length, 64, `signature of ${signature.value.length} bytes, expected r‖s (64)`);
    assert.ok(crypto.verify('sha256', signature.data, { key: cert.publicKey, dsaEncoding: 'ieee-p1363' }, signature.value), 'the challenge signature does not verify');
  });
});

// --- cleanup: close readers, take out the cards this scenario added ---------

After({ name: 'cards: close readers and restore the inserted cards' }, async function (this: TiWorld) {
  const cards = this.state.get('cards') as ScenarioCards | undefined;
  if (!cards) return;
  for (const ctx of cards.byName.values()) await ctx.reader.close().catch(() => undefined);
  for (const name of cards.addedByScenario) {
    await this.admin('cards', '/cards/remove', { persona: name }).catch(() => undefined);
  }
});
