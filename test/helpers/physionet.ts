// PhysioNet 2012 record files for import tests (test/core/import): the Challenge's Time,Parameter,Value format.

/** A 48-hour record in the Challenge's format, deterministic (a small LCG), with -1 markers and other parameters. */
export function physionetRecord(recordId: number, seed = 7): string {
  let x = seed;
  const rnd = (): number => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648);
  const lines = ['Time,Parameter,Value', `00:00,RecordID,${recordId}`, '00:00,Age,54', '00:00,Gender,0', '00:00,Height,-1', '00:00,ICUType,4', '00:00,Weight,-1'];
  const hhmm = (m: number): string => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
  for (let m = 7; m < 48 * 60; m += 37 + Math.floor(rnd() * 30)) {
    const t = hhmm(m);
    lines.push(`${t},HR,${Math.round(60 + rnd() * 50)}`);
    lines.push(`${t},RespRate,${rnd() < 0.1 ? -1 : Math.round(12 + rnd() * 14)}`);
    if (rnd() < 0.5) lines.push(`${t},NISysABP,${Math.round(95 + rnd() * 60)}`, `${t},NIDiasABP,${Math.round(45 + rnd() * 40)}`);
    else lines.push(`${t},SysABP,${Math.round(90 + rnd() * 70)}`, `${t},DiasABP,${Math.round(40 + rnd() * 40)}`, `${t},MAP,${Math.round(70 + rnd() * 30)}`);
    if (rnd() < 0.3) lines.push(`${t},Temp,${(35.5 + rnd() * 3).toFixed(1)}`);
    if (rnd() < 0.25) lines.push(`${t},SaO2,${Math.round(90 + rnd() * 10)}`);
    if (rnd() < 0.1) lines.push(`${t},Glucose,${Math.round(80 + rnd() * 150)}`);
    if (rnd() < 0.08) lines.push(`${t},Weight,${(70 + rnd() * 3).toFixed(1)}`);
    if (rnd() < 0.2) lines.push(`${t},GCS,${Math.round(9 + rnd() * 6)}`);
    if (rnd() < 0.15) lines.push(`${t},MechVent,1`);
    if (rnd() < 0.2) lines.push(`${t},Lactate,${(1 + rnd() * 2).toFixed(1)}`, `${t},pH,${(7.3 + rnd() * 0.15).toFixed(2)}`);
  }
  lines.push('47:59,Temp,x');
  return `${lines.join('\n')}\n`;
}
