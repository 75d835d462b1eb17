import { writeSync } from 'node:fs';
import type { LogLevel } from '../config.js';

/** One JSON object per line on a writable stream; secrets never reach it (see `redact`). */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(bindings: Record<string, unknown>): Logger;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };
const SECRET_KEY = /authorization|secret|token|password|cookie|api[-_]?key|master[-_]?key/i;

/** Replaces the values of secret-looking keys, at any depth, with "[redacted]". */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  if (value instanceof Error) {
    // A driver's code and the error it wraps (drizzle wraps PostgreSQL's) say what actually failed.
    const { code } = value as { code?: unknown };
    return {
      name: value.name,
      message: value.message,
      ...(typeof code === 'string' ? { code } : {}),
      stack: value.stack,
      ...(value.cause !== undefined ? { cause: redact(value.cause, depth + 1) } : {}),
    };
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_KEY.test(k) ? '[redacted]' : redact(v, depth + 1);
  }
  return out;
}

/**
 * Lines for stdout, written once per event-loop turn: one write per request line costs a
 * syscall each (stdout to a pipe or file is synchronous). What is pending when the process
 * exits is written synchronously, so a crash after a log call still shows the line.
 */
function stdoutSink(): (line: string) => void {
  let pending = '';
  const flush = () => {
    if (pending === '') return;
    const out = pending;
    pending = '';
    process.stdout.write(out);
  };
  process.on('exit', () => {
    if (pending !== '') writeSync(1, pending);
    pending = '';
  });
  return (line) => {
    if (pending === '') setImmediate(flush);
    pending += line;
  };
}

/** One sink per process: each would add its own exit listener (tests make hundreds of loggers). */
let stdout: ((line: string) => void) | undefined;
function sharedStdout(): (line: string) => void {
  if (!stdout) stdout = stdoutSink();
  return stdout;
}

export function createLogger(
  level: LogLevel,
  write: (line: string) => void = sharedStdout(),
  bindings: Record<string, unknown> = {},
): Logger {
  const min = RANK[level];
  const emit = (lvl: Exclude<LogLevel, 'silent'>, msg: string, fields?: Record<string, unknown>) => {
    if (RANK[lvl] < min) return;
    const entry = redact({ level: lvl, time: new Date().toISOString(), msg, ...bindings, ...fields });
    write(`${JSON.stringify(entry)}\n`);
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (more) => createLogger(level, write, { ...bindings, ...more }),
  };
}
