/**
 * The checks of POST /Task/{id}/$activate on the signed prescription (A_18556 of gemSysL_eRp; production
 * ActivateTaskHandler / SignedPrescription order and texts):
 *
 *   1. CMS SignedData structure (A_19020)                                       400 invalid_prescription
 *   2. signature over the content (CAdES-BES, lib/cms verify)                    400 invalid_prescription
 *   3. signer certificate = HBA C.HP.QES of our PKI: chain to hba-qca, validity,
 *      policy, OCSP status at the PKI's responder (A_20159)                      400 invalid_prescription
 *   4. profession OID of a prescriber (Arzt, Zahnarzt; A_19225)                  400 "The QES-Certificate does not have expected ProfessionOID."
 *   5. the KBV bundle parses and validates against kbv.ita.erp (A_23384)         400 "parsing / validation error" + diagnostics
 *   6. bundle identifier: flow type and prescription ID = task (A_21370)         400
 *   7. signing time present; signing day (Europe/Berlin) = MedicationRequest.authoredOn (A_22487)  400
 *   8. coverage allowed and consistent with the flow type (A_22222, A_22347)     400 'Coverage "PKV" not set for flowtype 200/209'
 *   9. Patient KVNR present with a valid check digit (A_19127)                   400
 *  10. LANR/ZANR of every Practitioner with a valid check digit (A_23891), in production's
 *      "warning" mode (A_24031, A_24033): NOT refused — the Task is activated and the answer is
 *      HTTP 252 with `Warning: 252 erp-server <ACTIVATE_TEXT.anrChecksum>` and the offending number
 *      in the outer response header LANR or ZANR (A_23090). ("error" mode, A_24032 = 400 with the same
 *      text, is not simulated.) Production checks it after the coverage and before reading the KVNR.
 *
 * Texts marked "ours" in the code are not public in production.
 */
import * as crypto from 'node:crypto';
import { CmsError, parseSignedData, verifySignedData } from '../../lib/cms';
import {
  authoredOnOf,
  bundleResources,
  coverageOf,
  FhirFormatError,
  isValidKvnr,
  parseFhirXml,
  patientKvnrOf,
  prescriptionIdOf,
  validateResource,
  errorsOf,
  type FhirResource,
} from '../../lib/fhir';
import { isValidLanr } from '../../lib/kbv-bundle';
import { queryOcsp, verifyOcspResponse } from '../../lib/ocsp';
import { parseCertificate, type ParsedCertificate } from '../../lib/x509';
import { CERT_TYPE, PROFESSION } from '../../pki/oids';
import type { Pki } from '../../pki/hierarchy';
import { FhirError } from '../outcome';
import { FLOW_TYPES } from './task-resource';

/** Profession OIDs a QES of a prescription may carry (production: oid_arzt, oid_zahnarzt, oid_arztekammern). */
export const QES_PRESCRIBER_OIDS: readonly string[] = [PROFESSION.arzt.oid, PROFESSION.zahnarzt.oid];

export const ACTIVATE_TEXT = {
  cmsStructure: 'Invalid CAdES-BES signature: the ePrescription is not a CMS SignedData structure', // ours
  cmsSignature: 'Invalid CAdES-BES signature: signature verification failed', // ours
  certUnknown: 'The signer certificate is not a C.HP.QES certificate of a trusted HBA CA', // ours
  certExpired: 'The signer certificate is not valid at the time of the check', // ours
  certRevoked: 'The signer certificate is revoked', // ours
  ocspUnavailable: 'OCSP status of the signer certificate could not be determined', // ours
  profession: 'The QES-Certificate does not have expected ProfessionOID.', // production (dump ein_apotheker_darf_kein_e_rezept_signieren)
  validation: 'parsing / validation error', // production
  flowTypeMismatch: 'Flowtype mismatch between Task and QES-Bundle', // production
  idMismatch: 'PrescriptionId mismatch between Task and QES-Bundle', // production
  idMissing: 'Failed to extract prescriptionId from QES-Bundle', // production
  noSigningTime: 'No signingTime in PKCS7 file', // production
  signingDay: 'Ausstellungsdatum und Signaturzeitpunkt weichen voneinander ab, müssen aber taggleich sein', // production
  coverageNotAllowed: 'Kostenträger nicht zulässig', // production
  pkvMissing: 'Coverage "PKV" not set for flowtype 200/209', // production (dumps)
  pkvForGkvFlow: 'Coverage "PKV" not allowed for flowtype 160/169', // ours (production A_23443 text not public)
  kvnrMissing: 'Expected exactly one Patient with a KVNR in prescription bundle', // ours
  kvnrInvalid: 'KVNR check digit is invalid', // ours
  anrChecksum: 'Ungültige Arztnummer (LANR oder ZANR): Die übergebene Arztnummer entspricht nicht den Prüfziffer-Validierungsregeln.', // production ActivateTaskHandler (A_24033)
} as const;

/** HTTP status of a $activate that succeeded with an invalid LANR/ZANR check digit (production HttpStatus::OkWarnInvalidAnr). */
export const ACTIVATE_WARN_INVALID_ANR = 252;

/** Naming systems of the Arztnummer in KBV_PR_FOR_Practitioner (ZANR: current and deprecated KZBV system). */
export const ANR_SYSTEMS = {
  LANR: ['https://fhir.kbv.de/NamingSystem/KBV_NS_Base_ANR'],
  ZANR: ['https://fhir.kbv.de/NamingSystem/KBV_NS_Base_ZANR', 'http://fhir.de/NamingSystem/kzbv/zahnarztnummer'],
} as const;

/** Pseudo numbers production accepts without a check digit (prefix 555555, e.g. the Pseudo-Arztnummer of hospitals). */
const PSEUDO_ANR_PREFIXES = ['555555'];

/** LANR/ZANR check digit as production validates it: 9 digits, digit 7 = check digit over digits 1–6 (weights 4,9), or a pseudo number. */
export function hasValidAnrChecksum(value: string): boolean {
  return isValidLanr(value) || (/^[0-9]{9}$/.test(value) && PSEUDO_ANR_PREFIXES.some((p) => value.startsWith(p)));
}

/** An Arztnummer with an invalid check digit: which kind (= outer response header name) and its value. */
export interface InvalidAnr {
  kind: 'LANR' | 'ZANR';
  value: string;
}

/** Step 10: the first Practitioner LANR, else ZANR, whose check digit is wrong (production order), or undefined. */
export function findInvalidAnr(bundle: FhirResource): InvalidAnr | undefined {
  for (const practitioner of bundleResources(bundle, 'Practitioner')) {
    const ids = (practitioner.identifier as Array<{ system?: unknown; value?: unknown }> | undefined) ?? [];
    for (const kind of ['LANR', 'ZANR'] as const) {
      const id = ids.find((i) => (ANR_SYSTEMS[kind] as readonly string[]).includes(String(i.system)));
      if (id && typeof id.value === 'string' && !hasValidAnrChecksum(id.value)) return { kind, value: id.value };
    }
  }
  return undefined;
}

export interface SignedPrescription {
  /** The CMS as received (DER/BER bytes). */
  cms: Buffer;
  /** The signed KBV bundle (XML bytes). */
  content: Buffer;
  signingTime?: Date;
  signer: ParsedCertificate;
}

function invalid(text: string, diagnostics?: string, status = 400): FhirError {
  return new FhirError(status, text, { vauErrorCode: 'invalid_prescription', ...(diagnostics ? { diagnostics } : {}) });
}

/** Steps 1–4: CMS, signature, HBA certificate with OCSP, profession OID. */
export async function verifyPrescriptionSignature(cmsBase64: string, deps: { pki: Pki; now: Date }): Promise<SignedPrescription> {
  let cms: Buffer;
  let parsed;
  try {
    cms = Buffer.from(cmsBase64, 'base64');
    parsed = parseSignedData(cms);
  } catch (e) {
    throw invalid(ACTIVATE_TEXT.cmsStructure, e instanceof CmsError ? e.message : undefined);
  }
  if (!parsed.content?.length || parsed.signers.length !== 1) throw invalid(ACTIVATE_TEXT.cmsStructure, 'exactly one signer and an encapsulated content are required');
  let verification;
  try {
    verification = verifySignedData(parsed, { requireSignedAttributes: true });
  } catch (e) {
    throw invalid(ACTIVATE_TEXT.cmsSignature, e instanceof Error ? e.message : undefined);
  }
  const sv = verification.signers[0];
  const signer = parseCertificate(sv.certificate);
  const ca = deps.pki.issuerOf(signer);
  if (!ca || ca.name !== 'hba-qca' || !signer.policies.includes(CERT_TYPE.hbaQes)) {
    throw invalid(ACTIVATE_TEXT.certUnknown, `issuer: ${signer.issuer}`);
  }
  if (deps.now < signer.notBefore || deps.now > signer.notAfter) throw invalid(ACTIVATE_TEXT.certExpired, `${signer.notBefore.toISOString()} … ${signer.notAfter.toISOString()}`);
  const ocspUrl = signer.ocspUrls[0] ?? deps.pki.ocspUrl;
  let status: string;
  try {
    const r = await queryOcsp(ocspUrl, signer.der, ca.certificate, { timeoutMs: 10_000 });
    const v = verifyOcspResponse(r, ca.certificate);
    const single = r.responses.find((x) => x.serialNumber === signer.serialNumber);
    if (!v.valid || !single) throw new Error(v.reason ?? 'no response for the certificate');
    status = single.certStatus;
  } catch (e) {
    throw invalid(ACTIVATE_TEXT.ocspUnavailable, e instanceof Error ? e.message : undefined, 512);
  }
  if (status !== 'good') throw invalid(ACTIVATE_TEXT.certRevoked, `OCSP status ${status}`);
  const oids = signer.admission?.professions.flatMap((p) => p.professionOids) ?? [];
  if (!oids.some((o) => QES_PRESCRIBER_OIDS.includes(o))) throw invalid(ACTIVATE_TEXT.profession);
  return { cms, content: verification.content, signingTime: sv.signingTime, signer };
}

/** Step 5: the KBV bundle as FHIR, validated against its profiles (kbv.ita.erp). */
export function parseAndValidateBundle(content: Buffer): FhirResource {
  let bundle: FhirResource;
  try {
    bundle = parseFhirXml(content.toString('utf8'));
  } catch (e) {
    throw new FhirError(400, ACTIVATE_TEXT.validation, { diagnostics: e instanceof FhirFormatError ? e.message : 'XML could not be parsed' });
  }
  if (bundle.resourceType !== 'Bundle') throw new FhirError(400, ACTIVATE_TEXT.validation, { diagnostics: `expected a Bundle, got ${String(bundle.resourceType)}` });
  const errors = errorsOf(validateResource(bundle));
  if (errors.length) {
    const summary = errors.slice(0, 20).map((i) => `${i.location}: ${i.message}`).join('; ');
    throw new FhirError(400, ACTIVATE_TEXT.validation, {
      diagnostics: summary,
      moreIssues: errors.slice(0, 20).map((i) => ({ severity: 'error' as const, code: 'invalid' as const, diagnostics: i.message, expression: i.location ? [i.location] : [] })),
    });
  }
  return bundle;
}

/** Calendar day of an instant in Europe/Berlin ("YYYY-MM-DD"). */
export function berlinDay(d: Date): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Berlin', year: 'numeric', month: '2-digit', day: '2-digit' }).format(d);
}

export interface BundleFacts {
  kvnr: string;
  signingDay: string;
}

/** Steps 6–9 on the validated bundle. */
export function checkBundleAgainstTask(bundle: FhirResource, sp: SignedPrescription, task: { id: string; flowType: number }): BundleFacts {
  const pid = prescriptionIdOf(bundle);
  if (!pid) throw new FhirError(400, ACTIVATE_TEXT.idMissing);
  if (pid.split('.')[0] !== String(task.flowType).padStart(3, '0')) throw new FhirError(400, ACTIVATE_TEXT.flowTypeMismatch);
  if (pid !== task.id) throw new FhirError(400, ACTIVATE_TEXT.idMismatch);
  if (!sp.signingTime) throw new FhirError(400, ACTIVATE_TEXT.noSigningTime);
  const signingDay = berlinDay(sp.signingTime);
  const authoredOn = authoredOnOf(bundle);
  const authoredDay = authoredOn && /^\d{4}-\d{2}-\d{2}$/.test(authoredOn) ? authoredOn : authoredOn ? berlinDay(new Date(authoredOn)) : undefined;
  if (authoredDay !== signingDay) {
    throw new FhirError(400, ACTIVATE_TEXT.signingDay, {
      diagnostics: `KBVBundle.signature.signingDay=${signingDay} != KBVBundle/EVDGABundle.MedicationRequest/DeviceRequest.authoredOn=${authoredDay ?? 'missing'}`,
    });
  }
  const coverages = bundleResources(bundle, 'Coverage');
  const pkvFlow = FLOW_TYPES[task.flowType]?.insurance === 'PKV';
  let pkvCovered = false;
  for (const c of coverages) {
    const type = coverageOf({ ...bundle, entry: [{ resource: c }] })?.type;
    if (!type || !['GKV', 'SEL', 'BG', 'UK', 'SKT', 'PKV'].includes(type)) throw new FhirError(400, ACTIVATE_TEXT.coverageNotAllowed);
    if (type === 'PKV') pkvCovered = true;
  }
  if (pkvFlow && !pkvCovered) throw new FhirError(400, ACTIVATE_TEXT.pkvMissing);
  if (!pkvFlow && pkvCovered) throw new FhirError(400, ACTIVATE_TEXT.pkvForGkvFlow);
  const patients = bundleResources(bundle, 'Patient');
  const kv = patientKvnrOf(bundle);
  if (patients.length !== 1 || !kv) throw new FhirError(400, ACTIVATE_TEXT.kvnrMissing);
  if (!isValidKvnr(kv.kvnr)) throw new FhirError(400, ACTIVATE_TEXT.kvnrInvalid, { diagnostics: kv.kvnr });
  return { kvnr: kv.kvnr, signingDay };
}

/** Task.ExpiryDate and Task.AcceptDate as production computes them (A_19445: signing day + 3 months; accept +28 days for 160/169, +3 months for 200/209). */
export function expiryAndAcceptDates(signingDay: string, flowType: number): { expiryDate: string; acceptDate: string } {
  const [y, m, d] = signingDay.split('-').map(Number);
  const plusMonths = (months: number): string => {
    const target = new Date(Date.UTC(y, m - 1 + months, 1));
    const last = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
    target.setUTCDate(Math.min(d, last));
    return target.toISOString().slice(0, 10);
  };
  const plusDays = (days: number): string => new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
  const pkv = FLOW_TYPES[flowType]?.insurance === 'PKV';
  return { expiryDate: plusMonths(3), acceptDate: pkv ? plusMonths(3) : plusDays(28) };
}

/**
 * The receipt's Digest Binary (A_18523): SHA-256 of the content the prescriber signed (the KBV bundle
 * bytes in the CMS). Production does exactly this: in all 21 ru-dumps with an $accept Binary and a
 * receipt, the Digest equals SHA-256(eContent) and never SHA-256(signature value).
 */
export function prescriberSignatureDigest(cms: Buffer): Buffer {
  const parsed = parseSignedData(cms);
  return crypto.createHash('sha256').update(parsed.content ?? cms).digest();
}
