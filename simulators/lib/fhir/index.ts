/** The FHIR layer: package registry, XML ↔ JSON, profile validation, workflow readers (docs/fhir.md). */
export * from './format';
export * from './packages';
export * from './validate';
export * from './resources';
export { expandValueSet, valueSetContains, codeSystemCodes } from './terminology';
