/**
 * The Trust-service Status List (TSL) of the simulated TI, shaped like gematik's TSL
 * (ETSI TS 102 231 v2 namespace http://uri.etsi.org/02231/v2#, TSLVersionIdentifier 3, as in the
 * test TSLs of gematik ref-GemLibPki): one trust service provider with one TSPService per CA
 * (ServiceTypeIdentifier …/Svctype/CA/PKC, …/CA/QC for the HBA-qCA), the CA certificate, status
 * inaccord, the OCSP URL as ServiceSupplyPoint, and ServiceInformationExtensions listing the certificate
 * type OIDs the CA may issue (ExtensionOID / ExtensionValue = oid_* reference name). The per-CA OCSP
 * signers are listed with …/Svctype/Certstatus/OCSP. Signed with XMLDSig by the TSL signer.
 */
import { parseCertificate, type NameAttribute } from '../lib/x509';
import { CA_NAMES, type KeyAndCertificate, type Pki } from './hierarchy';
import { CERT_TYPE, POLICY } from './oids';
import { PROFILES, type CaName } from './profiles';
import { signEnveloped } from './xmldsig';
import { childElements, el, findAll, parseXml, serializeDocument, textContent, type XmlElement } from '../lib/xml';

export const TSL_NS = 'http://uri.etsi.org/02231/v2#';

export const SERVICE_TYPE = {
  pkc: 'http://uri.etsi.org/TrstSvc/Svctype/CA/PKC',
  qc: 'http://uri.etsi.org/TrstSvc/Svctype/CA/QC',
  ocsp: 'http://uri.etsi.org/TrstSvc/Svctype/Certstatus/OCSP',
} as const;

export const SERVICE_STATUS_INACCORD = 'http://uri.etsi.org/TrstSvc/Svcstatus/inaccord';

/** gemSpec_OID names of certificate type OIDs (ExtensionValue in the TSL). */
const CERT_TYPE_NAMES: Record<string, string> = {
  [CERT_TYPE.hbaQes]: 'oid_hba_qes',
  [CERT_TYPE.hbaSig]: 'oid_hba_sig',
  [CERT_TYPE.hbaEnc]: 'oid_hba_enc',
  [CERT_TYPE.hbaAut]: 'oid_hba_aut',
  [CERT_TYPE.smcbEnc]: 'oid_smc_b_enc',
  [CERT_TYPE.smcbAut]: 'oid_smc_b_aut',
  [CERT_TYPE.smcbOsig]: 'oid_smc_b_osig',
  [CERT_TYPE.egkEnc]: 'oid_egk_enc',
  [CERT_TYPE.egkEncv]: 'oid_egk_encv',
  [CERT_TYPE.egkAut]: 'oid_egk_aut',
  [CERT_TYPE.egkAutn]: 'oid_egk_autn',
  [CERT_TYPE.akAut]: 'oid_ak_aut',
  [CERT_TYPE.nkVpn]: 'oid_nk_vpn',
  [CERT_TYPE.fdAut]: 'oid_fd_aut',
  [CERT_TYPE.fdEnc]: 'oid_fd_enc',
  [CERT_TYPE.fdSig]: 'oid_fd_sig',
  [CERT_TYPE.fdOsig]: 'oid_fd_osig',
  [CERT_TYPE.fdTlsC]: 'oid_fd_tls_c',
  [CERT_TYPE.fdTlsS]: 'oid_fd_tls_s',
  [CERT_TYPE.zdTlsS]: 'oid_zd_tls_s',
};

export interface TslOptions {
  /** Base URL of the PKI service (for the TSL location and OCSP supply points). */
  baseUrl: string;
  /** Issue time (default: the PKI clock). */
  issuedAt?: Date;
  /** Days until NextUpdate (default 30). */
  nextUpdateDays?: number;
  sequenceNumber?: number;
}

/** Certificate type OIDs a CA may issue, derived from the profiles table. */
export function certificateTypesOf(ca: CaName): string[] {
  const oids = new Set<string>();
  for (const p of Object.values(PROFILES)) {
    if (p.ca !== ca) continue;
    for (const oid of p.policies) if (CERT_TYPE_NAMES[oid]) oids.add(oid);
  }
  return [...oids].sort();
}

/** RFC 2253-style name, most specific first: "CN=…,OU=…,O=…,C=DE" (as gematik's ServiceName). */
function serviceName(attrs: NameAttribute[]): string {
  return [...attrs]
    .reverse()
    .map((a) => `${a.type}=${a.value.replace(/([,+"\\<>;])/g, '\\$1')}`)
    .join(',');
}

const isoSeconds = (d: Date) => `${d.toISOString().slice(0, 19)}Z`;

function lang(name: string, value: string): XmlElement {
  return el(name, [['xml:lang', 'DE']], value);
}

function service(type: string, kc: KeyAndCertificate, supplyPoint: string, statusStart: Date, extensionOids: string[]): XmlElement {
  const info: XmlElement[] = [
    el('ServiceTypeIdentifier', [], type),
    el('ServiceName', [], [lang('Name', serviceName(kc.parsed.subjectAttributes))]),
    el('ServiceDigitalIdentity', [], [el('DigitalId', [], [el('X509Certificate', [], kc.certificate.toString('base64'))])]),
    el('ServiceStatus', [], SERVICE_STATUS_INACCORD),
    el('StatusStartingTime', [], isoSeconds(statusStart)),
    el('ServiceSupplyPoints', [], [el('ServiceSupplyPoint', [], supplyPoint)]),
  ];
  if (extensionOids.length) {
    info.push(
      el(
        'ServiceInformationExtensions',
        [],
        extensionOids.map((oid) =>
          el('Extension', { Critical: 'false' }, [el('ExtensionOID', [], oid), el('ExtensionValue', [], CERT_TYPE_NAMES[oid] ?? oid)]),
        ),
      ),
    );
  }
  return el('TSPService', [], [el('ServiceInformation', [], info)]);
}

function address(): XmlElement[] {
  return [
    el('PostalAddresses', [], [
      el('PostalAddress', [['xml:lang', 'DE']], [
        el('StreetAddress', [], 'Simulationsweg 1'),
        el('Locality', [], 'Berlin'),
        el('PostalCode', [], '10117'),
        el('CountryName', [], 'DE'),
      ]),
    ]),
    el('ElectronicAddress', [], [el('URI', [], 'mailto:pki@ti-harness.invalid')]),
  ];
}

/** Builds the unsigned TSL tree. */
export function buildTslTree(pki: Pki, opts: TslOptions): XmlElement {
  const issuedAt = opts.issuedAt ?? pki.clock();
  const next = new Date(issuedAt.getTime() + (opts.nextUpdateDays ?? 30) * 86400_000);
  const seq = opts.sequenceNumber ?? 1;
  const base = opts.baseUrl.replace(/\/+$/, '');
  const ocspUrl = `${base}/ocsp`;
  const services: XmlElement[] = [];
  for (const name of CA_NAMES) {
    const ca = pki.cas[name];
    const type = name === 'hba-qca' ? SERVICE_TYPE.qc : SERVICE_TYPE.pkc;
    services.push(service(type, ca, ocspUrl, ca.parsed.notBefore, name === 'root' ? [] : certificateTypesOf(name)));
  }
  for (const name of CA_NAMES) {
    const signer = pki.cas[name].ocspSigner;
    services.push(service(SERVICE_TYPE.ocsp, signer, ocspUrl, signer.parsed.notBefore, []));
  }
  const id = `ID${seq}${issuedAt.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
  return el('TrustServiceStatusList', [['xmlns', TSL_NS], ['Id', id], ['TSLTag', 'http://uri.etsi.org/02231/TSLTag']], [
    el('SchemeInformation', [], [
      el('TSLVersionIdentifier', [], '3'),
      el('TSLSequenceNumber', [], String(seq)),
      el('TSLType', [], 'http://uri.etsi.org/TrstSvc/TSLtype/generic'),
      el('SchemeOperatorName', [], [lang('Name', 'ti-harness simulated TI (TEST-ONLY)')]),
      el('SchemeOperatorAddress', [], address()),
      el('SchemeName', [], [lang('Name', 'ti-harness simulated TI TSL Scheme (TEST-ONLY)')]),
      el('SchemeInformationURI', [], [lang('URI', base)]),
      el('StatusDeterminationApproach', [], 'http://uri.etsi.org/TrstSvc/TSLType/StatusDetn/passive'),
      el('PolicyOrLegalNotice', [], [lang('TSLLegalNotice', `Simulated TI for conformance testing; Certificate Policy OID ${POLICY.gemOrCp}`)]),
      el('HistoricalInformationPeriod', [], '0'),
      el('PointersToOtherTSL', [], [
        el('OtherTSLPointer', [], [
          el('TSLLocation', [], `${base}/tsl.xml`),
          // 1.2.276.0.76.4.120: primary TSL download location (GemLibPki TslConstants)
          el('AdditionalInformation', [], [lang('TextualInformation', '1.2.276.0.76.4.120')]),
        ]),
      ]),
      el('ListIssueDateTime', [], isoSeconds(issuedAt)),
      el('NextUpdate', [], [el('dateTime', [], isoSeconds(next))]),
    ]),
    el('TrustServiceProviderList', [], [
      el('TrustServiceProvider', [], [
        el('TSPInformation', [], [
          el('TSPName', [], [lang('Name', 'ti-harness simulated TI')]),
          el('TSPTradeName', [], [lang('Name', 'ti-harness simulated TI')]),
          el('TSPAddress', [], address()),
          el('TSPInformationURI', [], [lang('URI', base)]),
        ]),
        el('TSPServices', [], services),
      ]),
    ]),
  ]);
}

/** The signed TSL document (XML text). */
export function buildSignedTsl(pki: Pki, opts: TslOptions): string {
  const tree = buildTslTree(pki, opts);
  signEnveloped(tree, pki.tslSigner.privateKey, pki.tslSigner.certificate);
  return serializeDocument(tree);
}

/** CA certificates listed in a TSL (service types CA/PKC and CA/QC), for clients that build a trust store from it. */
export function tslCaCertificates(tslXml: string): Buffer[] {
  const root = parseXml(tslXml);
  const out: Buffer[] = [];
  for (const svc of findAll(root, 'ServiceInformation')) {
    const type = textContent(childElements(svc, 'ServiceTypeIdentifier')[0] ?? '').trim();
    if (type !== SERVICE_TYPE.pkc && type !== SERVICE_TYPE.qc) continue;
    for (const c of findAll(svc, 'X509Certificate')) {
      const der = Buffer.from(textContent(c).replace(/\s+/g, ''), 'base64');
      parseCertificate(der);
      out.push(der);
    }
  }
  return out;
}
