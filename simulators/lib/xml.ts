/**
 * A minimal XML tree, serializer, parser and Exclusive XML Canonicalization 1.0 (without comments)
 * — enough for the TSL the PKI generates and signs (XMLDSig) and for verifying such documents.
 *
 * Limits (documented in docs/pki.md): no DTDs/entities beyond the five predefined ones and character
 * references, no processing instructions inside the document, no InclusiveNamespaces PrefixList,
 * comments are dropped by the parser (exc-c14n without comments drops them anyway).
 */

export interface XmlElement {
  /** Qualified name as written, e.g. "ds:Signature" or "TrustServiceStatusList". */
  name: string;
  /** Attributes in document order, including namespace declarations (xmlns, xmlns:p). */
  attrs: Array<[string, string]>;
  children: XmlNode[];
}

export type XmlNode = XmlElement | string;

export const XML_NS = 'http://www.w3.org/XML/1998/namespace';

export function el(name: string, attrs: Record<string, string> | Array<[string, string]> = [], children: XmlNode[] | XmlNode = []): XmlElement {
  return {
    name,
    attrs: Array.isArray(attrs) ? attrs : Object.entries(attrs),
    children: Array.isArray(children) ? children : [children],
  };
}

export function isElement(n: XmlNode): n is XmlElement {
  return typeof n !== 'string';
}

const prefixOf = (qname: string): string => (qname.includes(':') ? qname.slice(0, qname.indexOf(':')) : '');
const localOf = (qname: string): string => (qname.includes(':') ? qname.slice(qname.indexOf(':') + 1) : qname);

// ---------------------------------------------------------------------------
// Escaping
// ---------------------------------------------------------------------------

/** Text escaping of Canonical XML (also valid for normal output). */
export function escapeText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#xD;');
}

/** Attribute escaping of Canonical XML (also valid for normal output). */
export function escapeAttr(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/"/g, '&quot;')
    .replace(/\t/g, '&#x9;')
    .replace(/\n/g, '&#xA;')
    .replace(/\r/g, '&#xD;');
}

// ---------------------------------------------------------------------------
// Serialization (as built, no canonicalization)
// ---------------------------------------------------------------------------

export function serialize(node: XmlNode): string {
  if (!isElement(node)) return escapeText(node);
  const attrs = node.attrs.map(([k, v]) => ` ${k}="${escapeAttr(v)}"`).join('');
  if (!node.children.length) return `<${node.name}${attrs}/>`;
  return `<${node.name}${attrs}>${node.children.map(serialize).join('')}</${node.name}>`;
}

export function serializeDocument(root: XmlElement): string {
  return `<?xml version="1.0" encoding="UTF-8"?>${serialize(root)}`;
}

// ---------------------------------------------------------------------------
// Exclusive XML Canonicalization 1.0 (http://www.w3.org/2001/10/xml-exc-c14n#), without comments
// ---------------------------------------------------------------------------

type NsMap = Record<string, string>;

export function declaredNamespaces(e: XmlElement): NsMap {
  const out: NsMap = {};
  for (const [k, v] of e.attrs) {
    if (k === 'xmlns') out[''] = v;
    else if (k.startsWith('xmlns:')) out[k.slice(6)] = v;
  }
  return out;
}

/**
 * Canonical form of `node` as an apex of the node-set.
 * @param inScope namespaces in scope at the node from its ancestors (needed when canonicalizing a
 *                subtree such as SignedInfo).
 * @param exclude elements to leave out together with their subtrees (enveloped-signature transform).
 */
export function excC14n(node: XmlNode, inScope: NsMap = {}, exclude: Set<XmlElement> = new Set()): string {
  const out: string[] = [];
  const walk = (n: XmlNode, scope: NsMap, rendered: NsMap) => {
    if (!isElement(n)) {
      out.push(escapeText(n));
      return;
    }
    if (exclude.has(n)) return;
    const ns = { ...scope, ...declaredNamespaces(n) };
    const used = new Set<string>([prefixOf(n.name)]);
    const plainAttrs: Array<{ uri: string; local: string; q: string; v: string }> = [];
    for (const [k, v] of n.attrs) {
      if (k === 'xmlns' || k.startsWith('xmlns:')) continue;
      const p = prefixOf(k);
      if (p && p !== 'xml') used.add(p);
      const uri = p === 'xml' ? XML_NS : p ? (ns[p] ?? '') : '';
      plainAttrs.push({ uri, local: localOf(k), q: k, v });
    }
    const nsOut: Array<[string, string]> = [];
    const nextRendered = { ...rendered };
    for (const p of used) {
      const uri = ns[p] ?? '';
      if (p === '') {
        if ((rendered[''] ?? '') !== uri) {
          nsOut.push(['', uri]);
          nextRendered[''] = uri;
        }
      } else if (rendered[p] !== uri) {
        if (uri === '') throw new Error(`namespace prefix "${p}" is not declared`);
        nsOut.push([p, uri]);
        nextRendered[p] = uri;
      }
    }
    nsOut.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    plainAttrs.sort((a, b) => (a.uri !== b.uri ? (a.uri < b.uri ? -1 : 1) : a.local < b.local ? -1 : a.local > b.local ? 1 : 0));
    let s = `<${n.name}`;
    for (const [p, uri] of nsOut) s += p ? ` xmlns:${p}="${escapeAttr(uri)}"` : ` xmlns="${escapeAttr(uri)}"`;
    for (const a of plainAttrs) s += ` ${a.q}="${escapeAttr(a.v)}"`;
    out.push(`${s}>`);
    for (const c of n.children) walk(c, ns, nextRendered);
    out.push(`</${n.name}>`);
  };
  walk(node, inScope, {});
  return out.join('');
}

/** Namespaces in scope at `target` (declared on its ancestors and itself), or undefined if not in the tree. */
export function namespacesInScope(root: XmlElement, target: XmlElement): NsMap | undefined {
  const find = (e: XmlElement, scope: NsMap): NsMap | undefined => {
    const ns = { ...scope, ...declaredNamespaces(e) };
    if (e === target) return ns;
    for (const c of e.children) {
      if (!isElement(c)) continue;
      const r = find(c, ns);
      if (r) return r;
    }
    return undefined;
  };
  return find(root, {});
}

// ---------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------

export class XmlParseError extends Error {
  override name = 'XmlParseError';
}

const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decodeEntities(s: string, at: number): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);|&/g, (m, ref: string | undefined) => {
    if (!ref) throw new XmlParseError(`bare "&" near offset ${at}`);
    if (ref.startsWith('#x')) return String.fromCodePoint(parseInt(ref.slice(2), 16));
    if (ref.startsWith('#')) return String.fromCodePoint(parseInt(ref.slice(1), 10));
    const v = PREDEFINED[ref];
    if (v === undefined) throw new XmlParseError(`unknown entity &${ref}; near offset ${at}`);
    return v;
  });
}

const NAME = /[A-Za-z_][\w.\-:]*/y;

/** Parses a document (XML declaration, comments and whitespace around the root are allowed). */
export function parseXml(input: string): XmlElement {
  const src = input.replace(/\r\n?/g, '\n');
  let i = 0;
  const fail = (msg: string): never => {
    throw new XmlParseError(`${msg} at offset ${i}`);
  };
  const skipMisc = () => {
    for (;;) {
      while (i < src.length && /\s/.test(src[i])) i++;
      if (src.startsWith('<?', i)) {
        const end = src.indexOf('?>', i);
        if (end < 0) fail('unterminated processing instruction');
        i = end + 2;
      } else if (src.startsWith('<!--', i)) {
        const end = src.indexOf('-->', i);
        if (end < 0) fail('unterminated comment');
        i = end + 3;
      } else if (src.startsWith('<!DOCTYPE', i)) {
        fail('DOCTYPE is not supported');
      } else return;
    }
  };
  const name = (): string => {
    NAME.lastIndex = i;
    const m = NAME.exec(src);
    if (!m) fail('expected a name');
    i += (m as RegExpExecArray)[0].length;
    return (m as RegExpExecArray)[0];
  };
  const element = (depth: number): XmlElement => {
    if (depth > 200) fail('document nested too deeply');
    if (src[i] !== '<') fail('expected "<"');
    i++;
    const e: XmlElement = { name: name(), attrs: [], children: [] };
    for (;;) {
      while (/\s/.test(src[i] ?? '')) i++;
      if (src.startsWith('/>', i)) {
        i += 2;
        return e;
      }
      if (src[i] === '>') {
        i++;
        break;
      }
      if (i >= src.length) fail('unterminated start tag');
      const k = name();
      while (/\s/.test(src[i] ?? '')) i++;
      if (src[i] !== '=') fail(`expected "=" after attribute ${k}`);
      i++;
      while (/\s/.test(src[i] ?? '')) i++;
      const q = src[i];
      if (q !== '"' && q !== "'") fail('expected a quoted attribute value');
      const end = src.indexOf(q, i + 1);
      if (end < 0) fail('unterminated attribute value');
      const raw = src.slice(i + 1, end);
      if (raw.includes('<')) fail('"<" in attribute value');
      if (e.attrs.some(([n]) => n === k)) fail(`duplicate attribute ${k}`);
      e.attrs.push([k, decodeEntities(raw.replace(/[\t\n]/g, ' '), i)]);
      i = end + 1;
    }
    // content
    let textBuf = '';
    const flush = () => {
      if (textBuf) {
        e.children.push(textBuf);
        textBuf = '';
      }
    };
    for (;;) {
      if (i >= src.length) fail(`unterminated element <${e.name}>`);
      if (src.startsWith('</', i)) {
        i += 2;
        const n = name();
        if (n !== e.name) fail(`mismatched end tag </${n}> for <${e.name}>`);
        while (/\s/.test(src[i] ?? '')) i++;
        if (src[i] !== '>') fail('expected ">"');
        i++;
        flush();
        return e;
      }
      if (src.startsWith('<!--', i)) {
        const end = src.indexOf('-->', i);
        if (end < 0) fail('unterminated comment');
        i = end + 3;
        continue;
      }
      if (src.startsWith('<![CDATA[', i)) {
        const end = src.indexOf(']]>', i);
        if (end < 0) fail('unterminated CDATA section');
        textBuf += src.slice(i + 9, end);
        i = end + 3;
        continue;
      }
      if (src.startsWith('<?', i)) fail('processing instructions inside the document are not supported');
      if (src[i] === '<') {
        flush();
        e.children.push(element(depth + 1));
        continue;
      }
      const next = src.indexOf('<', i);
      const end = next < 0 ? src.length : next;
      textBuf += decodeEntities(src.slice(i, end), i);
      i = end;
    }
  };
  skipMisc();
  const root = element(0);
  skipMisc();
  if (i < src.length) fail('content after the root element');
  return root;
}

// ---------------------------------------------------------------------------
// Navigation
// ---------------------------------------------------------------------------

/** Namespace URI of an element given the namespaces in scope. */
export function namespaceOf(e: XmlElement, scope: NsMap): string {
  return { ...scope, ...declaredNamespaces(e) }[prefixOf(e.name)] ?? '';
}

export function localName(e: XmlElement): string {
  return localOf(e.name);
}

export function childElements(e: XmlElement, local?: string): XmlElement[] {
  return e.children.filter(isElement).filter((c) => local === undefined || localOf(c.name) === local);
}

export function textContent(n: XmlNode): string {
  return isElement(n) ? n.children.map(textContent).join('') : n;
}

export function attr(e: XmlElement, name: string): string | undefined {
  return e.attrs.find(([k]) => k === name)?.[1];
}

/** Depth-first search for elements by local name. */
export function findAll(root: XmlElement, local: string): XmlElement[] {
  const out: XmlElement[] = [];
  const walk = (e: XmlElement) => {
    if (localOf(e.name) === local) out.push(e);
    e.children.filter(isElement).forEach(walk);
  };
  walk(root);
  return out;
}

// ---------------------------------------------------------------------------
// Namespace-aware view (SOAP messages, WSDL-defined documents)
// ---------------------------------------------------------------------------

export type NamespaceMap = Record<string, string>;

/**
 * An element together with the namespaces in scope at it: `ns` and `local` give its expanded
 * name, `children()` and `child()` navigate by expanded name. The underlying tree is `element`.
 */
export class NsElement {
  readonly ns: string;
  readonly local: string;

  constructor(
    readonly element: XmlElement,
    /** Namespaces in scope at this element, its own declarations included. */
    readonly scope: NamespaceMap,
  ) {
    this.ns = scope[prefixOf(element.name)] ?? '';
    this.local = localOf(element.name);
  }

  /** The view of a document root (or of a subtree whose ancestors declare `inherited`). */
  static of(element: XmlElement, inherited: NamespaceMap = {}): NsElement {
    return new NsElement(element, { ...inherited, ...declaredNamespaces(element) });
  }

  get name(): string {
    return this.element.name;
  }

  /** Child elements, optionally only those with this local name (and namespace). */
  children(local?: string, ns?: string): NsElement[] {
    return this.element.children
      .filter(isElement)
      .map((c) => NsElement.of(c, this.scope))
      .filter((c) => (local === undefined || c.local === local) && (ns === undefined || c.ns === ns));
  }

  /** The first child element with this local name (and namespace), if any. */
  child(local: string, ns?: string): NsElement | undefined {
    return this.children(local, ns)[0];
  }

  /** Text content of the element and its descendants. */
  text(): string {
    return textContent(this.element);
  }

  /** Non-whitespace text directly inside this element (mixed content check). */
  hasOwnText(): boolean {
    return this.element.children.some((c) => !isElement(c) && c.trim() !== '');
  }

  /** Unprefixed attribute value (prefixed attributes are matched by their qualified name). */
  attr(name: string): string | undefined {
    return attr(this.element, name);
  }

  /** True when this element has the expanded name {ns}local. */
  is(ns: string, local: string): boolean {
    return this.ns === ns && this.local === local;
  }
}
