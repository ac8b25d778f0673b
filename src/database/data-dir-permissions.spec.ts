import fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DataDirError } from './data-dir-error';
import { secureDataDir, tightenDataDir } from './data-dir-permissions';

const mode = (file: string) => fs.lstatSync(file).mode & 0o777;
const eperm = () => Object.assign(new Error('EPERM: operation not permitted'), { code: 'EPERM' });

(process.platform === 'win32' ? describe.skip : describe)('DATA_DIR permissions', () => {
  let root: string;
  let notices: string[];
  const notice = (line: string) => notices.push(line);

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(tmpdir(), 'lv-perm-'));
    notices = [];
  });
  afterEach(() => {
    jest.restoreAllMocks();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('creates a missing folder 0700, parents included', () => {
    const dir = path.join(root, 'a', 'data');
    secureDataDir(dir, notice);
    expect(mode(dir)).toBe(0o700);
    expect(mode(path.join(root, 'a'))).toBe(0o700);
  });

  it('makes an existing open folder private, and everything in it', () => {
    const dir = path.join(root, 'data');
    fs.mkdirSync(path.join(dir, 'base', '5'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'PG_VERSION'), '17');
    fs.writeFileSync(path.join(dir, 'base', '5', '1259'), '');
    fs.writeFileSync(path.join(root, 'outside'), '');
    fs.symlinkSync(path.join(root, 'outside'), path.join(dir, 'link'));
    for (const file of [dir, path.join(dir, 'base'), path.join(dir, 'base', '5')]) fs.chmodSync(file, 0o777);
    for (const file of ['PG_VERSION', 'base/5/1259']) fs.chmodSync(path.join(dir, file), 0o666);
    fs.chmodSync(path.join(root, 'outside'), 0o644);

    secureDataDir(dir, notice);
    expect(mode(dir)).toBe(0o700);
    tightenDataDir(dir, notice);
    expect([dir, 'base', 'base/5'].map((file) => mode(path.resolve(dir, file)))).toEqual([0o700, 0o700, 0o700]);
    expect(['PG_VERSION', 'base/5/1259'].map((file) => mode(path.join(dir, file)))).toEqual([0o600, 0o600]);
    expect(mode(path.join(root, 'outside'))).toBe(0o644); // a link is not followed out
    expect(notices).toEqual([]);
  });

  it('refuses a folder others can write when it cannot make it private, naming DATA_DIR and the fix', () => {
    const dir = path.join(root, 'shared');
    fs.mkdirSync(dir);
    fs.chmodSync(dir, 0o777);
    jest.spyOn(fs, 'chmodSync').mockImplementation(() => {
      throw eperm();
    });
    expect(() => secureDataDir(dir, notice)).toThrow(DataDirError);
    expect(() => secureDataDir(dir, notice)).toThrow(
      new RegExp(`^DATA_DIR ${dir} can be written by other users \\(mode 0777\\) and this process cannot change that \\(it belongs to uid \\d+, this process runs as uid \\d+\\)\\. Make it yours and private \\(chown <user> ${dir} && chmod 700 ${dir}\\), or set DATA_DIR to a folder of your own\\.$`),
    );
  });

  it('only warns about a folder others can read but not write, when it cannot make it private', () => {
    const dir = path.join(root, 'readable');
    fs.mkdirSync(dir);
    fs.chmodSync(dir, 0o755);
    jest.spyOn(fs, 'chmodSync').mockImplementation(() => {
      throw eperm();
    });
    secureDataDir(dir, notice);
    expect(notices).toEqual([expect.stringMatching(new RegExp(`^warning: DATA_DIR ${dir} can be read by other users \\(mode 0755\\)`))]);
  });

  it('says how many entries it could not make private', () => {
    fs.writeFileSync(path.join(root, 'a'), '');
    fs.chmodSync(path.join(root, 'a'), 0o666);
    jest.spyOn(fs, 'chmodSync').mockImplementation(() => {
      throw eperm();
    });
    tightenDataDir(root, notice);
    expect(notices).toEqual([`warning: 1 entries in DATA_DIR ${root} could not be made private (they belong to another user).`]);
  });

  it('refuses a DATA_DIR that is a file', () => {
    const file = path.join(root, 'file');
    fs.writeFileSync(file, '');
    expect(() => secureDataDir(file, notice)).toThrow(new DataDirError(`DATA_DIR ${file} is not a folder. Set DATA_DIR to a folder (it is created if missing).`));
  });
});
