/**
 * Enveloped XML signatures (XMLDSig) as the TI's TSL uses them: one Reference URI="" with the
 * enveloped-signature and exclusive-c14n transforms, SHA-256 digest, ecdsa-sha256 signature
 * (SignatureValue = r || s as XMLDSig 1.1 / RFC 4050 require), signer certificate in KeyInfo.
 *
 * Only this profile is implemented (see xml.ts for the canonicalization limits). The real gematik TSL
 * additionally carries XAdES SignedProperties; the simulated one does not.
 */
import * as crypto from 'node:crypto';
import { parseCertificate } from '../lib/x509';
import {
  attr,
  childElements,
  el,
  excC14n,
  findAll,
  namespaceOf,
  namespacesInScope,
  parseXml,
  textContent,
  type XmlElement,
} from '../lib/xml';

export const DSIG = {
  ns: 'http://www.w3.org/2000/09/xmldsig#',
  excC14n: 'http://www.w3.org/2001/10/xml-exc-c14n#',
  enveloped: 'http://www.w3.org/2000/09/xmldsig#enveloped-signature',
  ecdsaSha256: 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256',
  sha256: 'http://www.w3.org/2001/04/xmlenc#sha256',
} as const;

function sha256b64(s: string): string {
  return crypto.createHash('sha256').update(s, 'utf8').digest('base64');
}

/** Appends an enveloped ds:Signature as the last child of `root` (mutates and returns it). */
export function signEnveloped(root: XmlElement, key: crypto.KeyObject, certificate: Buffer, signatureId = `signature-${crypto.randomUUID()}`): XmlElement {
  if (key.asymmetricKeyType !== 'ec') throw new Error('only EC keys (ecdsa-sha256) are supported');
  const digest = sha256b64(excC14n(root));
  const signedInfo = el('ds:SignedInfo', [], [
    el('ds:CanonicalizationMethod', { Algorithm: DSIG.excC14n }),
    el('ds:SignatureMethod', { Algorithm: DSIG.ecdsaSha256 }),
    el('ds:Reference', { URI: '' }, [
      el('ds:Transforms', [], [el('ds:Transform', { Algorithm: DSIG.enveloped }), el('ds:Transform', { Algorithm: DSIG.excC14n })]),
      el('ds:DigestMethod', { Algorithm: DSIG.sha256 }),
      el('ds:DigestValue', [], digest),
    ]),
  ]);
  const signature = el('ds:Signature', [['xmlns:ds', DSIG.ns], ['Id', signatureId]], [signedInfo]);
  root.children.push(signature);
  // SignedInfo is canonicalized in its context: ds is declared on ds:Signature.
  const scope = namespacesInScope(root, signedInfo) ?? {};
  const value = crypto.sign('sha256', Buffer.from(excC14n(signedInfo, scope), 'utf8'), { key, dsaEncoding: 'ieee-p1363' });
  signature.children.push(
    el('ds:SignatureValue', [], value.toString('base64')),
    el('ds:KeyInfo', [], [el('ds:X509Data', [], [el('ds:X509Certificate', [], certificate.toString('base64'))])]),
  );
  return root;
}

export interface XmlSignatureVerification {
  valid: boolean;
  reason?: string;
  signerCertificate?: Buffer;
}

/**
 * Verifies an enveloped signature of the profile above. When `trustedCertificate` is given, the
 * signature must verify with its key; otherwise with the certificate in KeyInfo (the caller must then
 * decide whether to trust that certificate, e.g. by its chain to the TSL signer CA).
 */
export function verifyEnveloped(xml: string, trustedCertificate?: Buffer): XmlSignatureVerification {
  let root: XmlElement;
  try {
    root = parseXml(xml);
  } catch (e) {
    return { valid: false, reason: `not well-formed XML: ${(e as Error).message}` };
  }
  const signatures = childElements(root, 'Signature').filter((s) => namespaceOf(s, namespacesInScope(root, s) ?? {}) === DSIG.ns);
  if (signatures.length !== 1) return { valid: false, reason: `expected one ds:Signature child of the root, found ${signatures.length}` };
  const signature = signatures[0];
  const [signedInfo] = childElements(signature, 'SignedInfo');
  const [signatureValue] = childElements(signature, 'SignatureValue');
  if (!signedInfo || !signatureValue) return { valid: false, reason: 'ds:SignedInfo or ds:SignatureValue missing' };
  const c14nMethod = attr(childElements(signedInfo, 'CanonicalizationMethod')[0] ?? el('x'), 'Algorithm');
  const sigMethod = attr(childElements(signedInfo, 'SignatureMethod')[0] ?? el('x'), 'Algorithm');
  if (c14nMethod !== DSIG.excC14n) return { valid: false, reason: `unsupported CanonicalizationMethod ${String(c14nMethod)}` };
  if (sigMethod !== DSIG.ecdsaSha256) return { valid: false, reason: `unsupported SignatureMethod ${String(sigMethod)}` };
  const references = childElements(signedInfo, 'Reference');
  if (references.length !== 1 || attr(references[0], 'URI') !== '') return { valid: false, reason: 'expected exactly one Reference with URI=""' };
  const transforms = findAll(references[0], 'Transform').map((t) => attr(t, 'Algorithm'));
  if (transforms.join(' ') !== `${DSIG.enveloped} ${DSIG.excC14n}`) return { valid: false, reason: `unsupported transforms ${transforms.join(', ')}` };
  const digestMethod = attr(childElements(references[0], 'DigestMethod')[0] ?? el('x'), 'Algorithm');
  if (digestMethod !== DSIG.sha256) return { valid: false, reason: `unsupported DigestMethod ${String(digestMethod)}` };
  const digestValue = textContent(childElements(references[0], 'DigestValue')[0] ?? '').replace(/\s+/g, '');

  const actualDigest = sha256b64(excC14n(root, {}, new Set([signature])));
  if (actualDigest !== digestValue) return { valid: false, reason: 'digest mismatch: the document was changed after signing' };

  let certificate = trustedCertificate;
  if (!certificate) {
    const certEl = findAll(signature, 'X509Certificate')[0];
    if (!certEl) return { valid: false, reason: 'no trusted certificate given and none in KeyInfo' };
    certificate = Buffer.from(textContent(certEl).replace(/\s+/g, ''), 'base64');
  }
  let key: crypto.KeyObject;
  try {
    key = parseCertificate(certificate).publicKey;
  } catch (e) {
    return { valid: false, reason: `signer certificate unreadable: ${(e as Error).message}` };
  }
  const scope = namespacesInScope(root, signedInfo) ?? {};
  const sig = Buffer.from(textContent(signatureValue).replace(/\s+/g, ''), 'base64');
  let ok = false;
  try {
    ok = crypto.verify('sha256', Buffer.from(excC14n(signedInfo, scope), 'utf8'), { key, dsaEncoding: 'ieee-p1363' }, sig);
  } catch {
    ok = false;
  }
  return ok ? { valid: true, signerCertificate: certificate } : { valid: false, reason: 'signature value does not verify', signerCertificate: certificate };
}

