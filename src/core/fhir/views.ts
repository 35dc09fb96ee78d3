// The ViewDefinitions surgctl ships (src/core/fhir/views/<name>.json, in the npm package beside dist/).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../../errors.js';
import type { ViewDefinition } from './view.js';

/** The folder of shipped views (the same from src/ under tsx and from dist/). */
export function shippedViewsDir(): string {
  return fileURLToPath(new URL('../../../src/core/fhir/views/', import.meta.url));
}

export function shippedViewNames(): string[] {
  return readdirSync(shippedViewsDir())
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -5))
    .sort();
}

export function shippedView(name: string): ViewDefinition {
  const names = shippedViewNames();
  if (!names.includes(name)) {
    throw new UsageError(`no shipped ViewDefinition "${name}"`, { hint: `choose one of: ${names.join(', ')}, or give a ViewDefinition file` });
  }
  return JSON.parse(readFileSync(join(shippedViewsDir(), `${name}.json`), 'utf8')) as ViewDefinition;
}
