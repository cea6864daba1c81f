/**
 * The Konnektor's service directory `GET /connector.sds` (ServiceDirectory.xsd v3.1 with
 * ProductInformation v1.1 and ServiceInformation v2.0), and the WSDL/XSD files it points to
 * (`GET /wsdl/conn/<file>.wsdl`, the soap:address rewritten to this Konnektor).
 *
 * Each endpoint path serves one version of one service; KNOWN_ENDPOINTS says which. The
 * directory lists the endpoints that have at least one registered operation.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { HttpError, type Route } from '../lib/http';
import { sharedPath } from '../lib/shared-data';
import { el, serializeDocument, type XmlElement } from '../lib/xml';
import { NS } from './soap-router';

export interface EndpointDescription {
  path: string;
  /** Service name in the directory (EventService, CardService, …). */
  service: string;
  /** Version as the WSDL states it (x.y.z). */
  version: string;
  /** Namespace of the service's schema (the Version's TargetNamespace). */
  targetNamespace: string;
  /** WSDL file under konnektor-schemas/conn. */
  wsdl: string;
  abstract: string;
}

export const KNOWN_ENDPOINTS: EndpointDescription[] = [
  { path: '/ws/EventService', service: 'EventService', version: '7.2.0', targetNamespace: NS.EVT, wsdl: 'EventService.wsdl', abstract: 'Ereignisdienst (Karten, Kartenterminals)' },
  { path: '/ws/CardService', service: 'CardService', version: '8.1.2', targetNamespace: NS.CARD, wsdl: 'CardService_v8_1_2.wsdl', abstract: 'Kartendienst (PIN-Operationen)' },
  { path: '/ws/CardService/v8.2', service: 'CardService', version: '8.2.1', targetNamespace: NS.CARD82, wsdl: 'CardService_v8_2_1.wsdl', abstract: 'Kartendienst 8.2 (PIN-Operationen)' },
  { path: '/ws/CertificateService', service: 'CertificateService', version: '6.0.1', targetNamespace: NS.CERT, wsdl: 'CertificateService_v6_0_1.wsdl', abstract: 'Zertifikatsdienst' },
  { path: '/ws/SignatureService', service: 'SignatureService', version: '7.5.6', targetNamespace: NS.SIG75, wsdl: 'SignatureService_V7_5_6.wsdl', abstract: 'Signaturdienst' },
  { path: '/ws/SignatureService/v7.4', service: 'SignatureService', version: '7.4.2', targetNamespace: NS.SIG74, wsdl: 'SignatureService_V7_4_2.wsdl', abstract: 'Signaturdienst 7.4' },
  { path: '/ws/AuthSignatureService', service: 'AuthSignatureService', version: '7.4.1', targetNamespace: NS.SIG74, wsdl: 'AuthSignatureService_v7_4_1.wsdl', abstract: 'Authentisierungsdienst (ExternalAuthenticate)' },
];

export const PRODUCT = {
  type: 'Konnektor',
  typeVersion: '5.1.0',
  vendorId: 'TIHSM',
  code: 'KONSIM',
  hwVersion: '1.0.0',
  fwVersion: '1.0.0',
  vendorName: 'ti-harness (simulated TI, not a real product)',
  name: 'Konnektor-Simulator',
} as const;

/** The ProductInformation element (tel/version/ProductInformation.xsd). */
export function productInformation(now: Date): XmlElement {
  const P = (local: string, children: Array<XmlElement | string> | string = []) => el(`PI:${local}`, {}, children);
  return el('PI:ProductInformation', { 'xmlns:PI': NS.PI }, [
    P('InformationDate', now.toISOString()),
    P('ProductTypeInformation', [P('ProductType', PRODUCT.type), P('ProductTypeVersion', PRODUCT.typeVersion)]),
    P('ProductIdentification', [
      P('ProductVendorID', PRODUCT.vendorId),
      P('ProductCode', PRODUCT.code),
      P('ProductVersion', [P('Local', [P('HWVersion', PRODUCT.hwVersion), P('FWVersion', PRODUCT.fwVersion)])]),
    ]),
    P('ProductMiscellaneous', [P('ProductVendorName', PRODUCT.vendorName), P('ProductName', PRODUCT.name)]),
  ]);
}

export interface SdsOptions {
  /** Base URL clients use (https://host:port). */
  baseUrl: string;
  tls: boolean;
  clientAuth: boolean;
  /** Endpoint paths that have operations. */
  paths: string[];
  now: Date;
}

/** The ConnectorServices document. */
export function serviceDirectory(opts: SdsOptions): string {
  const live = KNOWN_ENDPOINTS.filter((e) => opts.paths.includes(e.path));
  const byService = new Map<string, EndpointDescription[]>();
  for (const e of live) byService.set(e.service, [...(byService.get(e.service) ?? []), e]);
  const S = (local: string, attrs: Record<string, string> = {}, children: Array<XmlElement | string> | string = []) => el(`SI:${local}`, attrs, children);
  const services = [...byService.entries()].map(([name, versions]) =>
    S('Service', { Name: name }, [
      S('Abstract', {}, versions[0].abstract),
      S(
        'Versions',
        {},
        versions.map((v) =>
          S('Version', { TargetNamespace: v.targetNamespace, Version: v.version }, [
            S('Abstract', {}, `${v.service} ${v.version}`),
            ...(opts.tls ? [] : [S('Endpoint', { Location: `${opts.baseUrl}${v.path}` })]),
            S('EndpointTLS', { Location: `${opts.baseUrl}${v.path}` }),
            S('WSDL', { Location: `${opts.baseUrl}/wsdl/conn/${v.wsdl}` }),
          ]),
        ),
      ),
    ]),
  );
  const root = el('SDS:ConnectorServices', { 'xmlns:SDS': NS.SDS, 'xmlns:SI': NS.SI }, [
    productInformation(opts.now),
    el('SDS:TLSMandatory', {}, String(opts.tls)),
    el('SDS:ClientAutMandatory', {}, String(opts.clientAuth)),
    S('ServiceInformation', {}, services),
  ]);
  return serializeDocument(root);
}

/** Routes: GET /connector.sds and GET /wsdl/<conn|tel|ext>/<file>.{wsdl,xsd}. */
export function sdsRoutes(opts: () => SdsOptions): Route[] {
  const schemaRoot = sharedPath('reference', 'konnektor-schemas');
  return [
    {
      method: 'GET',
      path: '/connector.sds',
      handler: () => ({ status: 200, headers: { 'content-type': 'application/xml; charset=utf-8' }, body: serviceDirectory(opts()) }),
    },
    {
      method: 'GET',
      path: '/wsdl/*',
      handler: (ctx) => {
        let rel: string;
        try {
          rel = decodeURIComponent(ctx.params['*']);
        } catch {
          throw new HttpError(400, 'malformed path');
        }
        const file = path.resolve(schemaRoot, rel);
        if (!file.startsWith(schemaRoot + path.sep) || !/\.(wsdl|xsd)$/.test(file) || !fs.existsSync(file)) {
          throw new HttpError(404, `no schema file ${rel}`);
        }
        let body = fs.readFileSync(file, 'utf8');
        if (file.endsWith('.wsdl')) {
          const ep = KNOWN_ENDPOINTS.find((e) => path.basename(file) === e.wsdl);
          if (ep) body = body.replace(/(<soap:address\s+location=")[^"]*(")/g, `$1${opts().baseUrl}${ep.path}$2`);
        }
        return { status: 200, headers: { 'content-type': 'application/xml; charset=utf-8' }, body };
      },
    },
  ];
}
