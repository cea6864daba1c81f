import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import { buildCertificate, ext, generateBrainpoolKeyPair } from '../../../simulators/lib/x509';
import { el, excC14n, findAll, namespacesInScope, parseXml, serializeDocument, XmlParseError } from '../../../simulators/lib/xml';
import { signEnveloped, verifyEnveloped } from '../../../simulators/pki/xmldsig';
import { tempDir, writeFile } from './helpers';

test('exclusive c14n: sorted attributes, namespaces where used, expanded empty elements, escaping', () => {
  const doc = parseXml(
    `<?xml version="1.0"?>\n<!-- comment --><a:root xmlns:a="urn:a" xmlns:unused="urn:u" z="1" b:y="2" xmlns:b="urn:b" a="&lt;&amp;&quot;&#9;"><empty/><child xmlns="urn:d">t&gt;x&#13;</child></a:root>`,
  );
  assert.equal(
    excC14n(doc),
    '<a:root xmlns:a="urn:a" xmlns:b="urn:b" a="&lt;&amp;&quot;&#x9;" z="1" b:y="2"><empty></empty><child xmlns="urn:d">t&gt;x&#xD;</child></a:root>',
  );
});

test('exclusive c14n of a subtree renders the namespaces it inherits and uses', () => {
  const doc = parseXml('<r xmlns="urn:r" xmlns:ds="urn:ds"><ds:S Id="s"><ds:I><x/></ds:I></ds:S></r>');
  const inner = findAll(doc, 'I')[0];
  const scope = namespacesInScope(doc, inner);
  // ds is declared on the apex; the default namespace is declared where <x> uses it
  assert.equal(excC14n(inner, scope), '<ds:I xmlns:ds="urn:ds"><x xmlns="urn:r"></x></ds:I>');
});

test('xmlns="" is rendered only when an element leaves a rendered default namespace', () => {
  const doc = parseXml('<r xmlns="urn:r"><n xmlns=""><m/></n></r>');
  assert.equal(excC14n(doc), '<r xmlns="urn:r"><n xmlns=""><m></m></n></r>');
  assert.equal(excC14n(parseXml('<n xmlns=""><m/></n>')), '<n><m></m></n>');
});

test('our c14n matches an independent implementation (Python C14N 2.0) on a TSL-like document', (t) => {
  const python = spawnSync('python3', ['-c', 'import xml.etree.ElementTree as E; E.canonicalize'], { encoding: 'utf8' });
  if (python.error || python.status !== 0) {
    t.skip('python3 not available');
    return;
  }
  const doc = el('TrustServiceStatusList', [['xmlns', 'http://uri.etsi.org/02231/v2#'], ['TSLTag', 'http://uri.etsi.org/02231/TSLTag'], ['Id', 'ID1']], [
    el('SchemeInformation', [], [el('Name', [['xml:lang', 'DE'], ['b', 'x']], 'Ärztekammer & <Co> "quoted"'), el('Empty')]),
    el('x:Extra', [['xmlns:x', 'urn:x'], ['b', '1 < 2 & "q"\t\n'], ['x:a', 'z'], ['a', 'y']], ['text\r\n', el('Inner', [['xmlns', 'urn:other']], 'v')]),
  ]);
  const file = writeFile(tempDir(), 'doc.xml', serializeDocument(doc));
  const r = spawnSync('python3', ['-c', 'import xml.etree.ElementTree as E, sys; sys.stdout.write(E.canonicalize(from_file=sys.argv[1]))', file], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(excC14n(parseXml(serializeDocument(doc))), r.stdout);
  assert.equal(excC14n(doc), r.stdout);
});

test('the parser rejects what it does not support and malformed input', () => {
  assert.throws(() => parseXml('<!DOCTYPE x [<!ENTITY e "boom">]><x>&e;</x>'), XmlParseError);
  assert.throws(() => parseXml('<a><b></a>'), /mismatched end tag/);
  assert.throws(() => parseXml('<a>&nope;</a>'), /unknown entity/);
  assert.throws(() => parseXml('<a x="1" x="2"/>'), /duplicate attribute/);
  assert.throws(() => parseXml('<a/><b/>'), /content after the root/);
  assert.throws(() => parseXml('<a>'), /unterminated/);
  assert.deepEqual(parseXml("<a k='v'>x<![CDATA[<y>]]></a>"), { name: 'a', attrs: [['k', 'v']], children: ['x<y>'] });
});

test('enveloped XMLDSig (ecdsa-sha256, exc-c14n) signs and verifies; changes are detected', () => {
  const keys = generateBrainpoolKeyPair();
  const cert = buildCertificate({
    serialNumber: Buffer.from([1]),
    issuer: [{ type: 'CN', value: 'signer' }],
    subject: [{ type: 'CN', value: 'signer' }],
    notBefore: new Date(),
    notAfter: new Date(Date.now() + 86400_000),
    publicKey: keys.publicKey,
    signingKey: keys.privateKey,
    extensions: [ext.basicConstraints(false)],
  });
  const doc = el('List', [['xmlns', 'urn:list'], ['Id', 'L1']], [el('Item', [['n', '1']], 'one'), el('Item', [['n', '2']], 'two & more')]);
  const xml = serializeDocument(signEnveloped(doc, keys.privateKey, cert));
  assert.match(xml, /<ds:SignatureMethod Algorithm="http:\/\/www\.w3\.org\/2001\/04\/xmldsig-more#ecdsa-sha256"\/>/);
  assert.equal(verifyEnveloped(xml, cert).valid, true);
  // r||s: 64 bytes for brainpoolP256r1
  const sigValue = /<ds:SignatureValue>([^<]+)</.exec(xml)?.[1] as string;
  assert.equal(Buffer.from(sigValue, 'base64').length, 64);
  // insignificant syntax (attribute quotes, empty-element form) does not matter after c14n
  assert.equal(verifyEnveloped(xml.replace('n="1"', "n='1'"), cert).valid, true);
  // content changes do
  const changed = verifyEnveloped(xml.replace('two &amp; more', 'two &amp; less'), cert);
  assert.equal(changed.valid, false);
  assert.match(changed.reason ?? '', /digest mismatch/);
  // a forged signature value is rejected
  const forged = xml.replace(sigValue, crypto.randomBytes(64).toString('base64'));
  assert.equal(verifyEnveloped(forged, cert).valid, false);
  assert.equal(verifyEnveloped('<not-xml', cert).valid, false);
  assert.equal(verifyEnveloped('<List xmlns="urn:list"/>', cert).reason, 'expected one ds:Signature child of the root, found 0');
});
