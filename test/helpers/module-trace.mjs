// `node --import ./test/helpers/module-trace.mjs ...`: records every module the process loads, one URL or path a
// line, into the file named by SURGCTL_TRACE_MODULES (ESM through a resolve hook, CommonJS from require.cache at
// exit). test/e2e/startup.test.ts reads it to prove which packages a command loads.
import { createRequire, register } from 'node:module';
import { appendFileSync } from 'node:fs';

const out = process.env.SURGCTL_TRACE_MODULES;
if (out) {
  register('./module-trace-hooks.mjs', import.meta.url, { data: { out } });
  const require = createRequire(import.meta.url);
  process.on('exit', () => {
    const ids = Object.keys(require.cache);
    if (ids.length > 0) appendFileSync(out, `${ids.join('\n')}\n`);
  });
}
