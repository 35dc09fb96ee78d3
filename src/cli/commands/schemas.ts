// `surgctl schemas [DATASET]`: list the data contracts, or print one schema.
import { Command } from 'commander';
import { listDatasets, loadDatasetSchema } from '../../core/schemas.js';
import type { CliContext } from '../io.js';

export const schemasCommand = (ctx: CliContext): Command =>
  new Command('schemas')
    .description('list the dataset contracts, or print one JSON Schema')
    .argument('[dataset]', 'dataset name, e.g. telemetry')
    .action((dataset: string | undefined) => {
      if (dataset !== undefined) {
        ctx.io.stdout.write(`${JSON.stringify(loadDatasetSchema(dataset).schema, null, 2)}\n`);
        return;
      }
      for (const name of listDatasets()) {
        const d = loadDatasetSchema(name);
        const fks = d.foreignKeys.map((f) => `${f.columns.join(',')}->${f.references.dataset}`).join(' ');
        ctx.io.stdout.write(`${name.padEnd(12)} key=${d.primaryKey.join(',')}  ${d.columns.length} columns${fks ? `  refs ${fks}` : ''}\n`);
      }
    });
