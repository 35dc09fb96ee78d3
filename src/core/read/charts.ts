// The chart data an HTML report carries beside its rows (built by report/dashboard.ts, drawn by render/svg-charts.ts):
// plain JSON-safe shapes, here so the tabular result and the emitters can carry them without importing report.

export interface PatientVitals {
  patient_id: string;
  /** NEWS2 per hour, in time order. hour_start ISO 8601 UTC. */
  news2: { hour_start: string; news2_total: number | null; news2_band: string | null }[];
  /** Hourly averages per metric, in time order. */
  metrics: { metric: string; points: { hour_start: string; avg: number | null }[] }[];
}

export interface LevelCounts {
  medium: number;
  high: number;
  critical: number;
}

export interface RiskLevelCount {
  level: string;
  events: number;
}

export interface LoadQuality {
  load_id: string;
  dataset: string;
  /** ISO 8601 UTC. */
  started_at: string;
  rows_inserted: number;
  rows_duplicate: number;
  rows_quarantined: number;
}

export interface Dashboard {
  vitals?: PatientVitals[];
  riskLevels?: RiskLevelCount[];
  alertsByProcedure?: (LevelCounts & { procedure_id: string })[];
  alertsByRobot?: (LevelCounts & { robot_id: string })[];
  dataQuality?: LoadQuality[];
}
