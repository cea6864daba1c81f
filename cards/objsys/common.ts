/**
 * Building blocks shared by the G2.1 object systems of eGK, HBA and SMC-B (cards/objsys/{egk,hba,smcb}.ts).
 *
 * Access rules follow the contact interface, security environment #1, of the real G2.1 card images in
 * shared/reference/card-images (HBA, eGK) and gemSpec_SMC-B_ObjSys (SMC-B). Rules that only the card
 * management system can satisfy (UPDATE, DELETE, GENERATE … under CMS/CUpS secure messaging) are left out:
 * the card OS denies a command no rule matches, which is what those rules amount to without the CMS keys.
 * Rules that combine a PIN with a role from card-to-card authentication keep the role as an 'sm' condition
 * (never satisfied until the card OS implements it), so they behave as on the real card.
 */
import type { KeyObject } from 'node:crypto';
import { INS } from '../os/ins';
import { recordEf, rule } from '../os/builder';
import type { AccessCondition, AccessRule, CommandPattern, RecordFile, SymmetricKey } from '../os/model';

/**
 * Answers to reset. All three follow the G2.1 coding of the object-system specs (TS 3B, T0 Dx with TC1 FF,
 * TD1 81, TD2 B1, TA3 FE, TB3 45, TD3 1F, no historical bytes, TCK), with TA1/TA4 as seen on German health
 * cards (public ATR lists and a recorded SICCT card-terminal trace of an eGK).
 */
export const ATR = {
  eGK: Buffer.from('3BD097FF81B1FE451FC7EB', 'hex'),
  HBA: Buffer.from('3BD096FF81B1FE451F072A', 'hex'),
  'SMC-B': Buffer.from('3BD097FF81B1FE451F072B', 'hex'),
} as const;

/** Application identifiers (gemSpec_*_ObjSys; the HBA and eGK values are those of the real G2.1 images). */
export const AID = {
  MF_EGK: 'D2760001448000',
  MF_HBA: 'D27600014601',
  MF_SMCB: 'D27600014606',
  HCA: 'D27600000102',
  HPA: 'D27600014602',
  QES: 'D27600006601',
  ESIGN: 'A000000167455349474E',
} as const;

/** EF.CardAccess (PACE parameters: id-PACE-ECDH-GM-AES-CBC-CMAC-128, brainpoolP256r1), as on the G2.1 images. */
export const CARD_ACCESS = Buffer.from('31143012060A04007F0007020204020202010202010D', 'hex');

// ---------------------------------------------------------------------------
// Command patterns (CLA as in the images: 00 interindustry, 80 proprietary)
// ---------------------------------------------------------------------------

export const CMD = {
  readBinary: { cla: 0x00, ins: INS.READ_BINARY } as CommandPattern,
  writeBinary: { cla: 0x00, ins: 0xd0 } as CommandPattern,
  readRecord: { cla: 0x00, ins: INS.READ_RECORD } as CommandPattern,
  searchRecord: { cla: 0x00, ins: 0xa2 } as CommandPattern,
  getRandom: { cla: 0x80, ins: INS.GET_CHALLENGE, p1: 0x00, p2: 0x00 } as CommandPattern,
  /** FINGERPRINT (80 FA 00 00). */
  fingerprint: { cla: 0x80, ins: 0xfa, p1: 0x00, p2: 0x00 } as CommandPattern,
  /** The proprietary 80 82 (CLA 80 INS 82) the eGK image allows in its folders. */
  proprietary8082: { cla: 0x80, ins: 0x82 } as CommandPattern,
  /** GENERATE ASYMMETRIC KEY PAIR with P1 81: read the public key of an existing key pair. */
  readPublicKey: { cla: 0x00, ins: 0x46, p1: 0x81 } as CommandPattern,
  updateBinary: { cla: 0x00, ins: 0xd6 } as CommandPattern,
  eraseBinary: { cla: 0x00, ins: 0x0e } as CommandPattern,
  setLogicalEof: { cla: 0x80, ins: 0x0e } as CommandPattern,
  psoComputeDigitalSignature: { cla: 0x00, ins: INS.PERFORM_SECURITY_OPERATION, p1: 0x9e, p2: 0x9a } as CommandPattern,
  psoDecipher: { cla: 0x00, ins: INS.PERFORM_SECURITY_OPERATION, p1: 0x80, p2: 0x86 } as CommandPattern,
  psoTranscipher: { cla: 0x00, ins: INS.PERFORM_SECURITY_OPERATION, p1: 0x86, p2: 0xb8 } as CommandPattern,
  internalAuthenticate: { cla: 0x00, ins: INS.INTERNAL_AUTHENTICATE, p1: 0x00, p2: 0x00 } as CommandPattern,
  generalAuthenticate: { ins: INS.GENERAL_AUTHENTICATE } as CommandPattern,
};

// ---------------------------------------------------------------------------
// Conditions
// ---------------------------------------------------------------------------

export const ALWAYS: AccessCondition = { kind: 'always' };

/** PWD(ref): ref coded as P2 of VERIFY (0x01 global PIN 1, 0x81 DF-specific PIN 1). */
export function pwd(ref: number): AccessCondition {
  return { kind: 'pin', pwdRef: ref };
}

/** A role from card-to-card authentication (AUTCHAT with a flag list of gemSpec_PKI). */
export function autChat(flagList: string): AccessCondition {
  return { kind: 'sm', detail: `AUTCHAT(cvc_FlagList_TI:${flagList})` };
}

export function or(...of: AccessCondition[]): AccessCondition {
  return { kind: 'or', of };
}

export function and(...of: AccessCondition[]): AccessCondition {
  return { kind: 'and', of };
}

// ---------------------------------------------------------------------------
// Access rules of the usual object kinds
// ---------------------------------------------------------------------------

/** READ BINARY under `cond` (certificate files, EF.GDO, EF.Version2 …). */
export function readRules(cond: AccessCondition = ALWAYS): AccessRule[] {
  return [rule(CMD.readBinary, cond)];
}

/** Every private key of the G2.1 cards lets anyone read its public key (GENERATE ASYMMETRIC KEY PAIR, P1 81). */
const READ_PUBLIC_KEY = rule(CMD.readPublicKey, ALWAYS);

/** A signing key (signECDSA): PSO COMPUTE DIGITAL SIGNATURE under `cond`. */
export function signingKeyRules(cond: AccessCondition): AccessRule[] {
  return [READ_PUBLIC_KEY, rule(CMD.psoComputeDigitalSignature, cond)];
}

/** A decryption key (elcSharedSecretCalculation): PSO DECIPHER and PSO TRANSCIPHER under `cond`. */
export function decipherKeyRules(cond: AccessCondition): AccessRule[] {
  return [READ_PUBLIC_KEY, rule([CMD.psoDecipher, CMD.psoTranscipher], cond)];
}

/** A card-to-card role-authentication key (elcRoleAuthentication): INTERNAL AUTHENTICATE under `cond`. */
export function roleAuthenticationKeyRules(cond: AccessCondition): AccessRule[] {
  return [READ_PUBLIC_KEY, rule(CMD.internalAuthenticate, cond)];
}

/** A key for session-key negotiation or asynchronous administration: GENERAL AUTHENTICATE always. */
export function generalAuthenticateKeyRules(): AccessRule[] {
  return [READ_PUBLIC_KEY, rule(CMD.generalAuthenticate, ALWAYS)];
}

/** A folder: GET RANDOM always, plus further always-allowed commands of the image. */
export function folderRules(...more: CommandPattern[]): AccessRule[] {
  return [rule([CMD.getRandom, ...more], ALWAYS)];
}

/** EF.ATR: READ BINARY and WRITE BINARY always, as in the G2.1 images. */
export function atrFileRules(): AccessRule[] {
  return [rule([CMD.readBinary, CMD.writeBinary], ALWAYS)];
}

// ---------------------------------------------------------------------------
// Files with computed content
// ---------------------------------------------------------------------------

/** ICCSN as 10 BCD bytes. */
export function iccsnBytes(iccsn: string): Buffer {
  if (!/^\d{20}$/.test(iccsn)) throw new Error(`ICCSN must be 20 digits, got "${iccsn}"`);
  return Buffer.from(iccsn, 'hex');
}

/** EF.GDO body: the ICCSN data object, tag 5A (gemSpec_Karten_Fach_TIP). */
export function gdoBody(iccsn: string): Buffer {
  return Buffer.concat([Buffer.from([0x5a, 0x0a]), iccsnBytes(iccsn)]);
}

/** iccsn8 of the object system: the last eight octets of the EF.GDO body. */
export function iccsn8(iccsn: string): Buffer {
  return iccsnBytes(iccsn).subarray(2);
}

/** One EF.DIR record: 61 L { 4F L AID } (application template, ISO/IEC 7816-4). */
export function dirRecord(aidHex: string): Buffer {
  const aid = Buffer.from(aidHex, 'hex');
  return Buffer.concat([Buffer.from([0x61, aid.length + 2, 0x4f, aid.length]), aid]);
}

/** MF / EF.DIR (FID 2F00, SFI 1E): one record per application, the MF first; READ/SEARCH RECORD always. */
export function efDir(aids: string[], maxRecords: number, maxRecordLength: number): RecordFile {
  return recordEf({
    name: 'EF.DIR',
    fid: 0x2f00,
    sfi: 0x1e,
    structure: 'linearVariable',
    records: aids.map(dirRecord),
    maxRecords,
    maxRecordLength,
    accessRules: [rule([CMD.readRecord, CMD.searchRecord], ALWAYS)],
  });
}

/** SK.CAN (key 02): the card access number for PACE on the contactless interface. */
export function skCan(can: string): SymmetricKey {
  return {
    kind: 'symmetricKey',
    name: 'SK.CAN',
    lifeCycle: 'activated',
    id: 0x02,
    algorithm: 'id-PACE-ECDH-GM-AES-CBC-CMAC-128',
    can,
    accessRules: [rule(CMD.generalAuthenticate, ALWAYS)],
  };
}

/** The private key of `name` from the identity, or a clear error. */
export function requireKey(keys: Record<string, KeyObject>, name: string, persona: string): KeyObject {
  const k = keys[name];
  if (!k) throw new Error(`${persona}: the card identity has no key ${name}`);
  return k;
}
