import fs from 'node:fs';
import path from 'node:path';
import { DataDirError } from './data-dir-error';

/**
 * The embedded database holds key hashes and tiers: only the user running the service may read it.
 * PGlite writes a new database's files 0666 whatever the umask (they come from its image), and
 * PostgreSQL's later files 0600. So the folder is made 0700 before the database opens — that alone
 * shuts other users out — and, once it is open, every folder in it 0700 and file 0600.
 */

/** Creates DATA_DIR private, or makes an existing one so; refuses one that others can write and we cannot fix. */
export function secureDataDir(dataDir: string, notice: (line: string) => void): void {
  try {
    fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  } catch (error) {
    if (!['EEXIST', 'ENOTDIR'].includes((error as NodeJS.ErrnoException).code!)) throw error;
  }
  const stat = fs.statSync(dataDir, { throwIfNoEntry: false });
  if (!stat?.isDirectory()) throw new DataDirError(`DATA_DIR ${dataDir} is not a folder. Set DATA_DIR to a folder (it is created if missing).`);
  if (process.platform === 'win32' || (stat.mode & 0o077) === 0) return;
  try {
    fs.chmodSync(dataDir, 0o700);
  } catch (error) {
    const owner = `it belongs to uid ${stat.uid}, this process runs as uid ${process.getuid?.()}`;
    const fix = `Make it yours and private (chown <user> ${dataDir} && chmod 700 ${dataDir}), or set DATA_DIR to a folder of your own.`;
    if (stat.mode & 0o022) {
      throw new DataDirError(`DATA_DIR ${dataDir} can be written by other users (mode ${octal(stat.mode)}) and this process cannot change that (${owner}). ${fix}`);
    }
    notice(`warning: DATA_DIR ${dataDir} can be read by other users (mode ${octal(stat.mode)}) and this process cannot change that (${owner}). ${fix}`);
  }
}

/** Folders 0700, files 0600, all the way down; symbolic links are left alone (and not followed). */
export function tightenDataDir(dataDir: string, notice: (line: string) => void): void {
  if (process.platform === 'win32') return;
  let untouchable = 0;
  const visit = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      if (entry.isSymbolicLink()) continue;
      const full = path.join(dir, entry.name);
      const mode = entry.isDirectory() ? 0o700 : 0o600;
      try {
        if ((fs.lstatSync(full).mode & 0o777 & ~mode) !== 0) fs.chmodSync(full, mode);
      } catch {
        untouchable++;
      }
      if (entry.isDirectory()) visit(full);
    }
  };
  visit(dataDir);
  if (untouchable > 0) {
    notice(`warning: ${untouchable} entries in DATA_DIR ${dataDir} could not be made private (they belong to another user).`);
  }
}

function octal(mode: number): string {
  return `0${(mode & 0o777).toString(8)}`;
}
