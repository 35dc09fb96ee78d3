#!/usr/bin/env node
// Entry only: argv -> main() -> process.exitCode. The code lives in dist/ (built by `npm run build`, run by `prepare`).
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
