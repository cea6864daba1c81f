/**
 * ValueSet membership from the package registry: a ValueSet's expansion if it carries one,
 * otherwise its compose (include/exclude of explicit concepts, whole CodeSystems held in the
 * packages with content "complete", and other ValueSets). A ValueSet that uses filters, or
 * includes a CodeSystem the packages do not hold completely, is "not checkable": the validator
 * then skips the binding (reported as information) instead of guessing.
 */
import { CanonicalResource, PackageRegistry } from './packages';

export interface ValueSetCodes {
  url: string;
  /** "system|code" for every member; "|code" entries match any system. */
  codes: Set<string>;
  /** False when the member list could not be determined completely from the packages. */
  checkable: boolean;
  reason?: string;
}

interface Concept {
  code: string;
  concept?: Concept[];
}

interface Include {
  system?: string;
  version?: string;
  concept?: Array<{ code: string }>;
  filter?: unknown[];
  valueSet?: string[];
}

const caches = new WeakMap<PackageRegistry, Map<string, ValueSetCodes | null>>();

const csCaches = new WeakMap<PackageRegistry, Map<string, Set<string> | null>>();

/** All codes of a CodeSystem held completely in the packages; undefined when not (or not completely) held. */
export function codeSystemCodes(reg: PackageRegistry, system: string, version?: string): Set<string> | undefined {
  let cache = csCaches.get(reg);
  if (!cache) {
    cache = new Map();
    csCaches.set(reg, cache);
  }
  const key = `${system}|${version ?? ''}`;
  if (!cache.has(key)) {
    const r = codeSystemCodesOrReason(reg, system, version);
    cache.set(key, typeof r === 'string' ? null : r);
  }
  return cache.get(key) ?? undefined;
}

function codeSystemCodesOrReason(reg: PackageRegistry, system: string, version?: string): Set<string> | string {
  const cs = reg.codeSystem(version ? `${system}|${version}` : system) ?? reg.codeSystem(system);
  if (!cs) return `CodeSystem ${system} is not in the packages`;
  const res = cs.resource as CanonicalResource & { content?: string; concept?: Concept[] };
  if (res.content && res.content !== 'complete') return `CodeSystem ${system} is not complete in the packages (content=${res.content})`;
  const out = new Set<string>();
  const walk = (list: Concept[] | undefined) => {
    for (const c of list ?? []) {
      out.add(c.code);
      walk(c.concept);
    }
  };
  walk(res.concept);
  return out;
}

function includeCodes(reg: PackageRegistry, inc: Include, depth: number): { codes: Set<string>; problem?: string } {
  const codes = new Set<string>();
  if (inc.filter && inc.filter.length) return { codes, problem: `filters on ${inc.system ?? 'a code system'} are not evaluated` };
  let fromSystem: Set<string> | undefined;
  if (inc.system) {
    if (inc.concept && inc.concept.length) fromSystem = new Set(inc.concept.map((c) => c.code));
    else {
      const all = codeSystemCodesOrReason(reg, inc.system, inc.version);
      if (typeof all === 'string') return { codes, problem: all };
      fromSystem = all;
    }
  }
  let fromSets: Set<string> | undefined;
  for (const vs of inc.valueSet ?? []) {
    const sub = expandValueSet(reg, vs, depth + 1);
    if (!sub) return { codes, problem: `ValueSet ${vs} is not in the packages` };
    if (!sub.checkable) return { codes, problem: sub.reason };
    fromSets = fromSets ? new Set([...fromSets].filter((c) => sub.codes.has(c))) : new Set(sub.codes);
  }
  if (fromSystem) for (const c of fromSystem) if (!fromSets || fromSets.has(`${inc.system}|${c}`)) codes.add(`${inc.system}|${c}`);
  if (!fromSystem && fromSets) for (const c of fromSets) codes.add(c);
  return { codes };
}

/** Member codes of a ValueSet (by canonical, optionally |version); undefined if the packages lack it. */
export function expandValueSet(reg: PackageRegistry, canonical: string, depth = 0): ValueSetCodes | undefined {
  let cache = caches.get(reg);
  if (!cache) {
    cache = new Map();
    caches.set(reg, cache);
  }
  if (cache.has(canonical)) return cache.get(canonical) ?? undefined;
  if (depth > 10) return { url: canonical, codes: new Set(), checkable: false, reason: 'ValueSet nesting too deep' };
  const entry = reg.valueSet(canonical) ?? reg.valueSet(canonical.split('|')[0]);
  if (!entry) {
    cache.set(canonical, null);
    return undefined;
  }
  const vs = entry.resource as CanonicalResource & {
    expansion?: { contains?: Array<{ system?: string; code?: string; contains?: unknown[] }> };
    compose?: { include?: Include[]; exclude?: Include[] };
  };
  const result: ValueSetCodes = { url: canonical, codes: new Set(), checkable: true };
  if (vs.expansion?.contains) {
    const walk = (list: Array<{ system?: string; code?: string; contains?: unknown[] }>) => {
      for (const c of list) {
        if (c.code) result.codes.add(`${c.system ?? ''}|${c.code}`);
        if (c.contains) walk(c.contains as typeof list);
      }
    };
    walk(vs.expansion.contains);
  } else {
    for (const inc of vs.compose?.include ?? []) {
      const r = includeCodes(reg, inc, depth);
      if (r.problem) {
        result.checkable = false;
        result.reason = r.problem;
      }
      for (const c of r.codes) result.codes.add(c);
    }
    for (const exc of vs.compose?.exclude ?? []) {
      const r = includeCodes(reg, exc, depth);
      for (const c of r.codes) result.codes.delete(c);
    }
  }
  cache.set(canonical, result);
  return result;
}

/** Whether system|code is a member (system may be undefined for plain code elements). */
export function valueSetContains(vs: ValueSetCodes, system: string | undefined, code: string): boolean {
  if (system !== undefined) return vs.codes.has(`${system}|${code}`) || vs.codes.has(`|${code}`);
  for (const c of vs.codes) if (c.slice(c.lastIndexOf('|') + 1) === code) return true;
  return false;
}
