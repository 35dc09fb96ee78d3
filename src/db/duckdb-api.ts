// The one place that loads @duckdb/node-api's code. The package is CommonJS of about 180 files; an ESM `import` of
// it makes Node run its CommonJS export scanner over the entry and, through its re-exports, every file (issue 18:
// about 0.2 CPU s of each command's start, twice the cost of the `require` below). Types still come from ordinary
// `import type`, which TypeScript erases.
import { createRequire } from 'node:module';

export const duckdb = createRequire(import.meta.url)('@duckdb/node-api') as typeof import('@duckdb/node-api');
