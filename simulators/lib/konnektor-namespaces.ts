/**
 * XML namespaces of the Konnektor interfaces (gematik WSDL/XSD, OPB5) and the
 * OASIS DSS schemas they import. One table for the Konnektor simulator, its
 * tests and the steps that call a Konnektor (simulated or real).
 */
export const KONNEKTOR_NS = {
  CONN: 'http://ws.gematik.de/conn/ConnectorCommon/v5.0',
  CCTX: 'http://ws.gematik.de/conn/ConnectorContext/v2.0',
  CARDCMN: 'http://ws.gematik.de/conn/CardServiceCommon/v2.0',
  CARD: 'http://ws.gematik.de/conn/CardService/v8.1',
  CARD82: 'http://ws.gematik.de/conn/CardService/v8.2',
  CT: 'http://ws.gematik.de/conn/CardTerminalInfo/v8.0',
  EVT: 'http://ws.gematik.de/conn/EventService/v7.2',
  CERT: 'http://ws.gematik.de/conn/CertificateService/v6.0',
  CERTCMN: 'http://ws.gematik.de/conn/CertificateServiceCommon/v2.0',
  SIG74: 'http://ws.gematik.de/conn/SignatureService/v7.4',
  SIG75: 'http://ws.gematik.de/conn/SignatureService/v7.5',
  DSS: 'urn:oasis:names:tc:dss:1.0:core:schema',
  VR: 'urn:oasis:names:tc:dss-x:1.0:profiles:verificationreport:schema#',
  SP: 'urn:oasis:names:tc:dss-x:1.0:profiles:SignaturePolicy:schema#',
  DS: 'http://www.w3.org/2000/09/xmldsig#',
  XADES: 'http://uri.etsi.org/01903/v1.3.2#',
  GERROR: 'http://ws.gematik.de/tel/error/v2.0',
  PI: 'http://ws.gematik.de/int/version/ProductInformation/v1.1',
  SDS: 'http://ws.gematik.de/conn/ServiceDirectory/v3.1',
  SI: 'http://ws.gematik.de/conn/ServiceInformation/v2.0',
} as const;
