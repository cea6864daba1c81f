/**
 * The FHIR R4 base model: which elements a type has, their types, which repeat, and the
 * order in which they appear in XML.
 *
 * The FHIR packages in ../shared carry no hl7.fhir.r4.core, so the base model comes from the
 * R4 model data shipped with the `fhirpath` engine (path → type, repeating paths, choice
 * types, content references). Element order (needed when writing XML) comes from a small
 * built-in table for the resource/datatype basics and the most used complex types, merged
 * with the element order of every StructureDefinition in the packages (see packages.ts:
 * `registerElementOrder`). Elements whose position is unknown keep the order of the JSON
 * object they come from.
 */
// eslint-disable-next-line @typescript-eslint/no-var-requires
const r4Model = require('fhirpath/fhir-context/r4') as FhirpathModel;

export interface FhirpathModel {
  path2Type: Record<string, string | { code: string; refType?: string[] }>;
  path2Repeating: Record<string, boolean>;
  choiceTypePaths: Record<string, string[]>;
  pathsDefinedElsewhere: Record<string, string>;
  type2Parent: Record<string, string>;
}

/** The fhirpath engine's R4 model object (passed to fhirpath.compile). */
export const R4_MODEL: FhirpathModel = r4Model;

export type ElementKind = 'primitive' | 'complex' | 'backbone' | 'resource' | 'xhtml';

export interface ElementInfo {
  /** Full model path, e.g. "Bundle.entry.fullUrl" or "Identifier.system". */
  path: string;
  /** FHIR type code ("uri", "Identifier", "BackboneElement", "Resource", "xhtml"). */
  type: string;
  kind: ElementKind;
  repeating: boolean;
  /** Where the element's children are defined (type name or backbone path). */
  childBase: string;
}

const PRIMITIVE_TYPES = new Set([
  'base64Binary', 'boolean', 'canonical', 'code', 'date', 'dateTime', 'decimal', 'id', 'instant', 'integer',
  'markdown', 'oid', 'positiveInt', 'string', 'time', 'unsignedInt', 'uri', 'url', 'uuid',
]);

export function isPrimitiveType(type: string): boolean {
  return PRIMITIVE_TYPES.has(type) || type.startsWith('System.');
}

/** Resource type names known to the R4 model. */
export function isResourceType(name: string): boolean {
  let t: string | undefined = name;
  for (let guard = 0; t && guard < 5; guard++) {
    if (t === 'Resource') return name !== 'Resource' && name !== 'DomainResource';
    t = r4Model.type2Parent[t];
  }
  return false;
}

export function parentType(type: string): string | undefined {
  return r4Model.type2Parent[type];
}

function typeCodeAt(path: string): string | undefined {
  const t = r4Model.path2Type[path];
  if (t === undefined) return undefined;
  return typeof t === 'string' ? t : t.code;
}

const infoCache = new Map<string, ElementInfo | null>();

/**
 * Looks up child `name` (as it appears in XML/JSON, e.g. "valueCoding") of the element whose
 * children live at `base` (a type name like "Identifier", or a backbone path like "Bundle.entry").
 */
export function childInfo(base: string, name: string): ElementInfo | undefined {
  const key = `${base}|${name}`;
  const cached = infoCache.get(key);
  if (cached !== undefined) return cached ?? undefined;
  const found = lookupChild(base, name);
  infoCache.set(key, found ?? null);
  return found;
}

function lookupChild(base: string, name: string): ElementInfo | undefined {
  let b: string | undefined = base;
  for (let guard = 0; b && guard < 8; guard++) {
    const path = `${b}.${name}`;
    const elsewhere = r4Model.pathsDefinedElsewhere[path];
    const modelPath = elsewhere ?? path;
    const type = typeCodeAt(modelPath);
    if (type !== undefined) {
      const repeating = !!r4Model.path2Repeating[modelPath] || !!r4Model.path2Repeating[path];
      return describe(path, modelPath, type, repeating);
    }
    // element of a complex type inherited from its parent type (Duration → Quantity, Patient → DomainResource)
    b = r4Model.type2Parent[b];
  }
  return undefined;
}

function describe(path: string, modelPath: string, type: string, repeating: boolean): ElementInfo {
  if (type === 'xhtml') return { path, type, kind: 'xhtml', repeating, childBase: type };
  if (type === 'Resource') return { path, type, kind: 'resource', repeating, childBase: type };
  if (type === 'System.String') return { path, type: 'string', kind: 'primitive', repeating, childBase: 'Element' };
  if (isPrimitiveType(type)) return { path, type, kind: 'primitive', repeating, childBase: 'Element' };
  if (type === 'BackboneElement' || type === 'Element') return { path, type, kind: 'backbone', repeating, childBase: modelPath };
  return { path, type, kind: 'complex', repeating, childBase: type };
}

/** The choice types allowed for a choice element path ("Extension.value" → ["Address", …]). */
export function choiceTypes(path: string): string[] | undefined {
  return r4Model.choiceTypePaths[path];
}

// ---------------------------------------------------------------------------
// Element order
// ---------------------------------------------------------------------------

const RESOURCE_HEAD = ['id', 'meta', 'implicitRules', 'language', 'text', 'contained', 'extension', 'modifierExtension'];
const ELEMENT_HEAD = ['id', 'extension', 'modifierExtension'];

/** Built-in order of R4 complex datatypes that the packages do not fully define (R4 spec, datatypes.html). */
const BUILT_IN_ORDER: Record<string, string[]> = {
  Extension: ['url', 'value'],
  Narrative: ['status', 'div'],
  Meta: ['versionId', 'lastUpdated', 'source', 'profile', 'security', 'tag'],
  Identifier: ['use', 'type', 'system', 'value', 'period', 'assigner'],
  Coding: ['system', 'version', 'code', 'display', 'userSelected'],
  CodeableConcept: ['coding', 'text'],
  Reference: ['reference', 'type', 'identifier', 'display'],
  Quantity: ['value', 'comparator', 'unit', 'system', 'code'],
  Period: ['start', 'end'],
  Range: ['low', 'high'],
  Ratio: ['numerator', 'denominator'],
  Money: ['value', 'currency'],
  Attachment: ['contentType', 'language', 'data', 'url', 'size', 'hash', 'title', 'creation'],
  Annotation: ['author', 'time', 'text'],
  HumanName: ['use', 'text', 'family', 'given', 'prefix', 'suffix', 'period'],
  Address: ['use', 'type', 'text', 'line', 'city', 'district', 'state', 'postalCode', 'country', 'period'],
  ContactPoint: ['system', 'value', 'use', 'rank', 'period'],
  Signature: ['type', 'when', 'who', 'onBehalfOf', 'targetFormat', 'sigFormat', 'data'],
  Dosage: ['sequence', 'text', 'additionalInstruction', 'patientInstruction', 'timing', 'asNeeded', 'site', 'route', 'method', 'doseAndRate', 'maxDosePerPeriod', 'maxDosePerAdministration', 'maxDosePerLifetime'],
  'Dosage.doseAndRate': ['type', 'dose', 'rate'],
  Timing: ['event', 'repeat', 'code'],
  'Timing.repeat': ['bounds', 'count', 'countMax', 'duration', 'durationMax', 'durationUnit', 'frequency', 'frequencyMax', 'period', 'periodMax', 'periodUnit', 'dayOfWeek', 'timeOfDay', 'when', 'offset'],
  'OperationOutcome': ['issue'],
  'OperationOutcome.issue': ['severity', 'code', 'details', 'diagnostics', 'location', 'expression'],
  'Bundle': ['identifier', 'type', 'timestamp', 'total', 'link', 'entry', 'signature'],
  'Bundle.link': ['relation', 'url'],
  'Bundle.entry': ['link', 'fullUrl', 'resource', 'search', 'request', 'response'],
  'Bundle.entry.search': ['mode', 'score'],
  'Bundle.entry.request': ['method', 'url', 'ifNoneMatch', 'ifModifiedSince', 'ifMatch', 'ifNoneExist'],
  'Bundle.entry.response': ['status', 'location', 'etag', 'lastModified', 'outcome'],
  'Parameters': ['parameter'],
  'Parameters.parameter': ['name', 'value', 'resource', 'part'],
  'Binary': ['contentType', 'securityContext', 'data'],
};

/** Registered orders: base (type or backbone path) → element names (choice elements without [x]). */
const orders = new Map<string, string[]>();

function mergeOrder(existing: string[], incoming: string[]): string[] {
  // insert unknown names after their predecessor in `incoming`
  const out = [...existing];
  let last = -1;
  for (const n of incoming) {
    const at = out.indexOf(n);
    if (at >= 0) {
      last = at;
      continue;
    }
    out.splice(last + 1, 0, n);
    last += 1;
  }
  return out;
}

/** Adds known element order for `base` (called by the package registry for every StructureDefinition). */
export function registerElementOrder(base: string, names: string[]): void {
  const cur = orders.get(base);
  orders.set(base, cur ? mergeOrder(cur, names) : [...names]);
}

for (const [base, names] of Object.entries(BUILT_IN_ORDER)) registerElementOrder(base, names);

/** Strips a choice suffix: "valueCoding" at base Extension → "value". */
function orderName(base: string, name: string): string {
  const m = /^([a-z][A-Za-z]*?)([A-Z][A-Za-z]*)$/.exec(name);
  if (m) {
    for (let cut = name.length - 1; cut > 0; cut--) {
      if (name[cut] >= 'A' && name[cut] <= 'Z') {
        const stem = name.slice(0, cut);
        if (choiceTypes(`${base}.${stem}`)) return stem;
      }
    }
  }
  return name;
}

/**
 * Sorts element names (JSON keys without the "_" prefix) into FHIR XML order for the element
 * whose children live at `base`. Known names are put in definition order into the slots known
 * names occupy; names with unknown position keep their slot.
 */
export function sortElementNames(base: string, names: string[], isResource: boolean): string[] {
  const head = isResource ? RESOURCE_HEAD : ELEMENT_HEAD;
  const known = orders.get(base) ?? orders.get(base.split('.').pop() ?? '') ?? [];
  const rank = (n: string): number | undefined => {
    const o = orderName(base, n);
    const h = head.indexOf(o);
    if (h >= 0) return h;
    const k = known.indexOf(o);
    return k >= 0 ? 100 + k : undefined;
  };
  const ranked = names.map((n, i) => ({ n, i, r: rank(n) }));
  const knownItems = ranked.filter((x) => x.r !== undefined).sort((a, b) => (a.r as number) - (b.r as number) || a.i - b.i);
  // head elements always go first, even when their slot is after an unknown element
  const out: string[] = [];
  let k = 0;
  const headCount = knownItems.filter((x) => (x.r as number) < 100).length;
  for (let j = 0; j < headCount; j++) out.push(knownItems[k++].n);
  for (const x of ranked) {
    if (x.r !== undefined && (x.r as number) < 100) continue;
    if (x.r === undefined) out.push(x.n);
    else out.push(knownItems[k++].n);
  }
  return out;
}
