import { test } from 'node:test';
import assert from 'node:assert/strict';
import { constants, createHash, verify as cryptoVerify, X509Certificate } from 'node:crypto';
import { AccessRuleSyntaxError, accessRulesFor, parseAccessRuleText } from '../../../cards/image/access-rules';
import { CardImageError, importCardImage, loadCardImage } from '../../../cards/image/import';
import { CardOs } from '../../../cards/os/card';
import type { DedicatedFile, ElementaryFile, ObjectSystem, Password, PrivateKey } from '../../../cards/os/model';
import { bp256VerifyDigest } from '../../../simulators/lib/bp256';
import { sharedPath } from '../../../simulators/lib/shared-data';
import { hex, pinBlock, tx } from './helpers';

const EGK = sharedPath('reference', 'card-images', 'IMG_eGK_G21_TU_root6.xml');
const HBA = sharedPath('reference', 'card-images', 'HBA_80276883110000220885_gema5.xml');

function byName<T>(folder: DedicatedFile, name: string): T {
  const o = folder.children.find((c) => c.name === name);
  assert.ok(o, `${name} missing`);
  return o as T;
}

function certificateIn(os: ObjectSystem, folder: string, ef: string): X509Certificate {
  const f = byName<DedicatedFile>(os.root, folder);
  const file = byName<ElementaryFile>(f, ef);
  assert.equal(file.structure, 'transparent');
  return new X509Certificate((file as { data: Buffer }).data);
}

test('eGK image: tree, files, passwords and keys are imported', () => {
  const { objectSystem: os, warnings } = loadCardImage(EGK);
  assert.deepEqual(warnings, []);
  assert.equal(os.atr.toString('hex'), '3b909681b1fe451f0391');
  assert.equal(os.warmAtr?.toString('hex'), '3b909581b1fe451f0392');
  assert.equal(os.root.fid, 0x3f00);
  assert.equal(os.root.aid?.toString('hex'), 'd2760001448000');
  const hca = byName<DedicatedFile>(os.root, 'DF.HCA');
  assert.equal(hca.aid?.toString('hex'), 'd27600000102');
  assert.equal(hca.children.filter((c) => c.kind === 'df').length, 5);
  const gdo = byName<ElementaryFile>(os.root, 'EF.GDO');
  assert.equal(gdo.fid, 0x2f02);
  assert.equal(gdo.sfi, 0x02);
  assert.equal(gdo.structure === 'transparent' && gdo.data.toString('hex'), '5a0a80276883110000152715');
  const gvd = byName<ElementaryFile>(hca, 'EF.GVD');
  assert.ok(gvd.structure === 'transparent' && gvd.data.length === 0xe4 && gvd.size === 0x258, 'logical end vs size');
  const dir = byName<ElementaryFile>(os.root, 'EF.DIR');
  assert.ok(dir.structure === 'linearVariable' && dir.records.length === 8 && dir.maxRecordLength === 0x20);
  const pinCh = byName<Password>(os.root, 'PIN.CH');
  assert.deepEqual(
    [pinCh.id, pinCh.secret, pinCh.puk, pinCh.pukUsage, pinCh.retryCounter, pinCh.transportStatus, pinCh.minLength, pinCh.maxLength],
    [1, '123456', '12345678', 10, 3, 'regular', 6, 8],
  );
  const amtsRep = byName<Password>(os.root, 'PIN.AMTS_REP');
  assert.equal(amtsRep.puk, undefined, 'PUK 20FF… means no PUK');
  const mr = byName<{ kind: string; passwordReference: number; enabled: boolean }>(os.root, 'MRPIN.NFD');
  assert.deepEqual([mr.kind, mr.passwordReference, mr.enabled], ['mrpassword', 1, false]);
  const prk = byName<PrivateKey>(byName<DedicatedFile>(os.root, 'DF.ESIGN'), 'PrK.CH.AUT.E256');
  assert.deepEqual([prk.id, prk.keyType, prk.algorithms], [4, 'ec', ['signECDSA']]);
  const amtsKey = byName<PrivateKey>(byName<DedicatedFile>(hca, 'DF.AMTS'), 'PrK.AMTS.ENC.E256');
  assert.equal(amtsKey.key, undefined, 'keyAvailable FALSE');
  const can = os.root.children.find((c) => c.name === 'SK.CAN');
  assert.ok(can && can.kind === 'symmetricKey' && can.can === '123123');
});

test('eGK image: the imported private keys belong to the certificates on the card', () => {
  const { objectSystem: os } = loadCardImage(EGK);
  const card = new CardOs(os);
  card.powerOn();
  const cert = certificateIn(os, 'DF.ESIGN', 'EF.C.CH.AUT.E256');
  const digest = createHash('sha256').update('challenge of the IDP').digest();
  assert.equal(tx(card, '00A4040C0AA000000167455349474E').hex, '9000');
  assert.equal(tx(card, '002241B606840184800100').hex, '9000');
  assert.equal(tx(card, `002A9E9A20${digest.toString('hex')}00`).hex, '6982', 'access rule PWD(02) not satisfied');
  assert.equal(tx(card, `0020000208${pinBlock('123456')}`).hex, '9000', 'MRPIN.home');
  const sig = tx(card, `002A9E9A20${digest.toString('hex')}00`);
  assert.equal(hex(sig.sw), '9000');
  assert.ok(bp256VerifyDigest(digest, sig.data, cert.publicKey), 'ECDSA verifies with the certificate key');

  // RSA: PKCS#1 v1.5 over a DigestInfo and PSS over a hash, PrK.CH.AUT.R2048 (DF-specific key 02)
  const rsaCert = certificateIn(os, 'DF.ESIGN', 'EF.C.CH.AUT.R2048');
  const message = Buffer.from('Hallo');
  const digestInfo = Buffer.concat([Buffer.from('3031300d060960864801650304020105000420', 'hex'), createHash('sha256').update(message).digest()]);
  assert.equal(tx(card, '002241B606840182800102').hex, '9000');
  const pkcs1 = tx(card, `002A9E9A${digestInfo.length.toString(16)}${digestInfo.toString('hex')}00`);
  assert.equal(hex(pkcs1.sw), '9000');
  assert.ok(cryptoVerify('sha256', message, rsaCert.publicKey, pkcs1.data));
  assert.equal(tx(card, '002241B606840182800105').hex, '9000');
  const pss = tx(card, `002A9E9A20${createHash('sha256').update(message).digest('hex')}00`);
  assert.equal(hex(pss.sw), '9000');
  assert.ok(cryptoVerify('sha256', message, { key: rsaCert.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, pss.data));
});

test('eGK image: contact and contactless access rules differ (EF.GDO needs secure messaging contactless)', () => {
  const contact = new CardOs(loadCardImage(EGK, { interface: 'contact' }).objectSystem);
  contact.powerOn();
  assert.equal(tx(contact, '00B0820000').hex, '5A0A802768831100001527159000');
  const contactless = new CardOs(loadCardImage(EGK, { interface: 'contactless' }).objectSystem);
  contactless.powerOn();
  assert.equal(tx(contactless, '00B0820000').hex, '6982');
  assert.equal(tx(contactless, '00B09C0000').hex, '31143012060A04007F0007020204020202010202010D9000', 'EF.CardAccess is free');
});

test('HBA image: transport PIN, comfort signature limit of PIN.QES (SSEC 250), empty PIN', () => {
  const { objectSystem: os, warnings } = loadCardImage(HBA);
  assert.deepEqual(warnings, []);
  const qes = byName<DedicatedFile>(os.root, 'DF.QES');
  const pinQes = byName<Password>(qes, 'PIN.QES');
  assert.deepEqual([pinQes.transportStatus, pinQes.secret, pinQes.ssecLimit], ['transport', '54321', 250]);
  const cert = certificateIn(os, 'DF.QES', 'EF.C.HP.QES.E256');
  const card = new CardOs(os);
  card.powerOn();
  assert.equal(tx(card, '00A4040C06D27600006601').hex, '9000');
  assert.equal(tx(card, '80200081').hex, '62C1', 'transport PIN');
  assert.equal(tx(card, `0020008108${pinBlock('54321')}`).hex, '6985');
  assert.equal(tx(card, `0024008110${pinBlock('54321')}${pinBlock('123456')}`).hex, '9000');
  assert.equal(tx(card, '80200081').hex, '9000');
  assert.equal(tx(card, '002241B606840186800100').hex, '9000');
  const digest = createHash('sha256').update('Verordnung').digest();
  const first = tx(card, `002A9E9A20${digest.toString('hex')}00`);
  assert.equal(hex(first.sw), '9000');
  assert.ok(bp256VerifyDigest(digest, first.data, cert.publicKey));
  for (let i = 2; i <= 250; i++) assert.equal(hex(tx(card, `002A9E9A20${digest.toString('hex')}00`).sw), '9000', `signature ${i}`);
  assert.equal(tx(card, `002A9E9A20${digest.toString('hex')}00`).hex, '6982', 'SSEC exhausted after 250 signatures');
  // access rules of the HBA allow RESET RETRY COUNTER only with P1=01 (PUK only)
  assert.equal(tx(card, `002C008110${pinBlock('12345678')}${pinBlock('123456')}`).hex, '6982');
  // DF.AUTO: Leer-PIN
  assert.equal(tx(card, '00A4040C06D27600014603').hex, '9000');
  assert.equal(tx(card, '80200081').hex, '62C7');
});

test('access-rule notation: parser and selection of interface, life cycle and SE #1', () => {
  const text = `CB{ [ACTIVATED,1,{ ({00||b0||??||??},ALW), ({00||2a||9e||9a},OR{PWD(02),AND{PWD(01),AUTCHAT(cvc_FlagList_TI:00080000000000)}}) }],
                    [DEACTIVATED,??,{ ({00||b0||??||??},NEV) }]},
                CL{ [ACTIVATED,1,{ ({00||b0||??||??},AND{SMMAC(02),SMRSPENC}) }], [ACTIVATED,2,{}]}`;
  const parsed = parseAccessRuleText(text);
  assert.equal(parsed.CB.length, 2);
  assert.equal(parsed.CL.length, 2);
  const cb = accessRulesFor(text, 'contact');
  assert.deepEqual(cb[0], { commands: [{ cla: 0, ins: 0xb0, p1: undefined, p2: undefined }], condition: { kind: 'always' } });
  assert.deepEqual(cb[1].condition, {
    kind: 'or',
    of: [
      { kind: 'pin', pwdRef: 2 },
      { kind: 'and', of: [{ kind: 'pin', pwdRef: 1 }, { kind: 'sm', detail: 'AUTCHAT(cvc_FlagList_TI:00080000000000)' }] },
    ],
  });
  assert.deepEqual(accessRulesFor(text, 'contactless')[0].condition, {
    kind: 'and',
    of: [
      { kind: 'sm', detail: 'SMMAC(02)' },
      { kind: 'sm', detail: 'SMRSPENC' },
    ],
  });
  assert.deepEqual(accessRulesFor(undefined, 'contact'), []);
  for (const bad of ['CB{', 'XX{}', 'CB{ [ACTIVATED,1,{ ({00||b0||??},ALW) }]}', 'CB{ [ACTIVATED,1,{ ({00||??||00||00},ALW) }]}', 'CB{ [ACTIVATED,1,{ ({00||b0||00||00},FOO) }]}']) {
    assert.throws(() => parseAccessRuleText(bad), AccessRuleSyntaxError, bad);
  }
});

test('importer rejects documents that are not version-3 card images', () => {
  assert.throws(() => importCardImage('<foo/>'), CardImageError);
  assert.throws(() => importCardImage('<card version="2"><objectSystem/></card>'), CardImageError);
  assert.throws(() => importCardImage('<card version="3"><objectSystem/></card>'), /no root object/);
  const minimal = `<card version="3" name="x"><objectSystem>
    <attribute id="root"><child id="MF" objectType="ADF"><attributes>
      <attribute id="fileIdentifier">3f00</attribute>
      <attribute id="accessRules">CB{ [ACTIVATED,1,{ ({00||b0||??||??},ALW) }]</attribute>
    </attributes></child></attribute>
    <attribute id="coldAnswerToReset">3B00</attribute></objectSystem></card>`;
  assert.throws(() => importCardImage(minimal), /MF: .*expected/);
  assert.equal(importCardImage(minimal.replace(']</attribute>', ']}</attribute>')).objectSystem.name, 'x');
});

test('transparent EF body is cut or zero-padded to positionLogicalEndOfFile', () => {
  const image = (body: string, end: string) => `<card version="3" name="x"><objectSystem>
    <attribute id="root"><child id="MF" objectType="ADF"><attributes><attribute id="fileIdentifier">3f00</attribute></attributes>
      <children><child id="EF.X" objectType="TransparentElementaryFile"><attributes>
        <attribute id="fileIdentifier">2f10</attribute><attribute id="numberOfOctet">10</attribute>
        <attribute id="positionLogicalEndOfFile">${end}</attribute><attribute id="body">${body}</attribute>
        <attribute id="accessRules">CB{ [ACTIVATED,1,{ ({00||b0||??||??},ALW) }]}</attribute>
      </attributes></child></children></child></attribute>
    <attribute id="coldAnswerToReset">3B00</attribute></objectSystem></card>`;
  const file = (xml: string) => {
    const ef = importCardImage(xml).objectSystem.root.children[0] as ElementaryFile;
    assert.ok(ef.structure === 'transparent');
    return ef;
  };
  assert.equal(file(image('01020304', '02')).data.toString('hex'), '0102');
  assert.equal(file(image('0102', '04')).data.toString('hex'), '01020000');
  assert.equal(file(image('0102', '04')).size, 16);
  assert.throws(() => importCardImage(image('0102', '11')), /logical end 17 beyond size 16/);
});

test('cold ATR after power-on, warm ATR after a warm reset (eGK image)', () => {
  const card = new CardOs(loadCardImage(EGK).objectSystem);
  assert.equal(card.powerOn().toString('hex'), '3b909681b1fe451f0391');
  assert.equal(card.atr.toString('hex'), '3b909681b1fe451f0391');
  assert.equal(card.reset().toString('hex'), '3b909581b1fe451f0392');
  assert.equal(card.atr.toString('hex'), '3b909581b1fe451f0392');
  card.powerOff();
  assert.equal(card.powerOn().toString('hex'), '3b909681b1fe451f0391');
});
