import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseEnv } from 'node:util';
import { ConfigError } from './load-config';

/** Read from the working directory when present; never required. */
export const ENV_FILE_NAME = '.env';

const ASSIGNMENT = /^[ \t]*(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_]*)[ \t]*=(.*)$/;
const BLANK_OR_COMMENT = /^[ \t]*(#.*)?$/;
const QUOTES = ['"', "'", '`'];

/**
 * The variables the service reads: those of a `.env` file in `cwd`, under the environment — a
 * variable the environment sets (even to an empty value) wins, as with `node --env-file`.
 * `process.env` itself is left as it is.
 */
export function environment(cwd: string = process.cwd(), env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...readEnvFile(path.resolve(cwd, ENV_FILE_NAME)), ...env };
}

/** The file's variables, or none when there is no file. A malformed file throws, naming each bad line. */
export function readEnvFile(file: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return {};
    throw new ConfigError(`Cannot read ${file} (${code ?? (error as Error).message}).`);
  }
  return parseEnvFile(text.replace(/^\uFEFF/, ''), file);
}

/**
 * Node's own parser (`util.parseEnv`) is lenient: on Node 20 an indented comment becomes part of
 * the next variable's name, a line without `=` swallows the next one, and `=x` drops the rest of
 * the file — silently. So the lines are checked here, one entry at a time, each with its line
 * number, and Node decodes each value (quotes, `\n` in double quotes) on its own.
 */
export function parseEnvFile(text: string, file: string): Record<string, string> {
  const lines = text.split('\n').map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
  const values: Record<string, string> = {};
  const lineOf = new Map<string, number>();
  const problems: string[] = [];

  for (let index = 0; index < lines.length; index++) {
    const number = index + 1;
    if (BLANK_OR_COMMENT.test(lines[index])) continue;
    const match = ASSIGNMENT.exec(lines[index]);
    if (!match) {
      problems.push(`line ${number}: expected NAME=value (NAME: letters, digits and _, not starting with a digit)`);
      continue;
    }
    const [, name, rest] = match;
    const entry = readValue(name, rest, lines, index);
    index = entry.lastIndex;
    if (entry.problem) {
      problems.push(`line ${number}: ${entry.problem}`);
      continue;
    }
    const earlier = lineOf.get(name);
    if (earlier !== undefined) {
      problems.push(`line ${number}: ${name} is already set on line ${earlier}`);
      continue;
    }
    lineOf.set(name, number);
    values[name] = parseEnv(`${name}=${entry.raw}`)[name] ?? '';
  }

  if (problems.length > 0) {
    throw new ConfigError(`Invalid ${file}:\n  - ${problems.join('\n  - ')}`);
  }
  return values;
}

interface RawValue {
  /** The value as written (quotes kept, trailing comment removed), for parseEnv. */
  raw: string;
  /** Index of the entry's last line: a quoted value may span several. */
  lastIndex: number;
  problem?: string;
}

function readValue(name: string, rest: string, lines: string[], index: number): RawValue {
  const start = rest.trimStart();
  const quote = start[0];
  if (!QUOTES.includes(quote)) {
    // Node ends an unquoted value at the first `#`; only a `#` after a space reads as a comment to a person.
    const hash = rest.indexOf('#');
    if (hash !== -1 && !/[ \t]/.test(rest[hash - 1] ?? '=')) {
      return { raw: '', lastIndex: index, problem: `the value of ${name} contains "#", which would start a comment: put the value in quotes` };
    }
    return { raw: (hash === -1 ? rest : rest.slice(0, hash)).trim(), lastIndex: index };
  }
  // A quoted value ends at the next same quote (there are no escapes), on this line or a later one.
  let text = start;
  let last = index;
  let close = text.indexOf(quote, 1);
  while (close === -1 && last + 1 < lines.length) {
    last += 1;
    text += `\n${lines[last]}`;
    close = text.indexOf(quote, 1);
  }
  if (close === -1) {
    return { raw: '', lastIndex: index, problem: `the value of ${name} opens a quote (${quote}) that is never closed` };
  }
  if (!BLANK_OR_COMMENT.test(text.slice(close + 1))) {
    return { raw: '', lastIndex: last, problem: `unexpected text after the closing quote of ${name}'s value` };
  }
  return { raw: text.slice(0, close + 1), lastIndex: last };
}
