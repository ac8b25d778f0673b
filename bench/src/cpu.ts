import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * Machine CPU accounting from /proc, to tell whether a measurement shared the machine with
 * something else (other builds and test runs): the system's busy time minus the time of the
 * processes under test (load generator, service, bare server, Redis).
 */
export interface CpuSnapshot {
  total: number;
  busy: number;
  processes: number;
}

function machineTicks(): { total: number; busy: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number);
  const total = fields.slice(0, 8).reduce((sum, value) => sum + value, 0); // user … steal
  const idle = fields[3] + fields[4]; // idle + iowait
  return { total, busy: total - idle };
}

/** Clock ticks per second of /proc's counters (USER_HZ). */
export const TICKS_PER_SECOND = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100;

export function processTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime + stime (fields 14 and 15 of the line)
  } catch {
    return 0; // the process is gone
  }
}

export function cpuSnapshot(pids: number[]): CpuSnapshot {
  return { ...machineTicks(), processes: pids.reduce((sum, pid) => sum + processTicks(pid), 0) };
}

/** Share of the machine's whole capacity (all cores) used by other processes between two snapshots. */
export function otherShare(before: CpuSnapshot, after: CpuSnapshot): number {
  const total = after.total - before.total;
  if (total <= 0) return 0;
  return Math.max(0, after.busy - before.busy - (after.processes - before.processes)) / total;
}
