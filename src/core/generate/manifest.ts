// The manifest written beside the generated files: what was generated (options, files with sha256) and the
// ground truth later stages are tested against (each planted bad row and incident). Layout: /tmp/contracts.md.
import type { BadRowKind } from './bad-rows.js';
import type { GenerateFormat, GeneratedDataset, ResolvedOptions, Shard } from './options.js';

export interface ManifestFile {
  /** File name relative to the output directory, e.g. "telemetry.csv". */
  path: string;
  dataset: GeneratedDataset;
  /** fhir: FHIR R4 Bulk Data NDJSON (Observation.ndjson from vitals, Patient, Procedure, Device). */
  format: GenerateFormat;
  /** Data rows, bad ones included; a CSV header is not counted. */
  rows: number;
  bytes: number;
  sha256: string;
}

export interface ManifestBadRow {
  file: string;
  /** Physical 1-based line: a CSV header is line 1; NDJSON line 1 is the first row; Parquet: the row number. */
  line: number;
  /** 1-based data-row number. */
  row: number;
  key: string | null;
  kind: BadRowKind;
  field: string | null;
  /** The keyword a validator must report for this row. */
  keyword: string;
}

export type RobotIncidentKindName = 'latency_spike' | 'force_overload' | 'severe_error' | 'combined' | 'network_degradation';

export interface RobotIncident {
  id: string;
  kind: RobotIncidentKindName;
  procedure_id: string;
  patient_id: string;
  robot_id: string;
  robot_arm: string;
  /** recorded_at of the first event. */
  at: string;
  event_ids: string[];
  /** The alert the transform's default rules must raise on every listed event; triggers must be among its triggers. */
  expected: { level: 'medium' | 'high' | 'critical'; triggers: string[] };
}

export interface DeteriorationIncident {
  id: string;
  kind: 'deterioration';
  procedure_id: string;
  patient_id: string;
  robot_id: string;
  at: string;
  /** NEWS2 band of every hour from hour_start for three hours (news2_hourly, most recent reading per hour). */
  expected: { news2_band: 'high' | 'medium'; hour_start: string };
}

export type Incident = RobotIncident | DeteriorationIncident;

export interface Manifest {
  tool: 'surgctl';
  version: string;
  seed: number;
  reference_date: string;
  options: Omit<ResolvedOptions, 'format'> & { format: GenerateFormat };
  shard: Shard;
  files: ManifestFile[];
  bad_rows: ManifestBadRow[];
  incidents: Incident[];
}
