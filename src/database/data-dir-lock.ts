import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { DataDirError } from './data-dir-error';
import { ProcessIdentity, isRunning, processIdentity } from './process-identity';

/** Inside DATA_DIR: PGlite ignores files it does not know. */
export const LOCK_FILE = 'lucitra-validate.lock';

interface Holder extends ProcessIdentity {
  pid: number;
  /** `the server`, `the admin command line`, or the script's name. */
  role: string;
  host: string;
  since: string;
}

/** Lock files this process holds: a second open from here is refused too. */
const held = new Set<string>();

export interface DataDirLock {
  release(): void;
}

/**
 * One process at a time on the embedded database: PGlite has no lock of its own, and two
 * processes writing the same files lose each other's writes. The lock file is created whole and
 * exclusively (written aside, then hard-linked into place), names its holder, and is removed on
 * close or exit; one left by a process that no longer runs (a crash) is taken over, with a notice.
 */
export function lockDataDir(dataDir: string, notice: (line: string) => void): DataDirLock {
  const file = path.join(path.resolve(dataDir), LOCK_FILE);
  const mine: Holder = { pid: process.pid, role: role(), host: hostname(), since: new Date().toISOString(), ...processIdentity(process.pid) };
  const content = `${JSON.stringify(mine)}\n`;
  if (held.has(file)) throw new DataDirError(`DATA_DIR ${dataDir} is already open in this process.`);
  for (let attempt = 0; attempt < 5; attempt++) {
    if (create(file, content)) return hold(file, content);
    const found = readHolder(file);
    if (found === 'gone') continue;
    if (found === 'unreadable') {
      throw new DataDirError(`DATA_DIR ${dataDir} has a lock file that cannot be read (${file}). If no server or admin command uses DATA_DIR, delete that file.`);
    }
    const { holder, raw } = found;
    const gone = holderIsGone(holder);
    if (gone === 'unknown') throw new DataDirError(inUse(dataDir, holder, file, true));
    if (!gone) throw new DataDirError(inUse(dataDir, holder, file, false));
    if (takeAway(file, raw)) notice(`warning: DATA_DIR ${dataDir}: taking over the lock of ${describe(holder)}, which ${gone}.`);
  }
  throw new DataDirError(`DATA_DIR ${dataDir} is being locked and unlocked by other processes; try again.`);
}

function hold(file: string, content: string): DataDirLock {
  held.add(file);
  const release = () => {
    process.removeListener('exit', release);
    held.delete(file);
    // Only our own: never a lock another process took over meanwhile.
    if (readRaw(file) === content) fs.rmSync(file, { force: true });
  };
  process.on('exit', release);
  return { release };
}

/** Exclusive and never half-written: readers see no file or the whole holder. */
function create(file: string, content: string): boolean {
  const aside = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  fs.writeFileSync(aside, content, { mode: 0o600, flag: 'wx' });
  try {
    fs.linkSync(aside, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    // No hard links on this file system: create it in place (a reader meanwhile sees it unreadable, and refuses).
    return createInPlace(file, content);
  } finally {
    fs.rmSync(aside, { force: true });
  }
}

function createInPlace(file: string, content: string): boolean {
  try {
    fs.writeFileSync(file, content, { mode: 0o600, flag: 'wx' });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

function readRaw(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function readHolder(file: string): { holder: Holder; raw: string } | 'gone' | 'unreadable' {
  const raw = readRaw(file);
  if (raw === undefined) return 'gone';
  try {
    const holder = JSON.parse(raw) as Holder;
    return Number.isSafeInteger(holder.pid) && holder.pid > 0 && typeof holder.host === 'string' ? { holder, raw } : 'unreadable';
  } catch {
    return 'unreadable';
  }
}

/**
 * Why the holder is known to be gone; false while it runs; 'unknown' when this process cannot tell
 * (another host, or another pid namespace — a container — where its pid means nothing): then the lock holds.
 */
function holderIsGone(holder: Holder): string | false | 'unknown' {
  if (holder.host !== hostname()) return 'unknown';
  const me = processIdentity(process.pid);
  if (holder.bootId && me.bootId && holder.bootId !== me.bootId) return 'ran before the machine restarted';
  if (holder.pidNamespace && me.pidNamespace && holder.pidNamespace !== me.pidNamespace) return 'unknown';
  // Not this process (checked first): an earlier one that had the same pid.
  if (holder.pid === process.pid) return 'had the pid this process has now';
  if (!isRunning(holder.pid)) return 'no longer runs';
  const now = processIdentity(holder.pid).startTicks;
  return holder.startTicks !== undefined && now !== undefined && now !== holder.startTicks ? 'no longer runs (its pid was reused)' : false;
}

/** Removes the stale lock `raw` — and nothing else, should another process have replaced it meanwhile. */
function takeAway(file: string, raw: string): boolean {
  const aside = `${file}.stale.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    fs.renameSync(file, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  const moved = readRaw(aside);
  if (moved !== raw) {
    // A live lock taken in between: put it back (unless yet another took the name) and retry.
    fs.linkSync(aside, file);
    fs.rmSync(aside, { force: true });
    return false;
  }
  fs.rmSync(aside, { force: true });
  return true;
}

function inUse(dataDir: string, holder: Holder, file: string, unsure: boolean): string {
  const what = `DATA_DIR ${dataDir} is in use by ${describe(holder)}, since ${String(holder.since).slice(0, 40)}.`;
  if (unsure) {
    return `${what} This process cannot tell whether that one still runs: if it does not, delete ${file}. Or use PostgreSQL (DATABASE_URL).`;
  }
  const fix =
    holder.role === 'the server'
      ? 'Stop the server first, or point both at PostgreSQL with DATABASE_URL (and REDIS_URL, so that running servers see the change).'
      : 'Wait for it to finish, or stop it.';
  return `${what} The embedded database takes one process at a time. ${fix}`;
}

function describe(holder: Holder): string {
  const me = processIdentity(process.pid);
  const where =
    holder.host !== hostname()
      ? ` on host ${String(holder.host).slice(0, 60)}`
      : holder.pidNamespace && me.pidNamespace && holder.pidNamespace !== me.pidNamespace
        ? ' in another pid namespace, such as another container'
        : '';
  return `${String(holder.role).slice(0, 60)} (pid ${holder.pid}${where})`;
}

function role(): string {
  const script = path.basename(process.argv[1] ?? 'node');
  if (/^main\.[jt]s$/.test(script)) return 'the server';
  if (/^admin\.[jt]s$/.test(script)) return 'the admin command line';
  return script;
}
