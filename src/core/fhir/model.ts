// What both compiled modes share: FHIRPath.js's R4 model (which elements repeat, which are choices, their types), the
// parsed FHIRPath node, and the refusal a compiler throws for what it does not know.
import r4 from 'fhirpath/fhir-context/r4';

export interface FpNode {
  type: string;
  text?: string;
  children?: FpNode[];
}

/** Thrown inside a compiler; compileChecked turns it into a refusal (or the typed mode into the JSON mode). */
export class Refusal extends Error {}

export const refuse = (what: string): never => {
  throw new Refusal(what);
};

export const KEY = /^[A-Za-z][A-Za-z0-9_]*$/;
const TYPE_NAME = /^[A-Za-z][A-Za-z0-9]*$/;

// The FHIR R4 model (FHIRPath.js's): which elements repeat (JSON arrays) and which are choices (value[x]), so a path
// of member steps becomes one json_extract with [*] where the element repeats, parsing the resource once.
export const MODEL = r4 as unknown as {
  path2Type: Record<string, string | { code: string } | null>;
  /** Loaded as an object keyed by path (true when the element repeats). */
  path2Repeating: Record<string, boolean>;
  pathsDefinedElsewhere: Record<string, string>;
  type2Parent: Record<string, string>;
  choiceTypePaths: Record<string, string[]>;
};
export const REPEATING = new Set(Object.keys(MODEL.path2Repeating).filter((k) => MODEL.path2Repeating[k]));

export function typeName(path: string): string | undefined {
  const t = MODEL.path2Type[path];
  return typeof t === 'string' ? t : (t?.code ?? undefined);
}

/** The model path of element `key` of items at model path `parent` (a resource or type name, or an element path). */
export function resolveElement(parent: string, key: string): string | undefined {
  const direct = `${parent}.${key}`;
  const cand = MODEL.pathsDefinedElsewhere[direct] ?? direct;
  if (cand in MODEL.path2Type) return cand;
  const seen = new Set<string>();
  for (let t = parent.includes('.') ? typeName(parent) : parent; t !== undefined && !seen.has(t); t = MODEL.type2Parent[t]) {
    seen.add(t);
    if (`${t}.${key}` in MODEL.path2Type) return `${t}.${key}`;
  }
  return undefined;
}

export function unquote(text: string): string {
  const inner = text.slice(1, -1);
  return inner.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_, e: string) => {
    if (e.startsWith('u') && e.length === 5) return String.fromCharCode(parseInt(e.slice(1), 16));
    return ({ n: '\n', r: '\r', t: '\t', f: '\f' } as Record<string, string>)[e] ?? e;
  });
}

/** The type name of an ofType()/getReferenceKey() argument (an identifier, maybe qualified FHIR.x / System.x). */
export function typeArg(n: FpNode): string {
  const texts: string[] = [];
  const walk = (x: FpNode): void => {
    if (x.type === 'Identifier' && x.text) texts.push(x.text.replace(/^`|`$/g, ''));
    for (const c of x.children ?? []) walk(c);
  };
  walk(n);
  const name = texts.at(-1) ?? '';
  if (!TYPE_NAME.test(name)) return refuse(`the type argument ${JSON.stringify(name)}`);
  return name;
}

