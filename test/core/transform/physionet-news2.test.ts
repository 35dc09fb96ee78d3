// NEWS2 on a PhysioNet/Computing in Cardiology Challenge 2012 record (the file format of the public "Predicting
// Mortality of ICU Patients" set: `Time,Parameter,Value`, time elapsed since ICU admission as hh:mm, descriptors
// at 00:00, -1 for a missing descriptor). The record is written here, turned into vitals rows (the mapping that
// `import csv --profile physionet-2012` is to ship; until then this test holds its own copy), loaded by the real
// load stage (two-tier limits: an HR of 0 is quarantined) and transformed. It shows values carried forward between
// hours, the completeness columns, a partial set whose present parameters already reach high, and the red
// single-parameter alert on a set with one parameter of seven.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LoadResult } from '../../../src/core/load/load.js';
import type { Db } from '../../../src/db/db.js';
import { tempDir } from '../../helpers/run-cli.js';
import { loadPatientsAndVitals } from './helpers.js';

const RECORD = `Time,Parameter,Value
00:00,RecordID,140501
00:00,Age,71
00:00,Gender,1
00:00,Height,-1
00:00,ICUType,2
00:00,Weight,82.5
00:05,GCS,15
00:05,HR,88
00:05,NIDiasABP,70
00:05,NISysABP,128
00:05,RespRate,18
00:05,Temp,36.9
00:05,FiO2,0.21
00:05,SaO2,97
01:10,HR,92
01:10,NIDiasABP,66
01:10,NISysABP,124
01:10,RespRate,20
02:15,HR,104
02:15,RespRate,26
05:20,HR,118
05:20,NISysABP,98
05:20,Temp,38.4
07:00,HR,0
09:40,SaO2,88
09:40,Glucose,38
26:30,HR,80
`;

const ADMIT = Date.parse('2026-01-05T00:00:00Z');
const PATIENT = 'PN-140501';

/** PhysioNet 2012 parameter -> vitals metric, unit and value. GCS below 15 is not Alert (NEWS2 CVPU); FiO2 above
 *  0.21 or MechVent 1 is supplemental oxygen. */
const MAP: Record<string, [string, string, (v: number) => number]> = {
  HR: ['heart_rate', '/min', (v) => v],
  RespRate: ['resp_rate', '/min', (v) => v],
  SaO2: ['spo2', '%', (v) => v],
  NISysABP: ['systolic_bp', 'mmHg', (v) => v],
  SysABP: ['systolic_bp', 'mmHg', (v) => v],
  NIDiasABP: ['diastolic_bp', 'mmHg', (v) => v],
  DiasABP: ['diastolic_bp', 'mmHg', (v) => v],
  Temp: ['temperature_c', 'Cel', (v) => v],
  GCS: ['consciousness', '{score}', (v) => (v < 15 ? 1 : 0)],
  FiO2: ['o2_supplemental', '{flag}', (v) => (v > 0.21 ? 1 : 0)],
  MechVent: ['o2_supplemental', '{flag}', (v) => (v > 0 ? 1 : 0)],
  Glucose: ['glucose_mg_dl', 'mg/dL', (v) => v],
  Weight: ['weight_kg', 'kg', (v) => v],
};

function recordToVitalsCsv(text: string): string {
  const out = ['reading_id,patient_id,metric,value,unit,measured_at'];
  text.trim().split('\n').slice(1).forEach((line, i) => {
    const [time, param, raw] = line.split(',') as [string, string, string];
    const m = MAP[param];
    const v = Number(raw);
    if (!m || (time === '00:00' && v === -1)) return;
    const [h, min] = time.split(':').map(Number) as [number, number];
    const at = new Date(ADMIT + (h * 60 + min) * 60_000).toISOString();
    out.push(`${PATIENT}-${i + 2},${PATIENT},${m[0]},${m[2](v)},${m[1]},${at}`);
  });
  return `${out.join('\n')}\n`;
}

let db: Db;
let cleanup: () => void;
let load: LoadResult;

beforeAll(async () => {
  const t = tempDir();
  cleanup = t.cleanup;
  writeFileSync(join(t.dir, 'patients.csv'), `patient_id,sex,birth_date,facility_id\n${PATIENT},male,1954-06-01,ICU-2\n`);
  writeFileSync(join(t.dir, 'vitals.csv'), recordToVitalsCsv(RECORD));
  ({ load, db } = await loadPatientsAndVitals(t.dir));
}, 60_000);

afterAll(() => {
  db?.close();
  cleanup?.();
});

describe('a PhysioNet 2012 ICU record', () => {
  it('loads every reading but the impossible HR of 0 (rows read = inserted + quarantined)', async () => {
    const v = load.files.find((f) => f.dataset === 'vitals');
    // 27 lines after the header: 5 descriptors that are not vitals (RecordID, Age, Gender, Height, ICUType) -> 22 rows
    expect({ read: v?.rows_read, inserted: v?.rows_inserted, quarantined: v?.rows_quarantined }).toEqual({ read: 22, inserted: 21, quarantined: 1 });
    expect(await db.all(`SELECT line::INTEGER AS line, rule FROM quarantine`)).toEqual([{ line: 20, rule: 'exclusiveMinimum' }]);
  });

  it('scores observation sets with values carried forward, their ages and completeness', async () => {
    const rows = await db.all(
      `SELECT strftime(hour_start, '%d %H') AS h, strftime(scored_at, '%H:%M') AS at, news2_total, news2_band, news2_alert, complete,
              parameters_present, missing, resp_rate_score, spo2_score, systolic_bp_score, heart_rate_score, temperature_score,
              resp_rate_age_min, spo2_age_min, systolic_bp_age_min, temperature_age_min
       FROM news2_hourly ORDER BY hour_start`,
    );
    expect(rows).toEqual([
      // 00:05 all seven (FiO2 0.21 = air, GCS 15 = alert), every score 0
      { h: '05 00', at: '00:05', news2_total: 0, news2_band: 'low', news2_alert: null, complete: true, parameters_present: 7, missing: [],
        resp_rate_score: 0, spo2_score: 0, systolic_bp_score: 0, heart_rate_score: 0, temperature_score: 0,
        resp_rate_age_min: 0, spo2_age_min: 0, systolic_bp_age_min: 0, temperature_age_min: 0 },
      // 01:10: HR 92 (1), SBP 124, resp 20 new; SaO2, FiO2, GCS and temperature carried from 00:05 (65 min): complete
      { h: '05 01', at: '01:10', news2_total: 1, news2_band: 'low', news2_alert: null, complete: true, parameters_present: 7, missing: [],
        resp_rate_score: 0, spo2_score: 0, systolic_bp_score: 0, heart_rate_score: 1, temperature_score: 0,
        resp_rate_age_min: 0, spo2_age_min: 65, systolic_bp_age_min: 0, temperature_age_min: 65 },
      // 02:15: resp 26 (3) + HR 104 (1) = 4 with a single red parameter: low-medium; SBP 65 min old, the 00:05 set 130 min
      { h: '05 02', at: '02:15', news2_total: 4, news2_band: 'low-medium', news2_alert: 'low-medium', complete: true, parameters_present: 7, missing: [],
        resp_rate_score: 3, spo2_score: 0, systolic_bp_score: 0, heart_rate_score: 1, temperature_score: 0,
        resp_rate_age_min: 0, spo2_age_min: 130, systolic_bp_age_min: 65, temperature_age_min: 130 },
      // 05:20: the 00:05 values are 315 min old (> 240): SpO2, O2 and consciousness missing. Present: resp 26 carried
      // 185 min (3) + SBP 98 (2) + HR 118 (2) + 38.4 C (1) = 8: incomplete, yet already past high (7): alert high
      { h: '05 05', at: '05:20', news2_total: 8, news2_band: 'incomplete', news2_alert: 'high', complete: false, parameters_present: 4,
        missing: ['spo2', 'o2_supplemental', 'consciousness'],
        resp_rate_score: 3, spo2_score: 0, systolic_bp_score: 2, heart_rate_score: 2, temperature_score: 1,
        resp_rate_age_min: 185, spo2_age_min: null, systolic_bp_age_min: 0, temperature_age_min: 0 },
      // 09:40: SaO2 88 (3) alone; everything else is 260 min old or more: one parameter of seven, the red score alerts
      { h: '05 09', at: '09:40', news2_total: 3, news2_band: 'incomplete', news2_alert: 'low-medium', complete: false, parameters_present: 1,
        missing: ['resp_rate', 'o2_supplemental', 'systolic_bp', 'heart_rate', 'consciousness', 'temperature_c'],
        resp_rate_score: 0, spo2_score: 3, systolic_bp_score: 0, heart_rate_score: 0, temperature_score: 0,
        resp_rate_age_min: null, spo2_age_min: 0, systolic_bp_age_min: null, temperature_age_min: null },
      // 26:30 elapsed = next day 02:30: HR 80 alone
      { h: '06 02', at: '02:30', news2_total: 0, news2_band: 'incomplete', news2_alert: null, complete: false, parameters_present: 1,
        missing: ['resp_rate', 'spo2', 'o2_supplemental', 'systolic_bp', 'consciousness', 'temperature_c'],
        resp_rate_score: 0, spo2_score: 0, systolic_bp_score: 0, heart_rate_score: 0, temperature_score: 0,
        resp_rate_age_min: null, spo2_age_min: null, systolic_bp_age_min: null, temperature_age_min: null },
    ]);
  });

  it('keeps the alarming glucose of 38 mg/dL: loaded, flagged and graded as level 2 hypoglycaemia', async () => {
    expect(await db.all(`SELECT v.min AS value, v.alarming_n::INTEGER AS alarming_n, f.glucose_level FROM vitals_hourly v
      JOIN vitals_flags f USING (patient_id, hour_start) WHERE v.metric = 'glucose_mg_dl'`)).toEqual([{ value: 38, alarming_n: 1, glucose_level: 'hypo_level_2' }]);
  });
});
