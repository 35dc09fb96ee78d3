// A tiny hand-made, referentially complete dataset (robots, patients, procedures, telemetry) written as CSV,
// for load tests. Values are valid against schemas/ unless a test breaks them on purpose.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const ROBOTS = [
  'robot_id,serial,model,manufacturer,facility_id,installed_on,status',
  'RB-01,SN-0001,da Vinci Xi,Intuitive Surgical,FAC-1,2023-02-01,active',
  'RB-02,SN-0002,Hugo RAS,Medtronic,FAC-1,2024-06-15,active',
];
export const PATIENTS = [
  'patient_id,sex,birth_date,facility_id',
  'PT-1,female,1960-04-02,FAC-1',
  'PT-2,male,1955-11-30,FAC-1',
];
export const PROCEDURES = [
  'procedure_id,patient_id,robot_id,surgeon_id,procedure_type,started_at,ended_at,status',
  'PR-1,PT-1,RB-01,SG-1,prostatectomy,2026-01-05T08:00:00Z,2026-01-05T10:00:00Z,completed',
  'PR-2,PT-2,RB-02,SG-2,cholecystectomy,2026-01-05T09:00:00Z,2026-01-05T10:30:00Z,completed',
];
export const TELEMETRY_HEADER =
  'event_id,procedure_id,patient_id,robot_id,robot_arm,instrument,step,force_n,velocity_mm_s,latency_ms,error_code,recorded_at';

export function telemetryRow(i: number, over: Partial<Record<string, string>> = {}): string {
  const base: Record<string, string> = {
    event_id: `EV-${String(i).padStart(6, '0')}`,
    procedure_id: i % 2 ? 'PR-1' : 'PR-2',
    patient_id: i % 2 ? 'PT-1' : 'PT-2',
    robot_id: i % 2 ? 'RB-01' : 'RB-02',
    robot_arm: 'arm_1',
    instrument: 'needle_driver',
    step: 'suturing',
    force_n: (2 + (i % 7) * 0.5).toFixed(2),
    velocity_mm_s: '12.5',
    latency_ms: String(80 + (i % 50)),
    error_code: '',
    recorded_at: `2026-01-05T09:${String(10 + (i % 40)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}Z`,
  };
  const row = { ...base, ...over };
  return TELEMETRY_HEADER.split(',').map((c) => row[c] ?? '').join(',');
}

export function telemetryCsv(from: number, to: number, extra: string[] = []): string {
  const rows = [TELEMETRY_HEADER];
  for (let i = from; i < to; i++) rows.push(telemetryRow(i));
  return [...rows, ...extra].join('\n') + '\n';
}

/** Writes robots, patients, procedures and telemetry (n rows) CSVs into dir; returns their paths. */
export function writeSmallDataset(dir: string, n = 20): Record<'robots' | 'patients' | 'procedures' | 'telemetry', string> {
  const files = {
    robots: join(dir, 'robots.csv'),
    patients: join(dir, 'patients.csv'),
    procedures: join(dir, 'procedures.csv'),
    telemetry: join(dir, 'telemetry.csv'),
  };
  writeFileSync(files.robots, ROBOTS.join('\n') + '\n');
  writeFileSync(files.patients, PATIENTS.join('\n') + '\n');
  writeFileSync(files.procedures, PROCEDURES.join('\n') + '\n');
  writeFileSync(files.telemetry, telemetryCsv(0, n));
  return files;
}
