// Import of gematik card-image XML (<card version="3">) into the card OS
// object-system model.
//
// The image holds the object tree under objectSystem/attribute[@id=root] as
// nested <child id=… objectType=…> elements with <attributes> (hex-coded
// values) and <children>/<records>. Private elliptic-curve keys are raw
// scalars (hex) on brainpoolP256r1, RSA keys their CRT components n, e, d, p,
// q, dP, dQ, c (= qInv), PINs and PUKs format-2 PIN blocks.

import { createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { bp256PrivateKeyFromRaw, bp256PublicKeyFromPoint } from '../../simulators/lib/bp256';
import { attr, childElements, parseXml, textContent, type XmlElement } from '../../simulators/lib/xml';
import type {
  AccessRule,
  CardObject,
  DedicatedFile,
  KeyAlgorithm,
  LifeCycleStatus,
  MultireferencePassword,
  ObjectSystem,
  Password,
  PrivateKey,
  PublicKey,
  RecordFile,
  SymmetricKey,
  TransparentFile,
  TransportStatus,
} from '../os/model';
import { decodePinBlock } from '../../simulators/lib/pin-block';
import { accessRulesFor, type CardInterface } from './access-rules';

export class CardImageError extends Error {
  override name = 'CardImageError';
}

export interface ImportOptions {
  /** Which interface's access rules apply: CB (contact, default) or CL (contactless). */
  interface?: CardInterface;
}

export interface ImportResult {
  objectSystem: ObjectSystem;
  /** Objects or attributes the importer could not represent (e.g. keys on unsupported curves). */
  warnings: string[];
}

const KNOWN_ALGORITHMS = new Set<KeyAlgorithm>([
  'signECDSA',
  'signPKCS1_V1_5',
  'signPSS',
  'sign9796_2_DS2',
  'rsaClientAuthentication',
  'rsaDecipherOaep',
  'elcSharedSecretCalculation',
  'elcRoleAuthentication',
  'elcAsynchronAdmin',
  'elcSessionkey4SM',
  'elcSessionkey4TC',
]);

type Attributes = Map<string, string>;

function attributesOf(e: XmlElement): Attributes {
  const out: Attributes = new Map();
  for (const block of childElements(e, 'attributes')) {
    for (const a of childElements(block, 'attribute')) {
      const id = attr(a, 'id');
      if (id) out.set(id, textContent(a).trim());
    }
  }
  return out;
}

class Importer {
  readonly warnings: string[] = [];

  constructor(private readonly iface: CardInterface) {}

  fail(where: string, msg: string): never {
    throw new CardImageError(`${where}: ${msg}`);
  }

  hex(where: string, a: Attributes, id: string, required: true): Buffer;
  hex(where: string, a: Attributes, id: string, required?: false): Buffer | undefined;
  hex(where: string, a: Attributes, id: string, required = false): Buffer | undefined {
    let v = a.get(id);
    if (v === undefined) {
      if (required) this.fail(where, `attribute ${id} missing`);
      return undefined;
    }
    v = v.replace(/^\{|\}$/g, '').replace(/\s+/g, '');
    if (!/^([0-9a-fA-F]{2})*$/.test(v)) this.fail(where, `attribute ${id} is not hex: "${v.slice(0, 40)}"`);
    return Buffer.from(v, 'hex');
  }

  int(where: string, a: Attributes, id: string, fallback?: number): number {
    const b = this.hex(where, a, id);
    if (b === undefined || b.length === 0) {
      if (fallback === undefined) this.fail(where, `attribute ${id} missing`);
      return fallback;
    }
    if (b.length > 4) this.fail(where, `attribute ${id} too long`);
    return b.readUIntBE(0, b.length);
  }

  bool(a: Attributes, id: string, fallback: boolean): boolean {
    const v = a.get(id);
    return v === undefined ? fallback : v.toUpperCase() === 'TRUE';
  }

  lifeCycle(a: Attributes): LifeCycleStatus {
    const v = (a.get('lifeCycleStatus') ?? 'ACTIVATED').toUpperCase();
    if (v === 'DEACTIVATED') return 'deactivated';
    if (v === 'TERMINATED') return 'terminated';
    return 'activated';
  }

  rules(where: string, a: Attributes, id = 'accessRules'): AccessRule[] {
    try {
      return accessRulesFor(a.get(id), this.iface);
    } catch (e) {
      return this.fail(where, (e as Error).message);
    }
  }

  /** The algorithm list of security environment #1, e.g. "{[1,(signECDSA)],[2,(signECDSA)]}". */
  algorithms(where: string, a: Attributes): KeyAlgorithm[] {
    const v = (a.get('listAlgorithmIdentifier') ?? '').replace(/\s+/g, '');
    const m = /\[1,\(([^)]*)\)\]/.exec(v);
    if (!m) return [];
    const out: KeyAlgorithm[] = [];
    for (const name of m[1].split(',').filter(Boolean)) {
      if (KNOWN_ALGORITHMS.has(name as KeyAlgorithm)) out.push(name as KeyAlgorithm);
      else this.warnings.push(`${where}: unknown algorithm ${name} ignored`);
    }
    return out;
  }

  /** SSEC limit of security environment #1 from startSSecList "{(1,INFINITY)}" / "{(1,00fa),(2,00fa)}". */
  ssec(where: string, a: Attributes): number | undefined {
    const v = (a.get('startSSecList') ?? '').replace(/\s+/g, '');
    const m = /\(1,([0-9A-Za-z]+)\)/.exec(v);
    if (!m || m[1].toUpperCase() === 'INFINITY') return undefined;
    if (!/^[0-9a-fA-F]+$/.test(m[1])) this.fail(where, `bad startSSecList "${v}"`);
    return parseInt(m[1], 16);
  }

  node(e: XmlElement): CardObject | undefined {
    const name = attr(e, 'id') ?? '?';
    const type = attr(e, 'objectType') ?? '';
    const a = attributesOf(e);
    const base = { name, lifeCycle: this.lifeCycle(a), accessRules: this.rules(name, a) };
    switch (type) {
      case 'ADF':
      case 'Application':
      case 'DF': {
        const df: DedicatedFile = {
          ...base,
          kind: 'df',
          fid: a.has('fileIdentifier') ? this.int(name, a, 'fileIdentifier') : undefined,
          aid: this.hex(name, a, 'applicationIdentifier'),
          shareable: this.bool(a, 'shareable', true),
          children: [],
        };
        for (const block of childElements(e, 'children')) {
          for (const c of childElements(block, 'child')) {
            const o = this.node(c);
            if (o) df.children.push(o);
          }
        }
        return df;
      }
      case 'TransparentElementaryFile': {
        const body = this.hex(name, a, 'body') ?? Buffer.alloc(0);
        const size = this.int(name, a, 'numberOfOctet', body.length);
        const end = this.int(name, a, 'positionLogicalEndOfFile', body.length);
        if (end > size) this.fail(name, `logical end ${end} beyond size ${size}`);
        let data = body.subarray(0, Math.min(end, body.length));
        if (end > body.length) data = Buffer.concat([body, Buffer.alloc(end - body.length)]);
        const ef: TransparentFile = {
          ...base,
          kind: 'ef',
          structure: 'transparent',
          fid: this.int(name, a, 'fileIdentifier'),
          sfi: a.has('shortFileIdentifier') ? this.int(name, a, 'shortFileIdentifier') : undefined,
          shareable: this.bool(a, 'shareable', true),
          data: Buffer.from(data),
          size: Math.max(size, data.length),
        };
        return ef;
      }
      case 'LinearFixedElementaryFile':
      case 'LinearVariableElementaryFile':
      case 'CyclicElementaryFile': {
        const records: Buffer[] = [];
        for (const block of childElements(e, 'records')) {
          for (const r of childElements(block, 'record')) {
            const ra = attributesOf({ name: 'r', attrs: [], children: [{ name: 'attributes', attrs: [], children: r.children }] });
            records.push(this.hex(`${name} record`, ra, 'recordValue') ?? Buffer.alloc(0));
          }
        }
        const rf: RecordFile = {
          ...base,
          kind: 'ef',
          structure:
            type === 'LinearFixedElementaryFile' ? 'linearFixed' : type === 'LinearVariableElementaryFile' ? 'linearVariable' : 'cyclic',
          fid: this.int(name, a, 'fileIdentifier'),
          sfi: a.has('shortFileIdentifier') ? this.int(name, a, 'shortFileIdentifier') : undefined,
          shareable: this.bool(a, 'shareable', true),
          records,
          maxRecords: this.int(name, a, 'maximumNumberOfRecords', records.length),
          maxRecordLength: this.int(name, a, 'maximumRecordLength', Math.max(0, ...records.map((r) => r.length))),
        };
        return rf;
      }
      case 'PWD': {
        const secretBlock = this.hex(name, a, 'secret', true);
        const transport = this.transportStatus(name, a);
        const secret = transport === 'empty' ? '' : decodePinBlock(secretBlock);
        if (secret === undefined) this.fail(name, 'secret is not a format-2 PIN block');
        const pukBlock = this.hex(name, a, 'PUK');
        const puk = pukBlock ? decodePinBlock(pukBlock) : undefined;
        const retries = this.int(name, a, 'startRetryCounter', 3);
        const pw: Password = {
          ...base,
          kind: 'password',
          id: this.int(name, a, 'pwdIdentifier'),
          secret,
          retryCounter: this.int(name, a, 'retryCounter', retries),
          maxRetries: retries,
          puk,
          pukUsage: puk === undefined ? 0 : this.int(name, a, 'pukUsage', 0),
          transportStatus: transport,
          minLength: this.int(name, a, 'minimumLength', 4),
          maxLength: this.int(name, a, 'maximumLength', 12),
          enabled: this.bool(a, 'flagEnabled', true),
          ssecLimit: this.ssec(name, a),
        };
        return pw;
      }
      case 'MultireferencePWD': {
        const mr: MultireferencePassword = {
          ...base,
          kind: 'mrpassword',
          id: this.int(name, a, 'pwdIdentifier'),
          passwordReference: this.int(name, a, 'passwordReference'),
          enabled: this.bool(a, 'flagEnabled', true),
          ssecLimit: this.ssec(name, a),
        };
        return mr;
      }
      case 'PrivateElcKey':
      case 'PrivateRsaKey': {
        const available = this.bool(a, 'keyAvailable', true);
        const key = available ? (type === 'PrivateElcKey' ? this.ecKey(name, a) : this.rsaKey(name, a)) : undefined;
        const pk: PrivateKey = {
          ...base,
          kind: 'privateKey',
          id: this.int(name, a, 'keyIdentifier'),
          keyType: type === 'PrivateElcKey' ? 'ec' : 'rsa',
          key,
          algorithms: this.algorithms(name, a),
        };
        return pk;
      }
      case 'PublicElcVerificationKey':
      case 'PublicElcAuthenticationKey': {
        const point = this.hex(name, a, 'P');
        let key: KeyObject | undefined;
        if (point && point.length > 0) {
          if ((a.get('domainParameterOid') ?? 'brainpoolP256r1') !== 'brainpoolP256r1') {
            this.warnings.push(`${name}: curve ${a.get('domainParameterOid')} not supported, public key not imported`);
          } else {
            key = bp256PublicKeyFromPoint(point);
          }
        }
        const pub: PublicKey = {
          ...base,
          kind: 'publicKey',
          usage: type === 'PublicElcVerificationKey' ? 'verification' : 'authentication',
          reference: this.hex(name, a, 'keyIdentifier', true),
          key,
          chat: a.get('CHAT'),
          expirationDate: this.hex(name, a, 'expirationDate'),
        };
        return pub;
      }
      case 'SymmetricAutKey':
      case 'SymmetricConnectionKey': {
        const canBlock = this.hex(name, a, 'can');
        const sk: SymmetricKey = {
          ...base,
          kind: 'symmetricKey',
          id: this.int(name, a, 'keyIdentifier'),
          algorithm: a.get('algorithmIdentifier') ?? '',
          can: canBlock ? decodeCan(canBlock) : undefined,
          encKey: this.hex(name, a, 'encKey'),
          macKey: this.hex(name, a, 'macKey'),
        };
        return sk;
      }
      default:
        this.warnings.push(`${name}: object type ${type} not supported, skipped`);
        return undefined;
    }
  }

  transportStatus(where: string, a: Attributes): TransportStatus {
    const v = (a.get('transportStatus') ?? 'regularPassword').toLowerCase();
    if (v === 'regularpassword') return 'regular';
    if (v === 'transportpin') return 'transport';
    if (v === 'leerpin') return 'empty';
    return this.fail(where, `unknown transportStatus "${v}"`);
  }

  ecKey(where: string, a: Attributes): KeyObject | undefined {
    const curve = a.get('domainParameterOid') ?? 'brainpoolP256r1';
    const raw = a.get('privateKey') ?? '';
    if (!/^[0-9a-fA-F]{64}$/.test(raw)) {
      this.warnings.push(`${where}: private key not set ("${raw.slice(0, 20)}"), treated as unavailable`);
      return undefined;
    }
    if (curve !== 'brainpoolP256r1') {
      this.warnings.push(`${where}: curve ${curve} not supported, private key not imported`);
      return undefined;
    }
    return bp256PrivateKeyFromRaw(Buffer.from(raw, 'hex'));
  }

  rsaKey(where: string, a: Attributes): KeyObject | undefined {
    const parts = ['n', 'e', 'd', 'p', 'q', 'dP', 'dQ', 'c'] as const;
    const v: Record<string, Buffer | undefined> = {};
    for (const p of parts) v[p] = this.hex(where, a, p);
    if (parts.some((p) => !v[p] || v[p]!.length === 0)) {
      this.warnings.push(`${where}: RSA key components missing, treated as unavailable`);
      return undefined;
    }
    const b64 = (b: Buffer | undefined): string => stripZeros(b as Buffer).toString('base64url');
    try {
      return createPrivateKey({
        key: { kty: 'RSA', n: b64(v.n), e: b64(v.e), d: b64(v.d), p: b64(v.p), q: b64(v.q), dp: b64(v.dP), dq: b64(v.dQ), qi: b64(v.c) },
        format: 'jwk',
      });
    } catch (e) {
      return this.fail(where, `RSA key rejected: ${(e as Error).message}`);
    }
  }
}

function stripZeros(b: Buffer): Buffer {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  return b.subarray(i);
}

/** The CAN of SK.CAN is stored like a format-2 PIN block (e.g. 26 123123 FF…). */
function decodeCan(block: Buffer): string | undefined {
  const hex = block.toString('hex');
  if (hex[0] !== '2') return undefined;
  const len = parseInt(hex[1], 16);
  const digits = hex.slice(2, 2 + len);
  return /^[0-9]+$/.test(digits) ? digits : undefined;
}

/** Parse card-image XML text into an object system. */
export function importCardImage(xml: string, options: ImportOptions = {}): ImportResult {
  const doc = parseXml(xml);
  if (doc.name !== 'card') throw new CardImageError(`root element is <${doc.name}>, expected <card>`);
  if (attr(doc, 'version') !== '3') throw new CardImageError(`card image version ${attr(doc, 'version')} not supported (expected 3)`);
  const os = childElements(doc, 'objectSystem')[0];
  if (!os) throw new CardImageError('no <objectSystem>');
  const top = new Map<string, XmlElement>();
  for (const a of childElements(os, 'attribute')) top.set(attr(a, 'id') ?? '', a);
  const rootAttr = top.get('root');
  const rootChild = rootAttr ? childElements(rootAttr, 'child')[0] : undefined;
  if (!rootChild) throw new CardImageError('no root object (objectSystem/attribute[@id=root]/child)');

  const importer = new Importer(options.interface ?? 'contact');
  const root = importer.node(rootChild);
  if (!root || root.kind !== 'df') throw new CardImageError('the root object is not a folder');
  if (root.fid === undefined) root.fid = 0x3f00;
  if (root.fid !== 0x3f00) throw new CardImageError(`root folder has FID ${root.fid.toString(16)}, expected 3F00`);

  const hexText = (id: string): Buffer | undefined => {
    const e = top.get(id);
    if (!e) return undefined;
    const t = textContent(e).trim();
    return /^([0-9a-fA-F]{2})+$/.test(t) ? Buffer.from(t, 'hex') : undefined;
  };
  const atr = hexText('coldAnswerToReset');
  if (!atr) throw new CardImageError('coldAnswerToReset missing');
  return {
    objectSystem: {
      name: attr(doc, 'name') ?? 'card image',
      atr,
      warmAtr: hexText('warmAnswerToReset'),
      iccsn8: hexText('iccsn8'),
      root,
    },
    warnings: importer.warnings,
  };
}

/** Read and import a card-image file. */
export function loadCardImage(path: string, options: ImportOptions = {}): ImportResult {
  return importCardImage(readFileSync(path, 'utf8'), options);
}
