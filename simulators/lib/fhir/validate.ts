/**
 * Profile validation of FHIR R4 resources (JSON form) against the StructureDefinitions of the
 * package registry.
 *
 * The KBV/gematik packages carry differentials only (no snapshots) and there is no
 * hl7.fhir.r4.core in ../shared. A profile is therefore "compiled" by merging the differentials
 * of its derivation chain (root first, e.g. KBV_PR_Base_MedicationRequest → KBV_PR_ERP_Prescription)
 * by element id; the R4 base model (element names, types, repeating) comes from model.ts.
 *
 * Checks, each reported as a ValidationIssue with the rule that fired:
 * - "structure": unknown elements, array/single mismatch, malformed primitive values (R4 model);
 * - "cardinality": min/max of profiled elements and slices;
 * - "type": allowed types of choice elements, profile type vs resource type;
 * - "fixed" / "pattern": fixed[x] and pattern[x];
 * - "slicing": items matching no slice of a closed slicing (value/pattern/type discriminators);
 * - "binding": required bindings (ValueSets expanded from the packages, terminology.ts);
 * - "profile": declared profile or version not available;
 * - the constraint key (e.g. "-erp-angabeZuzahlungsstatusPflicht"): invariants via FHIRPath.
 * Extensions are validated against their definition (by url) wherever they occur; Bundle
 * entries and contained resources against their own meta.profile.
 *
 * Compiled profiles are cached per registry (validation of a KBV bundle takes a few ms once warm).
 */
import { FhirJson, FhirResource } from './format';
import { ElementInfo, childInfo, choiceTypes, isPrimitiveType, parentType } from './model';
import { ElementDefinition, PackageRegistry, StructureDefinition, loadPackageRegistry, splitCanonical, versionMatches } from './packages';
import { codeSystemCodes, expandValueSet, valueSetContains } from './terminology';
import { ReferenceIndex, buildReferenceIndex, evaluateInvariant } from './fhirpath';

export type IssueSeverity = 'fatal' | 'error' | 'warning' | 'information';

export interface ValidationIssue {
  severity: IssueSeverity;
  /** FHIRPath-like location, e.g. "Bundle.entry[3].resource.extension[1].value.code". */
  location: string;
  /** "structure" | "cardinality" | "type" | "fixed" | "pattern" | "slicing" | "binding" | "profile" | "invariant-error" | a constraint key. */
  rule: string;
  message: string;
  /** The profile (url|version) whose rule fired, if any. */
  profile?: string;
}

export interface ValidateOptions {
  /** Validate against this profile (url or url|version) in addition to meta.profile. */
  profile?: string;
  registry?: PackageRegistry;
}

const CORE_PREFIX = 'http://hl7.org/fhir/StructureDefinition/';

// ---------------------------------------------------------------------------
// Compiled profiles
// ---------------------------------------------------------------------------

export interface CompiledProfile {
  canonical: string;
  url: string;
  version?: string;
  type: string;
  kind: string;
  byId: Map<string, ElementDefinition>;
  children: Map<string, ElementDefinition[]>;
  /** Profiles merged, root first. */
  chain: string[];
  /** Base profiles that could not be resolved (their rules are missing). */
  missingBases: string[];
}

const profileCaches = new WeakMap<PackageRegistry, Map<string, CompiledProfile | null>>();

function parentId(id: string): string {
  return id.slice(0, id.lastIndexOf('.'));
}

function lastSegment(id: string): { name: string; slice?: string } {
  const seg = id.slice(id.lastIndexOf('.') + 1);
  const c = seg.indexOf(':');
  return c < 0 ? { name: seg } : { name: seg.slice(0, c), slice: seg.slice(c + 1) };
}

function mergeElement(prev: ElementDefinition | undefined, cur: ElementDefinition): ElementDefinition {
  if (!prev) return { ...cur };
  const merged: ElementDefinition = { ...prev, ...cur };
  const cons = [...(prev.constraint ?? [])];
  for (const c of cur.constraint ?? []) if (!cons.some((x) => x.key === c.key)) cons.push(c);
  if (cons.length) merged.constraint = cons;
  return merged;
}

/** Compiles (and caches) a profile by canonical (url or url|version). */
export function compileProfile(reg: PackageRegistry, canonical: string): CompiledProfile | undefined {
  let cache = profileCaches.get(reg);
  if (!cache) {
    cache = new Map();
    profileCaches.set(reg, cache);
  }
  if (cache.has(canonical)) return cache.get(canonical) ?? undefined;
  const entry = reg.structureDefinition(canonical);
  if (!entry) {
    cache.set(canonical, null);
    return undefined;
  }
  const chainSds: StructureDefinition[] = [];
  const missingBases: string[] = [];
  let sd: StructureDefinition | undefined = entry.resource;
  for (let guard = 0; sd && guard < 10; guard++) {
    chainSds.unshift(sd);
    const base: string | undefined = sd.baseDefinition;
    if (!base || base.startsWith(CORE_PREFIX)) break;
    const next = reg.structureDefinition(base);
    if (!next) {
      missingBases.push(base);
      break;
    }
    sd = next.resource;
  }
  const byId = new Map<string, ElementDefinition>();
  for (const s of chainSds) {
    // snapshots (de.basisprofil, de.gematik.ti) hold everything incl. the R4 core rules; use only what the profile adds:
    const elements = s.differential?.element ?? s.snapshot?.element ?? [];
    for (const e of elements) byId.set(e.id, mergeElement(byId.get(e.id), e));
  }
  const children = new Map<string, ElementDefinition[]>();
  for (const e of byId.values()) {
    if (!e.id.includes('.')) continue;
    const p = parentId(e.id);
    const list = children.get(p) ?? [];
    list.push(e);
    children.set(p, list);
  }
  const root = entry.resource;
  const compiled: CompiledProfile = {
    canonical: `${root.url}|${root.version ?? ''}`,
    url: root.url,
    version: root.version,
    type: root.type,
    kind: root.kind,
    byId,
    children,
    chain: chainSds.map((s) => `${s.url}|${s.version ?? ''}`),
    missingBases,
  };
  cache.set(canonical, compiled);
  return compiled;
}

// ---------------------------------------------------------------------------
// Validation context and instance items
// ---------------------------------------------------------------------------

interface Ctx {
  reg: PackageRegistry;
  issues: ValidationIssue[];
  validated: WeakMap<object, Set<string>>;
  index: ReferenceIndex;
  root: FhirJson;
}

interface ResourceCtx {
  resource: FhirJson;
}

interface Item {
  /** JSON key, e.g. "valueCoding". */
  key: string;
  /** Name the rules use, e.g. "value[x]" or "identifier". */
  ruleName: string;
  /** JSON value (object for complex types, the primitive value for primitives). */
  value: unknown;
  /** For primitives: the `_key` object (id, extension). */
  ext?: FhirJson;
  typeName: string;
  info: ElementInfo;
  location: string;
}

function issue(ctx: Ctx, severity: IssueSeverity, location: string, rule: string, message: string, profile?: string): void {
  ctx.issues.push({ severity, location, rule, message, ...(profile ? { profile } : {}) });
}

const choiceCache = new Map<string, { stem: string } | null>();

/** If `key` is a choice element of `base` ("valueCoding" → stem "value"). */
function choiceStem(base: string, key: string): string | undefined {
  const ck = `${base}|${key}`;
  const c = choiceCache.get(ck);
  if (c !== undefined) return c?.stem;
  let found: string | undefined;
  for (let cut = key.length - 1; cut > 0 && !found; cut--) {
    if (key[cut] < 'A' || key[cut] > 'Z') continue;
    const stem = key.slice(0, cut);
    for (let b: string | undefined = base; b && !found; b = parentType(b)) if (choiceTypes(`${b}.${stem}`)) found = stem;
  }
  choiceCache.set(ck, found ? { stem: found } : null);
  return found;
}

function collectItems(obj: FhirJson, base: string, location: string): Map<string, Item[]> {
  const out = new Map<string, Item[]>();
  const names: string[] = [];
  for (const k of Object.keys(obj)) {
    if (k === 'resourceType') continue;
    const n = k.startsWith('_') ? k.slice(1) : k;
    if (!names.includes(n)) names.push(n);
  }
  for (const name of names) {
    const info = childInfo(base, name);
    if (!info) continue; // reported by the structure walk
    const stem = choiceStem(base, name);
    const ruleName = stem ? `${stem}[x]` : name;
    const raw = obj[name];
    const rawExt = obj[`_${name}`];
    const list = out.get(ruleName) ?? [];
    if (info.repeating && (Array.isArray(raw) || Array.isArray(rawExt))) {
      const values = Array.isArray(raw) ? raw : [];
      const exts = Array.isArray(rawExt) ? rawExt : [];
      const n = Math.max(values.length, exts.length);
      for (let i = 0; i < n; i++) {
        list.push({ key: name, ruleName, value: values[i] ?? undefined, ext: (exts[i] as FhirJson | null) ?? undefined, typeName: info.type, info, location: `${location}.${name}[${i}]` });
      }
    } else if (raw !== undefined || rawExt !== undefined) {
      list.push({ key: name, ruleName, value: raw, ext: rawExt as FhirJson | undefined, typeName: info.type, info, location: `${location}.${name}` });
    }
    out.set(ruleName, list);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Structure walk (R4 base model), extensions by url, nested resources by meta.profile
// ---------------------------------------------------------------------------

const PRIMITIVE_FORMATS: Record<string, RegExp> = {
  date: /^([0-9]{4})(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?)?$/,
  dateTime: /^([0-9]{4})(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01])(T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00)))?)?)?$/,
  instant: /^([0-9]{4})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))$/,
  time: /^([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?$/,
  code: /^[^\s]+( [^\s]+)*$/,
  id: /^[A-Za-z0-9\-.]{1,64}$/,
  uri: /^\S*$/,
  url: /^\S*$/,
  canonical: /^\S*$/,
  oid: /^urn:oid:[0-2](\.(0|[1-9][0-9]*))+$/,
  uuid: /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
  base64Binary: /^(\s*([0-9a-zA-Z+/=]){4}\s*)+$/,
};

function checkPrimitive(ctx: Ctx, it: Item): void {
  const v = it.value;
  if (v === undefined || v === null) {
    if (!it.ext) issue(ctx, 'error', it.location, 'structure', 'primitive without value and extensions');
    return;
  }
  const t = it.info.type;
  if (t === 'boolean') {
    if (typeof v !== 'boolean') issue(ctx, 'error', it.location, 'structure', `value must be a JSON boolean, got ${JSON.stringify(v)}`);
    return;
  }
  if (t === 'integer' || t === 'positiveInt' || t === 'unsignedInt' || t === 'decimal') {
    if (typeof v !== 'number' || !Number.isFinite(v)) issue(ctx, 'error', it.location, 'structure', `value must be a JSON number, got ${JSON.stringify(v)}`);
    else if (t !== 'decimal' && !Number.isInteger(v)) issue(ctx, 'error', it.location, 'structure', `${t} must be an integer, got ${v}`);
    else if ((t === 'positiveInt' && v < 1) || (t === 'unsignedInt' && v < 0)) issue(ctx, 'error', it.location, 'structure', `${v} is not a valid ${t}`);
    return;
  }
  if (typeof v !== 'string') {
    issue(ctx, 'error', it.location, 'structure', `value must be a JSON string, got ${JSON.stringify(v)}`);
    return;
  }
  const re = PRIMITIVE_FORMATS[t];
  if (re && !re.test(v)) issue(ctx, 'error', it.location, 'structure', `"${v}" is not a valid ${t}`);
  if (v.length === 0) issue(ctx, 'error', it.location, 'structure', 'empty string value');
}

function walkStructure(ctx: Ctx, obj: FhirJson, base: string, location: string, rctx: ResourceCtx): void {
  for (const k of Object.keys(obj)) {
    if (k === 'resourceType') continue;
    const n = k.startsWith('_') ? k.slice(1) : k;
    const info = childInfo(base, n);
    if (!info) {
      issue(ctx, 'error', `${location}.${k}`, 'structure', `unknown element "${n}" in ${base}`);
      continue;
    }
    const v = obj[k];
    if (k.startsWith('_') && info.kind !== 'primitive') issue(ctx, 'error', `${location}.${k}`, 'structure', `"${k}" is only allowed for primitive elements`);
    if (info.repeating && !Array.isArray(v)) issue(ctx, 'error', `${location}.${k}`, 'structure', `"${k}" repeats and must be a JSON array`);
    if (!info.repeating && Array.isArray(v)) issue(ctx, 'error', `${location}.${k}`, 'structure', `"${k}" does not repeat (max 1) but is an array with ${v.length} items`);
  }
  const items = collectItems(obj, base, location);
  for (const list of items.values()) {
    for (const it of list) {
      switch (it.info.kind) {
        case 'primitive':
          checkPrimitive(ctx, it);
          if (it.ext) walkStructure(ctx, it.ext, 'Element', it.location, rctx);
          break;
        case 'xhtml':
          if (typeof it.value !== 'string' || !it.value.trim().startsWith('<div')) issue(ctx, 'error', it.location, 'structure', 'narrative div must be an XHTML <div> string');
          break;
        case 'resource': {
          const res = it.value as FhirJson;
          if (!res || typeof res !== 'object' || typeof res.resourceType !== 'string') {
            issue(ctx, 'error', it.location, 'structure', 'must hold a resource with resourceType');
            break;
          }
          validateResourceNode(ctx, res, it.location, undefined);
          break;
        }
        default: {
          if (!it.value || typeof it.value !== 'object' || Array.isArray(it.value)) {
            issue(ctx, 'error', it.location, 'structure', `"${it.key}" must be a JSON object`);
            break;
          }
          const o = it.value as FhirJson;
          walkStructure(ctx, o, it.info.childBase, it.location, rctx);
          if (it.typeName === 'Coding') checkCodeInSystem(ctx, o, it.location);
          if (it.info.type === 'Extension') {
            if (typeof o.url !== 'string') issue(ctx, 'error', it.location, 'structure', 'extension without url');
            else if (ctx.reg.structureDefinition(o.url)) validateAgainstProfile(ctx, o, o.url, it.location, rctx, 'Extension');
          }
        }
      }
    }
  }
}

/** A Coding whose system is a complete CodeSystem of the packages must use one of its codes. */
function checkCodeInSystem(ctx: Ctx, coding: FhirJson, location: string): void {
  if (typeof coding.system !== 'string' || typeof coding.code !== 'string') return;
  const version = typeof coding.version === 'string' ? coding.version : undefined;
  const codes = codeSystemCodes(ctx.reg, coding.system, version);
  if (!codes) return;
  if (!codes.has(coding.code)) {
    issue(ctx, 'error', location, 'code-invalid', `code "${coding.code}" is not defined in CodeSystem ${coding.system}`);
  }
}

/** Validates a (nested) resource: structure, its meta.profile(s), an extra profile. */
function validateResourceNode(ctx: Ctx, res: FhirJson, location: string, extraProfile: string | undefined): void {
  const rctx: ResourceCtx = { resource: res };
  walkStructure(ctx, res, res.resourceType as string, location, rctx);
  const declared = ((res.meta as FhirJson | undefined)?.profile as string[] | undefined) ?? [];
  const profiles = [...(extraProfile ? [extraProfile] : []), ...declared.filter((p) => typeof p === 'string')];
  for (const p of profiles) validateAgainstProfile(ctx, res, p, location, rctx, res.resourceType as string);
}

// ---------------------------------------------------------------------------
// Profile rules
// ---------------------------------------------------------------------------

function alreadyValidated(ctx: Ctx, node: object, key: string): boolean {
  let set = ctx.validated.get(node);
  if (!set) {
    set = new Set();
    ctx.validated.set(node, set);
  }
  if (set.has(key)) return true;
  set.add(key);
  return false;
}

function validateAgainstProfile(ctx: Ctx, node: FhirJson, canonical: string, location: string, rctx: ResourceCtx, nodeType: string): void {
  const prof = compileProfile(ctx.reg, canonical);
  const key = prof ? prof.canonical : canonical;
  if (alreadyValidated(ctx, node, key)) return;
  if (!prof) {
    const { url, version } = splitCanonical(canonical);
    const held = ctx.reg.versions(url).filter((e) => e.resource.resourceType === 'StructureDefinition');
    if (held.length) {
      const available = held.map((e) => `${e.resource.version} (${e.pkg.name}#${e.pkg.version})`).join(', ');
      issue(ctx, 'error', location, 'profile', `profile ${url} version ${version} is not supported; available: ${available}`, canonical);
    } else {
      issue(ctx, 'warning', location, 'profile', `profile ${canonical} is not in the FHIR packages; its rules were not checked`, canonical);
    }
    return;
  }
  if (prof.type !== nodeType && !(prof.kind === 'resource' && nodeType === 'Resource')) {
    issue(ctx, 'error', location, 'type', `profile ${prof.canonical} is for ${prof.type}, not ${nodeType}`, prof.canonical);
    return;
  }
  for (const b of prof.missingBases) issue(ctx, 'information', location, 'profile', `base profile ${b} of ${prof.canonical} is not in the packages; its rules were not checked`, prof.canonical);
  const rootRule = prof.byId.get(prof.type);
  if (rootRule) checkInvariants(ctx, rootRule, node, prof.type, location, prof, rctx);
  applyRules(ctx, node, prof.type, [prof.type], prof, location, rctx);
}

interface RuleGroup {
  base: ElementDefinition[];
  slices: ElementDefinition[];
  slicing?: ElementDefinition['slicing'];
}

function applyRules(ctx: Ctx, obj: FhirJson, base: string, ruleIds: string[], prof: CompiledProfile, location: string, rctx: ResourceCtx): void {
  const groups = new Map<string, RuleGroup>();
  for (const id of ruleIds) {
    for (const child of prof.children.get(id) ?? []) {
      const { name, slice } = lastSegment(child.id);
      if (slice && slice.includes('/')) continue; // re-slices are not evaluated
      const g = groups.get(name) ?? { base: [], slices: [] };
      if (slice) g.slices.push(child);
      else {
        g.base.push(child);
        if (child.slicing) g.slicing = child.slicing;
      }
      groups.set(name, g);
    }
  }
  if (!groups.size) return;
  const items = collectItems(obj, base, location);
  for (const [name, g] of groups) {
    const its = items.get(name) ?? [];
    const where = `${location}.${name.replace('[x]', '')}`;
    for (const r of g.base) {
      checkCardinality(ctx, r, its.length, where, prof, name);
      for (const it of its) checkItem(ctx, r, it, prof, rctx);
    }
    const sliceOf = new Map<Item, ElementDefinition>();
    if (g.slices.length) {
      for (const it of its) {
        const s = g.slices.find((sl) => matchesSlice(ctx, prof, sl, g.slicing, it));
        if (s) sliceOf.set(it, s);
        else if (g.slicing?.rules === 'closed') {
          issue(ctx, 'error', it.location, 'slicing', `${describeItem(it)} matches none of the allowed slices (${g.slices.map((s) => s.sliceName ?? lastSegment(s.id).slice).join(', ')}) of ${prof.type}.${name} (closed slicing, discriminator ${describeDiscriminators(g.slicing)})`, prof.canonical);
        }
      }
      for (const s of g.slices) {
        const matched = its.filter((it) => sliceOf.get(it) === s);
        checkCardinality(ctx, s, matched.length, `${where}:${s.sliceName ?? lastSegment(s.id).slice}`, prof, name);
        for (const it of matched) checkItem(ctx, s, it, prof, rctx);
      }
    }
    for (const it of its) {
      const ids = [...g.base.map((r) => r.id)];
      const s = sliceOf.get(it);
      if (s) ids.push(s.id);
      if (!ids.some((id) => prof.children.has(id))) continue;
      if (it.info.kind === 'primitive') {
        if (it.ext) applyRules(ctx, it.ext, 'Element', ids, prof, it.location, rctx);
        else applyRules(ctx, {}, 'Element', ids, prof, it.location, rctx);
      } else if (it.info.kind === 'complex' || it.info.kind === 'backbone') {
        if (it.value && typeof it.value === 'object') applyRules(ctx, it.value as FhirJson, it.info.childBase, ids, prof, it.location, rctx);
      }
    }
  }
}

function describeItem(it: Item): string {
  const v = it.value as FhirJson | undefined;
  if (v && typeof v === 'object') {
    if (typeof v.url === 'string') return `extension ${v.url}`;
    if (typeof v.system === 'string') return `${it.key} with system ${v.system}${typeof v.code === 'string' ? ` and code ${v.code}` : ''}`;
    const res = v.resource as FhirJson | undefined;
    if (res && typeof res === 'object') return `${res.resourceType} with profile ${JSON.stringify((res.meta as FhirJson | undefined)?.profile ?? [])}`;
  }
  return `"${it.key}"`;
}

function describeDiscriminators(s: ElementDefinition['slicing']): string {
  return (s?.discriminator ?? []).map((d) => `${d.type}:${d.path}`).join(', ') || 'none';
}

function checkCardinality(ctx: Ctx, r: ElementDefinition, count: number, where: string, prof: CompiledProfile, name: string): void {
  if (r.min !== undefined && count < r.min) {
    issue(ctx, 'error', where, 'cardinality', `${r.sliceName ? `slice ${r.sliceName} of ` : ''}${name.replace('[x]', '')} occurs ${count} time(s), at least ${r.min} required (${r.id} ${r.min}..${r.max ?? '*'})`, prof.canonical);
  }
  if (r.max !== undefined && r.max !== '*' && count > Number(r.max)) {
    issue(ctx, 'error', where, 'cardinality', r.max === '0'
      ? `${name.replace('[x]', '')} is not allowed here (${r.id} max 0)`
      : `${r.sliceName ? `slice ${r.sliceName} of ` : ''}${name.replace('[x]', '')} occurs ${count} time(s), at most ${r.max} allowed (${r.id} ${r.min ?? 0}..${r.max})`, prof.canonical);
  }
}

function fixedOrPattern(r: ElementDefinition): { kind: 'fixed' | 'pattern'; value: unknown; type: string } | undefined {
  for (const k of Object.keys(r)) {
    if (k.startsWith('fixed') && k.length > 5) return { kind: 'fixed', value: r[k], type: k.slice(5) };
    if (k.startsWith('pattern') && k.length > 7) return { kind: 'pattern', value: r[k], type: k.slice(7) };
  }
  return undefined;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => deepEqual((a as FhirJson)[k], (b as FhirJson)[k]));
}

/** Pattern semantics: every member of the pattern is present in the value (arrays: each pattern item in some value item). */
function containsPattern(value: unknown, pattern: unknown): boolean {
  if (pattern === null || typeof pattern !== 'object') return value === pattern;
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(pattern)) {
    if (!Array.isArray(value)) return false;
    return pattern.every((p) => value.some((v) => containsPattern(v, p)));
  }
  return Object.keys(pattern).every((k) => containsPattern((value as FhirJson)[k], (pattern as FhirJson)[k]));
}

function primitiveOf(it: Item): unknown {
  return it.value;
}

function checkItem(ctx: Ctx, r: ElementDefinition, it: Item, prof: CompiledProfile, rctx: ResourceCtx): void {
  // allowed types (choice elements and resource elements)
  if (r.type && r.type.length && it.ruleName.endsWith('[x]')) {
    const allowed = r.type.map((t) => t.code);
    if (!allowed.includes(it.typeName)) {
      issue(ctx, 'error', it.location, 'type', `type ${it.typeName} is not allowed for ${r.id} (allowed: ${allowed.join(', ')})`, prof.canonical);
      return;
    }
  }
  const fp = fixedOrPattern(r);
  if (fp) {
    const actual = it.info.kind === 'primitive' ? primitiveOf(it) : it.value;
    const ok = fp.kind === 'fixed'
      ? deepEqual(actual, fp.value) || (typeof actual === 'string' && typeof fp.value === 'string' && canonicalEquals(actual, fp.value))
      : containsPattern(actual, fp.value) || (typeof actual === 'string' && typeof fp.value === 'string' && canonicalEquals(actual, fp.value));
    if (!ok) {
      issue(ctx, 'error', it.location, fp.kind, `${fp.kind === 'fixed' ? 'value must be' : 'value must match the pattern'} ${JSON.stringify(fp.value)} (${r.id}), found ${JSON.stringify(actual)}`, prof.canonical);
    }
  }
  if (r.binding?.strength === 'required' && r.binding.valueSet) checkBinding(ctx, r, it, prof);
  if (r.constraint) {
    const node = it.info.kind === 'primitive' ? primitiveOf(it) : it.value;
    if (node !== undefined && node !== null) {
      const base = it.info.kind === 'backbone' ? it.info.childBase : it.typeName;
      checkInvariants(ctx, r, node, base, it.location, prof, rctx);
    }
  }
  // type profiles: extensions, profiled datatypes, resources
  let profiles = (r.type ?? []).filter((t) => t.code === it.typeName || it.info.kind === 'resource').flatMap((t) => t.profile ?? []);
  if (profiles.length > 1 && it.info.kind === 'resource') {
    // several allowed profiles mean "one of them": check the ones the resource declares, if it declares any
    const declared = (((it.value as FhirJson | undefined)?.meta as FhirJson | undefined)?.profile as unknown[] | undefined) ?? [];
    const chosen = profiles.filter((p) => declared.some((d) => typeof d === 'string' && splitCanonical(d).url === splitCanonical(p).url));
    if (chosen.length) profiles = chosen;
  }
  for (const p of profiles) {
    if (it.info.kind === 'resource') {
      const res = it.value as FhirJson;
      if (res && typeof res === 'object') validateAgainstProfile(ctx, res, p, it.location, { resource: res }, res.resourceType as string);
    } else if (it.value && typeof it.value === 'object') {
      validateAgainstProfile(ctx, it.value as FhirJson, p, it.location, rctx, it.typeName);
    }
  }
}

function canonicalEquals(actual: string, expected: string): boolean {
  const a = splitCanonical(actual);
  const e = splitCanonical(expected);
  if (a.url !== e.url) return false;
  if (!e.version) return true;
  return a.version !== undefined && (versionMatches(e.version, a.version) || versionMatches(a.version, e.version));
}

function checkBinding(ctx: Ctx, r: ElementDefinition, it: Item, prof: CompiledProfile): void {
  const vsUrl = r.binding?.valueSet as string;
  const codes: Array<{ system?: string; code: string }> = [];
  const v = it.value as FhirJson | string | undefined;
  switch (it.typeName) {
    case 'code':
    case 'string':
    case 'uri':
      if (typeof v === 'string') codes.push({ code: v });
      break;
    case 'Coding':
    case 'Quantity':
      if (v && typeof v === 'object' && typeof v.code === 'string') codes.push({ system: v.system as string | undefined, code: v.code });
      break;
    case 'CodeableConcept':
      for (const c of ((v as FhirJson | undefined)?.coding as FhirJson[] | undefined) ?? []) if (typeof c.code === 'string') codes.push({ system: c.system as string | undefined, code: c.code });
      break;
    default:
      return;
  }
  if (!codes.length) return;
  const vs = expandValueSet(ctx.reg, vsUrl);
  if (!vs) {
    issue(ctx, 'information', it.location, 'binding', `required ValueSet ${vsUrl} is not in the packages; binding not checked`, prof.canonical);
    return;
  }
  if (!vs.checkable) {
    issue(ctx, 'information', it.location, 'binding', `ValueSet ${vsUrl} cannot be expanded from the packages (${vs.reason}); binding not checked`, prof.canonical);
    return;
  }
  if (codes.some((c) => valueSetContains(vs, c.system, c.code))) return;
  const shown = codes.map((c) => (c.system ? `${c.system}#${c.code}` : `"${c.code}"`)).join(', ');
  issue(ctx, 'error', it.location, 'binding', `code ${shown} is not in the required ValueSet ${vsUrl} (${r.id})`, prof.canonical);
}

function checkInvariants(ctx: Ctx, r: ElementDefinition, node: unknown, base: string, location: string, prof: CompiledProfile, rctx: ResourceCtx): void {
  for (const c of r.constraint ?? []) {
    if (!c.expression) continue;
    // constraints inherited from the R4 core (ele-1, ext-1, dom-*) are carried by snapshots only; the base walk covers their intent
    if (/^(ele|ext|dom|bdl|cmp|ref)-\d+$/.test(c.key) && c.source && c.source.startsWith(CORE_PREFIX)) continue;
    const res = evaluateInvariant(node, base, c.expression, rctx.resource, ctx.root, ctx.index);
    if (res.error) {
      issue(ctx, 'warning', location, 'invariant-error', `invariant ${c.key} could not be evaluated: ${res.error}`, prof.canonical);
      continue;
    }
    if (!res.ok) {
      const sev: IssueSeverity = c.severity === 'warning' ? 'warning' : 'error';
      issue(ctx, sev, location, c.key, `${c.human} (${c.key})`, prof.canonical);
    }
  }
}

// ---------------------------------------------------------------------------
// Slice matching
// ---------------------------------------------------------------------------

/** Values at a dotted path of a JSON value (arrays flattened; "$this" = the value). */
function valuesAt(value: unknown, path: string): unknown[] {
  let cur: unknown[] = [value];
  if (path === '$this') return cur;
  for (const seg of path.split('.')) {
    const next: unknown[] = [];
    for (const c of cur) {
      if (!c || typeof c !== 'object') continue;
      const v = (c as FhirJson)[seg];
      if (Array.isArray(v)) next.push(...v);
      else if (v !== undefined) next.push(v);
    }
    cur = next;
  }
  return cur;
}

/** The values a slice expects at a discriminator path (undefined: unknown). */
function expectedAt(ctx: Ctx, prof: CompiledProfile, slice: ElementDefinition, path: string): { kind: 'fixed' | 'pattern'; values: unknown[] } | undefined {
  if (path === '$this') {
    const fp = fixedOrPattern(slice);
    return fp ? { kind: fp.kind, values: [fp.value] } : undefined;
  }
  const segs = path.split('.');
  for (let k = segs.length; k >= 1; k--) {
    const r = prof.byId.get(`${slice.id}.${segs.slice(0, k).join('.')}`);
    if (!r) continue;
    const fp = fixedOrPattern(r);
    if (fp) {
      const rest = segs.slice(k).join('.');
      return { kind: fp.kind, values: rest ? valuesAt(fp.value, rest) : [fp.value] };
    }
    if (k === segs.length - 2 && segs[k] === 'meta' && segs[k + 1] === 'profile') {
      // resource.meta.profile: the slice's resource type profile
      const profiles = (r.type ?? []).flatMap((t) => t.profile ?? []);
      if (profiles.length) return { kind: 'fixed', values: profiles };
    }
  }
  if (segs[0] === 'resource' && path === 'resource.meta.profile') {
    const r = prof.byId.get(`${slice.id}.resource`);
    const profiles = (r?.type ?? []).flatMap((t) => t.profile ?? []);
    if (profiles.length) return { kind: 'fixed', values: profiles };
  }
  if (path === 'url') {
    const profiles = (slice.type ?? []).flatMap((t) => t.profile ?? []);
    if (profiles.length) return { kind: 'fixed', values: profiles.map((p) => splitCanonical(p).url) };
  }
  // the slice may fix the value through a pattern on itself ($this pattern containing the path)
  const fp = fixedOrPattern(slice);
  if (fp) return { kind: fp.kind, values: valuesAt(fp.value, path) };
  void ctx;
  return undefined;
}

function matchesSlice(ctx: Ctx, prof: CompiledProfile, slice: ElementDefinition, slicing: ElementDefinition['slicing'], it: Item): boolean {
  const discriminators = slicing?.discriminator ?? [];
  const sliceName = slice.sliceName ?? lastSegment(slice.id).slice ?? '';
  if (!discriminators.length) {
    // slicing defined in a base profile that is not in the packages: match by the slice's own fixed/pattern value
    const fp = fixedOrPattern(slice);
    if (!fp) return false;
    return fp.kind === 'fixed' ? deepEqual(it.value, fp.value) : containsPattern(it.value, fp.value);
  }
  for (const d of discriminators) {
    if (d.type === 'type') {
      const types = (slice.type ?? []).map((t) => t.code);
      const target = d.path === '$this' ? it.typeName : undefined;
      if (target !== undefined) {
        if (!(types.includes(target) || sliceName === it.key)) return false;
      }
      continue;
    }
    if (d.type === 'value' || d.type === 'pattern') {
      const expected = expectedAt(ctx, prof, slice, d.path);
      if (!expected || !expected.values.length) continue; // not determinable: does not exclude
      const actual = valuesAt(it.info.kind === 'primitive' ? it.value : it.value, d.path);
      const ok = expected.values.some((e) =>
        actual.some((a) => (typeof a === 'string' && typeof e === 'string' ? a === e || canonicalEquals(a, e) : expected.kind === 'fixed' ? deepEqual(a, e) : containsPattern(a, e))),
      );
      if (!ok) return false;
      continue;
    }
    if (d.type === 'exists') {
      const r = prof.byId.get(`${slice.id}.${d.path}`);
      const present = valuesAt(it.value, d.path).length > 0;
      if (r?.max === '0' && present) return false;
      if ((r?.min ?? 0) > 0 && !present) return false;
      continue;
    }
    if (d.type === 'profile') {
      const profiles = (slice.type ?? []).flatMap((t) => t.profile ?? []);
      const declared = valuesAt(it.value, `${d.path === '$this' ? '' : `${d.path}.`}meta.profile`.replace(/^\./, ''));
      if (profiles.length && !declared.some((a) => typeof a === 'string' && profiles.some((p) => canonicalEquals(a, p)))) return false;
    }
  }
  return true;
}

// ---------------------------------------------------------------------------
// Entry point
// ---------------------------------------------------------------------------

/**
 * Validates a FHIR resource (JSON form) against its meta.profile(s) and `opts.profile`, including
 * Bundle entries against theirs. Returns all issues; the resource is valid when none has
 * severity "error" or "fatal" (see hasErrors).
 */
export function validateResource(resource: FhirResource | FhirJson, opts: ValidateOptions = {}): ValidationIssue[] {
  const reg = opts.registry ?? loadPackageRegistry();
  const ctx: Ctx = { reg, issues: [], validated: new WeakMap(), index: new Map(), root: resource as FhirJson };
  if (!resource || typeof resource !== 'object' || typeof (resource as FhirJson).resourceType !== 'string') {
    return [{ severity: 'fatal', location: '', rule: 'structure', message: 'not a FHIR resource (resourceType missing)' }];
  }
  const rt = (resource as FhirJson).resourceType as string;
  if (!childInfo(rt, 'id')) return [{ severity: 'fatal', location: rt, rule: 'structure', message: `unknown resource type ${rt}` }];
  ctx.index = buildReferenceIndex(resource as FhirJson);
  validateResourceNode(ctx, resource as FhirJson, rt, opts.profile);
  return dedupe(ctx.issues);
}

function dedupe(issues: ValidationIssue[]): ValidationIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const k = `${i.severity}|${i.location}|${i.rule}|${i.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

export function hasErrors(issues: ValidationIssue[]): boolean {
  return issues.some((i) => i.severity === 'error' || i.severity === 'fatal');
}

export function errorsOf(issues: ValidationIssue[]): ValidationIssue[] {
  return issues.filter((i) => i.severity === 'error' || i.severity === 'fatal');
}

export { isPrimitiveType };
