/**
 * The simulator's interface matches the gematik WSDLs exactly: for every registered operation the
 * WSDL of its endpoint (as connector.sds names it) has an operation of that name whose binding
 * states the same SOAPAction and whose input message is the same element (namespace and local
 * name); every operation of EventService, CardService and CertificateService the simulator offers
 * is in the WSDL and the XSD defines its request and response elements.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NsElement, parseXml } from '../../../simulators/lib/xml';
import { KNOWN_ENDPOINTS } from '../../../simulators/konnektor/sds';
import { registerServiceModules } from '../../../simulators/konnektor/service';
import { SoapRouter } from '../../../simulators/konnektor/soap-router';
import { SCHEMAS } from './helpers';

const WSDL_NS = 'http://schemas.xmlsoap.org/wsdl/';
const WSDL_SOAP_NS = 'http://schemas.xmlsoap.org/wsdl/soap/';
const XS = 'http://www.w3.org/2001/XMLSchema';

interface WsdlOperation {
  soapAction: string;
  input: { ns: string; local: string };
  output: { ns: string; local: string };
}

function resolveQName(e: NsElement, qname: string): { ns: string; local: string } {
  const [p, l] = qname.includes(':') ? qname.split(':') : ['', qname];
  return { ns: e.scope[p] ?? '', local: l };
}

function readWsdl(file: string): Map<string, WsdlOperation> {
  const root = NsElement.of(parseXml(fs.readFileSync(file, 'utf8')));
  const messages = new Map<string, { ns: string; local: string }>();
  for (const m of root.children('message', WSDL_NS)) {
    const part = m.child('part', WSDL_NS);
    if (part?.attr('element')) messages.set(m.attr('name')!, resolveQName(part, part.attr('element')!));
  }
  const msgOf = (e: NsElement | undefined) => messages.get(resolveQName(e!, e!.attr('message')!).local)!;
  const ops = new Map<string, WsdlOperation>();
  const portType = root.child('portType', WSDL_NS)!;
  const binding = root.child('binding', WSDL_NS)!;
  for (const op of portType.children('operation', WSDL_NS)) {
    const name = op.attr('name')!;
    const b = binding.children('operation', WSDL_NS).find((x) => x.attr('name') === name);
    ops.set(name, {
      soapAction: b?.child('operation', WSDL_SOAP_NS)?.attr('soapAction') ?? '',
      input: msgOf(op.child('input', WSDL_NS)),
      output: msgOf(op.child('output', WSDL_NS)),
    });
  }
  return ops;
}

/** Global element names an XSD (with its includes) defines for a namespace. */
function xsdElements(file: string): Set<string> {
  const root = NsElement.of(parseXml(fs.readFileSync(file, 'utf8')));
  return new Set(root.children('element', XS).map((e) => e.attr('name')!));
}

test('every registered operation is in its WSDL with the same SOAPAction and request element', () => {
  const router = new SoapRouter(() => {
    throw new Error('not started');
  });
  registerServiceModules(router);
  const ops = router.operations();
  assert.ok(ops.length >= 9, `${ops.length} operations`);
  for (const op of ops) {
    const ep = KNOWN_ENDPOINTS.find((e) => e.path === op.path);
    assert.ok(ep, `${op.path} is a known endpoint of connector.sds`);
    const wsdl = readWsdl(path.join(SCHEMAS, 'conn', ep.wsdl));
    const w = wsdl.get(op.requestElement.local);
    assert.ok(w, `${ep.wsdl} has operation ${op.requestElement.local}`);
    assert.equal(op.soapAction, w.soapAction, `SOAPAction of ${op.requestElement.local}`);
    assert.deepEqual(op.requestElement, w.input, `request element of ${op.requestElement.local}`);
    assert.equal(ep.targetNamespace, w.input.ns, `${ep.service} ${ep.version}: TargetNamespace in connector.sds`);
  }
  const byPath = (p: string) => ops.filter((o) => o.path === p).map((o) => o.requestElement.local).sort();
  assert.deepEqual(byPath('/ws/EventService'), ['GetCardTerminals', 'GetCards', 'GetResourceInformation']);
  assert.deepEqual(byPath('/ws/CardService'), ['ChangePin', 'GetPinStatus', 'UnblockPin', 'VerifyPin']);
  assert.deepEqual(byPath('/ws/CardService/v8.2'), ['ChangePin', 'GetPinStatus', 'UnblockPin', 'VerifyPin']);
  assert.deepEqual(byPath('/ws/CertificateService'), ['ReadCardCertificate', 'VerifyCertificate']);
});

test('the XSDs used for validation define the request and response elements of the offered operations', () => {
  const files: Record<string, string> = {
    '/ws/EventService': 'EventService.xsd',
    '/ws/CardService': 'CardService_v8_1_3.xsd',
    '/ws/CardService/v8.2': 'CardService_v8_2_1.xsd',
    '/ws/CertificateService': 'CertificateService_v6_0_2.xsd',
  };
  for (const [p, xsd] of Object.entries(files)) {
    const ep = KNOWN_ENDPOINTS.find((e) => e.path === p)!;
    const names = xsdElements(path.join(SCHEMAS, 'conn', xsd));
    const wsdl = readWsdl(path.join(SCHEMAS, 'conn', ep.wsdl));
    for (const [name, w] of wsdl) {
      if (['AuthorizeSMC', 'EnablePin', 'DisablePin', 'StartCardSession', 'SecureSendAPDU', 'StopCardSession', 'CheckCertificateExpiration', 'Subscribe', 'Unsubscribe', 'GetSubscription', 'RenewSubscriptions'].includes(name)) continue;
      assert.ok(names.has(w.input.local), `${xsd} defines ${w.input.local}`);
      assert.ok(names.has(w.output.local), `${xsd} defines ${w.output.local}`);
    }
  }
});
