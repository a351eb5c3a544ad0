import { Writable } from 'node:stream';
import winston from 'winston';

export interface LogLine {
  level: string;
  message: string;
  [field: string]: unknown;
}

/** A logger that keeps every entry as an object: what an operator's log shipper would receive. */
export function capturingLogger(): { log: winston.Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const stream = new Writable({
    objectMode: true,
    write(info: LogLine, _encoding, done) {
      lines.push({ ...info });
      done();
    },
  });
  return { log: winston.createLogger({ level: 'debug', transports: [new winston.transports.Stream({ stream })] }), lines };
}
