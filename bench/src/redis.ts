import Redis from 'ioredis';
import { sleep } from './processes';

/** `INFO commandstats` as calls by command name. Server-wide: every database, every client. */
export async function commandCalls(redis: Redis): Promise<Record<string, number>> {
  const info = await redis.info('commandstats');
  const calls: Record<string, number> = {};
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls[match[1]] = Number(match[2]);
  return calls;
}

export function diffCounts(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const delta: Record<string, number> = {};
  for (const [name, value] of Object.entries(after)) {
    const change = value - (before[name] ?? 0);
    if (change !== 0) delta[name] = change;
  }
  return delta;
}

export interface RedisClientInfo {
  id: string;
  addr: string;
  db: number;
  idle: number;
  cmd: string;
  name: string;
}

export async function clientList(redis: Redis): Promise<RedisClientInfo[]> {
  const text = (await redis.client('LIST')) as string;
  return text
    .trim()
    .split('\n')
    .map((line) => Object.fromEntries(line.trim().split(' ').map((pair) => pair.split('=', 2) as [string, string])))
    .map((fields) => ({
      id: fields.id,
      addr: fields.addr,
      db: Number(fields.db),
      idle: Number(fields.idle),
      cmd: fields.cmd,
      name: fields.name ?? '',
    }));
}

export async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/^used_memory:(\d+)/m.exec(info)?.[1] ?? NaN);
}

export interface MonitoredCommands {
  /** Commands sent by clients (round trips), by name. */
  sent: Record<string, number>;
  /** Commands run inside Lua scripts, by name. */
  inScripts: Record<string, number>;
  /** Commands on keys matching `background` (the usage flusher's, on its own timer), by name. */
  background: Record<string, number>;
}

/**
 * Watches `MONITOR` while `action` runs and tallies the commands of one database, telling the
 * ones a client sent (a round trip each) from the ones a script ran inside Redis. MONITOR slows
 * Redis down, so it is used only for a short sequential calibration, never under load.
 */
export async function monitorCommands(url: string, db: number, background: RegExp, action: () => Promise<void>): Promise<MonitoredCommands> {
  const watcher = new Redis(url, { lazyConnect: true });
  await watcher.connect();
  const monitor = await watcher.monitor();
  const result: MonitoredCommands = { sent: {}, inScripts: {}, background: {} };
  monitor.on('monitor', (_time: string, args: string[], source: string, database: string) => {
    if (Number(database) !== db || args.length === 0) return;
    const name = args[0].toLowerCase();
    const tally = source === 'lua' ? result.inScripts : args[1] !== undefined && background.test(args[1]) ? result.background : result.sent;
    tally[name] = (tally[name] ?? 0) + 1;
  });
  try {
    await sleep(100);
    await action();
    await sleep(300);
  } finally {
    monitor.disconnect();
    watcher.disconnect();
  }
  return result;
}
