// Prometheus metrics for each stage's result (node_exporter textfile-collector convention). Counters are per run:
// the file is rewritten by each run, so a scrape sees the latest run's numbers and the last success time.
import { ALERT_LEVELS } from '../domain.js';
import type { LoadResult } from '../load/load.js';
import { MetricSet } from '../metrics.js';
import type { ValidationReport } from '../validate/index.js';

const P = 'surgctl_';

export function addValidateMetrics(m: MetricSet, report: ValidationReport): MetricSet {
  for (const f of report.files) {
    const l = { dataset: f.dataset, file: f.path };
    m.add(`${P}rows_read_total`, 'counter', 'Rows read from input files in the last run.', f.rows_read, l);
    m.add(`${P}rows_valid_total`, 'counter', 'Rows that passed validation in the last run.', f.rows_valid, l);
    for (const [rule, n] of Object.entries(f.failures_by_rule)) {
      m.add(`${P}rows_quarantined_total`, 'counter', 'Rows quarantined in the last run, by dataset and rule.', n, { dataset: f.dataset, rule });
    }
  }
  return m;
}

export function addLoadMetrics(m: MetricSet, result: LoadResult): MetricSet {
  const by = new Map<string, { read: number; valid: number; inserted: number; duplicate: number; rules: Map<string, number> }>();
  for (const f of result.files) {
    const e = by.get(f.dataset) ?? { read: 0, valid: 0, inserted: 0, duplicate: 0, rules: new Map<string, number>() };
    e.read += f.rows_read;
    e.valid += f.rows_inserted + f.rows_duplicate;
    e.inserted += f.rows_inserted;
    e.duplicate += f.rows_duplicate;
    for (const [rule, n] of Object.entries(f.failures_by_rule)) e.rules.set(rule, (e.rules.get(rule) ?? 0) + n);
    by.set(f.dataset, e);
  }
  for (const [dataset, e] of [...by].sort(([a], [b]) => a.localeCompare(b))) {
    m.add(`${P}rows_read_total`, 'counter', 'Rows read from input files in the last run.', e.read, { dataset });
    m.add(`${P}rows_valid_total`, 'counter', 'Rows that passed validation in the last run.', e.valid, { dataset });
    m.add(`${P}rows_inserted_total`, 'counter', 'Rows inserted into the lakehouse in the last run.', e.inserted, { dataset });
    m.add(`${P}rows_duplicate_total`, 'counter', 'Rows skipped as duplicates of rows already loaded, in the last run.', e.duplicate, { dataset });
    for (const [rule, n] of [...e.rules].sort(([a], [b]) => a.localeCompare(b))) {
      m.add(`${P}rows_quarantined_total`, 'counter', 'Rows quarantined in the last run, by dataset and rule.', n, { dataset, rule });
    }
  }
  return m;
}

export function addAlertMetrics(m: MetricSet, alertsByLevel: Record<string, number>): MetricSet {
  for (const level of ALERT_LEVELS) {
    m.add(`${P}alerts`, 'gauge', 'Alerts in the lakehouse, by level.', alertsByLevel[level] ?? 0, { level });
  }
  return m;
}

export function addStageMetric(m: MetricSet, stage: string, seconds: number): MetricSet {
  return m.add(`${P}stage_duration_seconds`, 'gauge', 'Wall-clock seconds of each stage in the last run.', Math.round(seconds * 1000) / 1000, { stage });
}

/** Success flag and, on success, the last-success timestamp (seconds since the epoch). */
export function addOutcomeMetrics(m: MetricSet, command: string, ok: boolean, at: Date): MetricSet {
  m.add(`${P}last_run_success`, 'gauge', 'Whether the last run succeeded (1) or failed (0).', ok ? 1 : 0, { command });
  if (ok) m.add(`${P}last_success_timestamp_seconds`, 'gauge', 'Unix time of the last successful run.', Math.floor(at.getTime() / 1000), { command });
  return m;
}
