/**
 * TI object identifiers used by the simulated PKI.
 *
 * Sources (facts only; see docs/pki.md for details):
 * - certificate type OIDs (oid_hba_qes, oid_smc_b_aut, oid_egk_aut, oid_fd_sig, …): gemSpec_OID Tab_PKI_405,
 *   as listed in gematik ref-GemLibPki CertificateType.java, and seen in the real test-card certificates
 *   in shared/reference/card-images (HBA: 1.2.276.0.76.4.72/.74/.75; eGK: .68/.70/.71).
 * - policy OIDs oid_policy_gem_or_cp (1.2.276.0.76.4.163) and oid_policy_hba_cp (1.2.276.0.76.4.145):
 *   gemSpec_OID Tab_PKI_404; present in the real eGK / HBA certificates.
 * - profession / institution / technical role OIDs: gemSpec_OID Tab_PKI_402/403/406 (GemLibPki Role.java).
 * - TSL signer policy 1.2.276.0.76.4.176 and id-tsl-kp-tslSigning 0.4.0.2231.3.0: GemLibPki Policies.java /
 *   ExtendedKeyUsage.java, and the TSL signer certificate embedded in gematik's test TSLs.
 */

export const POLICY = {
  gemOrCp: '1.2.276.0.76.4.163',
  hbaCp: '1.2.276.0.76.4.145',
  tslSigner: '1.2.276.0.76.4.176',
  /** ETSI QCP-n-qscd (EN 319 411-2), carried by the real HBA QES certificate. */
  qcpNaturalQscd: '0.4.0.194112.1.2',
} as const;

/** Certificate type OIDs (gemSpec_OID Tab_PKI_405), placed in certificatePolicies. */
export const CERT_TYPE = {
  hbaQes: '1.2.276.0.76.4.72',
  hbaSig: '1.2.276.0.76.4.73',
  hbaEnc: '1.2.276.0.76.4.74',
  hbaAut: '1.2.276.0.76.4.75',
  smcbEnc: '1.2.276.0.76.4.76',
  smcbAut: '1.2.276.0.76.4.77',
  smcbOsig: '1.2.276.0.76.4.78',
  egkEnc: '1.2.276.0.76.4.68',
  egkEncv: '1.2.276.0.76.4.69',
  egkAut: '1.2.276.0.76.4.70',
  egkAutn: '1.2.276.0.76.4.71',
  akAut: '1.2.276.0.76.4.79',
  nkVpn: '1.2.276.0.76.4.80',
  fdAut: '1.2.276.0.76.4.155',
  fdEnc: '1.2.276.0.76.4.202',
  fdSig: '1.2.276.0.76.4.203',
  fdOsig: '1.2.276.0.76.4.283',
  fdTlsC: '1.2.276.0.76.4.168',
  fdTlsS: '1.2.276.0.76.4.169',
  zdTlsS: '1.2.276.0.76.4.157',
} as const;

/** Profession (person) role OIDs, gemSpec_OID Tab_PKI_402. */
export const PROFESSION = {
  arzt: { oid: '1.2.276.0.76.4.30', item: 'Ärztin/Arzt' },
  zahnarzt: { oid: '1.2.276.0.76.4.31', item: 'Zahnärztin/Zahnarzt' },
  apotheker: { oid: '1.2.276.0.76.4.32', item: 'Apotheker/-in' },
  psychotherapeut: { oid: '1.2.276.0.76.4.45', item: 'Psychotherapeut/-in' },
  versicherter: { oid: '1.2.276.0.76.4.49', item: 'Versicherte/-r' },
} as const;

/** Institution role OIDs (SMC-B), gemSpec_OID Tab_PKI_403. */
export const INSTITUTION = {
  praxisArzt: { oid: '1.2.276.0.76.4.50', item: 'Betriebsstätte Arzt' },
  zahnarztpraxis: { oid: '1.2.276.0.76.4.51', item: 'Zahnarztpraxis' },
  praxisPsychotherapeut: { oid: '1.2.276.0.76.4.52', item: 'Betriebsstätte Psychotherapeut' },
  krankenhaus: { oid: '1.2.276.0.76.4.53', item: 'Krankenhaus' },
  oeffentlicheApotheke: { oid: '1.2.276.0.76.4.54', item: 'Öffentliche Apotheke' },
  krankenhausapotheke: { oid: '1.2.276.0.76.4.55', item: 'Krankenhausapotheke' },
  kostentraeger: { oid: '1.2.276.0.76.4.59', item: 'Betriebsstätte Kostenträger' },
} as const;

/** Technical role OIDs, gemSpec_OID Tab_PKI_406. */
export const TECHNICAL_ROLE = {
  ocsp: { oid: '1.2.276.0.76.4.99', item: 'Online Certificate Status Protocol' },
  konnektor: { oid: '1.2.276.0.76.4.103', item: 'Anwendungskonnektor' },
  vzdTi: { oid: '1.2.276.0.76.4.171', item: 'Verzeichnisdienst-TI' },
  tslTi: { oid: '1.2.276.0.76.4.189', item: 'TSL-Dienst-TI' },
  erpVau: { oid: '1.2.276.0.76.4.258', item: 'E-Rezept vertrauenswürdige Ausführungsumgebung' },
  erezept: { oid: '1.2.276.0.76.4.259', item: 'E-Rezept' },
  idpd: { oid: '1.2.276.0.76.4.260', item: 'IDP-Dienst' },
} as const;
