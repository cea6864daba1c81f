/**
 * The identity behind an AUT certificate (A_18808: the IDP supports at least the attributes the
 * certificate holds) and the pairwise subject identifier (A_18859: no plain idNummer as `sub`, a
 * different `sub` for every client).
 *
 * Claim sources (ref-idp-server X509ClaimExtraction, gemSpec_IDP_Dienst A_20524-04):
 *   given_name GN · family_name SN · organizationName O · professionOID the admission's profession
 *   OID · idNummer the KVNR (eGK: the OU that looks like a KVNR) or the admission's registration
 *   number (Telematik-ID of SMC-B / HBA) · display_name CN. Absent attributes become null.
 */
import * as crypto from 'node:crypto';
import type { IdentityClaim } from '../lib/idp-protocol';
import type { ParsedCertificate } from '../lib/x509';
import type { CardKind } from './pki-trust';

export type IdentityClaims = Record<IdentityClaim, string | null>;

export interface CardIdentity {
  kind: CardKind;
  /** Insured person (eGK) or Leistungserbringer(-institution) (SMC-B, HBA): metrics split them (A_18993). */
  userType: 'insured' | 'lei';
  idNummer: string;
  claims: IdentityClaims;
  /** DER of the AUT certificate (for the OCSP re-check of the production profile's SSO). */
  certificate: Buffer;
}

const KVNR = /^[A-Z]\d{9}$/;

function attribute(cert: ParsedCertificate, type: string): string | null {
  const a = cert.subjectAttributes.find((x) => x.type === type);
  return a && a.value.trim() ? a.value : null;
}

/** Identity claims of an AUT certificate; undefined when it carries no idNummer (→ error 2020). */
export function identityFromCertificate(cert: ParsedCertificate, kind: CardKind): CardIdentity | undefined {
  const profession = cert.admission?.professions[0];
  const idNummer =
    kind === 'eGK'
      ? (cert.subjectAttributes.find((a) => a.type === 'OU' && KVNR.test(a.value))?.value ?? null)
      : (profession?.registrationNumber?.trim() || null);
  if (!idNummer) return undefined;
  return {
    kind,
    userType: kind === 'eGK' ? 'insured' : 'lei',
    idNummer,
    certificate: cert.der,
    claims: {
      professionOID: profession?.professionOids[0] ?? null,
      idNummer,
      given_name: attribute(cert, 'GN'),
      family_name: attribute(cert, 'SN'),
      organizationName: attribute(cert, 'O'),
      display_name: attribute(cert, 'CN'),
    },
  };
}

/** Only the claims a scope may release (A_18856). */
export function releasedClaims(claims: IdentityClaims, allowed: readonly IdentityClaim[]): Partial<IdentityClaims> {
  const out: Partial<IdentityClaims> = {};
  for (const c of allowed) out[c] = claims[c];
  return out;
}

/** Pairwise subject: base64url(HMAC-SHA256(salt, idNummer ‖ 0x00 ‖ client_id)). */
export function pairwiseSubject(salt: Buffer, idNummer: string, clientId: string): string {
  return crypto.createHmac('sha256', salt).update(idNummer).update('\u0000').update(clientId).digest('base64url');
}
