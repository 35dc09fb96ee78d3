// generate --data-format fhir: the same seeded dataset as FHIR R4 Bulk Data NDJSON ($export layout: one file per
// resource type). The contract datasets are generated first (Parquet, in a temporary folder, no bad rows: FHIR has no
// CSV breakage to plant), then each FHIR file is built set-at-a-time in DuckDB (json_object over the Parquet rows) and
// written by COPY, so no row passes through JS. vitals -> Observation.ndjson (LOINC, UCUM; codes in
// src/core/fhir/codes.ts), patients -> Patient.ndjson, procedures -> Procedure.ndjson, robots -> Device.ndjson (installed_on in a surgctl
// extension: FHIR R4 Device has no installation date).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Db } from '../../db/db.js';
import { openWorkDb } from '../../db/lakehouse.js';
import type { WorkContext } from '../stage.js';
import { literal } from '../../db/sql.js';
import { InterruptedError, UsageError } from '../../errors.js';
import { ACVPU_SYSTEM, FHIR_VITAL_CODES, FIO2_PERCENT, INSTALLED_ON_EXTENSION, LOINC, OBSERVATION_CATEGORY, UCUM } from '../fhir/codes.js';
import type { Manifest } from './manifest.js';
import { commitOutput, discardOutput, prepareOutput } from './output.js';
import type { GenerateOptions } from './options.js';
import { copyTo, createFilledTable, fileDigest, lineCopyOptions, type ColumnType } from './write.js';

export const FHIR_FILES = [
  { path: 'Patient.ndjson', dataset: 'patients', resource: 'Patient' },
  { path: 'Device.ndjson', dataset: 'robots', resource: 'Device' },
  { path: 'Procedure.ndjson', dataset: 'procedures', resource: 'Procedure' },
  { path: 'Observation.ndjson', dataset: 'vitals', resource: 'Observation' },
] as const;

const SURGCTL_PROCEDURE_TYPE = 'https://surgctl.dev/fhir/CodeSystem/procedure-type';
const SURGCTL_PROCEDURE_OUTCOME = 'https://surgctl.dev/fhir/CodeSystem/procedure-status';
const iso = (col: string): string => `strftime(${col}, '%Y-%m-%dT%H:%M:%S.%gZ')`;

/** One JSON line per resource, built by DuckDB (keys in a fixed order; values escaped by json_object). */
function resourceSql(resource: (typeof FHIR_FILES)[number]['resource'], src: string): string {
  switch (resource) {
    case 'Patient':
      return `SELECT json_object('resourceType', 'Patient', 'id', patient_id, 'gender', sex, 'birthDate', strftime(birth_date, '%Y-%m-%d'),
          'managingOrganization', json_object('reference', 'Organization/' || facility_id))::VARCHAR AS line FROM read_parquet(${src})`;
    case 'Device':
      return `SELECT json_object('resourceType', 'Device', 'id', robot_id, 'serialNumber', serial, 'manufacturer', manufacturer, 'modelNumber', model,
          'status', CASE status WHEN 'active' THEN 'active' ELSE 'inactive' END,
          'statusReason', json_array(json_object('text', status)),
          'owner', json_object('reference', 'Organization/' || facility_id),
          'extension', json_array(json_object('url', ${literal(INSTALLED_ON_EXTENSION)}, 'valueDate', strftime(installed_on, '%Y-%m-%d'))))::VARCHAR AS line
        FROM read_parquet(${src})`;
    case 'Procedure':
      return `SELECT json_object('resourceType', 'Procedure', 'id', procedure_id,
          'status', CASE status WHEN 'aborted' THEN 'stopped' ELSE 'completed' END,
          'statusReason', json_object('coding', json_array(json_object('system', ${literal(SURGCTL_PROCEDURE_OUTCOME)}, 'code', status))),
          'code', json_object('coding', json_array(json_object('system', ${literal(SURGCTL_PROCEDURE_TYPE)}, 'code', procedure_type,
              'display', replace(procedure_type, '_', ' ')))),
          'subject', json_object('reference', 'Patient/' || patient_id),
          'performedPeriod', json_object('start', ${iso('started_at')}, 'end', ${iso('ended_at')}),
          'performer', json_array(json_object('actor', json_object('reference', 'Device/' || robot_id)),
                                  json_object('actor', json_object('reference', 'Practitioner/' || surgeon_id))))::VARCHAR AS line
        FROM read_parquet(${src})`;
    case 'Observation':
      return `SELECT json_object('resourceType', 'Observation', 'id', v.reading_id, 'status', 'final',
          'category', json_array(json_object('coding', json_array(json_object('system', ${literal(OBSERVATION_CATEGORY)}, 'code', c.category)))),
          'code', json_object('coding', json_array(json_object('system', ${literal(LOINC)}, 'code', c.loinc, 'display', c.display))),
          'subject', json_object('reference', 'Patient/' || v.patient_id),
          'effectiveDateTime', ${iso('v.measured_at')},
          c.value_key, CASE
            WHEN v.metric = 'consciousness' THEN json_object('coding', json_array(json_object('system', ${literal(ACVPU_SYSTEM)},
              'code', CASE WHEN v.value = 0 THEN 'A' ELSE 'C' END, 'display', CASE WHEN v.value = 0 THEN 'Alert' ELSE 'New confusion' END)))
            ELSE json_object('value', CASE WHEN v.metric = 'o2_supplemental' THEN CASE WHEN v.value = 0 THEN ${FIO2_PERCENT.off} ELSE ${FIO2_PERCENT.on} END
              ELSE v.value END, 'unit', c.unit_text, 'system', ${literal(UCUM)}, 'code', c.ucum) END)::VARCHAR AS line
        FROM read_parquet(${src}) v JOIN fhir_codes c ON c.metric = v.metric`;
  }
}

async function codesTable(db: Db): Promise<void> {
  const cols: [string, ColumnType][] = [['metric', 'VARCHAR'], ['loinc', 'VARCHAR'], ['display', 'VARCHAR'], ['ucum', 'VARCHAR'],
    ['unit_text', 'VARCHAR'], ['category', 'VARCHAR'], ['value_key', 'VARCHAR']];
  await createFilledTable(db, 'fhir_codes', cols, Object.entries(FHIR_VITAL_CODES).map(([metric, c]) => [
    metric, c.loinc, c.display, 'ucum' in c ? c.ucum : null, 'unitText' in c ? c.unitText : null, c.category,
    'ucum' in c ? 'valueQuantity' : 'valueCodeableConcept',
  ]));
}

/**
 * Generates the dataset of `options` as FHIR R4 Bulk Data NDJSON in `options.out` (Patient, Device, Procedure,
 * Observation .ndjson, and manifest.json). `generateContract` is the contract generator (generateDataset), passed in
 * to keep this module out of an import cycle.
 */
export async function generateFhirDataset(
  options: GenerateOptions,
  generateContract: (o: GenerateOptions, hooks: Omit<WorkContext, 'onEvent'>) => Promise<{ manifest: Manifest }>,
  hooks: Omit<WorkContext, 'onEvent'> = {},
): Promise<{ outDir: string; manifest: Manifest; seconds: number }> {
  const t0 = performance.now();
  if (options.badRows !== undefined && options.badRows > 0) {
    throw new UsageError('--bad-rows does not apply to --data-format fhir: FHIR output has no planted bad rows', {
      field: '--bad-rows',
      hint: 'leave --bad-rows out (or 0) with --data-format fhir',
    });
  }
  const { target, tmp } = prepareOutput(options.out, options.force ?? false, options.cwd);
  const work = mkdtempSync(join(tmpdir(), 'surgctl-fhir-gen-'));
  let db: Db | undefined;
  try {
    const inner = await generateContract(
      { ...options, out: join(work, 'contract'), cwd: work, force: false, format: 'parquet', badRows: 0, datasets: ['robots', 'patients', 'procedures', 'vitals'] },
      hooks,
    );
    if (hooks.signal?.aborted) throw new InterruptedError();
    db = await openWorkDb(':memory:', { threads: 1, memoryLimit: hooks.lake?.limits.memoryLimit ?? '256MB' });
    await codesTable(db);
    const files: Manifest['files'] = [];
    for (const f of FHIR_FILES) {
      if (hooks.signal?.aborted) throw new InterruptedError();
      const src = literal(join(work, 'contract', `${f.dataset}.parquet`));
      const path = join(tmp, f.path);
      await copyTo(db, resourceSql(f.resource, src), path, lineCopyOptions(false));
      const rows = Number(await db.scalar(`SELECT count(*)::DOUBLE FROM read_parquet(${src})`));
      const { bytes, sha256 } = await fileDigest(path);
      files.push({ path: f.path, dataset: f.dataset, format: 'fhir', rows, bytes, sha256 });
    }
    const manifest: Manifest = { ...inner.manifest, options: { ...inner.manifest.options, format: 'fhir', datasets: FHIR_FILES.map((f) => f.dataset) }, files, bad_rows: [] };
    writeFileSync(join(tmp, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    db.close();
    db = undefined;
    commitOutput(tmp, target, options.force ?? false, options.cwd, `generate --seed ${manifest.seed} --data-format fhir`);
    return { outDir: target, manifest, seconds: (performance.now() - t0) / 1000 };
  } catch (e) {
    db?.close();
    discardOutput(tmp);
    throw hooks.signal?.aborted ? new InterruptedError() : e;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
