// The object-system data model of the simulated card operating system.
//
// An object system is a tree of folders (MF, DF) holding elementary files,
// passwords (PINs), keys and access rules, as described by gemSpec_COS and the
// card-specific object-system specifications (gemSpec_eGK_ObjSys,
// gemSpec_HBA_ObjSys, gemSpec_SMC-B_ObjSys). The model is plain data: it is
// built either in code (cards/os/builder.ts) or from a gematik card-image XML
// (cards/image/). CardOs (cards/os/card.ts) executes APDUs on it and keeps its
// volatile security state separately, so one model can back several cards
// only if it is cloned first (cloneObjectSystem).

import type { KeyObject } from 'node:crypto';

// ---------------------------------------------------------------- access rules

/**
 * One command pattern of an access rule: INS is required; CLA, P1 and P2 are
 * wildcards when undefined (the card image's "??"). CLA is compared after the
 * logical-channel bits are removed.
 */
export interface CommandPattern {
  cla?: number;
  ins: number;
  p1?: number;
  p2?: number;
}

/**
 * An access condition, simplified from gemSpec_COS:
 * - always / never: ALW / NEV
 * - pin: the password with this reference is in the security status; the
 *   reference is coded like P2 of VERIFY: bit 0x80 set = DF-specific (searched
 *   from the protected object's folder towards the MF), clear = global (in the MF)
 * - sm: secure messaging (SMMAC, SMCMDENC, SMRSPENC) or a role from an external
 *   authentication (AUT, AUTCHAT): never satisfied until secure messaging and
 *   EXTERNAL AUTHENTICATE exist; kept so imported images stay faithful
 * - and / or: combinations
 */
export type AccessCondition =
  | { kind: 'always' }
  | { kind: 'never' }
  | { kind: 'pin'; pwdRef: number }
  | { kind: 'sm'; detail: string }
  | { kind: 'and'; of: AccessCondition[] }
  | { kind: 'or'; of: AccessCondition[] };

/** Commands matching any of `commands` are allowed when `condition` holds. */
export interface AccessRule {
  commands: CommandPattern[];
  condition: AccessCondition;
}

export type LifeCycleStatus = 'activated' | 'deactivated' | 'terminated';

interface ObjectBase {
  /** Human-readable name, e.g. "EF.GDO" or "PIN.CH". */
  name?: string;
  lifeCycle: LifeCycleStatus;
  /**
   * Access rules of the object. A command is allowed when a rule whose pattern
   * matches it has a satisfied condition; a command matched by no rule is
   * denied (6982), as gemSpec_COS does.
   */
  accessRules: AccessRule[];
}

// ---------------------------------------------------------------- files

export interface DedicatedFile extends ObjectBase {
  kind: 'df';
  /** File identifier (MF: 0x3F00). */
  fid?: number;
  /** Application identifier (DF name), 5..16 bytes. */
  aid?: Buffer;
  /** shareable attribute (FCP file descriptor bit 0x40); default true. */
  shareable?: boolean;
  children: CardObject[];
}

export interface TransparentFile extends ObjectBase {
  kind: 'ef';
  structure: 'transparent';
  fid: number;
  sfi?: number;
  shareable?: boolean;
  /** Body up to the logical end of file (positionLogicalEndOfFile). */
  data: Buffer;
  /** Allocated size in bytes (numberOfOctet); at least data.length. */
  size: number;
}

export interface RecordFile extends ObjectBase {
  kind: 'ef';
  structure: 'linearFixed' | 'linearVariable' | 'cyclic';
  fid: number;
  sfi?: number;
  shareable?: boolean;
  /** Records in order; record number n is records[n - 1]. */
  records: Buffer[];
  maxRecords: number;
  maxRecordLength: number;
}

export type ElementaryFile = TransparentFile | RecordFile;

// ---------------------------------------------------------------- passwords

/** transportStatus of gemSpec_COS: regularPassword, transportPIN, Leer-PIN. */
export type TransportStatus = 'regular' | 'transport' | 'empty';

/** A password object (PWD) with its own secret and retry counter. */
export interface Password extends ObjectBase {
  kind: 'password';
  /** pwdIdentifier, 1..31 (P2 of VERIFY without the DF-specific bit 0x80). */
  id: number;
  /** The PIN as ASCII digits. */
  secret: string;
  /** Remaining wrong presentations before the password is blocked. */
  retryCounter: number;
  /** startRetryCounter: the value after a successful VERIFY or unblock. */
  maxRetries: number;
  /** PUK digits; undefined = no RESET RETRY COUNTER possible. */
  puk?: string;
  /** Remaining uses of the PUK (pukUsage). */
  pukUsage: number;
  transportStatus: TransportStatus;
  minLength: number;
  maxLength: number;
  /** flagEnabled: a disabled password does not need to be verified (GET PIN STATUS 62D0). */
  enabled: boolean;
  /**
   * Comfort-signature limit (startSSecList of security environment #1):
   * how many PSO COMPUTE DIGITAL SIGNATURE one VERIFY allows; undefined = unlimited.
   */
  ssecLimit?: number;
}

/**
 * A multi-reference password (MultireferencePWD): its own identifier and
 * security status, but the secret and retry counter of another password.
 */
export interface MultireferencePassword extends ObjectBase {
  kind: 'mrpassword';
  id: number;
  /** pwdIdentifier of the password whose secret is used (searched like PWD references). */
  passwordReference: number;
  enabled: boolean;
  ssecLimit?: number;
}

// ---------------------------------------------------------------- keys

/** Algorithm names of gemSpec_COS (listAlgorithmIdentifier). */
export type KeyAlgorithm =
  | 'signECDSA'
  | 'signPKCS1_V1_5'
  | 'signPSS'
  | 'sign9796_2_DS2'
  | 'rsaClientAuthentication'
  | 'rsaDecipherOaep'
  | 'elcSharedSecretCalculation'
  | 'elcRoleAuthentication'
  | 'elcAsynchronAdmin'
  | 'elcSessionkey4SM'
  | 'elcSessionkey4TC';

/** A private key object (PrivateElcKey, PrivateRsaKey). */
export interface PrivateKey extends ObjectBase {
  kind: 'privateKey';
  /** keyIdentifier, 1..31 (tag 84 of MSE SET, without the DF-specific bit 0x80). */
  id: number;
  keyType: 'ec' | 'rsa';
  /** undefined when the image says keyAvailable = FALSE. */
  key?: KeyObject;
  algorithms: KeyAlgorithm[];
}

/**
 * A persistent public key: 'verification' keys (PublicElcVerificationKey)
 * verify CV certificates (PSO VERIFY CERTIFICATE), 'authentication' keys
 * (PublicElcAuthenticationKey) check an EXTERNAL AUTHENTICATE.
 */
export interface PublicKey extends ObjectBase {
  kind: 'publicKey';
  usage: 'verification' | 'authentication';
  /** Key reference, the 8-byte CHR (e.g. "DEGXX" 87 02 22) or 0x00…13. */
  reference: Buffer;
  key?: KeyObject;
  /** Certificate holder authorisation (CHAT) as in the image, opaque. */
  chat?: string;
  expirationDate?: Buffer;
}

/** A symmetric key (SymmetricAutKey, SymmetricConnectionKey), kept for structure only. */
export interface SymmetricKey extends ObjectBase {
  kind: 'symmetricKey';
  id: number;
  algorithm: string;
  /** For PACE connection keys (SK.CAN): the CAN. */
  can?: string;
  /** Key material of SymmetricAutKey objects (for secure messaging, not used yet). */
  encKey?: Buffer;
  macKey?: Buffer;
}

export type CardObject =
  | DedicatedFile
  | ElementaryFile
  | Password
  | MultireferencePassword
  | PrivateKey
  | PublicKey
  | SymmetricKey;

// ---------------------------------------------------------------- the whole card

export interface ObjectSystem {
  /** Human-readable name of the object system. */
  name: string;
  /** ATR sent on power-on (coldAnswerToReset). */
  atr: Buffer;
  /** ATR after a warm reset; defaults to atr. */
  warmAtr?: Buffer;
  /** The MF (root folder). */
  root: DedicatedFile;
  /** ICCSN (8 bytes), informational. */
  iccsn8?: Buffer;
}

// ---------------------------------------------------------------- helpers

export function isFolder(o: CardObject): o is DedicatedFile {
  return o.kind === 'df';
}

export function isElementaryFile(o: CardObject): o is ElementaryFile {
  return o.kind === 'ef';
}

/** Deep copy of an object system (KeyObjects are immutable and shared). */
export function cloneObjectSystem(os: ObjectSystem): ObjectSystem {
  return {
    ...os,
    atr: Buffer.from(os.atr),
    warmAtr: os.warmAtr ? Buffer.from(os.warmAtr) : undefined,
    iccsn8: os.iccsn8 ? Buffer.from(os.iccsn8) : undefined,
    root: cloneObject(os.root) as DedicatedFile,
  };
}

function cloneObject(o: CardObject): CardObject {
  const rules = o.accessRules.map((r) => ({ commands: r.commands.map((c) => ({ ...c })), condition: r.condition }));
  switch (o.kind) {
    case 'df':
      return { ...o, accessRules: rules, aid: o.aid ? Buffer.from(o.aid) : undefined, children: o.children.map(cloneObject) };
    case 'ef':
      return o.structure === 'transparent'
        ? { ...o, accessRules: rules, data: Buffer.from(o.data) }
        : { ...o, accessRules: rules, records: o.records.map((r) => Buffer.from(r)) };
    case 'publicKey':
      return { ...o, accessRules: rules, reference: Buffer.from(o.reference) };
    default:
      return { ...o, accessRules: rules };
  }
}
