import fs from 'node:fs';
import { waitFor } from './waiting';

/**
 * Everything the process writes to stdout and stderr from start() to stop() — pino's lines
 * included, which reach fd 1 through `fs.write`/`fs.writeSync`, not `process.stdout`. Nothing is
 * shown on the console meanwhile.
 */
export class LogCapture {
  private readonly chunks: string[] = [];
  private spies: jest.SpyInstance[] = [];

  static start(): LogCapture {
    const capture = new LogCapture();
    capture.spies = capture.install();
    return capture;
  }

  get text(): string {
    return this.chunks.join('');
  }

  /** The JSON lines written so far (anything else is skipped). */
  lines(): Array<Record<string, unknown>> {
    return this.text.split('\n').flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return []; // a line that is not pino's
      }
    });
  }

  /** The request log's line for one request id, once it is written. */
  requestLine(requestId: string): Promise<Record<string, unknown>> {
    return waitFor(`the log line of ${requestId}`, async () => this.lines().find((line) => line.request_id === requestId && 'req' in line), 2_000, 10);
  }

  stop(): void {
    for (const spy of this.spies) spy.mockRestore();
    this.spies = [];
  }

  private install(): jest.SpyInstance[] {
    const capture = (data: unknown) => this.chunks.push(typeof data === 'string' ? data : Buffer.from(data as Uint8Array).toString('utf8'));
    const isConsole = (fd: unknown) => fd === 1 || fd === 2;
    const size = (data: unknown) => (typeof data === 'string' ? Buffer.byteLength(data) : (data as Uint8Array).length);
    const realWrite = fs.write;
    const realWriteSync = fs.writeSync;
    return [
      jest.spyOn(process.stdout, 'write').mockImplementation((data: unknown) => (capture(data), true)),
      jest.spyOn(process.stderr, 'write').mockImplementation((data: unknown) => (capture(data), true)),
      jest.spyOn(fs, 'writeSync').mockImplementation(((fd: number, data: unknown, ...rest: unknown[]) => {
        if (!isConsole(fd)) return (realWriteSync as (...args: unknown[]) => number)(fd, data, ...rest);
        capture(data);
        return size(data);
      }) as typeof fs.writeSync),
      jest.spyOn(fs, 'write').mockImplementation(((fd: number, data: unknown, ...rest: unknown[]) => {
        if (!isConsole(fd)) return (realWrite as (...args: unknown[]) => void)(fd, data, ...rest);
        capture(data);
        const callback = rest[rest.length - 1] as (error: null, written: number) => void;
        process.nextTick(() => callback(null, size(data)));
      }) as typeof fs.write),
    ];
  }
}
