// How surgctl's vitals metrics are written as FHIR R4 Observations (generate --data-format fhir): LOINC code, UCUM
// unit and category per metric. The codes are those of the import code map (src/core/import/codes/
// loinc-vitals.json, engineer "import"), which reads them back; keep the two in step.

export interface FhirVitalCode {
  loinc: string;
  display: string;
  /** UCUM code of valueQuantity (system http://unitsofmeasure.org); undefined for a coded answer. */
  ucum?: string;
  /** The human unit text of valueQuantity.unit. */
  unitText?: string;
  category: 'vital-signs' | 'laboratory' | 'survey';
}

export const LOINC = 'http://loinc.org';
export const UCUM = 'http://unitsofmeasure.org';
export const OBSERVATION_CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';
/** The ACVPU answers (A alert; C new confusion, V voice, P pain, U unresponsive) of LOINC 67775-7. */
export const ACVPU_SYSTEM = 'https://surgctl.dev/fhir/CodeSystem/acvpu';

/**
 * The robots contract's installation date on a Device (valueDate): FHIR R4 Device has no such element. Written by
 * `generate --data-format fhir`, read first by import's devices view (then manufactureDate).
 */
export const INSTALLED_ON_EXTENSION = 'https://surgctl.dev/fhir/StructureDefinition/installed-on';

export const FHIR_VITAL_CODES = {
  heart_rate: { loinc: '8867-4', display: 'Heart rate', ucum: '/min', unitText: 'beats/minute', category: 'vital-signs' },
  resp_rate: { loinc: '9279-1', display: 'Respiratory rate', ucum: '/min', unitText: 'breaths/minute', category: 'vital-signs' },
  spo2: { loinc: '59408-5', display: 'Oxygen saturation in Arterial blood by Pulse oximetry', ucum: '%', unitText: '%', category: 'vital-signs' },
  systolic_bp: { loinc: '8480-6', display: 'Systolic blood pressure', ucum: 'mm[Hg]', unitText: 'mmHg', category: 'vital-signs' },
  diastolic_bp: { loinc: '8462-4', display: 'Diastolic blood pressure', ucum: 'mm[Hg]', unitText: 'mmHg', category: 'vital-signs' },
  temperature_c: { loinc: '8310-5', display: 'Body temperature', ucum: 'Cel', unitText: 'C', category: 'vital-signs' },
  glucose_mg_dl: { loinc: '2339-0', display: 'Glucose [Mass/volume] in Blood', ucum: 'mg/dL', unitText: 'mg/dL', category: 'laboratory' },
  weight_kg: { loinc: '29463-7', display: 'Body weight', ucum: 'kg', unitText: 'kg', category: 'vital-signs' },
  // 0 alert -> A, 1 not alert -> C (new confusion): the generator knows only alert or not.
  consciousness: { loinc: '67775-7', display: 'Level of responsiveness', category: 'survey' },
  // The generator knows only on/off: off is room air (21 %), on is 28 % (about 2 L/min by nasal cannula).
  o2_supplemental: { loinc: '3150-0', display: 'Inhaled oxygen concentration', ucum: '%', unitText: '%', category: 'vital-signs' },
} as const satisfies Record<string, FhirVitalCode>;

/** Inhaled oxygen concentration (%) written for o2_supplemental 0 (room air) and 1 (supplemental oxygen). */
export const FIO2_PERCENT = { off: 21, on: 28 } as const;
