/**
 * FHIR R4 XML ↔ JSON (http://hl7.org/fhir/R4/xml.html, json.html).
 *
 * - primitives: XML `value` attribute ↔ JSON value; `id` attribute and `extension` children ↔
 *   the `_name` sibling (arrays of primitives get aligned `_name` arrays with nulls);
 * - arrays by the R4 model's repeating paths (fhirpath's R4 model data, see model.ts);
 * - `resourceType` from the element name; contained resources, Bundle.entry.resource,
 *   Parameters.parameter.resource and other Resource-typed elements wrap a resource element;
 * - Narrative.div (xhtml) is kept as the serialized XHTML string;
 * - numbers: integer types and decimals become JSON numbers (decimal precision beyond what a JS
 *   number keeps, e.g. "1.50", is normalised to the number's shortest form);
 * - writing XML orders the elements by definition order (model.ts); the result is
 *   UTF-8 without XML declaration unless asked.
 *
 * Malformed input throws FhirFormatError with a message saying where and why.
 */
import { XmlElement, XmlNode, XmlParseError, escapeAttr, escapeText, isElement, parseXml, serialize } from '../xml';
import { ElementInfo, childInfo, isResourceType, sortElementNames } from './model';

export const FHIR_NS = 'http://hl7.org/fhir';
export const XHTML_NS = 'http://www.w3.org/1999/xhtml';

export type FhirJson = Record<string, unknown>;
export interface FhirResource extends FhirJson {
  resourceType: string;
}

export class FhirFormatError extends Error {
  override name = 'FhirFormatError';
  constructor(message: string, readonly location?: string) {
    super(location ? `${message} (at ${location})` : message);
  }
}

const INTEGER_TYPES = new Set(['integer', 'positiveInt', 'unsignedInt']);

// ---------------------------------------------------------------------------
// XML → JSON
// ---------------------------------------------------------------------------

/** Parses FHIR XML text into a FHIR JSON resource object. */
export function parseFhirXml(text: string): FhirResource {
  let root: XmlElement;
  try {
    root = parseXml(text);
  } catch (e) {
    if (e instanceof XmlParseError) throw new FhirFormatError(`malformed XML: ${e.message}`);
    throw e;
  }
  return xmlElementToResource(root, {});
}

type NsScope = Record<string, string>;

function scopeOf(e: XmlElement, parent: NsScope): NsScope {
  let scope = parent;
  for (const [k, v] of e.attrs) {
    if (k === 'xmlns' || k.startsWith('xmlns:')) {
      if (scope === parent) scope = { ...parent };
      scope[k === 'xmlns' ? '' : k.slice(6)] = v;
    }
  }
  return scope;
}

function splitName(qname: string): { prefix: string; local: string } {
  const c = qname.indexOf(':');
  return c < 0 ? { prefix: '', local: qname } : { prefix: qname.slice(0, c), local: qname.slice(c + 1) };
}

function checkFhirNs(e: XmlElement, scope: NsScope, location: string): string {
  const { prefix, local } = splitName(e.name);
  const ns = scope[prefix] ?? '';
  if (ns !== FHIR_NS) throw new FhirFormatError(`element <${e.name}> is not in the FHIR namespace ${FHIR_NS} (found "${ns}")`, location);
  return local;
}

function plainAttrs(e: XmlElement): Array<[string, string]> {
  return e.attrs.filter(([k]) => k !== 'xmlns' && !k.startsWith('xmlns:'));
}

function elementChildren(e: XmlElement, location: string): XmlElement[] {
  const out: XmlElement[] = [];
  for (const c of e.children) {
    if (isElement(c)) out.push(c);
    else if (c.trim() !== '') throw new FhirFormatError(`unexpected text content "${c.trim().slice(0, 40)}" in <${e.name}>`, location);
  }
  return out;
}

function xmlElementToResource(e: XmlElement, parentScope: NsScope, location = ''): FhirResource {
  const scope = scopeOf(e, parentScope);
  const type = checkFhirNs(e, scope, location || e.name);
  if (!isResourceType(type)) throw new FhirFormatError(`<${type}> is not a FHIR R4 resource type`, location || type);
  const loc = location || type;
  for (const [k] of plainAttrs(e)) throw new FhirFormatError(`unexpected attribute "${k}" on resource <${type}>`, loc);
  const out: FhirResource = { resourceType: type };
  convertChildren(e, scope, type, out, loc, true);
  return out;
}

function convertChildren(e: XmlElement, scope: NsScope, base: string, out: FhirJson, location: string, isResource: boolean): void {
  for (const child of elementChildren(e, location)) {
    const childScope = scopeOf(child, scope);
    const local = splitName(child.name).local;
    const name = local === 'div' && childInfo(base, 'div')?.kind === 'xhtml' ? local : checkFhirNs(child, childScope, `${location}.${child.name}`);
    const loc = `${location}.${name}`;
    if ((!isResource && name === 'id') || (base === 'Extension' && name === 'url')) {
      // Element.id and Extension.url are attributes in XML
      throw new FhirFormatError(`"${name}" must be an attribute, not an element`, loc);
    }
    const info = childInfo(base, name);
    if (!info) throw new FhirFormatError(`unknown element "${name}" in ${base}`, loc);
    addValue(out, name, info, child, childScope, loc);
  }
}

function put(out: FhirJson, name: string, info: ElementInfo, value: unknown, location: string): number {
  if (info.repeating) {
    const arr = (out[name] as unknown[] | undefined) ?? [];
    arr.push(value);
    out[name] = arr;
    return arr.length - 1;
  }
  if (name in out) throw new FhirFormatError(`element "${name}" occurs more than once but does not repeat`, location);
  out[name] = value;
  return -1;
}

function addValue(out: FhirJson, name: string, info: ElementInfo, child: XmlElement, scope: NsScope, loc: string): void {
  switch (info.kind) {
    case 'resource': {
      const inner = elementChildren(child, loc);
      if (inner.length !== 1) throw new FhirFormatError(`<${name}> must contain exactly one resource`, loc);
      put(out, name, info, xmlElementToResource(inner[0], scope, loc), loc);
      return;
    }
    case 'xhtml': {
      const { prefix } = splitName(child.name);
      const ns = scope[prefix] ?? '';
      if (ns !== XHTML_NS) throw new FhirFormatError(`<div> must be in the XHTML namespace ${XHTML_NS}`, loc);
      const div: XmlElement = { ...child, attrs: child.attrs.some(([k]) => k === 'xmlns') ? child.attrs : [['xmlns', XHTML_NS], ...child.attrs] };
      put(out, name, info, serialize(div), loc);
      return;
    }
    case 'primitive': {
      let value: unknown;
      const ext: FhirJson = {};
      for (const [k, v] of plainAttrs(child)) {
        if (k === 'value') value = primitiveFromString(info.type, v, loc);
        else if (k === 'id') ext.id = v;
        else throw new FhirFormatError(`unexpected attribute "${k}" on primitive <${name}>`, loc);
      }
      const exts = elementChildren(child, loc);
      for (const x of exts) {
        const xScope = scopeOf(x, scope);
        const xn = checkFhirNs(x, xScope, loc);
        if (xn !== 'extension') throw new FhirFormatError(`primitive <${name}> may only contain extensions, found <${xn}>`, loc);
        const xi = childInfo('Element', 'extension') as ElementInfo;
        addValue(ext, 'extension', xi, x, xScope, `${loc}.extension`);
      }
      if (value === undefined && Object.keys(ext).length === 0) throw new FhirFormatError(`primitive <${name}> has neither a value nor extensions`, loc);
      if (info.repeating) {
        const arr = (out[name] as unknown[] | undefined) ?? [];
        const arrX = (out[`_${name}`] as unknown[] | undefined) ?? [];
        const idx = arr.length;
        arr.push(value === undefined ? null : value);
        out[name] = arr;
        if (Object.keys(ext).length) {
          while (arrX.length < idx) arrX.push(null);
          arrX.push(ext);
        }
        if (arrX.length) {
          while (arrX.length < arr.length) arrX.push(null);
          out[`_${name}`] = arrX;
        }
      } else {
        if (name in out || `_${name}` in out) throw new FhirFormatError(`element "${name}" occurs more than once but does not repeat`, loc);
        if (value !== undefined) out[name] = value;
        if (Object.keys(ext).length) out[`_${name}`] = ext;
      }
      return;
    }
    default: {
      const obj: FhirJson = {};
      for (const [k, v] of plainAttrs(child)) {
        if (k === 'id') obj.id = v;
        else if (k === 'url' && info.type === 'Extension') obj.url = v;
        else throw new FhirFormatError(`unexpected attribute "${k}" on <${name}>`, loc);
      }
      convertChildren(child, scope, info.childBase, obj, loc, false);
      if (Object.keys(obj).length === 0) throw new FhirFormatError(`element <${name}> is empty`, loc);
      put(out, name, info, obj, loc);
    }
  }
}

function primitiveFromString(type: string, v: string, loc: string): unknown {
  if (type === 'boolean') {
    if (v !== 'true' && v !== 'false') throw new FhirFormatError(`"${v}" is not a boolean`, loc);
    return v === 'true';
  }
  if (INTEGER_TYPES.has(type)) {
    if (!/^[-+]?[0-9]+$/.test(v)) throw new FhirFormatError(`"${v}" is not an integer`, loc);
    return Number(v);
  }
  if (type === 'decimal') {
    if (!/^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$/.test(v)) throw new FhirFormatError(`"${v}" is not a decimal`, loc);
    return Number(v);
  }
  return v;
}

// ---------------------------------------------------------------------------
// JSON text
// ---------------------------------------------------------------------------

/** Parses FHIR JSON text; checks it is an object with a known resourceType. */
export function parseFhirJson(text: string): FhirResource {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new FhirFormatError(`malformed JSON: ${(e as Error).message}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new FhirFormatError('FHIR JSON must be an object');
  const rt = (v as FhirJson).resourceType;
  if (typeof rt !== 'string' || !isResourceType(rt)) throw new FhirFormatError(`"resourceType" missing or not an R4 resource type: ${JSON.stringify(rt)}`);
  return v as FhirResource;
}

export function serializeFhirJson(resource: FhirResource, pretty = false): string {
  return JSON.stringify(resource, null, pretty ? 2 : undefined);
}

/** Parses either format, by media type ("application/fhir+xml", "application/fhir+json") or by sniffing. */
export function parseFhir(text: string, contentType?: string): FhirResource {
  const ct = (contentType ?? '').toLowerCase();
  if (ct.includes('xml')) return parseFhirXml(text);
  if (ct.includes('json')) return parseFhirJson(text);
  const first = text.trimStart()[0];
  if (first === '<') return parseFhirXml(text);
  if (first === '{') return parseFhirJson(text);
  throw new FhirFormatError('neither FHIR XML nor FHIR JSON');
}

// ---------------------------------------------------------------------------
// JSON → XML
// ---------------------------------------------------------------------------

export interface XmlWriteOptions {
  /** Prefix with an XML declaration. */
  declaration?: boolean;
  /** Indent nested elements (two spaces). */
  pretty?: boolean;
}

/** Serializes a FHIR JSON resource as FHIR XML. */
export function serializeFhirXml(resource: FhirResource, opts: XmlWriteOptions = {}): string {
  const lines: string[] = [];
  writeResource(resource, lines, 0, opts.pretty ?? false, resource.resourceType, true);
  const body = lines.join(opts.pretty ? '\n' : '');
  return (opts.declaration ? '<?xml version="1.0" encoding="UTF-8"?>' + (opts.pretty ? '\n' : '') : '') + body;
}

function ind(depth: number, pretty: boolean): string {
  return pretty ? '  '.repeat(depth) : '';
}

function writeResource(res: FhirJson, lines: string[], depth: number, pretty: boolean, location: string, top: boolean): void {
  const type = res.resourceType;
  if (typeof type !== 'string' || !isResourceType(type)) throw new FhirFormatError(`"resourceType" missing or unknown: ${JSON.stringify(type)}`, location);
  const open = `${ind(depth, pretty)}<${type} xmlns="${FHIR_NS}"`;
  const inner: string[] = [];
  writeMembers(res, type, inner, depth + 1, pretty, location, true);
  if (!inner.length) lines.push(`${open}/>`);
  else {
    lines.push(`${open}>`);
    lines.push(...inner);
    lines.push(`${ind(depth, pretty)}</${type}>`);
  }
  void top;
}

function memberNames(obj: FhirJson): string[] {
  const names: string[] = [];
  for (const k of Object.keys(obj)) {
    if (k === 'resourceType') continue;
    const n = k.startsWith('_') ? k.slice(1) : k;
    if (!names.includes(n)) names.push(n);
  }
  return names;
}

function writeMembers(obj: FhirJson, base: string, lines: string[], depth: number, pretty: boolean, location: string, isResource: boolean): void {
  const names = sortElementNames(base, memberNames(obj), isResource);
  for (const name of names) {
    if (!isResource && name === 'id') continue; // attribute
    if (name === 'url' && base === 'Extension') continue; // attribute
    const loc = `${location}.${name}`;
    const info = childInfo(base, name);
    if (!info) throw new FhirFormatError(`unknown element "${name}" in ${base}`, loc);
    const value = obj[name];
    const ext = obj[`_${name}`];
    if (info.kind === 'primitive') {
      const values = info.repeating ? asArray(value, loc) : [value];
      const exts = info.repeating ? (ext === undefined ? [] : asArray(ext, loc)) : [ext];
      const n = Math.max(values.length, exts.length);
      for (let i = 0; i < n; i++) writePrimitive(name, values[i], exts[i], lines, depth, pretty, loc);
      continue;
    }
    const items = info.repeating ? asArray(value, loc) : [value];
    if (!info.repeating && Array.isArray(value)) throw new FhirFormatError(`element "${name}" does not repeat but is an array`, loc);
    for (const item of items) {
      if (item === undefined || item === null) continue;
      if (info.kind === 'resource') {
        if (typeof item !== 'object') throw new FhirFormatError(`"${name}" must hold a resource`, loc);
        lines.push(`${ind(depth, pretty)}<${name}>`);
        writeResource(item as FhirJson, lines, depth + 1, pretty, loc, false);
        lines.push(`${ind(depth, pretty)}</${name}>`);
      } else if (info.kind === 'xhtml') {
        if (typeof item !== 'string') throw new FhirFormatError('div must be an XHTML string', loc);
        let div: XmlElement;
        try {
          div = parseXml(item);
        } catch (e) {
          throw new FhirFormatError(`div is not well-formed XHTML: ${(e as Error).message}`, loc);
        }
        if (!div.attrs.some(([k]) => k === 'xmlns')) div = { ...div, attrs: [['xmlns', XHTML_NS], ...div.attrs] };
        lines.push(ind(depth, pretty) + serialize(div));
      } else {
        if (typeof item !== 'object' || Array.isArray(item)) throw new FhirFormatError(`"${name}" must be an object`, loc);
        const o = item as FhirJson;
        let attrs = '';
        if (typeof o.id === 'string') attrs += ` id="${escapeAttr(o.id)}"`;
        if (info.type === 'Extension') {
          if (typeof o.url !== 'string') throw new FhirFormatError('extension without url', loc);
          attrs += ` url="${escapeAttr(o.url)}"`;
        }
        const inner: string[] = [];
        writeMembers(o, info.childBase, inner, depth + 1, pretty, loc, false);
        if (!inner.length) lines.push(`${ind(depth, pretty)}<${name}${attrs}/>`);
        else {
          lines.push(`${ind(depth, pretty)}<${name}${attrs}>`);
          lines.push(...inner);
          lines.push(`${ind(depth, pretty)}</${name}>`);
        }
      }
    }
  }
}

function asArray(v: unknown, loc: string): unknown[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new FhirFormatError('repeating element must be a JSON array', loc);
  return v;
}

function primitiveToString(v: unknown, loc: string): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new FhirFormatError('number is not finite', loc);
    return String(v);
  }
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  throw new FhirFormatError(`primitive value must be a string, number or boolean, got ${JSON.stringify(v)}`, loc);
}

function writePrimitive(name: string, value: unknown, ext: unknown, lines: string[], depth: number, pretty: boolean, loc: string): void {
  if ((value === undefined || value === null) && (ext === undefined || ext === null)) return;
  let attrs = '';
  const e = (ext ?? {}) as FhirJson;
  if (typeof e.id === 'string') attrs += ` id="${escapeAttr(e.id)}"`;
  if (value !== undefined && value !== null) attrs += ` value="${escapeAttr(primitiveToString(value, loc))}"`;
  const inner: string[] = [];
  if (e.extension !== undefined) writeMembers({ extension: e.extension }, 'Element', inner, depth + 1, pretty, loc, false);
  if (!inner.length) lines.push(`${ind(depth, pretty)}<${name}${attrs}/>`);
  else {
    lines.push(`${ind(depth, pretty)}<${name}${attrs}>`);
    lines.push(...inner);
    lines.push(`${ind(depth, pretty)}</${name}>`);
  }
}

// ---------------------------------------------------------------------------
// Canonical comparison (tests, round trips)
// ---------------------------------------------------------------------------

/**
 * A canonical text of an XML document for equivalence checks: comments and whitespace-only text
 * dropped, namespace declarations normalised, attributes sorted, decimals compared as numbers.
 */
export function canonicalXml(text: string): string {
  const root = parseXml(text);
  const walk = (n: XmlNode): string => {
    if (!isElement(n)) return n.trim() === '' ? '' : escapeText(n);
    const local = splitName(n.name).local;
    const attrs = plainAttrs(n)
      .map(([k, v]): [string, string] => [k, k === 'value' && /^-?[0-9]+\.[0-9]+$/.test(v) ? String(Number(v)) : v])
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => ` ${k}="${escapeAttr(v)}"`)
      .join('');
    return `<${local}${attrs}>${n.children.map(walk).join('')}</${local}>`;
  };
  return walk(root);
}
