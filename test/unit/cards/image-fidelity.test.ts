/**
 * The HBA and eGK object systems against the real G2.1 test-card images (shared/reference/card-images):
 * every object we model exists in the image at the same place with the same AID / FID / SFI / key or password
 * identifier, and its access rules decide every command of the image's contact-interface rules (security
 * environment 1) the same way for every combination of verified passwords. Conditions that need secure
 * messaging or card-to-card roles count as not fulfilled on both sides.
 *
 * The SMC-B has no image: its identifiers are checked against the tables of gemSpec_SMC-B_ObjSys.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { buildPersonaObjectSystem, type PersonaCardOptions } from '../../../cards';
import type { AccessCondition, AccessRule, CardObject, DedicatedFile, ObjectSystem } from '../../../cards/os/model';
import { sharedPath } from '../../../simulators/lib/shared-data';
import { attr, childElements, parseXml, type XmlElement } from '../../../simulators/lib/xml';
import { testEnvironment } from './helpers';

// ---------------------------------------------------------------------------
// The image: objects by path, attributes, access rules (contact interface, SE#1)
// ---------------------------------------------------------------------------

interface ImageObject {
  id: string;
  type: string;
  path: string;
  attrs: Record<string, string>;
}

function loadImage(file: string): Map<string, ImageObject> {
  const doc = parseXml(fs.readFileSync(sharedPath('reference', 'card-images', file), 'utf8'));
  const out = new Map<string, ImageObject>();
  const walk = (child: XmlElement, parent: string) => {
    const id = attr(child, 'id') as string;
    const p = parent ? `${parent}/${id}` : id;
    const attrs: Record<string, string> = {};
    for (const a of childElements(childElements(child, 'attributes')[0] ?? child, 'attribute')) {
      attrs[attr(a, 'id') as string] = a.children.filter((c): c is string => typeof c === 'string').join('').replace(/\s+/g, ' ').trim();
    }
    out.set(p, { id, type: attr(child, 'objectType') as string, path: p, attrs });
    for (const kids of childElements(child, 'children')) for (const k of childElements(kids, 'child')) walk(k, p);
  };
  const os = childElements(doc, 'objectSystem')[0];
  const rootAttr = childElements(os, 'attribute').find((a) => attr(a, 'id') === 'root') as XmlElement;
  for (const c of childElements(rootAttr, 'child')) walk(c, '');
  return out;
}

/** Split at top-level commas (outside (), {}, []). */
function splitTop(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if ('({['.includes(ch)) depth++;
    if (')}]'.includes(ch)) depth--;
    if (ch === ',' && depth === 0) {
      parts.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (cur.trim()) parts.push(cur.trim());
  return parts;
}

/** The content between the brace/bracket that opens at `open` and its partner. */
function enclosed(s: string, open: number): string {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    if ('({['.includes(s[i])) depth++;
    if (')}]'.includes(s[i])) depth--;
    if (depth === 0) return s.slice(open + 1, i);
  }
  throw new Error(`unbalanced: ${s.slice(open, open + 60)}`);
}

type Cond = { op: 'ALW' } | { op: 'NEV' } | { op: 'PWD'; ref: number } | { op: 'SM'; text: string } | { op: 'AND' | 'OR'; of: Cond[] };

function parseCond(s: string): Cond {
  const t = s.trim();
  if (t === 'ALW') return { op: 'ALW' };
  if (t === 'NEV') return { op: 'NEV' };
  const pwd = /^PWD\(([0-9a-fA-F]{2})\)$/.exec(t);
  if (pwd) return { op: 'PWD', ref: parseInt(pwd[1], 16) };
  const comb = /^(AND|OR)\s*\{/.exec(t);
  if (comb) return { op: comb[1] as 'AND' | 'OR', of: splitTop(enclosed(t, t.indexOf('{'))).map(parseCond) };
  return { op: 'SM', text: t };
}

interface Cmd {
  cla?: number;
  ins: number;
  p1?: number;
  p2?: number;
}

/** CB{ [ACTIVATED,1,{ (patterns, condition), … }] …}: the contact rules of security environment 1. */
function contactRulesSe1(rules: string): Array<{ commands: Cmd[]; cond: Cond }> {
  const cb = enclosed(rules, rules.indexOf('CB{') + 2);
  const se1Start = cb.search(/\[\s*ACTIVATED\s*,\s*1\s*,/);
  assert.ok(se1Start >= 0, `no SE#1 rules in ${cb}`);
  const se1 = enclosed(cb, se1Start);
  const list = enclosed(se1, se1.indexOf('{'));
  return splitTop(list).map((entry) => {
    const inner = enclosed(entry, entry.indexOf('('));
    const [patterns, ...cond] = splitTop(inner);
    const commands = splitTop(enclosed(patterns, patterns.indexOf('{'))).map((p) => {
      const [cla, ins, p1, p2] = p.split('||').map((x) => x.trim());
      const num = (x: string) => (x === '??' ? undefined : parseInt(x, 16));
      return { cla: num(cla), ins: num(ins) as number, p1: num(p1), p2: num(p2) };
    });
    return { commands, cond: parseCond(cond.join(',')) };
  });
}

// ---------------------------------------------------------------------------
// Evaluation of both sides for a set of verified password references
// ---------------------------------------------------------------------------

const evalImage = (c: Cond, verified: Set<number>): boolean => {
  switch (c.op) {
    case 'ALW':
      return true;
    case 'NEV':
    case 'SM':
      return false;
    case 'PWD':
      return verified.has(c.ref);
    case 'AND':
      return c.of.every((x) => evalImage(x, verified));
    case 'OR':
      return c.of.some((x) => evalImage(x, verified));
  }
};

const evalModel = (c: AccessCondition, verified: Set<number>): boolean => {
  switch (c.kind) {
    case 'always':
      return true;
    case 'never':
    case 'sm':
      return false;
    case 'pin':
      return verified.has(c.pwdRef);
    case 'and':
      return c.of.every((x) => evalModel(x, verified));
    case 'or':
      return c.of.some((x) => evalModel(x, verified));
  }
};

const matches = (p: Cmd, c: Required<Cmd>) =>
  p.ins === c.ins && (p.cla === undefined || p.cla === c.cla) && (p.p1 === undefined || p.p1 === c.p1) && (p.p2 === undefined || p.p2 === c.p2);

function refsOf(c: Cond | AccessCondition, acc: Set<number>): Set<number> {
  if ('op' in c) {
    if (c.op === 'PWD') acc.add(c.ref);
    if (c.op === 'AND' || c.op === 'OR') c.of.forEach((x) => refsOf(x, acc));
  } else {
    if (c.kind === 'pin') acc.add(c.pwdRef);
    if (c.kind === 'and' || c.kind === 'or') c.of.forEach((x) => refsOf(x, acc));
  }
  return acc;
}

function subsets(xs: number[]): Array<Set<number>> {
  return xs.reduce<Array<Set<number>>>((acc, x) => [...acc, ...acc.map((s) => new Set([...s, x]))], [new Set()]);
}

/** Differences between the image's and the model's decision, as readable lines. */
function compareRules(image: Array<{ commands: Cmd[]; cond: Cond }>, model: AccessRule[]): string[] {
  const concrete = (p: Cmd): Required<Cmd> => ({ cla: p.cla ?? 0x00, ins: p.ins, p1: p.p1 ?? 0x00, p2: p.p2 ?? 0x00 });
  const commands = [...image.flatMap((r) => r.commands), ...model.flatMap((r) => r.commands)].map(concrete);
  const refs = new Set<number>();
  image.forEach((r) => refsOf(r.cond, refs));
  model.forEach((r) => refsOf(r.condition, refs));
  const diffs: string[] = [];
  for (const cmd of commands) {
    for (const verified of subsets([...refs])) {
      const img = image.some((r) => r.commands.some((p) => matches(p, cmd)) && evalImage(r.cond, verified));
      const mod = model.some((r) => r.commands.some((p) => matches(p, cmd)) && evalModel(r.condition, verified));
      if (img !== mod) {
        const apdu = [cmd.cla, cmd.ins, cmd.p1, cmd.p2].map((b) => b.toString(16).padStart(2, '0')).join(' ');
        diffs.push(`${apdu} with {${[...verified].map((v) => v.toString(16)).join(',')}}: image ${img ? 'allows' : 'denies'}, model ${mod ? 'allows' : 'denies'}`);
      }
    }
  }
  return [...new Set(diffs)];
}

// ---------------------------------------------------------------------------
// Walking the model
// ---------------------------------------------------------------------------

function modelObjects(os: ObjectSystem): Array<{ path: string; o: CardObject }> {
  const out: Array<{ path: string; o: CardObject }> = [];
  const walk = (df: DedicatedFile, parent: string) => {
    const p = parent ? `${parent}/${df.name}` : (df.name as string);
    out.push({ path: p, o: df });
    for (const c of df.children) {
      if (c.kind === 'df') walk(c, p);
      else out.push({ path: `${p}/${c.name}`, o: c });
    }
  };
  walk(os.root, '');
  return out;
}

const hexAttr = (v: string | undefined) => (v === undefined ? undefined : parseInt(v.replace(/[{}]/g, ''), 16));
const aidAttr = (v: string | undefined) => v?.replace(/[{}\s]/g, '').toUpperCase();

function checkAgainstImage(os: ObjectSystem, image: Map<string, ImageObject>): string[] {
  const problems: string[] = [];
  for (const { path, o } of modelObjects(os)) {
    const img = image.get(path);
    if (!img) {
      problems.push(`${path}: not in the image`);
      continue;
    }
    const a = img.attrs;
    const expect = (what: string, model: unknown, imageValue: unknown) => {
      if (model !== imageValue) problems.push(`${path}: ${what} is ${String(model)}, the image has ${String(imageValue)}`);
    };
    switch (o.kind) {
      case 'df':
        expect('AID', o.aid?.toString('hex').toUpperCase(), aidAttr(a.applicationIdentifier));
        if (a.fileIdentifier) expect('FID', o.fid, hexAttr(a.fileIdentifier));
        break;
      case 'ef':
        expect('FID', o.fid, hexAttr(a.fileIdentifier));
        expect('SFI', o.sfi, hexAttr(a.shortFileIdentifier));
        expect('structure', o.structure === 'transparent' ? 'TransparentElementaryFile' : 'LinearVariableElementaryFile', img.type);
        break;
      case 'password':
        expect('pwdIdentifier', o.id, hexAttr(a.pwdIdentifier));
        expect('minimumLength', o.minLength, hexAttr(a.minimumLength));
        expect('maximumLength', o.maxLength, hexAttr(a.maximumLength));
        expect('startRetryCounter', o.maxRetries, hexAttr(a.startRetryCounter));
        expect('pukUsage', o.pukUsage, hexAttr(a.pukUsage));
        break;
      case 'mrpassword':
        expect('pwdIdentifier', o.id, hexAttr(a.pwdIdentifier));
        expect('passwordReference', o.passwordReference, hexAttr(a.passwordReference));
        break;
      case 'privateKey': {
        expect('keyIdentifier', o.id, hexAttr(a.keyIdentifier));
        const imageAlgs = a.listAlgorithmIdentifier ?? '';
        for (const alg of o.algorithms) if (!new RegExp(`\\b${alg}\\b`).test(imageAlgs)) problems.push(`${path}: algorithm ${alg} not in the image's ${imageAlgs}`);
        break;
      }
      case 'symmetricKey':
        expect('keyIdentifier', o.id, hexAttr(a.keyIdentifier));
        expect('algorithm', o.algorithm, a.algorithmIdentifier);
        break;
      default:
        break;
    }
    if (a.accessRules) {
      for (const d of compareRules(contactRulesSe1(a.accessRules), o.accessRules)) problems.push(`${path}: ${d}`);
    }
  }
  return problems;
}

let opts: PersonaCardOptions;
let root: string;
before(() => {
  const env = testEnvironment('cards-image-');
  root = env.root;
  opts = { pki: env.pki, cacheDir: env.cacheDir };
});
after(() => fs.rmSync(root, { recursive: true, force: true }));

describe('object systems against the real G2.1 card images', () => {
  it('the rule parser reads the image syntax (a sanity check of the test itself)', () => {
    const r = contactRulesSe1('CB{ [ACTIVATED,1,{ ({00||46||81||??},ALW), ({00||2a||9e||9a},OR{PWD(02),AND{PWD(01),AUTCHAT(x:00)}}) }]}, CL{ [ACTIVATED,1,{ }]}');
    assert.equal(r.length, 2);
    assert.deepEqual(r[0].commands, [{ cla: 0, ins: 0x46, p1: 0x81, p2: undefined }]);
    assert.ok(evalImage(r[1].cond, new Set([0x02])));
    assert.ok(!evalImage(r[1].cond, new Set([0x01])));
  });

  it('HBA (HBA_80276883110000220885_gema5.xml): identifiers and access rules match', () => {
    const image = loadImage('HBA_80276883110000220885_gema5.xml');
    const problems = checkAgainstImage(buildPersonaObjectSystem('Dr. Hanna Ebert', opts), image);
    assert.deepEqual(problems, []);
  });

  it('eGK (IMG_eGK_G21_TU_root6.xml): identifiers and access rules match', () => {
    const image = loadImage('IMG_eGK_G21_TU_root6.xml');
    const problems = checkAgainstImage(buildPersonaObjectSystem('Jonas Keller', opts), image);
    assert.deepEqual(problems, []);
  });

  it('the comparison finds a deviation (a model with a wrong key reference and a looser rule)', () => {
    const image = loadImage('HBA_80276883110000220885_gema5.xml');
    const os = buildPersonaObjectSystem('Dr. Hanna Ebert', opts);
    const qes = os.root.children.find((c) => c.name === 'DF.QES') as DedicatedFile;
    const prk = qes.children.find((c) => c.name === 'PrK.HP.QES.E256');
    assert.ok(prk && prk.kind === 'privateKey');
    prk.id = 0x07;
    prk.accessRules = prk.accessRules.map((r) => ({ ...r, condition: { kind: 'always' } }));
    const problems = checkAgainstImage(os, image).join('\n');
    assert.match(problems, /PrK\.HP\.QES\.E256: keyIdentifier is 7, the image has 6/);
    assert.match(problems, /00 2a 9e 9a with \{\}: image denies, model allows/);
  });
});

describe('SMC-B against gemSpec_SMC-B_ObjSys (no image)', () => {
  it('AIDs, FIDs, SFIs, key and password identifiers of the spec tables', () => {
    const os = buildPersonaObjectSystem('Apotheke am Markt', opts);
    const byPath = new Map(modelObjects(os).map((x) => [x.path, x.o]));
    const expected: Record<string, Record<string, unknown>> = {
      MF: { aid: 'D27600014606', fid: 0x3f00 }, // Tab_SMC-B_ObjSys_002
      'MF/EF.ATR': { fid: 0x2f01, sfi: 0x1d }, // _003
      'MF/EF.DIR': { fid: 0x2f00, sfi: 0x1e }, // _005
      'MF/EF.GDO': { fid: 0x2f02, sfi: 0x02 }, // _006
      'MF/EF.Version2': { fid: 0x2f11, sfi: 0x11 }, // _007
      'MF/EF.C.CA_SMC.CS.E256': { fid: 0x2f07, sfi: 0x07 }, // _009
      'MF/EF.C.SMC.AUTR_CVC.E256': { fid: 0x2f06, sfi: 0x06 }, // _012
      'MF/EF.C.SMC.AUTD_RPE_CVC.E256': { fid: 0x2f09, sfi: 0x09 }, // _018
      'MF/PIN.SMC': { id: 0x01, minLength: 6, maxLength: 8, maxRetries: 3, pukUsage: 10 }, // _020
      'MF/PrK.SMC.AUTR_CVC.E256': { id: 0x06 }, // _022
      'MF/PrK.SMC.AUTD_RPE_CVC.E256': { id: 0x09 }, // _028
      'MF/DF.ESIGN': { aid: 'A000000167455349474E' }, // _040
      'MF/DF.ESIGN/EF.C.HCI.OSIG.E256': { fid: 0xc007, sfi: 0x07 }, // _120
      'MF/DF.ESIGN/EF.C.HCI.AUT.E256': { fid: 0xc506, sfi: 0x06 }, // _122
      'MF/DF.ESIGN/EF.C.HCI.ENC.E256': { fid: 0xc205, sfi: 0x05 }, // _124
      'MF/DF.ESIGN/PrK.HCI.OSIG.E256': { id: 0x07 }, // _126
      'MF/DF.ESIGN/PrK.HCI.AUT.E256': { id: 0x06 }, // _128
      'MF/DF.ESIGN/PrK.HCI.ENC.E256': { id: 0x05 }, // _130
    };
    for (const [p, want] of Object.entries(expected)) {
      const o = byPath.get(p) as unknown as Record<string, unknown> | undefined;
      assert.ok(o, `${p} missing`);
      for (const [k, v] of Object.entries(want)) {
        const got: unknown = k === 'aid' ? (o.aid as Buffer).toString('hex').toUpperCase() : o[k];
        assert.equal(got, v, `${p}.${k}`);
      }
    }
    assert.equal(byPath.size, Object.keys(expected).length, `modelled objects: ${[...byPath.keys()].join(', ')}`);
  });
});
