/**
 * DSS request parsing and response building of the signature services, job numbers; every built
 * response is validated with xmllint against the gematik XSDs.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { parseSoapEnvelope, type SoapFault } from '../../../simulators/lib/soap';
import { serialize, type XmlElement } from '../../../simulators/lib/xml';
import { sharedPath } from '../../../simulators/lib/shared-data';
import * as dss from '../../../simulators/konnektor/dss';
import { isWellFormedJobNumber, JobNumbers, randomJobNumber } from '../../../simulators/konnektor/jobs';

const SCHEMAS = sharedPath('reference', 'konnektor-schemas', 'conn');
const XSD_SIG75 = path.join(SCHEMAS, 'SignatureService_V7_5_6.xsd');
const XSD_SIG74 = path.join(SCHEMAS, 'SignatureService.xsd');

/** xmllint --schema; returns '' when valid, else xmllint's complaint. */
function xsdErrors(xml: string, xsd: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dss-xsd-'));
  try {
    const f = path.join(dir, 'doc.xml');
    fs.writeFileSync(f, xml);
    const r = spawnSync('xmllint', ['--noout', '--schema', xsd, f], { encoding: 'utf8', timeout: 30_000 });
    return r.status === 0 ? '' : `${r.stderr}${r.stdout}`.trim() || `xmllint exit ${r.status}`;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const ENV_OPEN =
  '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:SIG="http://ws.gematik.de/conn/SignatureService/v7.5" ' +
  'xmlns:CONN="http://ws.gematik.de/conn/ConnectorCommon/v5.0" xmlns:CCTX="http://ws.gematik.de/conn/ConnectorContext/v2.0" ' +
  'xmlns:dss="urn:oasis:names:tc:dss:1.0:core:schema" xmlns:vr="urn:oasis:names:tc:dss-x:1.0:profiles:verificationreport:schema#"><soapenv:Body>';
const ENV_CLOSE = '</soapenv:Body></soapenv:Envelope>';
const CTX = '<CCTX:Context><CONN:MandantId>M1</CONN:MandantId><CONN:ClientSystemId>CS1</CONN:ClientSystemId><CONN:WorkplaceId>WP1</CONN:WorkplaceId></CCTX:Context>';

function body(inner: string) {
  return parseSoapEnvelope(`${ENV_OPEN}${inner}${ENV_CLOSE}`).body;
}

function signRequest(id: string, content: string, opts: { type?: string; eContent?: boolean; mime?: string; shortText?: string; revocation?: boolean } = {}) {
  const oi =
    opts.type || opts.eContent !== undefined
      ? `<SIG:OptionalInputs>${opts.type ? `<dss:SignatureType>${opts.type}</dss:SignatureType>` : ''}${opts.eContent !== undefined ? `<SIG:IncludeEContent>${opts.eContent}</SIG:IncludeEContent>` : ''}</SIG:OptionalInputs>`
      : '';
  return (
    `<SIG:SignRequest RequestID="${id}">${oi}<SIG:Document${opts.shortText !== undefined ? ` ShortText="${opts.shortText}"` : ''}>` +
    `<dss:Base64Data${opts.mime ? ` MimeType="${opts.mime}"` : ''}>${Buffer.from(content).toString('base64')}</dss:Base64Data></SIG:Document>` +
    `<SIG:IncludeRevocationInfo>${opts.revocation ?? false}</SIG:IncludeRevocationInfo></SIG:SignRequest>`
  );
}

function signDocument(requests: string, extra = '<SIG:JobNumber>ABC-123</SIG:JobNumber>') {
  return `<SIG:SignDocument><CONN:CardHandle>H-1</CONN:CardHandle><SIG:Crypt>ECC</SIG:Crypt>${CTX}<SIG:TvMode>NONE</SIG:TvMode>${extra}${requests}</SIG:SignDocument>`;
}

function fault(fn: () => unknown): SoapFault {
  try {
    fn();
  } catch (e) {
    return e as SoapFault;
  }
  assert.fail('expected a SOAP fault');
}

test('SignDocument: a batch with options is read as the XSD defines it', () => {
  const input = dss.parseSignDocument(
    body(
      signDocument(
        signRequest('R1', 'Dokument 1', { type: 'urn:ietf:rfc:5652', eContent: true, mime: 'text/plain; charset=utf-8', shortText: 'a CMSDocument2sign', revocation: true }) +
          signRequest('R2', 'Dokument 2'),
      ),
    ),
  );
  assert.equal(input.cardHandle, 'H-1');
  assert.equal(input.crypt, 'ECC');
  assert.equal(input.tvMode, 'NONE');
  assert.equal(input.jobNumber, 'ABC-123');
  assert.equal(input.requests.length, 2);
  const [r1, r2] = input.requests;
  assert.equal(r1.requestId, 'R1');
  assert.equal(r1.signatureType, 'urn:ietf:rfc:5652');
  assert.equal(r1.includeEContent, true);
  assert.equal(r1.includeRevocationInfo, true);
  assert.equal(r1.document.content.toString(), 'Dokument 1');
  assert.equal(r1.document.mimeType, 'text/plain; charset=utf-8');
  assert.equal(r1.document.shortText, 'a CMSDocument2sign');
  assert.equal(r2.signatureType, undefined);
  assert.equal(r2.includeEContent, undefined);
  assert.equal(r2.includeRevocationInfo, false);
});

test('SignDocument: syntax errors are faults 4000 that say what is wrong', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['no SignRequest', signDocument(''), /no SignRequest/],
    ['bad job number', signDocument(signRequest('R1', 'x'), '<SIG:JobNumber>abc-123</SIG:JobNumber>'), /JobNumber/],
    ['duplicate RequestID', signDocument(signRequest('R1', 'x') + signRequest('R1', 'y')), /more than once/],
    ['bad base64', signDocument(signRequest('R1', 'x').replace(/<dss:Base64Data>[^<]*/, '<dss:Base64Data>@@@')), /base64/],
    ['bad boolean', signDocument(signRequest('R1', 'x').replace('>false<', '>ja<')), /xs:boolean/],
    ['unknown element', signDocument(signRequest('R1', 'x')).replace('<SIG:TvMode>', '<SIG:Foo/><SIG:TvMode>'), /unexpected element/],
    ['wrong namespace', signDocument(signRequest('R1', 'x')).replace('<CONN:CardHandle>H-1</CONN:CardHandle>', '<SIG:CardHandle>H-1</SIG:CardHandle>'), /unexpected element/],
    ['out of order', `<SIG:SignDocument>${CTX}<CONN:CardHandle>H</CONN:CardHandle><SIG:TvMode>NONE</SIG:TvMode>${signRequest('R1', 'x')}</SIG:SignDocument>`, /out of order/],
    ['bad TvMode', signDocument(signRequest('R1', 'x')).replace('>NONE<', '>SOMETIMES<'), /TvMode/],
    ['ShortText too long', signDocument(signRequest('R1', 'x', { shortText: 'x'.repeat(31) })), /ShortText/],
    ['two document forms', signDocument(signRequest('R1', 'x').replace('</SIG:Document>', '<CONN:Base64XML>PGEvPg==</CONN:Base64XML></SIG:Document>')), /exactly one/],
  ];
  for (const [name, xml, re] of cases) {
    const f = fault(() => dss.parseSignDocument(body(xml)));
    assert.equal(f.code, 4000, name);
    assert.match(f.detail ?? '', re, name);
  }
});

test('SignDocument: an oversized document is refused before it is decoded', () => {
  const f = fault(() => dss.parseSignDocument(body(signDocument(signRequest('R1', 'x'.repeat(2000)))), { maxDocumentBytes: 1000 }));
  assert.equal(f.code, dss.SIG_ERRORS.documentTooLarge.code);
});

test('VerifyDocument, ExternalAuthenticate and the comfort requests', () => {
  const cms = Buffer.from([0x30, 0x03, 0x02, 0x01, 0x01]);
  const v = dss.parseVerifyDocument(
    body(
      `<SIG:VerifyDocument>${CTX}<SIG:TvMode>NONE</SIG:TvMode><SIG:OptionalInputs><SIG:UseVerificationTime><dss:SpecificTime>2024-05-01T10:00:00Z</dss:SpecificTime></SIG:UseVerificationTime>` +
        `<vr:ReturnVerificationReport><vr:IncludeCertificateValues>true</vr:IncludeCertificateValues></vr:ReturnVerificationReport></SIG:OptionalInputs>` +
        `<dss:SignatureObject><dss:Base64Signature Type="urn:ietf:rfc:5652">${cms.toString('base64')}</dss:Base64Signature></dss:SignatureObject>` +
        '<SIG:IncludeRevocationInfo>true</SIG:IncludeRevocationInfo></SIG:VerifyDocument>',
    ),
  );
  assert.deepEqual(v.signature, { value: cms, type: 'urn:ietf:rfc:5652' });
  assert.equal(v.returnVerificationReport, true);
  assert.equal(v.reportOptions.includeCertificateValues, true);
  assert.deepEqual(v.verificationTime, { kind: 'specific', time: new Date('2024-05-01T10:00:00Z') });
  assert.equal(v.includeRevocationInfo, true);
  assert.equal(fault(() => dss.parseVerifyDocument(body(`<SIG:VerifyDocument>${CTX}<SIG:IncludeRevocationInfo>false</SIG:IncludeRevocationInfo></SIG:VerifyDocument>`))).code, 4000);

  const ea = parseSoapEnvelope(
    '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><v7:ExternalAuthenticate xmlns:v7="http://ws.gematik.de/conn/SignatureService/v7.4" ' +
      'xmlns:v5="http://ws.gematik.de/conn/ConnectorCommon/v5.0" xmlns:v2="http://ws.gematik.de/conn/ConnectorContext/v2.0" xmlns:urn="urn:oasis:names:tc:dss:1.0:core:schema">' +
      '<v5:CardHandle>SMCB-1</v5:CardHandle><v2:Context><v5:MandantId>M1</v5:MandantId><v5:ClientSystemId>CS1</v5:ClientSystemId><v5:WorkplaceId>WP1</v5:WorkplaceId></v2:Context>' +
      '<v7:OptionalInputs><urn:SignatureType>urn:bsi:tr:03111:ecdsa</urn:SignatureType></v7:OptionalInputs>' +
      `<v7:BinaryString><urn:Base64Data MimeType="application/octet-stream">${Buffer.alloc(32, 7).toString('base64')}</urn:Base64Data></v7:BinaryString></v7:ExternalAuthenticate></s:Body></s:Envelope>`,
  ).body;
  const e = dss.parseExternalAuthenticate(ea);
  assert.equal(e.cardHandle, 'SMCB-1');
  assert.equal(e.signatureType, 'urn:bsi:tr:03111:ecdsa');
  assert.equal(e.data.length, 32);

  assert.deepEqual(dss.parseDeactivateComfortSignature(body('<SIG:DeactivateComfortSignature><CONN:CardHandle>A</CONN:CardHandle><CONN:CardHandle>B</CONN:CardHandle></SIG:DeactivateComfortSignature>')), { cardHandles: ['A', 'B'] });
  assert.equal(fault(() => dss.parseDeactivateComfortSignature(body('<SIG:DeactivateComfortSignature/>'))).code, 4000);
  assert.deepEqual(dss.parseCardHandleAndContext(body(`<SIG:GetSignatureMode><CONN:CardHandle>A</CONN:CardHandle>${CTX}</SIG:GetSignatureMode>`), 'GetSignatureMode'), { cardHandle: 'A' });
  assert.deepEqual(dss.parseStopSignature(body(`<SIG:StopSignature>${CTX}<SIG:JobNumber>XYZ-000</SIG:JobNumber></SIG:StopSignature>`)), { jobNumber: 'XYZ-000' });
});

test('job numbers: AAA-000 format, random, no repetition within the last 1000', () => {
  for (let i = 0; i < 200; i++) assert.ok(isWellFormedJobNumber(randomJobNumber()));
  assert.equal(isWellFormedJobNumber('ABC-47'), false);
  // A deterministic generator with a tiny space: every number is new within the window.
  let n = 0;
  const cycle = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
  const jobs = new JobNumbers({ history: 2, randomInt: () => cycle[n++ % cycle.length] });
  const a = jobs.next();
  const b = jobs.next();
  assert.notEqual(a, b);
  assert.ok(jobs.wasIssued(a) && jobs.wasIssued(b));
  const running = jobs.start(a);
  assert.equal(jobs.isRunning(a), true);
  assert.equal(jobs.stop('ZZZ-999'), false);
  assert.equal(jobs.stop(a), true);
  assert.equal(running.signal.aborted, true);
  running.finish();
  assert.equal(jobs.isRunning(a), false);
  const real = new JobNumbers();
  const seen = new Set<string>();
  for (let i = 0; i < 1000; i++) seen.add(real.next());
  assert.equal(seen.size, 1000);
});

function validate(e: XmlElement, xsd = XSD_SIG75): void {
  const xml = serialize(e);
  assert.equal(xsdErrors(xml, xsd), '', xml.slice(0, 400));
}

test('every response the module builds validates against the gematik XSDs', () => {
  const t = new Date('2025-01-01T10:00:00Z');
  // The validator itself rejects what the schema forbids (a count above 250, a missing Status).
  assert.match(xsdErrors(serialize(dss.buildGetSignatureModeResponse(t, { status: 'ENABLED', max: 251, timer: 'PT1H' })), XSD_SIG75), /ComfortSignatureMax|251/);
  assert.notEqual(xsdErrors('<SIG:StopSignatureResponse xmlns:SIG="http://ws.gematik.de/conn/SignatureService/v7.5"/>', XSD_SIG75), '');
  const cms = Buffer.from('30800000', 'hex');
  validate(dss.buildGetJobNumberResponse('ABC-123'));
  validate(
    dss.buildSignDocumentResponse(
      [
        { requestId: 'R1', status: { result: 'OK' }, signature: cms },
        { requestId: 'R2', status: { result: 'Warning', error: [dss.traceOf(4008, 'card removed')] } },
      ],
      t,
    ),
  );
  validate(dss.buildStopSignatureResponse(t));
  validate(dss.buildActivateComfortSignatureResponse(t, 'COMFORT'));
  validate(dss.buildDeactivateComfortSignatureResponse(t));
  validate(dss.buildGetSignatureModeResponse(t, { status: 'DISABLED', max: 250, timer: 'PT24H0M0.000S' }));
  validate(dss.buildExternalAuthenticateResponse(t, Buffer.from('3006020101020101', 'hex'), dss.SIGNATURE_TYPE.ECDSA), XSD_SIG74);
  const cert = {
    der: Buffer.from('3000', 'hex'),
    issuer: 'CN=CA',
    serialDecimal: '42',
    subject: 'CN=Dr. Test',
    notBefore: t,
    notAfter: t,
    signatureAlgorithmUri: 'urn:oid:1.2.840.10045.4.3.2',
    chaining: { result: 'valid' as const },
    validityPeriod: { result: 'valid' as const },
    extensions: { result: 'valid' as const },
    signature: { result: 'valid' as const },
    status: { result: 'invalid' as const, message: 'revoked' },
    revocation: { date: t, reason: 'keyCompromise' },
    ocsp: { responderId: 'CN=OCSP', producedAt: t, der: Buffer.alloc(1), signature: { result: 'valid' as const }, source: 'fetched' as const },
    admission: { professionOids: ['1.2.276.0.76.4.30'], professionItems: ['Ärztin/Arzt'], registrationNumber: '1-HBA-Testkarte-883119910000001' },
    includeValue: true,
  };
  validate(
    dss.buildVerifyDocumentResponse(
      {
        highLevelResult: 'INVALID',
        timestampType: 'SIGNATURE_EMBEDDED_TIMESTAMP',
        timestamp: t,
        status: { result: 'OK' },
        report: {
          verificationTime: t,
          signers: [
            {
              signatureValue: Buffer.alloc(8, 1),
              format: { result: 'valid' },
              sigMath: { result: 'valid' },
              signatureAlgorithmUri: 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256',
              signingTime: t,
              pathSummary: { result: 'invalid', message: 'revoked' },
              trustAnchor: { result: 'valid' },
              signerCertificate: { issuer: 'CN=CA', serialDecimal: '42' },
              certificates: [cert],
              result: 'INVALID',
              message: 'revoked',
            },
          ],
          formatError: 'second signature unreadable',
        },
      },
      t,
    ),
  );
});
