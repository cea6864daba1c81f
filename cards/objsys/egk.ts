/**
 * The G2.1 eGK object system of a persona (E256 objects), after the real test eGK image
 * shared/reference/card-images/IMG_eGK_G21_TU_root6.xml (gemSpec_eGK_ObjSys 4.5, PTV 4.5.2).
 *
 *   MF  D2760001448000 / 3F00
 *   ├── EF.ATR 2F01/1D · EF.CardAccess 011C/1C · EF.DIR 2F00/1E · EF.GDO 2F02/02 · EF.Version2 2F11/11
 *   ├── EF.C.CA_eGK.CS.E256 2F07/07 · EF.C.eGK.AUT_CVC.E256 2F06/06   (CV certificates: empty, no CVC PKI yet)
 *   ├── PIN.CH (01) · MRPIN.home (02 → PIN.CH)
 *   ├── PrK.eGK.AUT_CVC.E256 (key 09) · SK.CAN (02)
 *   ├── DF.HCA D27600000102: EF.PD D001/01 · EF.VD D002/02 · EF.GVD D003/03 · EF.StatusVD D00C/0C
 *   └── DF.ESIGN A000000167455349474E
 *       ├── EF.C.CH.AUT.E256 C504/04 · EF.C.CH.AUTN.E256 C50B/0B · EF.C.CH.ENC.E256 C205/05
 *       └── PrK.CH.AUT.E256 (04) · PrK.CH.AUTN.E256 (0B) · PrK.CH.ENC.E256 (05)
 *
 * Not modelled: the RSA objects (R2048), DF.NFD, DF.DPE, DF.GDD, DF.OSE, DF.AMTS, EF.Logging, EF.Version,
 * the other multireference PINs, EF.C.CH.ENCV and the CMS administration keys.
 */
import { df, ef, key, mf, mrpin, objectSystem, pin, rule } from '../os/builder';
import type { ObjectSystem } from '../os/model';
import type { CardIdentity } from '../identity';
import type { EgkPersona } from '../persona';
import {
  AID,
  ALWAYS,
  atrFileRules,
  CMD,
  folderRules,
  ATR,
  CARD_ACCESS,
  and,
  autChat,
  decipherKeyRules,
  efDir,
  gdoBody,
  iccsn8,
  or,
  pwd,
  readRules,
  requireKey,
  roleAuthenticationKeyRules,
  signingKeyRules,
  skCan,
} from './common';
import { vsdFiles } from './vsd';

/** EF.ATR and EF.Version2 of the G2.1 test eGK image (object system "EGK_G2.1", PTV 4.5.2). */
const EF_ATR =
  'E01102020809020300800202020809020208095F520C806605444573696D739621E0D003040300D210444567656D5F4E4F4E455F2020000001D310444567656D434F535F53494D20000100D41045474B5F47322E312020202020040502D610444567656D5F4E4F4E455F2020010000CF15000000000000000000000000000000000000000000';
const EF_VERSION2 = 'EF2BC003020000C103040502C21045474B5F47322E312020202020040502C403010000C503020000C703010000';

/** PWD(MRPIN.home) OR (PWD(PIN.CH) AND role from card-to-card authentication), as the image's rules read. */
const homeOrRole = (flags: string) => or(pwd(0x02), and(pwd(0x01), autChat(flags)));

export function buildEgkObjectSystem(persona: EgkPersona, identity: CardIdentity): ObjectSystem {
  const cert = (profile: string) => {
    const c = identity.certificates[profile];
    if (!c) throw new Error(`${persona.name}: the card identity has no ${profile} certificate`);
    return c;
  };
  const pinCh = persona.pins['PIN.CH'];
  const blocked = persona.negative.blockedPins.includes('PIN.CH');
  const vsd = vsdFiles(persona, new Date(`${persona.insurance.since ?? '2024-01-01'}T08:00:00Z`));

  const hca = df({
    name: 'DF.HCA',
    aid: AID.HCA,
    accessRules: folderRules(CMD.proprietary8082),
    children: [
      ef({ name: 'EF.PD', fid: 0xd001, sfi: 0x01, data: vsd.pd, size: Math.max(0x0352, vsd.pd.length), accessRules: readRules() }),
      ef({ name: 'EF.VD', fid: 0xd002, sfi: 0x02, data: vsd.vd, size: Math.max(0x04e2, vsd.vd.length), accessRules: readRules() }),
      ef({
        name: 'EF.GVD',
        fid: 0xd003,
        sfi: 0x03,
        data: vsd.gvd,
        size: Math.max(0x0258, vsd.gvd.length),
        accessRules: readRules(or(pwd(0x02), and(pwd(0x01), autChat('00000004000000')), autChat('00000002000000'))),
      }),
      ef({ name: 'EF.StatusVD', fid: 0xd00c, sfi: 0x0c, data: vsd.statusVd, size: 0x19, accessRules: readRules() }),
    ],
  });

  const esign = df({
    name: 'DF.ESIGN',
    aid: AID.ESIGN,
    accessRules: folderRules(CMD.proprietary8082),
    children: [
      ef({ name: 'EF.C.CH.AUT.E256', fid: 0xc504, sfi: 0x04, data: cert('C.CH.AUT').certificate, size: 0x076c, accessRules: readRules() }),
      ef({
        name: 'EF.C.CH.AUTN.E256',
        fid: 0xc50b,
        sfi: 0x0b,
        data: cert('C.CH.AUTN').certificate,
        size: 0x076c,
        accessRules: readRules(or(pwd(0x02), and(pwd(0x01), autChat('00800000000000')), autChat('00400000000000'))),
      }),
      ef({ name: 'EF.C.CH.ENC.E256', fid: 0xc205, sfi: 0x05, data: cert('C.CH.ENC').certificate, size: 0x076c, accessRules: readRules() }),
      key({
        name: 'PrK.CH.AUT.E256',
        id: 0x04,
        privateKey: cert('C.CH.AUT').privateKey,
        usage: 'signECDSA',
        accessRules: signingKeyRules(homeOrRole('00080000000000')),
      }),
      key({
        name: 'PrK.CH.AUTN.E256',
        id: 0x0b,
        privateKey: cert('C.CH.AUTN').privateKey,
        usage: 'signECDSA',
        accessRules: signingKeyRules(or(pwd(0x02), and(pwd(0x01), autChat('00800000000000')), autChat('00400000000000'))),
      }),
      key({
        name: 'PrK.CH.ENC.E256',
        id: 0x05,
        privateKey: cert('C.CH.ENC').privateKey,
        usage: 'elcSharedSecretCalculation',
        accessRules: decipherKeyRules(homeOrRole('00040000000000')),
      }),
    ],
  });

  const chPin = pin({ name: 'PIN.CH', id: 0x01, secret: pinCh.pin, puk: pinCh.puk, retries: 3, pukUsage: 10, minLength: 6, maxLength: 8 });
  if (blocked) chPin.retryCounter = 0;

  const root = mf({
    aid: AID.MF_EGK,
    accessRules: folderRules(CMD.fingerprint, CMD.proprietary8082),
    children: [
      hca,
      esign,
      ef({ name: 'EF.ATR', fid: 0x2f01, sfi: 0x1d, data: EF_ATR, size: 0x86, accessRules: atrFileRules() }),
      ef({ name: 'EF.CardAccess', fid: 0x011c, sfi: 0x1c, data: CARD_ACCESS, accessRules: readRules() }),
      ef({ name: 'EF.C.CA_eGK.CS.E256', fid: 0x2f07, sfi: 0x07, size: 0xdc, accessRules: readRules() }),
      ef({ name: 'EF.C.eGK.AUT_CVC.E256', fid: 0x2f06, sfi: 0x06, size: 0xde, accessRules: readRules() }),
      efDir([AID.MF_EGK, AID.HCA, AID.ESIGN], 0x0a, 0x14),
      ef({ name: 'EF.GDO', fid: 0x2f02, sfi: 0x02, data: gdoBody(persona.iccsn), size: 0x0c, accessRules: readRules() }),
      ef({ name: 'EF.Version2', fid: 0x2f11, sfi: 0x11, data: EF_VERSION2, size: 0x3c, accessRules: readRules() }),
      chPin,
      mrpin({ name: 'MRPIN.home', id: 0x02, passwordReference: 0x01 }),
      key({
        name: 'PrK.eGK.AUT_CVC.E256',
        id: 0x09,
        privateKey: requireKey(identity.keys, 'PrK.eGK.AUT_CVC.E256', persona.name),
        usage: ['elcAsynchronAdmin', 'elcRoleAuthentication', 'elcSessionkey4SM'],
        // INTERNAL AUTHENTICATE, GENERAL AUTHENTICATE and reading the public key: always (image)
        accessRules: [...roleAuthenticationKeyRules(ALWAYS), rule(CMD.generalAuthenticate, ALWAYS)],
      }),
      skCan(persona.can),
    ],
  });

  return objectSystem({ name: `eGK G2.1 – ${persona.name}`, atr: ATR.eGK, root, iccsn8: iccsn8(persona.iccsn) });
}
