// src/core/fhir: FHIR R4 in, through HL7 SQL-on-FHIR v2 ViewDefinitions. stageFhir reads NDJSON, Bundles and
// single resources into a staged DuckDB table; runView flattens it with a ViewDefinition on the compiled engine
// (DuckDB SQL) or the reference engine (FHIRPath.js). Shipped views live in ./views/*.json.
export { stageFhir, sniffFhirFile, fhirFiles, type FhirInputError, type FhirStageResult, type FhirFileKind } from './stage.js';
export { runView, compileView, type FhirEngine, type RunViewOptions } from './run.js';
export { checkView, type ViewDefinition, type ViewSelect, type ViewColumn, type OutputColumn, type CheckedView } from './view.js';
export { shippedView, shippedViewNames, shippedViewsDir } from './views.js';
export { referenceKey } from './reference.js';
