/**
 * The receipt of $close (A_18523; GEM_ERP_PR_Bundle "Quittung", dump 009_Response_Bundle.xml):
 * Bundle (document) with the PrescriptionID, a Composition (type 3 Receipt, Beneficiary = Telematik-ID
 * of the pharmacy, event period in-progress … completed), the Fachdienst Device, a Digest Binary with
 * the SHA-256 of the prescriber's signature, and Bundle.signature: CAdES-BES enveloping of the bundle
 * (without signature) as XML, signed with the Fachdienst's C.FD.SIG key.
 */
import * as crypto from 'node:crypto';
import { serializeFhirXml, type FhirResource } from '../../lib/fhir';
import type { FdSigner } from './fd-signer';
import { documentId, ERP, fhirInstant, profile } from './task-resource';

export const DEVICE_VERSION = '1.17.0';

export interface ReceiptInput {
  taskId: string;
  /** Telematik-ID of the closing pharmacy. */
  pharmacyId: string;
  /** When the task went to in-progress (production: the last status change before close). */
  inProgressSince: string;
  completedAt: Date;
  prescriberSignatureDigest: Buffer;
  baseUrl: string;
}

/** The receipt without its signature (the content that is signed). */
export function buildReceiptBundle(r: ReceiptInput): FhirResource {
  const compositionId = crypto.randomUUID();
  const deviceUrn = `urn:uuid:${crypto.randomUUID()}`;
  const digestId = crypto.randomUUID();
  return {
    resourceType: 'Bundle',
    id: documentId({ id: r.taskId }, 3),
    meta: { profile: [profile('GEM_ERP_PR_Bundle')] },
    identifier: { system: ERP.prescriptionId, value: r.taskId },
    type: 'document',
    timestamp: fhirInstant(r.completedAt),
    link: [{ relation: 'self', url: `${r.baseUrl}/Task/${r.taskId}/$close/` }],
    entry: [
      {
        fullUrl: `urn:uuid:${compositionId}`,
        resource: {
          resourceType: 'Composition',
          id: compositionId,
          meta: { profile: [profile('GEM_ERP_PR_Composition')] },
          extension: [{ url: ERP.beneficiaryEx, valueIdentifier: { system: ERP.telematikId, value: r.pharmacyId } }],
          status: 'final',
          type: { coding: [{ system: ERP.documentTypeCs, code: '3', display: 'Receipt' }] },
          date: fhirInstant(r.completedAt),
          author: [{ reference: deviceUrn }],
          title: 'Quittung',
          event: [{ period: { start: fhirInstant(r.inProgressSince), end: fhirInstant(r.completedAt) } }],
          section: [{ entry: [{ reference: `urn:uuid:${digestId}` }] }],
        },
      },
      {
        fullUrl: deviceUrn,
        resource: {
          resourceType: 'Device',
          id: '1',
          meta: { profile: [profile('GEM_ERP_PR_Device')] },
          status: 'active',
          serialNumber: DEVICE_VERSION,
          deviceName: [{ name: 'E-Rezept Fachdienst', type: 'user-friendly-name' }],
          version: [{ value: DEVICE_VERSION }],
          contact: [{ system: 'email', value: 'betrieb@gematik.de' }],
        },
      },
      {
        fullUrl: `urn:uuid:${digestId}`,
        resource: {
          resourceType: 'Binary',
          id: digestId,
          meta: { versionId: '1', profile: [profile('GEM_ERP_PR_Digest')] },
          contentType: 'application/octet-stream',
          data: r.prescriberSignatureDigest.toString('base64'),
        },
      },
    ],
  };
}

export interface SignedReceipt {
  bundle: FhirResource;
  /** The CAdES-BES over the unsigned bundle's XML (DER). */
  signature: Buffer;
  /** The XML that was signed. */
  signedXml: string;
}

export function signReceipt(unsigned: FhirResource, signer: FdSigner, when: Date): SignedReceipt {
  const signedXml = serializeFhirXml(unsigned);
  const signature = signer.sign(signedXml, when);
  const entries = unsigned.entry as Array<{ fullUrl: string; resource: FhirResource }>;
  const deviceUrn = entries.find((e) => e.resource.resourceType === 'Device')?.fullUrl;
  const bundle: FhirResource = {
    ...unsigned,
    signature: {
      type: [{ system: 'urn:iso-astm:E1762-95:2013', code: '1.2.840.10065.1.12.1.1' }],
      when: fhirInstant(when),
      who: { reference: deviceUrn },
      sigFormat: 'application/pkcs7-mime',
      data: signature.toString('base64'),
    },
  };
  return { bundle, signature, signedXml };
}
