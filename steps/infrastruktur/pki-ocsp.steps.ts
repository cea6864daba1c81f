/**
 * Steps of features/infrastruktur/pki-ocsp.feature: OCSP (TUC_PKI_006) against
 * the PKI's real interfaces (GET /certs/root.pem, POST /ocsp); certificates
 * come from the PKI's harness-only admin API (@simulator-only) or, for a
 * foreign issuer, are built here.
 */
import * as assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import { Given, Then, When } from '@cucumber/cucumber';
import {
  OcspError,
  OcspTransportError,
  REVOCATION_REASONS,
  queryOcsp,
  verifyOcspResponse,
  type OcspQueryResult,
  type ParsedSingleResponse,
  type RevocationReasonName,
} from '../../simulators/lib/ocsp';
import {
  buildCertificate,
  certificateSha256,
  ext,
  generateBrainpoolKeyPair,
  isSignedBy,
  parseCertificate,
  pemToDer,
  subjectPublicKeyBits,
  toPem,
} from '../../simulators/lib/x509';
import { EnvironmentError, describeError } from '../support/errors';
import { verify } from '../verify';
import type { TiWorld } from '../world';

const AFO = 'TUC_PKI_006';

/** Allowed distance of producedAt/thisUpdate from the harness's clock. */
const TIME_TOLERANCE_MS = 5 * 60_000;


/** The certificate a scenario asks about. */
interface SubjectCertificate {
  certificatePem: string;
  issuerPem: string;
  serialNumber: string;
}

/** Reply of the PKI admin API (the fields used here; docs/pki.md). */
interface AdminIssueResponse extends SubjectCertificate {
  ocspUrl: string;
}

/** The OCSP answer, or why there is none (a transport-level answer that is not OCSP). */
type OcspOutcome = { response: OcspQueryResult } | { failure: string };

const K = { root: 'pki.rootPem', cert: 'pki.certificate', ocsp: 'pki.ocspOutcome' } as const;

Given('die TI-PKI veröffentlicht ihr Wurzelzertifikat', async function (this: TiWorld) {
  const url = this.serviceUrl('pki', '/certs/root.pem');
  const res = await this.http(url, { service: 'PKI' });
  if (res.status !== 200 || !res.text().includes('BEGIN CERTIFICATE')) {
    throw new EnvironmentError(`PKI: GET ${url} answered ${res.status} without a PEM certificate: the trust anchor is not available`);
  }
  this.remember(K.root, res.text());
});

Given(
  'die TI-PKI hat für {string} ein Zertifikat mit dem Profil {string} ausgestellt',
  async function (this: TiWorld, holder: string, profile: string) {
    const issued = await this.admin<AdminIssueResponse>('pki', '/certificates', {
      profile,
      subject: { organization: holder, commonName: `${holder} TEST-ONLY` },
    });
    this.remember<SubjectCertificate>(K.cert, issued);
  },
);

Given('die TI-PKI hat dieses Zertifikat wegen {string} gesperrt', async function (this: TiWorld, reason: string) {
  const cert = this.recall<SubjectCertificate>(K.cert);
  await this.admin('pki', `/certificates/${encodeURIComponent(cert.serialNumber)}/revoke`, { reason });
});

Given('eine CA außerhalb der TI hat für {string} ein Zertifikat ausgestellt', function (this: TiWorld, holder: string) {
  const caKey = generateBrainpoolKeyPair();
  const leafKey = generateBrainpoolKeyPair();
  const now = Date.now();
  const caSubject = [{ type: 'C', value: 'DE' }, { type: 'O', value: 'Fremde CA NOT-VALID' }, { type: 'CN', value: 'Fremde CA TEST-ONLY' }];
  const caDer = buildCertificate({
    serialNumber: crypto.randomBytes(8),
    issuer: caSubject,
    subject: caSubject,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 365 * 86_400_000),
    publicKey: caKey.publicKey,
    signingKey: caKey.privateKey,
    extensions: [ext.basicConstraints(true), ext.keyUsage(['keyCertSign', 'cRLSign'])],
  });
  const leafDer = buildCertificate({
    serialNumber: crypto.randomBytes(8),
    issuer: caSubject,
    subject: [{ type: 'C', value: 'DE' }, { type: 'O', value: holder }, { type: 'CN', value: `${holder} TEST-ONLY` }],
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 30 * 86_400_000),
    publicKey: leafKey.publicKey,
    signingKey: caKey.privateKey,
    extensions: [ext.keyUsage(['digitalSignature'])],
  });
  this.remember<SubjectCertificate>(K.cert, {
    certificatePem: toPem(leafDer),
    issuerPem: toPem(caDer),
    serialNumber: parseCertificate(leafDer).serialNumber,
  });
});

When('der Fachdienst den Sperrstatus des Zertifikats beim OCSP-Responder der TI-PKI abfragt', async function (this: TiWorld) {
  const cert = this.recall<SubjectCertificate>(K.cert);
  const url = this.serviceUrl('pki', '/ocsp');
  let outcome: OcspOutcome;
  try {
    outcome = { response: await queryOcsp(url, cert.certificatePem, cert.issuerPem, { nonce: true }) };
  } catch (e) {
    if (e instanceof OcspTransportError && (e.kind === 'network' || e.kind === 'timeout')) {
      throw new EnvironmentError(`PKI: OCSP request to ${url} failed: ${describeError(e)}`, { cause: e });
    }
    if (e instanceof OcspTransportError || e instanceof OcspError) {
      // An HTTP answer that is not a valid OCSP response: the Then steps judge it.
      outcome = { failure: `${e.name}: ${e.message}` };
    } else {
      throw e;
    }
  }
  this.remember(K.ocsp, outcome);
});

function ocspResponse(world: TiWorld): OcspQueryResult {
  const outcome = world.recall<OcspOutcome>(K.ocsp);
  assert.ok('response' in outcome, `no OCSP response: ${'failure' in outcome ? outcome.failure : '?'}`);
  return outcome.response;
}

/** The SingleResponse for the scenario's certificate (matched by serial number). */
function singleResponse(world: TiWorld): ParsedSingleResponse {
  const res = ocspResponse(world);
  const cert = world.recall<SubjectCertificate>(K.cert);
  const serial = parseCertificate(cert.certificatePem).serialNumber;
  const single = res.responses.find((r) => r.serialNumber === serial);
  assert.ok(single, `the response has no SingleResponse for serial ${serial} (got ${res.responses.map((r) => r.serialNumber).join(', ') || 'none'})`);
  return single;
}

Then('antwortet der OCSP-Responder mit einer erfolgreichen OCSP-Antwort', async function (this: TiWorld) {
  await verify(AFO, 'Der OCSP-Responder antwortet mit einer OCSP-Antwort (HTTP 200, application/ocsp-response, responseStatus "successful")', () => {
    const res = ocspResponse(this);
    assert.equal(res.responseStatus, 'successful');
  });
});

Then('die OCSP-Antwort ist von einem OCSP-Signer der TI-PKI signiert', async function (this: TiWorld) {
  const rootPem = this.recall<string>(K.root);
  const cert = this.recall<SubjectCertificate>(K.cert);
  await verify(AFO, 'Die Signatur der OCSP-Antwort prüft gegen die ausstellende CA der TI-PKI bzw. die TI-Wurzel', () => {
    const res = ocspResponse(this);
    // Trusted: the TI root, and the certificate's issuer only if the root signed it.
    const issuerTrusted = isSignedBy(pemToDer(cert.issuerPem), pemToDer(rootPem));
    const anchors = issuerTrusted ? [cert.issuerPem, rootPem] : [rootPem];
    const results = anchors.map((a) => verifyOcspResponse(res, a));
    assert.ok(
      results.some((r) => r.valid),
      `signature does not verify: ${results.map((r) => r.reason).join('; ')}`,
    );
  });
});

Then('die OCSP-Antwort meldet für das Zertifikat den Status {string}', async function (this: TiWorld, expected: string) {
  const cert = this.recall<SubjectCertificate>(K.cert);
  await verify(AFO, 'Die SingleResponse gehört zur angefragten CertID (Aussteller-Name- und Schlüssel-Hash, Seriennummer)', () => {
    const res = ocspResponse(this);
    const single = singleResponse(this);
    const requested = parseCertificate(cert.certificatePem);
    const issuer = parseCertificate(cert.issuerPem);
    const alg = single.certId.hashAlgorithm;
    assert.ok(alg === 'sha1' || alg === 'sha256', `unexpected CertID hash ${alg}`);
    const nameHash = crypto.createHash(alg).update(issuer.subjectDer).digest();
    const keyHash = crypto.createHash(alg).update(subjectPublicKeyBits(issuer.publicKey)).digest();
    assert.equal(single.certId.issuerNameHash.toString('hex'), nameHash.toString('hex'), 'issuerNameHash does not match the issuer');
    assert.equal(single.certId.issuerKeyHash.toString('hex'), keyHash.toString('hex'), 'issuerKeyHash does not match the issuer');
    assert.equal(single.certId.serialNumber, requested.serialNumber);
    assert.equal(res.responses.length, 1, 'one request, one SingleResponse');
  });
  await verify(AFO, `Der Zertifikatsstatus ist "${expected}"`, () => {
    assert.equal(singleResponse(this).certStatus, expected);
  });
});

Then('die OCSP-Antwort nennt den Sperrzeitpunkt und den Sperrgrund {string}', async function (this: TiWorld, reason: string) {
  await verify(AFO, `Die Antwort nennt Sperrzeitpunkt (nicht nach producedAt) und Sperrgrund "${reason}"`, () => {
    const res = ocspResponse(this);
    const single = singleResponse(this);
    assert.ok(single.revocationTime instanceof Date, 'revocationTime missing');
    assert.ok(res.producedAt && single.revocationTime.getTime() <= res.producedAt.getTime(), 'revocationTime after producedAt');
    assert.equal(single.revocationReason, REVOCATION_REASONS[reason as RevocationReasonName], `revocationReason ${single.revocationReason} ≠ ${reason}`);
  });
});

Then('die Zeitangaben der OCSP-Antwort sind aktuell', async function (this: TiWorld) {
  await verify(AFO, `producedAt und thisUpdate liegen höchstens ${TIME_TOLERANCE_MS / 60_000} min neben der Uhr des Prüfers, nextUpdate (falls vorhanden) in der Zukunft`, () => {
    const res = ocspResponse(this);
    const single = singleResponse(this);
    const now = Date.now();
    assert.ok(res.producedAt, 'producedAt missing');
    assert.ok(Math.abs(res.producedAt.getTime() - now) <= TIME_TOLERANCE_MS, `producedAt ${res.producedAt.toISOString()} is not current`);
    assert.ok(Math.abs(single.thisUpdate.getTime() - now) <= TIME_TOLERANCE_MS, `thisUpdate ${single.thisUpdate.toISOString()} is not current`);
    if (single.nextUpdate) assert.ok(single.nextUpdate.getTime() > now, `nextUpdate ${single.nextUpdate.toISOString()} has passed`);
  });
});

Then('die CertHash-Erweiterung der OCSP-Antwort enthält den SHA-256-Hashwert des Zertifikats', async function (this: TiWorld) {
  const cert = this.recall<SubjectCertificate>(K.cert);
  await verify(AFO, 'CertHash (1.3.36.8.3.13) enthält SHA-256 über das DER-Zertifikat', () => {
    const single = singleResponse(this);
    assert.ok(single.certHash, 'CertHash extension missing');
    assert.equal(single.certHashAlgorithm, 'sha256');
    assert.equal(single.certHash.toString('hex'), certificateSha256(pemToDer(cert.certificatePem)).toString('hex'));
  });
});
