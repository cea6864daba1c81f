/**
 * FHIRPath evaluation for invariants (ElementDefinition.constraint.expression) with the npm
 * `fhirpath` engine and its R4 model. Compiled expressions are cached per (context type,
 * expression). `resolve()` is replaced by a synchronous, local resolver: references are looked
 * up among the entries (fullUrl, "Type/id") of the Bundle being validated and among contained
 * resources — no network access.
 */
import * as fhirpath from 'fhirpath';
import { R4_MODEL } from './model';
import type { FhirJson } from './format';

// eslint-disable-next-line @typescript-eslint/no-var-requires
const { ResourceNode } = require('fhirpath/src/types.js') as {
  ResourceNode: { makeResNode(ctx: unknown, data: unknown, parent: unknown, path: unknown, data2: unknown, type: unknown): unknown };
};

/** Reference targets of the resource tree being evaluated ("urn:uuid:…", "Patient/123", fullUrl). */
export type ReferenceIndex = Map<string, FhirJson>;

let currentIndex: ReferenceIndex = new Map();

const userInvocationTable = {
  resolve: {
    fn: function (this: unknown, coll: unknown[]): unknown[] {
      const out: unknown[] = [];
      for (const item of coll ?? []) {
        const data = item && typeof item === 'object' && 'data' in (item as object) ? (item as { data: unknown }).data : item;
        const ref = typeof data === 'string' ? data : data && typeof data === 'object' ? (data as { reference?: unknown }).reference : undefined;
        if (typeof ref !== 'string') continue;
        const target = currentIndex.get(ref);
        if (target) out.push(ResourceNode.makeResNode(this, target, null, null, null, target.resourceType));
      }
      return out;
    },
  },
};

type Compiled = (resource: unknown, env?: Record<string, unknown>) => unknown[];
const compiled = new Map<string, Compiled>();

function compile(base: string, expression: string): Compiled {
  const key = `${base}\u0000${expression}`;
  let fn = compiled.get(key);
  if (!fn) {
    fn = fhirpath.compile({ base, expression }, R4_MODEL as never, { userInvocationTable } as never) as unknown as Compiled;
    compiled.set(key, fn);
  }
  return fn;
}

/** Builds the reference index of a resource tree (Bundle entries by fullUrl and Type/id; contained by #id). */
export function buildReferenceIndex(root: FhirJson): ReferenceIndex {
  const idx: ReferenceIndex = new Map();
  const add = (res: FhirJson, fullUrl?: string) => {
    if (typeof fullUrl === 'string') idx.set(fullUrl, res);
    if (typeof res.resourceType === 'string' && typeof res.id === 'string') {
      idx.set(`${res.resourceType}/${res.id}`, res);
      if (!idx.has(`urn:uuid:${res.id}`) && /^[0-9a-f-]{36}$/i.test(res.id)) idx.set(`urn:uuid:${res.id}`, res);
    }
    for (const c of (res.contained as FhirJson[] | undefined) ?? []) if (typeof c.id === 'string') idx.set(`#${c.id}`, c);
  };
  add(root);
  for (const e of (root.entry as Array<{ fullUrl?: string; resource?: FhirJson }> | undefined) ?? []) if (e.resource) add(e.resource, e.fullUrl);
  return idx;
}

export interface InvariantResult {
  ok: boolean;
  error?: string;
}

/**
 * Evaluates an invariant on `node` whose type (or backbone path) is `base`. Holds when the result
 * is true or empty (an invariant on absent content does not fail; cardinality rules cover absence).
 */
export function evaluateInvariant(node: unknown, base: string, expression: string, resource: FhirJson, rootResource: FhirJson, index: ReferenceIndex): InvariantResult {
  try {
    const fn = compile(base, expression);
    currentIndex = index;
    const result = fn(node, { resource, rootResource });
    if (result.length === 0) return { ok: true };
    return { ok: result.length === 1 && result[0] === true };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  } finally {
    currentIndex = new Map();
  }
}
