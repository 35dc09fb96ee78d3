// The detail pane's text for hand-made details: nearest-hour labels, empty sections and missing marts.
import { describe, expect, it } from 'vitest';
import type { AlertDetail, ListRow } from '../../src/core/tui-data/types.js';
import { lineText } from '../../src/tui/format.js';
import { detailLines } from '../../src/tui/screen.js';

const row: ListRow = {
  kind: 'alert', id: 'AL-1', level: 'high', levelRank: 3, riskScore: 6, at: '2026-01-05T10:29:55Z', endedAt: null,
  patientId: 'PT-1', procedureId: 'PR-1', robotId: 'RB-1', robotArm: 'arm_2', step: 'suturing', instrument: 'needle_driver',
  reason: 'latency 612 ms (>500)', alerts: 1, acked: 0, ack: null, key: { risk: 6, atUs: '0', id: 'AL-1' },
};
const base: AlertDetail = {
  row, triggers: ['latency'], errorCode: null, event: null, window: null, hour: '2026-01-05T10:00:00.000Z',
  vitals: [{ metric: 'heart_rate', n: 4, min: 70, max: 90, avg: 80.25, p95: 88 }], vitalsHour: '2026-01-05T13:00:00.000Z',
  news2: { total: 5, band: 'medium', missing: ['consciousness'], scores: { resp_rate: 2, spo2: 3 } }, news2Hour: '2026-01-05T10:00:00.000Z',
  related: { title: 'other alerts of procedure PR-1', total: 0, rows: [] }, missing: [],
};

const text = (d: AlertDetail) => detailLines(d, 200).map(lineText);

describe('detailLines', () => {
  it('labels data from another hour than the alert\'s', () => {
    const t = text(base);
    expect(t).toContain('vitals of PT-1, hour 2026-01-05 13:00 UTC (none in 2026-01-05 10:00 UTC; nearest hour, +3 h)');
    expect(t).toContain('  heart rate      avg 80.3 /min · min 70 /min · max 90 /min · p95 88 /min · n 4');
    expect(t.find((l) => l.startsWith('NEWS2'))).toBe('NEWS2 2026-01-05 10:00 UTC 5 (medium) · resp_rate 2 · spo2 3 · missing consciousness');
    expect(t).toContain('other alerts of procedure PR-1: 0');
    expect(t).toContain('  none');
  });

  it('says what is absent instead of failing', () => {
    const t = text({ ...base, vitals: [], vitalsHour: null, news2: null, news2Hour: null });
    expect(t).toContain('vitals: none recorded for PT-1');
    expect(t).toContain('NEWS2: not scored for PT-1');
    expect(t).toContain('no telemetry_risk mart: no sparkline');
    const m = text({ ...base, vitals: null, vitalsHour: null, news2: null, news2Hour: null, missing: ['telemetry_risk', 'vitals_hourly', 'news2_hourly'] });
    expect(m).toContain('no vitals_hourly mart');
    expect(m).toContain('no news2_hourly mart');
    expect(m.at(-1)).toBe('missing marts: telemetry_risk, vitals_hourly, news2_hourly');
  });

  it('cuts every line to the width', () => {
    expect(detailLines(base, 30).every((l) => lineText(l).length <= 30)).toBe(true);
  });
});
