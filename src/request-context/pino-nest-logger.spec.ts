import { Logger } from '@nestjs/common';
import pino from 'pino';
import { Writable } from 'node:stream';
import { PinoNestLogger } from './pino-nest-logger';

function capture(level: pino.Level = 'debug') {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()));
      done();
    },
  });
  return { sut: new PinoNestLogger(pino({ level }, stream)), lines };
}

describe('PinoNestLogger', () => {
  it('keeps the fields a service passes, names the class that logged, and skips disabled levels', () => {
    const { sut, lines } = capture('info');
    sut.warn({ request_id: 'req_1' }, 'Revocation not announced', 'ApiKeysService');
    sut.log('Mapped route', 'RouterExplorer');
    sut.debug('not written', 'X');
    expect(lines).toEqual([
      expect.objectContaining({ level: 40, context: 'ApiKeysService', request_id: 'req_1', msg: 'Revocation not announced' }),
      expect.objectContaining({ level: 30, context: 'RouterExplorer', msg: 'Mapped route' }),
    ]);
  });

  it('writes an error without its stack, however Nest passes it', () => {
    const { sut, lines } = capture();
    const failure = new TypeError('DATA_DIR is in use');
    sut.error(failure, 'ExceptionHandler');
    sut.error('Request failed', failure.stack, 'ExceptionsHandler');
    expect(lines[0]).toMatchObject({ level: 50, context: 'ExceptionHandler', error: { type: 'TypeError', message: 'DATA_DIR is in use' } });
    expect(lines[1]).toMatchObject({ level: 50, context: 'ExceptionsHandler', msg: 'Request failed' });
    expect(JSON.stringify(lines)).not.toContain('    at ');
  });

  it('serves Nest’s Logger class once installed', () => {
    const { sut, lines } = capture();
    Logger.overrideLogger(sut);
    try {
      new Logger('UsageFlusher').warn({ cause: 'ECONNREFUSED' }, 'Usage flush postponed');
    } finally {
      Logger.overrideLogger(false);
    }
    expect(lines).toEqual([expect.objectContaining({ context: 'UsageFlusher', cause: 'ECONNREFUSED', msg: 'Usage flush postponed' })]);
  });
});
