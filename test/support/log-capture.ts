import { Writable } from 'node:stream';
import type { Logger } from 'pino';
import { createRootLogger } from '../../src/logging/logging';

/** A JSON root logger whose every line lands in `lines`, for a test to read what the gateway logged. */
export function captureLogs(logLevel: 'trace' | 'info'): { lines: string[]; logger: Logger } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return { lines, logger: createRootLogger({ logLevel, logFormat: 'json' }, sink) };
}
