import net from 'node:net';

/**
 * Whether the Redis server on `port` answers `command` (an inline command) with a reply that
 * contains `expected`: a raw RESP exchange, no client library, for servers a test starts itself.
 */
export function redisReplies(port: number, command: string, expected: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write(`${command}\r\n`));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes(expected)) done(true);
      else if (reply.startsWith('-')) done(false);
    });
  });
}

/** Polls `check` until it holds, or fails after `timeoutMs` naming `what`. */
export async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
