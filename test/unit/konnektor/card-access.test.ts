/**
 * The card layer (card-access.ts) on real virtual cards through PC/SC: identification by the
 * answered AIDs, certificates, signatures computed by the card (checked with the certificate's
 * public key), PIN-protected keys (6982 without VERIFY), card events on removal and insertion,
 * and exclusive use of a card by concurrent callers.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import { parseCertificate } from '../../../simulators/lib/x509';
import { SoapFault } from '../../../simulators/lib/soap';
import { pinForKey, signingKeyFor, type CardAccess, type CardEvent } from '../../../simulators/konnektor/card-access';
import { CardCommandError } from '../../../simulators/konnektor/faults';
import { eventually, startFixture, type Fixture } from './helpers';

let f: Fixture;
let cards: CardAccess;
const h: Record<string, string> = {};

before(async () => {
  f = await startFixture({ vpcdFrom: 45500, insert: ['Dr. Hanna Ebert', 'Praxis Dr. Hanna Ebert', 'Jonas Keller'] });
  cards = f.konnektor.context.cards;
  for (const c of cards.list()) h[c.type] = c.handle;
});

after(async () => {
  await f?.stop();
});

function verifies(certDer: Buffer, data: Buffer, rs: Buffer): boolean {
  return crypto.verify('sha256', data, { key: parseCertificate(certDer).publicKey, dsaEncoding: 'ieee-p1363' }, rs);
}

test('cards are identified by the applications they answer, with ICCSN and data from the AUT certificate', () => {
  const list = cards.list();
  assert.deepEqual(
    list.map((c) => [c.type, c.iccsn, c.ctId, c.slotId, c.slot, c.holderName]),
    [
      ['HBA', '80276883119910000001', 'CT-A', 1, 0, 'Hanna Ebert'],
      ['SMC-B', '80276883119920000001', 'CT-A', 2, 1, 'Praxis Dr. Hanna Ebert'],
      ['EGK', '80276883119930000001', 'CT-B', 1, 2, 'Jonas Keller'],
    ],
  );
  const hba = cards.info(h.HBA)!;
  assert.equal(hba.telematikId, '1-HBA-Testkarte-883119910000001');
  assert.deepEqual(hba.professionOids, ['1.2.276.0.76.4.30']);
  assert.equal(hba.atr, '3BD096FF81B1FE451F072A');
  assert.equal(cards.info(h.EGK)!.kvnr, 'K204617388');
  assert.equal(signingKeyFor('HBA', 'C.QES'), 'PrK.HP.QES');
  assert.equal(pinForKey('PrK.HP.QES'), 'PIN.QES');
  assert.equal(pinForKey('PrK.CH.AUT'), 'PIN.home');
  assert.throws(() => cards.require('nope'), (e: unknown) => e instanceof SoapFault && e.code === 4008);
});

test('the HBA signs with PrK.HP.QES only after VERIFY of PIN.QES; the signature verifies with C.HP.QES', async () => {
  const hash = crypto.createHash('sha256').update('Verordnung').digest();
  await assert.rejects(cards.signHash(h.HBA, 'PrK.HP.QES', hash), (e: unknown) => e instanceof CardCommandError && e.sw === 0x6982 && e.code === 4001);
  assert.deepEqual(await cards.verifyPin(h.HBA, 'PIN.QES'), { result: 'OK' });
  const rs = await cards.signHash(h.HBA, 'PrK.HP.QES', hash);
  assert.equal(rs.length, 64);
  const qes = (await cards.readCertificate(h.HBA, 'C.QES'))!;
  assert.ok(verifies(qes, Buffer.from('Verordnung'), rs), 'r‖s verifies with the QES certificate');
  const aut = (await cards.readCertificate(h.HBA, 'C.AUT'))!;
  assert.equal(verifies(aut, Buffer.from('Verordnung'), rs), false, 'and not with another key');
  await assert.rejects(cards.signHash(h.HBA, 'PrK.HCI.OSIG', hash), (e: unknown) => e instanceof SoapFault && e.code === 4000, 'an SMC-B key on an HBA');
  await assert.rejects(cards.signHash(h.HBA, 'PrK.HP.QES', Buffer.alloc(0)), /1\.\.64 bytes/);
});

test('SMC-B OSIG and ExternalAuthenticate (AUT) after PIN.SMC; eGK AUT after PIN.home', async () => {
  const data = Buffer.from('challenge');
  const hash = crypto.createHash('sha256').update(data).digest();
  await assert.rejects(cards.externalAuthenticate(h['SMC-B'], hash), (e: unknown) => e instanceof CardCommandError && e.sw === 0x6982);
  assert.equal((await cards.verifyPin(h['SMC-B'], 'PIN.SMC')).result, 'OK');
  assert.ok(verifies((await cards.readCertificate(h['SMC-B'], 'C.AUT'))!, data, await cards.externalAuthenticate(h['SMC-B'], hash)));
  assert.ok(verifies((await cards.readCertificate(h['SMC-B'], 'C.SIG'))!, data, await cards.signHash(h['SMC-B'], 'PrK.HCI.OSIG', hash)));
  // eGK: PIN.CH alone is not enough for the AUT key (MRPIN.home is)
  assert.equal((await cards.verifyPin(h.EGK, 'PIN.CH')).result, 'OK');
  await assert.rejects(cards.signHash(h.EGK, 'PrK.CH.AUT', hash), (e: unknown) => e instanceof CardCommandError && e.sw === 0x6982);
  assert.equal((await cards.verifyPin(h.EGK, 'PIN.home')).result, 'OK');
  assert.ok(verifies((await cards.readCertificate(h.EGK, 'C.AUT'))!, data, await cards.externalAuthenticate(h.EGK, hash)));
});

test('concurrent operations on one card do not interleave', async () => {
  assert.equal((await cards.verifyPin(h.HBA, 'PIN.QES')).result, 'OK');
  const hashes = Array.from({ length: 6 }, (_, i) => crypto.createHash('sha256').update(`doc ${i}`).digest());
  // certificate reads select DF.ESIGN (which would clear PIN.QES in between if sequences interleaved badly)
  const results = await Promise.all(hashes.map((x, i) => (i % 2 ? cards.readCertificate(h.HBA, 'C.QES').then(() => cards.verifyPin(h.HBA, 'PIN.QES')).then(() => cards.signHash(h.HBA, 'PrK.HP.QES', x)) : cards.pinStatus(h.HBA, 'PIN.CH').then(() => x))));
  assert.equal(results.length, 6);
  const qes = (await cards.readCertificate(h.HBA, 'C.QES'))!;
  for (let i = 1; i < 6; i += 2) assert.ok(verifies(qes, Buffer.from(`doc ${i}`), results[i] as Buffer), `signature ${i}`);
});

test('removal and insertion are seen through PC/SC: events, 4008 for the old handle, a new handle', async () => {
  const events: CardEvent[] = [];
  const off = cards.onCardEvent((e) => events.push(e));
  try {
    const old = h.EGK;
    await f.cards!.remove({ persona: 'Jonas Keller' });
    await eventually(() => (events.some((e) => e.type === 'removed') ? true : undefined), 5000, 'the removal event');
    assert.equal(events[0].card.handle, old);
    assert.equal(cards.info(old), undefined);
    await assert.rejects(cards.pinStatus(old, 'PIN.CH'), (e: unknown) => e instanceof SoapFault && e.code === 4008);
    await f.cards!.insert('stub-egk', 2);
    await eventually(() => (events.some((e) => e.type === 'inserted') ? true : undefined), 5000, 'the insertion event');
    const stub = events.find((e) => e.type === 'inserted')!.card;
    assert.equal(stub.type, 'EGK', 'the stub answers SELECT of the eGK root');
    assert.equal(stub.iccsn, undefined, 'but has no EF.GDO');
    assert.notEqual(stub.handle, old);
    await assert.rejects(cards.verifyPin(stub.handle, 'PIN.CH'), (e: unknown) => e instanceof SoapFault && [4001, 4000].includes(e.code as number));
  } finally {
    off();
  }
  const before = events.length;
  await f.cards!.remove({ slot: 2 });
  await eventually(() => (cards.list().length === 2 ? true : undefined), 5000, 'the stub to leave');
  assert.equal(events.length, before, 'an unsubscribed listener hears nothing');
});
