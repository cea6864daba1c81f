// A small builder API to assemble object systems in code, e.g.
//
//   const os = objectSystem({
//     name: 'test card',
//     atr: Buffer.from('3B8880010000000000000000', 'hex'),
//     root: mf({
//       aid: 'D2760001448000',
//       children: [
//         ef({ fid: 0x2f02, sfi: 0x02, data: gdo }),
//         pin({ id: 0x01, secret: '123456', puk: '12345678' }),
//         df({ aid: 'A000000167455349474E', children: [
//           key({ id: 0x04, privateKey, usage: 'signECDSA', use: { pin: 0x01 } }),
//         ] }),
//       ],
//     }),
//   });
//
// Defaults follow the G2 object systems: files are readable always and never
// updatable, PIN commands are always allowed, keys are usable always unless
// `use` says otherwise.

import type { KeyObject } from 'node:crypto';
import { INS } from './ins';
import type {
  AccessCondition,
  AccessRule,
  CardObject,
  CommandPattern,
  DedicatedFile,
  KeyAlgorithm,
  MultireferencePassword,
  ObjectSystem,
  Password,
  PrivateKey,
  PublicKey,
  RecordFile,
  TransparentFile,
  TransportStatus,
} from './model';

/**
 * Friendly access specification: 'always', 'never', one PIN, any of several PINs, or a full condition.
 * PIN references are coded like P2 of VERIFY: 0x01 = global PIN 1 (in the MF), 0x81 = DF-specific PIN 1.
 */
export type AccessSpec = 'always' | 'never' | { pin: number } | { anyPin: number[] } | { allPins: number[] } | AccessCondition;

export function condition(spec: AccessSpec): AccessCondition {
  if (spec === 'always') return { kind: 'always' };
  if (spec === 'never') return { kind: 'never' };
  if ('pin' in spec) return { kind: 'pin', pwdRef: spec.pin };
  if ('anyPin' in spec) return { kind: 'or', of: spec.anyPin.map((p) => ({ kind: 'pin', pwdRef: p }) as AccessCondition) };
  if ('allPins' in spec) return { kind: 'and', of: spec.allPins.map((p) => ({ kind: 'pin', pwdRef: p }) as AccessCondition) };
  return spec;
}

export function rule(commands: CommandPattern | CommandPattern[], spec: AccessSpec): AccessRule {
  return { commands: Array.isArray(commands) ? commands : [commands], condition: condition(spec) };
}

function hexOrBuffer(v: Buffer | string | undefined): Buffer | undefined {
  if (v === undefined) return undefined;
  if (Buffer.isBuffer(v)) return Buffer.from(v);
  const clean = v.replace(/\s+/g, '');
  if (!/^([0-9a-fA-F]{2})*$/.test(clean)) throw new Error(`not a hex string: ${v}`);
  return Buffer.from(clean, 'hex');
}

function checkRange(what: string, v: number, min: number, max: number): void {
  if (!Number.isInteger(v) || v < min || v > max) throw new RangeError(`${what} must be an integer in ${min}..${max}, got ${v}`);
}

// ---------------------------------------------------------------- folders

export interface FolderOptions {
  name?: string;
  aid?: Buffer | string;
  fid?: number;
  children?: CardObject[];
  accessRules?: AccessRule[];
  shareable?: boolean;
}

export function df(opts: FolderOptions): DedicatedFile {
  const aid = hexOrBuffer(opts.aid);
  if (aid && (aid.length < 5 || aid.length > 16)) throw new RangeError(`AID must have 5..16 bytes, got ${aid.length}`);
  if (opts.fid !== undefined) checkRange('FID', opts.fid, 0, 0xffff);
  if (!aid && opts.fid === undefined) throw new Error('a DF needs an AID or a FID');
  return {
    kind: 'df',
    name: opts.name,
    lifeCycle: 'activated',
    aid,
    fid: opts.fid,
    shareable: opts.shareable ?? true,
    children: opts.children ?? [],
    accessRules: opts.accessRules ?? [],
  };
}

/** The MF (FID 3F00); by default GET RANDOM (80 84) is allowed always, as on the G2 cards. */
export function mf(opts: Omit<FolderOptions, 'fid'> = {}): DedicatedFile {
  return df({
    ...opts,
    name: opts.name ?? 'MF',
    fid: 0x3f00,
    accessRules: opts.accessRules ?? [rule({ cla: 0x80, ins: INS.GET_CHALLENGE, p1: 0x00, p2: 0x00 }, 'always')],
  });
}

// ---------------------------------------------------------------- files

export interface TransparentOptions {
  name?: string;
  fid: number;
  sfi?: number;
  data?: Buffer | string;
  /** Allocated size (numberOfOctet), default data length. */
  size?: number;
  read?: AccessSpec;
  update?: AccessSpec;
  accessRules?: AccessRule[];
}

const READ_BINARY: CommandPattern = { cla: 0x00, ins: INS.READ_BINARY };
const UPDATE_BINARY: CommandPattern = { cla: 0x00, ins: 0xd6 };
const READ_RECORD: CommandPattern = { cla: 0x00, ins: INS.READ_RECORD };

export function ef(opts: TransparentOptions): TransparentFile {
  checkRange('FID', opts.fid, 0, 0xffff);
  if (opts.sfi !== undefined) checkRange('SFI', opts.sfi, 1, 30);
  const data = hexOrBuffer(opts.data) ?? Buffer.alloc(0);
  const size = opts.size ?? data.length;
  if (size < data.length) throw new RangeError(`size ${size} is smaller than the data (${data.length} bytes)`);
  return {
    kind: 'ef',
    structure: 'transparent',
    name: opts.name,
    lifeCycle: 'activated',
    fid: opts.fid,
    sfi: opts.sfi,
    shareable: true,
    data,
    size,
    accessRules: opts.accessRules ?? [rule(READ_BINARY, opts.read ?? 'always'), rule(UPDATE_BINARY, opts.update ?? 'never')],
  };
}

export interface RecordOptions {
  name?: string;
  fid: number;
  sfi?: number;
  structure?: RecordFile['structure'];
  records: Array<Buffer | string>;
  maxRecords?: number;
  maxRecordLength?: number;
  read?: AccessSpec;
  accessRules?: AccessRule[];
}

export function recordEf(opts: RecordOptions): RecordFile {
  checkRange('FID', opts.fid, 0, 0xffff);
  if (opts.sfi !== undefined) checkRange('SFI', opts.sfi, 1, 30);
  const records = opts.records.map((r) => hexOrBuffer(r) as Buffer);
  return {
    kind: 'ef',
    structure: opts.structure ?? 'linearVariable',
    name: opts.name,
    lifeCycle: 'activated',
    fid: opts.fid,
    sfi: opts.sfi,
    shareable: true,
    records,
    maxRecords: opts.maxRecords ?? Math.max(1, records.length),
    maxRecordLength: opts.maxRecordLength ?? Math.max(1, ...records.map((r) => r.length)),
    accessRules: opts.accessRules ?? [rule(READ_RECORD, opts.read ?? 'always')],
  };
}

// ---------------------------------------------------------------- passwords

export interface PinOptions {
  name?: string;
  id: number;
  secret: string;
  /** Retry counter start value, default 3. */
  retries?: number;
  puk?: string;
  /** How often the PUK may be used, default 10. */
  pukUsage?: number;
  transport?: TransportStatus;
  minLength?: number;
  maxLength?: number;
  ssecLimit?: number;
  enabled?: boolean;
  accessRules?: AccessRule[];
}

/** The PIN commands (VERIFY, GET PIN STATUS, CHANGE REFERENCE DATA, RESET RETRY COUNTER), always allowed. */
export function pinCommandRules(): AccessRule[] {
  return [
    rule(
      [
        { cla: 0x00, ins: INS.VERIFY },
        { cla: 0x80, ins: INS.VERIFY },
        { cla: 0x00, ins: INS.CHANGE_REFERENCE_DATA },
        { cla: 0x00, ins: INS.RESET_RETRY_COUNTER },
      ],
      'always',
    ),
  ];
}

function checkDigits(what: string, s: string, min: number, max: number): void {
  if (!/^[0-9]*$/.test(s) || s.length < min || s.length > max) throw new RangeError(`${what} must be ${min}..${max} digits`);
}

export function pin(opts: PinOptions): Password {
  checkRange('PIN id', opts.id, 1, 31);
  const minLength = opts.minLength ?? 6;
  const maxLength = opts.maxLength ?? 8;
  checkDigits('PIN secret', opts.secret, opts.transport === 'empty' ? 0 : 4, 12);
  if (opts.puk !== undefined) checkDigits('PUK', opts.puk, 4, 12);
  const retries = opts.retries ?? 3;
  checkRange('retries', retries, 1, 15);
  return {
    kind: 'password',
    name: opts.name,
    lifeCycle: 'activated',
    id: opts.id,
    secret: opts.secret,
    retryCounter: retries,
    maxRetries: retries,
    puk: opts.puk,
    pukUsage: opts.puk === undefined ? 0 : (opts.pukUsage ?? 10),
    transportStatus: opts.transport ?? 'regular',
    minLength,
    maxLength,
    enabled: opts.enabled ?? true,
    ssecLimit: opts.ssecLimit,
    accessRules: opts.accessRules ?? pinCommandRules(),
  };
}

export interface MrPinOptions {
  name?: string;
  id: number;
  passwordReference: number;
  enabled?: boolean;
  ssecLimit?: number;
  accessRules?: AccessRule[];
}

export function mrpin(opts: MrPinOptions): MultireferencePassword {
  checkRange('PIN id', opts.id, 1, 31);
  checkRange('password reference', opts.passwordReference, 1, 31);
  return {
    kind: 'mrpassword',
    name: opts.name,
    lifeCycle: 'activated',
    id: opts.id,
    passwordReference: opts.passwordReference,
    enabled: opts.enabled ?? true,
    ssecLimit: opts.ssecLimit,
    accessRules: opts.accessRules ?? pinCommandRules(),
  };
}

// ---------------------------------------------------------------- keys

export interface KeyOptions {
  name?: string;
  id: number;
  /** undefined = key not (yet) generated (keyAvailable = FALSE). */
  privateKey?: KeyObject;
  usage: KeyAlgorithm | KeyAlgorithm[];
  /** Who may use the key (PSO, INTERNAL AUTHENTICATE, GENERAL AUTHENTICATE); default 'always'. */
  use?: AccessSpec;
  accessRules?: AccessRule[];
}

/** The commands that use a private key. */
export const KEY_USE_COMMANDS: CommandPattern[] = [
  { cla: 0x00, ins: INS.PERFORM_SECURITY_OPERATION },
  { cla: 0x00, ins: INS.INTERNAL_AUTHENTICATE },
  { ins: INS.GENERAL_AUTHENTICATE },
];

export function key(opts: KeyOptions): PrivateKey {
  checkRange('key id', opts.id, 1, 31);
  const keyType = opts.privateKey ? (opts.privateKey.asymmetricKeyType === 'rsa' ? 'rsa' : 'ec') : 'ec';
  if (opts.privateKey && opts.privateKey.type !== 'private') throw new TypeError('privateKey must be a private KeyObject');
  return {
    kind: 'privateKey',
    name: opts.name,
    lifeCycle: 'activated',
    id: opts.id,
    keyType,
    key: opts.privateKey,
    algorithms: Array.isArray(opts.usage) ? [...opts.usage] : [opts.usage],
    accessRules: opts.accessRules ?? [rule(KEY_USE_COMMANDS, opts.use ?? 'always')],
  };
}

export interface PublicKeyOptions {
  name?: string;
  /** Key reference (CHR), e.g. "DEGXX" 87 02 22 → '4445475858870222'. */
  reference: Buffer | string;
  key?: KeyObject;
  usage?: PublicKey['usage'];
}

export function publicKey(opts: PublicKeyOptions): PublicKey {
  const reference = hexOrBuffer(opts.reference) as Buffer;
  if (reference.length === 0 || reference.length > 12) throw new RangeError('public key reference must have 1..12 bytes');
  return {
    kind: 'publicKey',
    name: opts.name,
    lifeCycle: 'activated',
    reference,
    usage: opts.usage ?? 'verification',
    key: opts.key,
    accessRules: [rule([{ cla: 0x00, ins: INS.PERFORM_SECURITY_OPERATION, p1: 0x00, p2: 0xbe }], 'always')],
  };
}

// ---------------------------------------------------------------- the card

export interface ObjectSystemOptions {
  name: string;
  atr: Buffer | string;
  warmAtr?: Buffer | string;
  root: DedicatedFile;
  iccsn8?: Buffer | string;
}

export function objectSystem(opts: ObjectSystemOptions): ObjectSystem {
  if (opts.root.fid !== 0x3f00) throw new Error('the root of an object system must be the MF (FID 3F00)');
  const atr = hexOrBuffer(opts.atr) as Buffer;
  if (atr.length < 2 || atr.length > 33) throw new RangeError(`ATR must have 2..33 bytes, got ${atr.length}`);
  return {
    name: opts.name,
    atr,
    warmAtr: hexOrBuffer(opts.warmAtr),
    root: opts.root,
    iccsn8: hexOrBuffer(opts.iccsn8),
  };
}
