import fs from 'node:fs';

/**
 * What tells a process apart beyond its pid, where the system says (Linux; elsewhere nothing): a
 * pid outlives neither a restart of the machine (boot id) nor its process (start time, in clock
 * ticks since boot), and means something only in its own pid namespace (a container has its own).
 */
export interface ProcessIdentity {
  bootId?: string;
  pidNamespace?: string;
  startTicks?: number;
}

export function processIdentity(pid: number): ProcessIdentity {
  if (process.platform !== 'linux') return {};
  return {
    bootId: attempt(() => fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()),
    pidNamespace: attempt(() => fs.readlinkSync(`/proc/${pid}/ns/pid`)),
    startTicks: attempt(() => {
      // Field 22 of /proc/<pid>/stat; the command name (field 2) may hold spaces and parentheses.
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    }),
  };
}

/** True while a process has this pid (one of another user's included). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function attempt<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}
