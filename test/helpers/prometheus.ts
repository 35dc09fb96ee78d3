import { expect } from 'vitest';

// The exposition format's grammar (Prometheus text format 0.0.4), checked line by line.
const HELP = /^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*$/;
const TYPE = /^# TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge|histogram|summary|untyped)$/;
const SAMPLE = /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\\\|\\"|\\n)*")(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\\\|\\"|\\n)*")*\})? (-?[0-9.eE+-]+|NaN|\+Inf|-Inf)( -?[0-9]+)?$/;

export function assertExposition(text: string): void {
  expect(text.endsWith('\n')).toBe(true);
  const typed = new Set<string>();
  for (const line of text.trimEnd().split('\n')) {
    if (line.startsWith('# HELP')) expect(line).toMatch(HELP);
    else if (line.startsWith('# TYPE')) {
      expect(line).toMatch(TYPE);
      const name = line.split(' ')[2] as string;
      expect(typed.has(name), `TYPE for ${name} given twice`).toBe(false);
      typed.add(name);
    } else {
      expect(line, line).toMatch(SAMPLE);
      expect(typed.has(line.split(/[{ ]/)[0] as string)).toBe(true);
    }
  }
}

