// Structured logs: one JSON object per line (default), or short lines for a person at a terminal.
export type Level = 'info' | 'warn' | 'error';

export interface Logger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export function createLogger(format: 'json' | 'pretty' | 'silent', out: (line: string) => void = (l) => process.stdout.write(l + '\n')): Logger {
  const emit = (level: Level, msg: string, fields: Record<string, unknown> = {}) => {
    if (format === 'silent') return;
    if (format === 'json') {
      out(JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }));
      return;
    }
    const time = new Date().toISOString().slice(11, 19);
    const extra = Object.entries(fields)
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(' ');
    out(`${time} ${level === 'info' ? '' : level.toUpperCase() + ' '}${msg}${extra ? '  ' + extra : ''}`);
  };
  return {
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}
