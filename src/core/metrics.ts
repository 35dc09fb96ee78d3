// Prometheus text exposition format (version 0.0.4), written atomically for node_exporter's textfile collector:
// a temporary file in the same directory, then rename, so the collector never reads half a file.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { toIoError } from '../errors.js';

export interface MetricSample {
  labels?: Record<string, string>;
  value: number;
}

export interface Metric {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  samples: MetricSample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function escapeLabel(v: string): string {
  return v.replaceAll('\\', '\\\\').replaceAll('\n', '\\n').replaceAll('"', '\\"');
}

function escapeHelp(v: string): string {
  return v.replaceAll('\\', '\\\\').replaceAll('\n', '\\n');
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/** Renders metrics as exposition text. Throws on an invalid metric or label name (a bug, not user input). */
export function renderMetrics(metrics: Metric[]): string {
  const out: string[] = [];
  for (const m of [...metrics].sort((a, b) => a.name.localeCompare(b.name))) {
    if (!NAME.test(m.name)) throw new Error(`invalid metric name ${m.name}`);
    out.push(`# HELP ${m.name} ${escapeHelp(m.help)}`, `# TYPE ${m.name} ${m.type}`);
    for (const s of m.samples) {
      const labels = Object.entries(s.labels ?? {}).sort(([a], [b]) => a.localeCompare(b));
      for (const [k] of labels) if (!LABEL.test(k) || k.startsWith('__')) throw new Error(`invalid label name ${k}`);
      const l = labels.length ? `{${labels.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}` : '';
      out.push(`${m.name}${l} ${formatValue(s.value)}`);
    }
  }
  return out.join('\n') + '\n';
}

/** Writes the exposition text to `path` atomically. */
export function writeMetricsFile(path: string, metrics: Metric[]): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, renderMetrics(metrics));
    renameSync(tmp, path);
  } catch (e) {
    throw toIoError(path, e, 'write metrics file');
  }
}

/** A small builder so stages can add samples by name without repeating HELP and TYPE. */
export class MetricSet {
  private readonly byName = new Map<string, Metric>();
  add(name: string, type: Metric['type'], help: string, value: number, labels?: Record<string, string>): this {
    let m = this.byName.get(name);
    if (!m) {
      m = { name, type, help, samples: [] };
      this.byName.set(name, m);
    }
    m.samples.push(labels ? { labels, value } : { value });
    return this;
  }
  list(): Metric[] {
    return [...this.byName.values()];
  }
}

/** Reads one sample's value from an existing exposition file (to carry a last-success time across a failed run). */
export function readMetricValue(path: string, name: string, labels: Record<string, string>): number | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  const want = Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
    .join(',');
  const prefix = want ? `${name}{${want}} ` : `${name} `;
  const line = text.split('\n').find((l) => l.startsWith(prefix));
  if (!line) return undefined;
  const v = Number(line.slice(prefix.length).split(' ')[0]);
  return Number.isFinite(v) ? v : undefined;
}
