/**
 * Test helpers for the prescription workflow: FHIR requests through the VAU with real IDP tokens,
 * KBV bundles with substituted PrescriptionID / authoredOn, CAdES signatures with PKI-issued keys.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildSignedData } from '../../../simulators/lib/cms';
import { coverageOf, parseFhirXml } from '../../../simulators/lib/fhir';
import { berlinDay } from '../../../simulators/fachdienst/workflow/activate-checks';
import type { IssuedCertificateWithKey } from '../../../simulators/pki/hierarchy';
import { PROFESSION_OID } from '../../../simulators/fachdienst/roles';
import { issueTestSigner } from '../../../simulators/idp/testing/software-signer';
import { APP_CLIENT, login } from '../idp/helpers';
import { innerHttp, vauCall, type FdFixture } from './helpers';

export const KBV_DIR = '/work/shared/reference/kbv-bundles';
export const NEGATIVE_DIR = '/work/shared/reference/negative-bundles';

export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: string;
  vauErrorCode?: string;
}

export async function fhir(fx: FdFixture, token: string, method: string, target: string, body?: string, headers: Record<string, string> = {}): Promise<Reply> {
  const h: Record<string, string> = { Host: 'erp.ti-harness.sim', Authorization: `Bearer ${token}`, 'User-Agent': 'ti-harness-test/1.0', ...headers };
  if (body !== undefined) h['Content-Type'] = h['Content-Type'] ?? 'application/fhir+xml';
  const { inner, outer } = await vauCall(fx, token, innerHttp(method, target, h, body === undefined ? Buffer.alloc(0) : Buffer.from(body, 'utf8')));
  const v = outer.headers['vau-error-code'];
  return { status: inner.status, headers: inner.headers, body: inner.body, ...(typeof v === 'string' ? { vauErrorCode: v } : {}) };
}

export function createParameters(flowType: string | number, system = 'https://gematik.de/fhir/erp/CodeSystem/GEM_ERP_CS_FlowType'): string {
  return `<Parameters xmlns="http://hl7.org/fhir"><parameter><name value="workflowType"/><valueCoding><system value="${system}"/><code value="${flowType}"/></valueCoding></parameter></Parameters>`;
}

export function activateParameters(cms: Buffer): string {
  return `<Parameters xmlns="http://hl7.org/fhir"><parameter><name value="ePrescription"/><resource><Binary><contentType value="application/pkcs7-mime"/><data value="${cms.toString('base64')}"/></Binary></resource></parameter></Parameters>`;
}

/** A KBV bundle with only PrescriptionID and MedicationRequest.authoredOn substituted. */
export function substituteBundle(xml: string, prescriptionId: string, authoredOn: string): string {
  const out = xml
    .replace(/(GEM_ERP_NS_PrescriptionId"\s*\/>\s*<value value=")[^"]*"/, `$1${prescriptionId}"`)
    .replace(/<authoredOn value="[^"]*"/, `<authoredOn value="${authoredOn}"`);
  if (!out.includes(prescriptionId)) throw new Error('bundle has no PrescriptionID identifier to substitute');
  return out;
}

export function flowTypeOfBundle(xml: string): 160 | 200 {
  return coverageOf(parseFhirXml(xml))?.type === 'PKV' ? 200 : 160;
}

export function signWith(key: IssuedCertificateWithKey, content: string, signingTime: Date): Buffer {
  return buildSignedData({ content, signerCertificate: key.certificate, chain: [key.issuerCertificate], signingTime, privateKey: key.privateKey });
}

export function kbvBundleFiles(): string[] {
  return fs.readdirSync(KBV_DIR).filter((f) => f.endsWith('.xml')).sort().map((f) => path.join(KBV_DIR, f));
}

export function negativeBundleFiles(): string[] {
  return fs.readdirSync(NEGATIVE_DIR).filter((f) => f.endsWith('.xml')).sort().map((f) => path.join(NEGATIVE_DIR, f));
}

export function valueOf(xml: string, system: string): string | undefined {
  const re = new RegExp(`<system value="${system.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}"/><value value="([^"]*)"/>`);
  return re.exec(xml.replace(/>\s+</g, '><'))?.[1];
}

export function statusOf(xml: string): string | undefined {
  return /<status value="([^"]*)"/.exec(xml)?.[1];
}

export function outcomeTexts(xml: string): string[] {
  return [...xml.matchAll(/<text value="([^"]*)"/g)].map((m) => m[1].replace(/&quot;/g, '"'));
}

export { berlinDay };

// ------------------------------------------------------------------ the actors' access tokens

/** The access token of a doctor's practice (SMC-B, professionOID Praxis Arzt) from the fixture's IDP. */
export async function practiceLogin(fx: FdFixture): Promise<string> {
  const pki = fx.idpFx.pkiService.pki;
  return (await login(fx.idpFx, issueTestSigner(pki, { profile: 'C.HCI.AUT', professionOid: PROFESSION_OID.praxisArzt }).signer)).accessJws;
}

/** The access token and Telematik-ID of a public pharmacy (SMC-B). */
export async function pharmacyLogin(fx: FdFixture): Promise<{ token: string; telematikId: string }> {
  const s = issueTestSigner(fx.idpFx.pkiService.pki, { profile: 'C.HCI.AUT', professionOid: PROFESSION_OID.oeffentlicheApotheke });
  return { token: (await login(fx.idpFx, s.signer)).accessJws, telematikId: s.issued.telematikId as string };
}

/** The access token and KVNR of an insured (eGK) logged in with the given IDP client (default: the E-Rezept-App). */
export async function insuredLogin(fx: FdFixture, opts: { kvnr?: string; client?: Parameters<typeof login>[2] } = {}): Promise<{ token: string; kvnr: string }> {
  const s = issueTestSigner(fx.idpFx.pkiService.pki, { profile: 'C.CH.AUT', ...(opts.kvnr ? { kvnr: opts.kvnr } : {}) });
  const r = await login(fx.idpFx, s.signer, opts.client ?? APP_CLIENT);
  return { token: r.accessJws, kvnr: r.access.idNummer as string };
}
