import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { DataDirError } from './data-dir-error';
import { LOCK_FILE, lockDataDir } from './data-dir-lock';
import { processIdentity } from './process-identity';

describe('lockDataDir', () => {
  let dir: string;
  let file: string;
  let notices: string[];
  const notice = (line: string) => notices.push(line);
  const writeHolder = (holder: Record<string, unknown>) =>
    fs.writeFileSync(file, JSON.stringify({ role: 'the server', host: hostname(), since: '2026-01-01T00:00:00.000Z', ...holder }));
  /** The pid of a process that has exited. */
  const deadPid = () => spawnSync(process.execPath, ['-e', '']).pid!;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(tmpdir(), 'lv-lock-'));
    file = path.join(dir, LOCK_FILE);
    notices = [];
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('writes who holds it, private, and removes it on release', () => {
    const sut = lockDataDir(dir, notice);
    const holder = JSON.parse(fs.readFileSync(file, 'utf8'));
    expect(holder).toMatchObject({ pid: process.pid, host: hostname(), since: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(dir)).toEqual([LOCK_FILE]); // nothing left aside
    sut.release();
    expect(fs.existsSync(file)).toBe(false);
    lockDataDir(dir, notice).release(); // and can be taken again
  });

  it('works where hard links do not', () => {
    const link = jest.spyOn(fs, 'linkSync').mockImplementation(() => {
      throw Object.assign(new Error('ENOTSUP'), { code: 'ENOTSUP' });
    });
    try {
      const sut = lockDataDir(dir, notice);
      expect(JSON.parse(fs.readFileSync(file, 'utf8')).pid).toBe(process.pid);
      expect(() => lockDataDir(dir, notice)).toThrow(/already open in this process/);
      sut.release();
      expect(fs.readdirSync(dir)).toEqual([]);
    } finally {
      link.mockRestore();
    }
  });

  it('refuses a second lock from this process', () => {
    const sut = lockDataDir(dir, notice);
    expect(() => lockDataDir(dir, notice)).toThrow(new DataDirError(`DATA_DIR ${dir} is already open in this process.`));
    sut.release();
  });

  it('refuses while the holder runs, naming it, when, and what to do', () => {
    writeHolder({ pid: process.ppid, role: 'the server', ...processIdentity(process.ppid) });
    expect(() => lockDataDir(dir, notice)).toThrow(
      `DATA_DIR ${dir} is in use by the server (pid ${process.ppid}), since 2026-01-01T00:00:00.000Z. The embedded database takes one process at a time. ` +
        'Stop the server first, or point both at PostgreSQL with DATABASE_URL',
    );
    writeHolder({ pid: process.ppid, role: 'the admin command line' });
    expect(() => lockDataDir(dir, notice)).toThrow(/in use by the admin command line \(pid \d+\).*Wait for it to finish, or stop it\.$/);
    expect(fs.readFileSync(file, 'utf8')).toContain('the admin command line'); // untouched
  });

  it('takes over a lock whose holder no longer runs, and says so', () => {
    const pid = deadPid();
    writeHolder({ pid });
    const sut = lockDataDir(dir, notice);
    expect(notices).toEqual([`warning: DATA_DIR ${dir}: taking over the lock of the server (pid ${pid}), which no longer runs.`]);
    expect(JSON.parse(fs.readFileSync(file, 'utf8')).pid).toBe(process.pid);
    sut.release();
  });

  it('takes over a lock left by an earlier process with this pid (a restarted container)', () => {
    writeHolder({ pid: process.pid });
    lockDataDir(dir, notice).release();
    expect(notices).toEqual([`warning: DATA_DIR ${dir}: taking over the lock of the server (pid ${process.pid}), which had the pid this process has now.`]);
  });

  (process.platform === 'linux' ? it : it.skip)('takes over a lock taken before the machine restarted', () => {
    writeHolder({ pid: process.ppid, bootId: 'another-boot' });
    lockDataDir(dir, notice).release();
    expect(notices).toEqual([`warning: DATA_DIR ${dir}: taking over the lock of the server (pid ${process.ppid}), which ran before the machine restarted.`]);
  });

  (process.platform === 'linux' ? it : it.skip)('takes over a lock whose pid now belongs to another process', () => {
    writeHolder({ pid: process.ppid, startTicks: processIdentity(process.ppid).startTicks! + 1 });
    lockDataDir(dir, notice).release();
    expect(notices).toEqual([`warning: DATA_DIR ${dir}: taking over the lock of the server (pid ${process.ppid}), which no longer runs (its pid was reused).`]);
  });

  it('refuses when it cannot tell: another host, or another pid namespace', () => {
    writeHolder({ pid: deadPid(), host: 'elsewhere' });
    expect(() => lockDataDir(dir, notice)).toThrow(
      new RegExp(`in use by the server \\(pid \\d+ on host elsewhere\\).*cannot tell whether that one still runs: if it does not, delete ${file}\\.`),
    );
    if (process.platform === 'linux') {
      writeHolder({ pid: deadPid(), pidNamespace: 'pid:[1]' });
      expect(() => lockDataDir(dir, notice)).toThrow(/\(pid \d+ in another pid namespace, such as another container\).*delete/);
    }
    expect(notices).toEqual([]);
  });

  it('refuses a lock file it cannot read, rather than guess', () => {
    fs.writeFileSync(file, 'garbage');
    expect(() => lockDataDir(dir, notice)).toThrow(`DATA_DIR ${dir} has a lock file that cannot be read (${file}). If no server or admin command uses DATA_DIR, delete that file.`);
  });

  it('leaves a lock another process took over alone on release', () => {
    const sut = lockDataDir(dir, notice);
    writeHolder({ pid: process.ppid });
    sut.release();
    expect(fs.existsSync(file)).toBe(true);
  });
});
