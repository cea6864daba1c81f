/**
 * The FHIR package registry: every package under ../shared/fhir-packages (kbv.ita.erp 1.3.1 and
 * 1.4.0, kbv.basis, de.basisprofil.r4, gematik erezept-workflow, terminology, …), indexed by
 * canonical URL and version.
 *
 * Version resolution: `url|1.3` matches every version "1.3" or "1.3.x" (KBV references profiles
 * by major.minor); the highest matching version wins. `url` alone resolves to the highest
 * version. Packages are read once per process (loadPackageRegistry caches by folder).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { sharedPath } from '../shared-data';
import { registerElementOrder } from './model';

export interface FhirPackage {
  name: string;
  version: string;
  dir: string;
  dependencies: Record<string, string>;
}

export interface CanonicalResource {
  resourceType: string;
  url: string;
  version?: string;
  [k: string]: unknown;
}

export interface ElementDefinition {
  id: string;
  path: string;
  sliceName?: string;
  min?: number;
  max?: string;
  type?: Array<{ code: string; profile?: string[]; targetProfile?: string[] }>;
  slicing?: { discriminator?: Array<{ type: string; path: string }>; rules?: string; ordered?: boolean };
  binding?: { strength: string; valueSet?: string };
  constraint?: Array<{ key: string; severity: string; human: string; expression?: string; source?: string }>;
  contentReference?: string;
  [k: string]: unknown;
}

export interface StructureDefinition extends CanonicalResource {
  name: string;
  type: string;
  kind: string;
  derivation?: string;
  baseDefinition?: string;
  snapshot?: { element: ElementDefinition[] };
  differential?: { element: ElementDefinition[] };
}

export interface Entry<T> {
  resource: T;
  pkg: FhirPackage;
}

export class FhirPackageError extends Error {
  override name = 'FhirPackageError';
}

/** Splits "url|version" (version may be absent). */
export function splitCanonical(canonical: string): { url: string; version?: string } {
  const bar = canonical.indexOf('|');
  return bar < 0 ? { url: canonical } : { url: canonical.slice(0, bar), version: canonical.slice(bar + 1) };
}

function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.-]/);
  const pb = b.split(/[.-]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '';
    const y = pb[i] ?? '';
    const nx = Number(x);
    const ny = Number(y);
    const c = !Number.isNaN(nx) && !Number.isNaN(ny) && x !== '' && y !== '' ? nx - ny : x.localeCompare(y);
    if (c !== 0) return c;
  }
  return 0;
}

/** Whether a resource version satisfies a requested version ("1.3" matches "1.3.0", "1.3.2"). */
export function versionMatches(requested: string, actual: string | undefined): boolean {
  if (!actual) return false;
  return actual === requested || actual.startsWith(`${requested}.`);
}

export class PackageRegistry {
  readonly packages: FhirPackage[] = [];
  private readonly byUrl = new Map<string, Array<Entry<CanonicalResource>>>();

  constructor(readonly root: string) {}

  /** Reads every package folder under `root` (each holding package/package.json). */
  load(): this {
    if (!fs.existsSync(root(this))) throw new FhirPackageError(`FHIR package folder not found: ${this.root}`);
    for (const name of fs.readdirSync(this.root).sort()) {
      const dir = path.join(this.root, name, 'package');
      const manifest = path.join(dir, 'package.json');
      if (!fs.existsSync(manifest)) continue;
      const m = JSON.parse(fs.readFileSync(manifest, 'utf8')) as { name: string; version: string; dependencies?: Record<string, string> };
      const pkg: FhirPackage = { name: m.name, version: m.version, dir, dependencies: m.dependencies ?? {} };
      this.packages.push(pkg);
      for (const file of fs.readdirSync(dir)) {
        if (!file.endsWith('.json') || file === 'package.json' || file.startsWith('.')) continue;
        let res: CanonicalResource;
        try {
          res = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as CanonicalResource;
        } catch (e) {
          throw new FhirPackageError(`${pkg.name}#${pkg.version}: ${file} is not valid JSON: ${(e as Error).message}`);
        }
        if (typeof res.url !== 'string' || !['StructureDefinition', 'ValueSet', 'CodeSystem'].includes(res.resourceType)) continue;
        const list = this.byUrl.get(res.url) ?? [];
        list.push({ resource: res, pkg });
        this.byUrl.set(res.url, list);
      }
    }
    // element order for the XML writer: complete snapshots first, then differentials (partial orders)
    const sds = [...this.byUrl.values()].flat().map((e) => e.resource).filter((r): r is StructureDefinition => r.resourceType === 'StructureDefinition');
    for (const sd of sds) if (sd.snapshot) registerOrderOf(sd);
    for (const sd of sds) if (!sd.snapshot) registerOrderOf(sd);
    for (const list of this.byUrl.values()) list.sort((a, b) => compareVersions(b.resource.version ?? '', a.resource.version ?? ''));
    return this;
  }

  /** All versions held for a canonical URL, highest first. */
  versions(url: string): Array<Entry<CanonicalResource>> {
    return this.byUrl.get(url) ?? [];
  }

  /** Resolves "url|version" or "url" to the best matching resource of the given type. */
  resolve<T extends CanonicalResource>(canonical: string, resourceType?: string): Entry<T> | undefined {
    const { url, version } = splitCanonical(canonical);
    const list = this.versions(url).filter((e) => !resourceType || e.resource.resourceType === resourceType);
    const hit = version ? list.find((e) => versionMatches(version, e.resource.version)) : list[0];
    return hit as Entry<T> | undefined;
  }

  structureDefinition(canonical: string): Entry<StructureDefinition> | undefined {
    return this.resolve<StructureDefinition>(canonical, 'StructureDefinition');
  }

  valueSet(canonical: string): Entry<CanonicalResource> | undefined {
    return this.resolve(canonical, 'ValueSet');
  }

  codeSystem(canonical: string): Entry<CanonicalResource> | undefined {
    return this.resolve(canonical, 'CodeSystem');
  }

  /** Counts per resource type (for diagnostics and docs). */
  stats(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const list of this.byUrl.values()) for (const e of list) out[e.resource.resourceType] = (out[e.resource.resourceType] ?? 0) + 1;
    return out;
  }
}

function root(r: PackageRegistry): string {
  return r.root;
}

/** Feeds the element order of a StructureDefinition into the XML writer's order table. */
function registerOrderOf(sd: StructureDefinition): void {
  const elements = sd.snapshot?.element ?? sd.differential?.element ?? [];
  const children = new Map<string, string[]>();
  for (const e of elements) {
    if (e.sliceName || e.id.includes(':')) continue;
    const p = e.path;
    const dot = p.lastIndexOf('.');
    if (dot < 0) continue;
    const parent = p.slice(0, dot);
    const name = p.slice(dot + 1).replace(/\[x\]$/, '');
    const list = children.get(parent) ?? [];
    if (!list.includes(name)) list.push(name);
    children.set(parent, list);
  }
  for (const [parent, names] of children) {
    // top level → the type; nested → backbone path (complex-type children are registered by the type's own profiles)
    registerElementOrder(parent.includes('.') ? parent : sd.type, names);
  }
}

const registries = new Map<string, PackageRegistry>();

/** The registry of ../shared/fhir-packages (or another folder), loaded once per process. */
export function loadPackageRegistry(dir: string = sharedPath('fhir-packages')): PackageRegistry {
  const abs = path.resolve(dir);
  let reg = registries.get(abs);
  if (!reg) {
    reg = new PackageRegistry(abs).load();
    registries.set(abs, reg);
  }
  return reg;
}
