import winston from 'winston';

/** Structured JSON logs on stdout. Callers pass fields, never secrets (peer passwords stay out). */
export type Logger = winston.Logger;

export function createLogger(level = process.env.SVCBGP_LOG_LEVEL ?? 'info'): Logger {
  return winston.createLogger({
    level,
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    transports: [new winston.transports.Console({ stderrLevels: [] })],
  });
}

/** A logger that drops everything: for unit tests and library callers that pass none. */
export function silentLogger(): Logger {
  return winston.createLogger({ silent: true, transports: [new winston.transports.Console()] });
}
