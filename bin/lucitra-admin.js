#!/usr/bin/env node
'use strict';
/**
 * The admin command line (`npm run -s admin -- …`, or the `lucitra-admin` bin). It builds first
 * only when the build is missing or its inputs changed: a fingerprint (path, size, mtime) of the
 * inputs is compared with the one recorded in dist/ by the last successful build — a few stats,
 * a few milliseconds. Build output goes to stderr: stdout carries only the command's result.
 */
const { spawnSync } = require('node:child_process');
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const DIST = path.join(ROOT, 'dist');
const ENTRY = path.join(DIST, 'cli', 'admin.js');
const STAMP = path.join(DIST, '.build-fingerprint');
const LOCK = path.join(DIST, '.build-lock');
/** What `npm run build` reads (src/generated is its own output; specs are not built). */
const INPUTS = ['src', 'prisma/schema.prisma', 'prisma.config.ts', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json'];
const LOCK_STALE_MS = 10 * 60_000;

function inputFiles(relative) {
  const stat = fs.statSync(path.join(ROOT, relative), { throwIfNoEntry: false });
  if (!stat) return [];
  if (!stat.isDirectory()) return [`${relative}\t${stat.size}\t${stat.mtimeMs}`];
  if (relative === path.join('src', 'generated')) return [];
  return fs
    .readdirSync(path.join(ROOT, relative))
    .sort()
    .filter((name) => !name.endsWith('.spec.ts'))
    .flatMap((name) => inputFiles(path.join(relative, name)));
}

/** null when there are no sources to build from (an installed copy): dist/ is what there is. */
function fingerprint() {
  if (!fs.existsSync(path.join(ROOT, 'src'))) return null;
  return createHash('sha256').update(INPUTS.flatMap(inputFiles).join('\n')).digest('hex');
}

function isCurrent(expected) {
  if (!fs.existsSync(ENTRY)) return false;
  return expected === null || readOr(STAMP, '') === expected;
}

function readOr(file, fallback) {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
}

/** One build at a time: a second command started meanwhile waits, then finds the build current. */
function withBuildLock(task) {
  fs.mkdirSync(DIST, { recursive: true });
  for (;;) {
    try {
      fs.writeFileSync(LOCK, String(process.pid), { flag: 'wx' });
      break;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
    }
    if (lockIsStale()) fs.rmSync(LOCK, { force: true });
    else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 250);
  }
  try {
    return task();
  } finally {
    fs.rmSync(LOCK, { force: true });
  }
}

function lockIsStale() {
  const holder = Number(readOr(LOCK, ''));
  const stat = fs.statSync(LOCK, { throwIfNoEntry: false });
  if (!stat) return false;
  if (Date.now() - stat.mtimeMs > LOCK_STALE_MS) return true;
  if (!Number.isInteger(holder) || holder <= 0) return false; // being written
  try {
    process.kill(holder, 0);
    return false;
  } catch (error) {
    return error.code === 'ESRCH';
  }
}

/** `npm run -s build`, its output on stderr. Returns the exit status. */
function build() {
  process.stderr.write('lucitra-admin: building (first run, or the sources changed)…\n');
  const npm = process.env.npm_execpath;
  const [command, args] = npm && /\.[cm]?js$/.test(npm) ? [process.execPath, [npm, 'run', '-s', 'build']] : ['npm', ['run', '-s', 'build']];
  const result = spawnSync(command, args, { cwd: ROOT, stdio: ['ignore', 2, 2], shell: process.platform === 'win32' });
  if (result.error) process.stderr.write(`lucitra-admin: could not run the build: ${result.error.message}\n`);
  return result.status ?? 1;
}

function fail(message) {
  const json = process.argv.slice(2).includes('--json');
  process.stderr.write(json ? `${JSON.stringify({ error: { code: 'BUILD_FAILED', message } })}\n` : `error: ${message}\n`);
  process.exit(1);
}

let expected = fingerprint();
if (!isCurrent(expected)) {
  const status = withBuildLock(() => {
    expected = fingerprint(); // another command may have built it while this one waited
    if (isCurrent(expected)) return 0;
    const built = build();
    if (built === 0) fs.writeFileSync(STAMP, expected ?? '');
    return built;
  });
  if (status !== 0) fail('the build failed (its messages are above); fix it and run the command again.');
}
require(ENTRY);
