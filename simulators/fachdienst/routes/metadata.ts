/**
 * GET /metadata: the CapabilityStatement of the FHIR interface (A_20171), built from the routes that
 * are registered, in XML or JSON. Served inside the VAU (any role) and, as production also lists it
 * among the outer endpoints, as plain GET /metadata without authentication (service.ts).
 *
 * Kept minimal and hand-written until simulators/lib/fhir provides the resource model.
 */
import { escapeAttr } from '../../lib/xml';
import type { FhirRoute, FhirRouteModule } from '../fhir-router';
import { FHIR_CONTENT_TYPE, FHIR_NS, type FhirFormat } from '../outcome';
import { OPERATION_ROLES } from '../roles';

export const SOFTWARE_NAME = 'ti-harness E-Rezept-Fachdienst (simulated)';

interface ResourceEntry {
  type: string;
  interactions: string[];
  operations: string[];
}

function resources(routes: readonly FhirRoute[]): ResourceEntry[] {
  const byType = new Map<string, ResourceEntry>();
  for (const r of routes) {
    const segs = r.pattern.split('/').filter(Boolean);
    const type = segs[0];
    if (!type || type === 'metadata' || !/^[A-Z]/.test(type)) continue;
    const e = byType.get(type) ?? { type, interactions: [], operations: [] };
    const op = segs.find((s) => s.startsWith('$'));
    if (op) e.operations.push(op.slice(1));
    else if (r.method === 'GET') e.interactions.push(segs.length > 1 ? 'read' : 'search-type');
    else if (r.method === 'POST') e.interactions.push('create');
    else if (r.method === 'DELETE') e.interactions.push('delete');
    else if (r.method === 'PUT' || r.method === 'PATCH') e.interactions.push(r.method === 'PUT' ? 'update' : 'patch');
    byType.set(type, e);
  }
  return [...byType.values()].map((e) => ({ ...e, interactions: [...new Set(e.interactions)], operations: [...new Set(e.operations)] }));
}

export function capabilityStatement(routes: readonly FhirRoute[], date: Date, format: FhirFormat): { contentType: string; body: string } {
  const res = resources(routes);
  const day = date.toISOString().slice(0, 10);
  if (format === 'json') {
    const doc = {
      resourceType: 'CapabilityStatement',
      name: 'Gem_erxCapabilityStatement',
      status: 'draft',
      date: day,
      kind: 'instance',
      software: { name: SOFTWARE_NAME },
      implementation: { description: 'E-Rezept Fachdienst Server (ti-harness simulation)' },
      fhirVersion: '4.0.1',
      format: ['xml', 'json'],
      rest: [
        {
          mode: 'server',
          resource: res.map((r) => ({
            type: r.type,
            ...(r.interactions.length ? { interaction: r.interactions.map((code) => ({ code })) } : {}),
            ...(r.operations.length ? { operation: r.operations.map((name) => ({ name, definition: `http://gematik.de/fhir/OperationDefinition/${name}` })) } : {}),
          })),
        },
      ],
    };
    return { contentType: FHIR_CONTENT_TYPE.json, body: JSON.stringify(doc) };
  }
  const v = (n: string, val: string) => `<${n} value="${escapeAttr(val)}"/>`;
  const resXml = res
    .map(
      (r) =>
        `<resource>${v('type', r.type)}` +
        r.interactions.map((c) => `<interaction>${v('code', c)}</interaction>`).join('') +
        r.operations.map((n) => `<operation>${v('name', n)}${v('definition', `http://gematik.de/fhir/OperationDefinition/${n}`)}</operation>`).join('') +
        '</resource>',
    )
    .join('');
  const body =
    `<?xml version="1.0" encoding="utf-8"?>\n<CapabilityStatement xmlns="${FHIR_NS}">` +
    v('name', 'Gem_erxCapabilityStatement') +
    v('status', 'draft') +
    v('date', day) +
    v('kind', 'instance') +
    `<software>${v('name', SOFTWARE_NAME)}</software>` +
    `<implementation>${v('description', 'E-Rezept Fachdienst Server (ti-harness simulation)')}</implementation>` +
    v('fhirVersion', '4.0.1') +
    v('format', 'xml') +
    v('format', 'json') +
    `<rest>${v('mode', 'server')}${resXml}</rest></CapabilityStatement>`;
  return { contentType: FHIR_CONTENT_TYPE.xml, body };
}

export const metadataRoutes: FhirRouteModule = (router) => {
  router.register({
    method: 'GET',
    pattern: '/metadata',
    roles: OPERATION_ROLES.metadata,
    operation: 'metadata',
    handler: (req, ctx) => {
      const cs = capabilityStatement(ctx.routes(), ctx.clock.now(), req.format);
      return { status: 200, body: cs.body, contentType: cs.contentType };
    },
  });
};
