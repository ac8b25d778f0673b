import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { environment, parseEnvFile, readEnvFile } from './env-file';
import { ConfigError, loadConfig } from './load-config';

const FILE = '/srv/app/.env';

function problemsOf(text: string): string {
  try {
    parseEnvFile(text, FILE);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected the file to be refused');
}

describe('parseEnvFile', () => {
  it('reads what a .env file usually holds', () => {
    const sut = parseEnvFile(
      [
        '# a comment',
        '',
        'PORT=4000',
        '  RATE_LIMIT_MAX = 7   # indented, spaced, commented',
        '    # an indented comment is a comment, not part of the next name',
        'export LOG_LEVEL=debug',
        'DATABASE_URL=',
        'METRICS_TOKEN="a # b"  # quoted: the # is part of the value',
        "STYTCH_SECRET='single'",
        'UPGRADE_URL=`backticks`',
        'MULTI="line one',
        'line two"',
        'ESCAPED="a\\nb"',
        'LAST=no newline at the end',
      ].join('\r\n'),
      FILE,
    );
    expect(sut).toEqual({
      PORT: '4000',
      RATE_LIMIT_MAX: '7',
      LOG_LEVEL: 'debug',
      DATABASE_URL: '',
      METRICS_TOKEN: 'a # b',
      STYTCH_SECRET: 'single',
      UPGRADE_URL: 'backticks',
      MULTI: 'line one\nline two',
      ESCAPED: 'a\nb',
      LAST: 'no newline at the end',
    });
  });

  it('refuses a line that is not NAME=value, naming the file and the line', () => {
    expect(problemsOf('PORT=1\nRATE_LIMIT_MAX 5\n')).toBe(
      `Invalid ${FILE}:\n  - line 2: expected NAME=value (NAME: letters, digits and _, not starting with a digit)`,
    );
  });

  it.each([
    ['=value', 'line 1: expected NAME=value'],
    ['1PORT=3000', 'line 1: expected NAME=value'],
    ['RATE-LIMIT=3', 'line 1: expected NAME=value'],
    ['TOKEN="abc', 'line 1: the value of TOKEN opens a quote (") that is never closed'],
    ['TOKEN="abc"def', "line 1: unexpected text after the closing quote of TOKEN's value"],
    ['TOKEN=abc#def', 'line 1: the value of TOKEN contains "#", which would start a comment: put the value in quotes'],
    ['TOKEN=#def', 'line 1: the value of TOKEN contains "#"'],
    ['PORT=1\nPORT=2', 'line 2: PORT is already set on line 1'],
  ])('refuses %j', (text, problem) => {
    expect(problemsOf(text)).toContain(problem);
  });

  it('names every bad line at once, and never echoes a value', () => {
    const message = problemsOf('STYTCH_SECRET secret-value-1\nOK=1\nMETRICS_TOKEN=secret#value-2\n');
    expect(message).toContain('line 1: expected NAME=value');
    expect(message).toContain('line 3: the value of METRICS_TOKEN contains "#"');
    expect(message).not.toMatch(/secret-value-1|value-2/);
  });
});

describe('environment', () => {
  let cwd: string;
  beforeEach(() => {
    cwd = mkdtempSync(path.join(tmpdir(), 'lv-env-file-'));
  });
  afterEach(() => rmSync(cwd, { recursive: true, force: true }));

  it('is the environment alone when there is no .env', () => {
    expect(environment(cwd, { PORT: '5000' })).toEqual({ PORT: '5000' });
  });

  it('puts the .env file under the environment: a variable the environment sets wins, even empty', () => {
    writeFileSync(path.join(cwd, '.env'), 'PORT=4000\nRATE_LIMIT_MAX=7\nLOG_LEVEL=debug\n');
    const sut = environment(cwd, { RATE_LIMIT_MAX: '9', LOG_LEVEL: '' });
    expect(sut).toEqual({ PORT: '4000', RATE_LIMIT_MAX: '9', LOG_LEVEL: '' });
    expect(loadConfig(sut)).toMatchObject({ port: 4000, rateLimit: { max: 9 }, logLevel: 'info' });
  });

  it('leaves process.env as it was', () => {
    writeFileSync(path.join(cwd, '.env'), 'LV_ENV_FILE_SPEC_PROBE=1\n');
    expect(environment(cwd).LV_ENV_FILE_SPEC_PROBE).toBe('1');
    expect(process.env.LV_ENV_FILE_SPEC_PROBE).toBeUndefined();
  });

  it('refuses a .env it cannot read, naming it', () => {
    mkdirSync(path.join(cwd, '.env'));
    expect(() => environment(cwd, {})).toThrow(new ConfigError(`Cannot read ${path.join(cwd, '.env')} (EISDIR).`));
  });

  it('ignores a byte-order mark', () => {
    writeFileSync(path.join(cwd, '.env'), '\uFEFFPORT=4000\n');
    expect(environment(cwd, {})).toEqual({ PORT: '4000' });
  });
});

describe('.env.example', () => {
  const example = readEnvFile(path.resolve(__dirname, '../../.env.example'));

  it('lists every variable the configuration reads', () => {
    const read = new Set<string>();
    loadConfig(new Proxy({}, { get: (_target, name) => (read.add(String(name)), undefined) }));
    expect([...read].filter((name) => !(name in example))).toEqual([]);
  });

  it('gives each its default', () => {
    expect(loadConfig(example)).toEqual(loadConfig({}));
  });

  it('says in a comment what each one is', () => {
    const lines = readFileSync(path.resolve(__dirname, '../../.env.example'), 'utf8').split('\n');
    const uncommented = Object.keys(example).filter((name) => {
      let index = lines.findIndex((line) => line.startsWith(`${name}=`)) - 1;
      while (index >= 0 && /^[A-Z_]+=/.test(lines[index])) index--; // variables documented together
      return index < 0 || !lines[index].startsWith('# ');
    });
    expect(uncommented).toEqual([]);
  });
});
