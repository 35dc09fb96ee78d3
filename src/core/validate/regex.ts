// ECMA-262 (u flag, as ajv compiles "pattern") to RE2 (DuckDB regexp_matches). Translates what RE2 spells
// differently and refuses what RE2 cannot do, so the compiler hands such schemas to ajv instead of guessing.
//
// Deviations handled: \s and \S use ECMA's Unicode whitespace set (RE2's \s is ASCII only); `.` excludes the ECMA line
// terminators \n \r U+2028 U+2029 (RE2's `.` excludes only \n); \uXXXX and \u{X} become \x{X}; \cX control escapes;
// \p{Letter}-style long property names map to RE2's short ones. Refused (throws): lookaround, backreferences,
// named groups with \k, \p{...} names RE2 lacks, [^] and an empty class [].

const ECMA_SPACE = '\\t\\n\\x0B\\f\\r \\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}\\x{FEFF}';

const PROPERTY_ALIASES: Record<string, string> = {
  Letter: 'L', Lowercase_Letter: 'Ll', Uppercase_Letter: 'Lu', Titlecase_Letter: 'Lt', Modifier_Letter: 'Lm',
  Other_Letter: 'Lo', Mark: 'M', Number: 'N', Decimal_Number: 'Nd', digit: 'Nd', Letter_Number: 'Nl',
  Other_Number: 'No', Punctuation: 'P', punct: 'P', Symbol: 'S', Separator: 'Z', Space_Separator: 'Zs', Other: 'C',
  Control: 'Cc', cntrl: 'Cc', Format: 'Cf', Private_Use: 'Co', Surrogate: 'Cs', Unassigned: 'Cn',
  Math_Symbol: 'Sm', Currency_Symbol: 'Sc',
};
const RE2_SHORT = new Set(['L', 'Ll', 'Lu', 'Lt', 'Lm', 'Lo', 'M', 'Mc', 'Me', 'Mn', 'N', 'Nd', 'Nl', 'No', 'P', 'Pc', 'Pd',
  'Pe', 'Pf', 'Pi', 'Po', 'Ps', 'S', 'Sc', 'Sk', 'Sm', 'So', 'Z', 'Zl', 'Zp', 'Zs', 'C', 'Cc', 'Cf', 'Co', 'Cs']);

export class UnsupportedPatternError extends Error {}

function property(name: string, negated: boolean): string {
  let n = name.startsWith('General_Category=') ? name.slice(17) : name.startsWith('gc=') ? name.slice(3) : name;
  n = PROPERTY_ALIASES[n] ?? n;
  if (!RE2_SHORT.has(n) && !/^(Script=|sc=)?[A-Z][a-z]+$/.test(n)) throw new UnsupportedPatternError(`\\p{${name}}`);
  n = n.replace(/^(Script=|sc=)/, '');
  return `\\${negated ? 'P' : 'p'}{${n}}`;
}

/** Translates an ECMA-262 pattern to RE2 syntax. Throws UnsupportedPatternError for constructs RE2 lacks. */
export function ecmaToRe2(pattern: string): string {
  let out = '';
  let inClass = false;
  let classStart = false;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] as string;
    if (ch === '\\') {
      const next = pattern[i + 1];
      if (next === undefined) throw new UnsupportedPatternError('trailing backslash');
      i++;
      if (next === 's') out += inClass ? ECMA_SPACE : `[${ECMA_SPACE}]`;
      else if (next === 'S') {
        if (inClass) throw new UnsupportedPatternError('\\S inside a class');
        out += `[^${ECMA_SPACE}]`;
      } else if (next === 'u') {
        if (pattern[i + 1] === '{') {
          const end = pattern.indexOf('}', i);
          if (end === -1) throw new UnsupportedPatternError('bad \\u{');
          out += `\\x{${pattern.slice(i + 2, end)}}`;
          i = end;
        } else {
          const hex = pattern.slice(i + 1, i + 5);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new UnsupportedPatternError('bad \\u escape');
          out += `\\x{${hex}}`;
          i += 4;
        }
      } else if (next === 'x') {
        const hex = pattern.slice(i + 1, i + 3);
        if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw new UnsupportedPatternError('bad \\x escape');
        out += `\\x{${hex}}`;
        i += 2;
      } else if (next === 'c') {
        const letter = pattern[i + 1] ?? '';
        if (!/^[A-Za-z]$/.test(letter)) throw new UnsupportedPatternError('bad \\c escape');
        out += `\\x{${(letter.charCodeAt(0) % 32).toString(16)}}`;
        i += 1;
      } else if (next === 'p' || next === 'P') {
        const end = pattern.indexOf('}', i);
        if (pattern[i + 1] !== '{' || end === -1) throw new UnsupportedPatternError('bad \\p');
        out += property(pattern.slice(i + 2, end), next === 'P');
        i = end;
      } else if (/[1-9k]/.test(next)) throw new UnsupportedPatternError('backreference');
      else if (next === '0') out += '\\x{0}';
      else if (next === '/') out += '/';
      else if (next === '-') out += '\\-';
      else out += `\\${next}`;
      classStart = false;
      continue;
    }
    if (inClass) {
      if (ch === ']' && !classStart) inClass = false;
      else if (ch === ']' && classStart) throw new UnsupportedPatternError('empty class');
      else if (ch === '[') {
        out += '\\[';
        classStart = false;
        continue;
      }
      out += ch;
      if (!(classStart && ch === '^')) classStart = false;
      continue;
    }
    if (ch === '[') {
      inClass = true;
      classStart = true;
      if (pattern[i + 1] === '^' && pattern[i + 2] === ']') throw new UnsupportedPatternError('[^]');
      out += ch;
      continue;
    }
    if (ch === '(' && pattern[i + 1] === '?') {
      const look = pattern.slice(i + 2, i + 4);
      if (look.startsWith('=') || look.startsWith('!') || look === '<=' || look === '<!') {
        throw new UnsupportedPatternError('lookaround');
      }
      if (look.startsWith('<')) {
        out += '(?P<';
        i += 2;
        continue;
      }
    }
    if (ch === '.') {
      out += '[^\\n\\r\\x{2028}\\x{2029}]';
      continue;
    }
    out += ch;
  }
  if (inClass) throw new UnsupportedPatternError('unterminated class');
  return out;
}
