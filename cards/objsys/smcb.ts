/**
 * The G2.1 SMC-B object system of a persona (E256 objects). There is no SMC-B card image in the reference
 * data: identifiers, key references and access rules are taken from gemSpec_SMC-B_ObjSys_G2.1 (V5.0.0,
 * Tab_SMC-B_ObjSys_002/003/005/006/007/009/012/018/020/022/028/040/120/122/124/126/128/130); file contents that
 * the spec leaves to gemSpec_Karten_Fach_TIP (EF.ATR, EF.Version2) follow the HBA image of the same generation.
 *
 *   MF  D27600014606 / 3F00
 *   ├── EF.ATR 2F01/1D · EF.DIR 2F00/1E · EF.GDO 2F02/02 · EF.Version2 2F11/11
 *   ├── EF.C.CA_SMC.CS.E256 2F07/07 · EF.C.SMC.AUTR_CVC.E256 2F06/06 · EF.C.SMC.AUTD_RPE_CVC.E256 2F09/09  (empty)
 *   ├── PIN.SMC (01) · PrK.SMC.AUTR_CVC.E256 (06) · PrK.SMC.AUTD_RPE_CVC.E256 (09)
 *   └── DF.ESIGN A000000167455349474E
 *       ├── EF.C.HCI.OSIG.E256 C007/07 · EF.C.HCI.AUT.E256 C506/06 · EF.C.HCI.ENC.E256 C205/05
 *       └── PrK.HCI.OSIG.E256 (07) · PrK.HCI.AUT.E256 (06) · PrK.HCI.ENC.E256 (05)
 *
 * Not modelled: the RSA objects (R2048), the contactless option (EF.CardAccess, SK.CAN), the CMS/CUpS keys.
 */
import { df, ef, key, mf, objectSystem, pin } from '../os/builder';
import type { ObjectSystem } from '../os/model';
import type { CardIdentity } from '../identity';
import type { SmcbPersona } from '../persona';
import {
  AID,
  ATR,
  atrFileRules,
  decipherKeyRules,
  folderRules,
  efDir,
  gdoBody,
  generalAuthenticateKeyRules,
  iccsn8,
  pwd,
  readRules,
  requireKey,
  roleAuthenticationKeyRules,
  signingKeyRules,
} from './common';

/** The product identifier of EF.ATR / EF.Version2 (13 characters, space-padded) with the object-system version. */
function productId(name: string, version: [number, number, number]): Buffer {
  return Buffer.concat([Buffer.from(name.padEnd(13, ' '), 'ascii'), Buffer.from(version)]);
}

/**
 * The SMC-B has no image in the reference data: EF.ATR and EF.Version2 reuse the layout of the HBA image of
 * the same card generation with the product identifier "SMC-B_G2.1". The object-system version 4.7.1 is
 * illustrative, not taken from a real SMC-B.
 */
const OBJSYS_VERSION: [number, number, number] = [4, 7, 1];
const EF_ATR = Buffer.concat([
  Buffer.from(
    'E01102020409020300800202020409020204095F520C806605444573696D739621F3D003040300D210444567656D5F4E4F4E455F2020000001D310444567656D434F535F53494D20000100D410',
    'hex',
  ),
  productId('SMC-B_G2.1', OBJSYS_VERSION),
  Buffer.from('D610444567656D5F4E4F4E455F2020010000CF15000000000000000000000000000000000000000000', 'hex'),
]);
const EF_VERSION2 = Buffer.concat([
  Buffer.from('EF26C003020000C103', 'hex'),
  Buffer.from(OBJSYS_VERSION),
  Buffer.from('C210', 'hex'),
  productId('SMC-B_G2.1', OBJSYS_VERSION),
  Buffer.from('C403010000C503020000', 'hex'),
]);

export function buildSmcbObjectSystem(persona: SmcbPersona, identity: CardIdentity): ObjectSystem {
  const cert = (profile: string) => {
    const c = identity.certificates[profile];
    if (!c) throw new Error(`${persona.name}: the card identity has no ${profile} certificate`);
    return c;
  };
  const spec = persona.pins['PIN.SMC'];
  // Tab_SMC-B_ObjSys_020: pwdIdentifier 01, 6..8 digits, retry counter 3, pukUsage 10, no SSEC limit.
  const pinSmc = pin({ name: 'PIN.SMC', id: 0x01, secret: spec.pin, puk: spec.puk, retries: 3, pukUsage: 10, minLength: 6, maxLength: 8 });
  if (persona.negative.blockedPins.includes('PIN.SMC')) pinSmc.retryCounter = 0;
  const PIN_SMC = pwd(0x01);

  const esign = df({
    name: 'DF.ESIGN',
    aid: AID.ESIGN,
    accessRules: folderRules(),
    children: [
      ef({ name: 'EF.C.HCI.OSIG.E256', fid: 0xc007, sfi: 0x07, data: cert('C.HCI.OSIG').certificate, size: 0x0bb8, accessRules: readRules() }),
      ef({ name: 'EF.C.HCI.AUT.E256', fid: 0xc506, sfi: 0x06, data: cert('C.HCI.AUT').certificate, size: 0x0bb8, accessRules: readRules() }),
      ef({ name: 'EF.C.HCI.ENC.E256', fid: 0xc205, sfi: 0x05, data: cert('C.HCI.ENC').certificate, size: 0x0bb8, accessRules: readRules() }),
      key({ name: 'PrK.HCI.OSIG.E256', id: 0x07, privateKey: cert('C.HCI.OSIG').privateKey, usage: 'signECDSA', accessRules: signingKeyRules(PIN_SMC) }),
      key({ name: 'PrK.HCI.AUT.E256', id: 0x06, privateKey: cert('C.HCI.AUT').privateKey, usage: 'signECDSA', accessRules: signingKeyRules(PIN_SMC) }),
      key({
        name: 'PrK.HCI.ENC.E256',
        id: 0x05,
        privateKey: cert('C.HCI.ENC').privateKey,
        usage: 'elcSharedSecretCalculation',
        accessRules: decipherKeyRules(PIN_SMC),
      }),
    ],
  });

  const root = mf({
    aid: AID.MF_SMCB,
    accessRules: folderRules(),
    children: [
      esign,
      ef({ name: 'EF.ATR', fid: 0x2f01, sfi: 0x1d, data: EF_ATR, accessRules: atrFileRules() }),
      efDir([AID.MF_SMCB, AID.ESIGN], 7, 19),
      ef({ name: 'EF.GDO', fid: 0x2f02, sfi: 0x02, data: gdoBody(persona.iccsn), size: 0x0c, accessRules: readRules() }),
      ef({ name: 'EF.Version2', fid: 0x2f11, sfi: 0x11, data: EF_VERSION2, size: 0x3c, accessRules: readRules() }),
      ef({ name: 'EF.C.CA_SMC.CS.E256', fid: 0x2f07, sfi: 0x07, size: 0xdc, accessRules: readRules() }),
      ef({ name: 'EF.C.SMC.AUTR_CVC.E256', fid: 0x2f06, sfi: 0x06, size: 0xde, accessRules: readRules() }),
      ef({ name: 'EF.C.SMC.AUTD_RPE_CVC.E256', fid: 0x2f09, sfi: 0x09, size: 0xde, accessRules: readRules() }),
      pinSmc,
      key({
        name: 'PrK.SMC.AUTR_CVC.E256',
        id: 0x06,
        privateKey: requireKey(identity.keys, 'PrK.SMC.AUTR_CVC.E256', persona.name),
        usage: 'elcRoleAuthentication',
        accessRules: roleAuthenticationKeyRules(PIN_SMC),
      }),
      key({
        name: 'PrK.SMC.AUTD_RPE_CVC.E256',
        id: 0x09,
        privateKey: requireKey(identity.keys, 'PrK.SMC.AUTD_RPE_CVC.E256', persona.name),
        usage: 'elcSessionkey4SM',
        accessRules: generalAuthenticateKeyRules(),
      }),
    ],
  });

  return objectSystem({ name: `SMC-B G2.1 – ${persona.name}`, atr: ATR['SMC-B'], root, iccsn8: iccsn8(persona.iccsn) });
}
