// The detail pane's text for hand-made details: nearest-hour labels, empty sections and missing marts.
import { describe, expect, it } from 'vitest';
import type { AlertDetail, ArmWindow, ListRow, TelemetryEvent } from '../../src/core/tui-data/types.js';
import { lineText } from '../../src/tui/format.js';
import { detailLines } from '../../src/tui/screen.js';

const row: ListRow = {
  kind: 'alert', id: 'AL-1', level: 'high', levelRank: 3, riskScore: 6, at: '2026-01-05T10:29:55Z', endedAt: null,
  patientId: 'PT-1', procedureId: 'PR-1', robotId: 'RB-1', robotArm: 'arm_2', step: 'suturing', instrument: 'needle_driver',
  reason: 'latency 612 ms (>500)', alerts: 1, acked: 0, ack: null, key: { risk: 6, atUs: '0', id: 'AL-1' },
};
const base: AlertDetail = {
  row, triggers: ['latency'], errorCode: null, event: null, window: null, hour: '2026-01-05T10:00:00.000Z',
  vitals: [{ metric: 'heart_rate', n: 4, min: 70, max: 90, avg: 80.25, p95: 88, alarmingN: 0 }], vitalsHour: '2026-01-05T13:00:00.000Z',
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

  it('marks alarming vitals with a ! and the word, not colour alone; an older mart (null) is unmarked', () => {
    const vitals = [
      { metric: 'glucose_mg_dl', n: 5, min: 10, max: 140, avg: 90, p95: 138, alarmingN: 2 },
      { metric: 'heart_rate', n: 4, min: 70, max: 90, avg: 80.25, p95: 88, alarmingN: 0 },
      { metric: 'spo2', n: 3, min: 95, max: 98, avg: 96, p95: 98, alarmingN: null },
    ];
    const t = text({ ...base, vitals });
    expect(t).toContain('! glucose         avg 90 mg/dL · min 10 mg/dL · max 140 mg/dL · p95 138 mg/dL · n 5 · alarming 2 of 5');
    expect(t).toContain('  heart rate      avg 80.3 /min · min 70 /min · max 90 /min · p95 88 /min · n 4');
    expect(t).toContain('  SpO₂            avg 96 % · min 95 % · max 98 % · p95 98 % · n 3');
    expect(t.filter((l) => l.includes('alarming'))).toHaveLength(1);
  });

  it('prints "not measured" for absent force, velocity and latency (kinematics-only telemetry), never "- N"', () => {
    const event: TelemetryEvent = {
      eventId: 'EV-1', recordedAt: '2026-01-05T10:29:55Z', instrument: 'needle_driver', step: 'suturing', forceN: null,
      velocityMmS: 41.25, latencyMs: null, errorCode: null, latencyScore: null, forceScore: null, errorScore: 0,
      forceSpike: null, riskScore: 0, riskLevel: 'none',
    };
    const window: ArmWindow = {
      from: '2026-01-05T10:29:25Z', to: '2026-01-05T10:30:25Z', bucketSeconds: 2,
      force: new Array<null>(30).fill(null), latency: new Array<null>(30).fill(null), events: 900,
    };
    const t = text({ ...base, event, window });
    const ev = t.find((l) => l.startsWith('event EV-1'))!;
    expect(ev).toContain('force not measured · velocity 41.3 mm/s · latency not measured ·');
    expect(ev).not.toMatch(/- N|- ms/);
    expect(t.find((l) => l.startsWith('force   '))).toMatch(/ {2}not measured$/);
    expect(t.find((l) => l.startsWith('latency '))).toMatch(/ {2}not measured$/);
    expect(t.join('\n')).not.toContain('Infinity');
    // Measured values keep their units.
    const m = text({ ...base, event: { ...event, forceN: 3.25, latencyMs: 612 }, window: { ...window, force: [3.25, ...window.force.slice(1)], latency: [612, ...window.latency.slice(1)] } });
    expect(m.find((l) => l.startsWith('event EV-1'))).toContain('force 3.3 N · velocity 41.3 mm/s · latency 612 ms ·');
    expect(m.find((l) => l.startsWith('force   '))).toMatch(/max 3\.3 N$/);
    expect(m.find((l) => l.startsWith('latency '))).toMatch(/max 612 ms$/);
  });

  it('cuts every line to the width', () => {
    expect(detailLines(base, 30).every((l) => lineText(l).length <= 30)).toBe(true);
  });
});
