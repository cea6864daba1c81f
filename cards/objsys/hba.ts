/**
 * The G2.1 HBA object system of a persona (E256 objects), after the real test HBA image
 * shared/reference/card-images/HBA_80276883110000220885_gema5.xml (HBA object system PTV 4.7.1).
 *
 *   MF  D27600014601 / 3F00
 *   ├── EF.ATR 2F01/1D · EF.CardAccess 011C/1C · EF.DIR 2F00/1E · EF.GDO 2F02/02 · EF.Version2 2F11/11
 *   ├── EF.C.CA_HPC.CS.E256 2F07/07 · EF.C.HPC.AUTR_CVC.E256 2F06/06 · EF.C.HPC.AUTD_SUK_CVC.E256 2F09/09  (empty)
 *   ├── PIN.CH (01) · PrK.HPC.AUTR_CVC.E256 (06) · PrK.HPC.AUTD_SUK_CVC.E256 (09) · SK.CAN (02)
 *   ├── DF.HPA D27600014602: EF.HPD D001/01
 *   ├── DF.QES D27600006601
 *   │   ├── EF.SSEC D005/05 · EF.C.HP.QES.E256 C006/06
 *   │   └── PIN.QES (DF-specific 81, 250 signatures per VERIFY) · PrK.HP.QES.E256 (DF-specific 86)
 *   └── DF.ESIGN A000000167455349474E
 *       ├── EF.C.HP.AUT.E256 C506/06 · EF.C.HP.ENC.E256 C205/05
 *       └── PrK.HP.AUT.E256 (06) · PrK.HP.ENC.E256 (05)
 *
 * Not modelled: the RSA objects (R2048), the unused SIG keys, DF.CIA.QES, DF.CIA.ESIGN, DF.AUTO and the CMS
 * administration keys.
 */
import { df, ef, key, mf, objectSystem, pin, rule } from '../os/builder';
import type { AccessRule, ObjectSystem } from '../os/model';
import type { CardIdentity } from '../identity';
import type { HbaPersona } from '../persona';
import {
  AID,
  ATR,
  CARD_ACCESS,
  CMD,
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
  skCan,
} from './common';

/** EF.ATR and EF.Version2 of the G2.1 test HBA image (object system "HBA_G2.1", PTV 4.7.1). */
const EF_ATR =
  'E01102020409020300800202020409020204095F520C806605444573696D739621F3D003040300D210444567656D5F4E4F4E455F2020000001D310444567656D434F535F53494D20000100D4104842415F47322E312020202020040701D610444567656D5F4E4F4E455F2020010000CF15000000000000000000000000000000000000000000';
const EF_VERSION2 = 'EF26C003020000C103040701C2104842415F47322E312020202020040701C403010000C503020000';
/**
 * EF.SSEC of the image: for security environments 1 and 2, DF.QES (AID D27600006601), password 81 (PIN.QES),
 * 250 signatures per successful VERIFY (batch signature in SE#1, comfort signature in SE#2).
 */
const EF_SSEC = '7B2C800101A4118206D27600006601830181950108C001FA800102A4118206D27600006601830181950108C001FA';
/** startSSecList of PIN.QES in SE#1. */
export const QES_SIGNATURES_PER_VERIFY = 250;

/**
 * PIN.QES in SE#1 of the image: VERIFY, GET PIN STATUS, CHANGE REFERENCE DATA (P1 00) and RESET RETRY COUNTER
 * with the PUK only (P1 01) — no reset that sets a new PIN with the PUK (P1 00), unlike PIN.CH.
 */
const PIN_QES_RULES: AccessRule[] = [
  rule(
    [
      { cla: 0x00, ins: 0x20, p1: 0x00 },
      { cla: 0x80, ins: 0x20, p1: 0x00 },
      { cla: 0x00, ins: 0x24, p1: 0x00 },
      { cla: 0x00, ins: 0x2c, p1: 0x01 },
    ],
    'always',
  ),
];

/** The DF-specific bit of password and key references (gemSpec_COS): 0x81 = PIN.QES seen from DF.QES. */
const DF_SPECIFIC = 0x80;

export function buildHbaObjectSystem(persona: HbaPersona, identity: CardIdentity): ObjectSystem {
  const cert = (profile: string) => {
    const c = identity.certificates[profile];
    if (!c) throw new Error(`${persona.name}: the card identity has no ${profile} certificate`);
    return c;
  };
  const userPin = (name: 'PIN.CH' | 'PIN.QES', id: number, ssecLimit?: number, accessRules?: AccessRule[]) => {
    const spec = persona.pins[name];
    const p = pin({ name, id, secret: spec.pin, puk: spec.puk, retries: 3, pukUsage: 10, minLength: 6, maxLength: 8, ssecLimit, accessRules });
    if (persona.negative.blockedPins.includes(name)) p.retryCounter = 0;
    return p;
  };

  const qes = df({
    name: 'DF.QES',
    aid: AID.QES,
    accessRules: folderRules(),
    children: [
      ef({ name: 'EF.SSEC', fid: 0xd005, sfi: 0x05, data: EF_SSEC, size: 0x2e, accessRules: readRules() }),
      ef({ name: 'EF.C.HP.QES.E256', fid: 0xc006, sfi: 0x06, data: cert('C.HP.QES').certificate, size: 0x0bb8, accessRules: readRules() }),
      userPin('PIN.QES', 0x01, QES_SIGNATURES_PER_VERIFY, PIN_QES_RULES),
      key({
        name: 'PrK.HP.QES.E256',
        id: 0x06,
        privateKey: cert('C.HP.QES').privateKey,
        usage: 'signECDSA',
        accessRules: signingKeyRules(pwd(DF_SPECIFIC | 0x01)),
      }),
    ],
  });

  const esign = df({
    name: 'DF.ESIGN',
    aid: AID.ESIGN,
    accessRules: folderRules(),
    children: [
      ef({ name: 'EF.C.HP.AUT.E256', fid: 0xc506, sfi: 0x06, data: cert('C.HP.AUT').certificate, size: 0x0bb8, accessRules: readRules() }),
      ef({ name: 'EF.C.HP.ENC.E256', fid: 0xc205, sfi: 0x05, data: cert('C.HP.ENC').certificate, size: 0x0bb8, accessRules: readRules() }),
      key({ name: 'PrK.HP.AUT.E256', id: 0x06, privateKey: cert('C.HP.AUT').privateKey, usage: 'signECDSA', accessRules: signingKeyRules(pwd(0x01)) }),
      key({
        name: 'PrK.HP.ENC.E256',
        id: 0x05,
        privateKey: cert('C.HP.ENC').privateKey,
        usage: 'elcSharedSecretCalculation',
        accessRules: decipherKeyRules(pwd(0x01)),
      }),
    ],
  });

  const hpa = df({
    name: 'DF.HPA',
    aid: AID.HPA,
    accessRules: folderRules(),
    children: [
      ef({
        name: 'EF.HPD',
        fid: 0xd001,
        sfi: 0x01,
        size: 0x0800,
        // the holder may write the HPD with PIN.CH
        accessRules: [...readRules(), rule([CMD.eraseBinary, CMD.setLogicalEof, CMD.updateBinary, CMD.writeBinary], pwd(0x01))],
      }),
    ],
  });

  const root = mf({
    aid: AID.MF_HBA,
    accessRules: folderRules(CMD.fingerprint),
    children: [
      hpa,
      qes,
      esign,
      ef({ name: 'EF.ATR', fid: 0x2f01, sfi: 0x1d, data: EF_ATR, size: 0x86, accessRules: atrFileRules() }),
      ef({ name: 'EF.CardAccess', fid: 0x011c, sfi: 0x1c, data: CARD_ACCESS, accessRules: readRules() }),
      efDir([AID.MF_HBA, AID.HPA, AID.QES, AID.ESIGN], 0x0a, 0x20),
      ef({ name: 'EF.GDO', fid: 0x2f02, sfi: 0x02, data: gdoBody(persona.iccsn), size: 0x0c, accessRules: readRules() }),
      ef({ name: 'EF.Version2', fid: 0x2f11, sfi: 0x11, data: EF_VERSION2, size: 0x3c, accessRules: readRules() }),
      ef({ name: 'EF.C.CA_HPC.CS.E256', fid: 0x2f07, sfi: 0x07, size: 0xdc, accessRules: readRules() }),
      ef({ name: 'EF.C.HPC.AUTR_CVC.E256', fid: 0x2f06, sfi: 0x06, size: 0xde, accessRules: readRules() }),
      ef({ name: 'EF.C.HPC.AUTD_SUK_CVC.E256', fid: 0x2f09, sfi: 0x09, size: 0xde, accessRules: readRules() }),
      userPin('PIN.CH', 0x01),
      key({
        name: 'PrK.HPC.AUTR_CVC.E256',
        id: 0x06,
        privateKey: requireKey(identity.keys, 'PrK.HPC.AUTR_CVC.E256', persona.name),
        usage: 'elcRoleAuthentication',
        accessRules: roleAuthenticationKeyRules(pwd(0x01)),
      }),
      key({
        name: 'PrK.HPC.AUTD_SUK_CVC.E256',
        id: 0x09,
        privateKey: requireKey(identity.keys, 'PrK.HPC.AUTD_SUK_CVC.E256', persona.name),
        usage: ['elcAsynchronAdmin', 'elcSessionkey4SM'],
        accessRules: generalAuthenticateKeyRules(),
      }),
      ...(persona.can ? [skCan(persona.can)] : []),
    ],
  });

  return objectSystem({ name: `HBA G2.1 – ${persona.name}`, atr: ATR.HBA, root, iccsn8: iccsn8(persona.iccsn) });
}
