import { Transform, type TransformCallback } from 'node:stream';
import { prettyFactory } from 'pino-pretty';

/**
 * The services log JSON lines (pino) for machines; at a terminal, `npm start` shows them as
 * `[service] 12:00:01.123 INFO: message {fields}` instead. Each line keeps the prefix the supervisor gave it;
 * a line that is not a pino record (a crash's stack trace, the supervisor's own notes) passes unchanged.
 */
export function readableLogs({ colorize = false } = {}): Transform {
  const formatLine = logLineFormatter({ colorize });
  let pending = '';
  return new Transform({
    transform(chunk: Buffer | string, _encoding, done: TransformCallback) {
      const lines = (pending + chunk.toString()).split('\n');
      pending = lines.pop() ?? '';
      done(null, lines.length ? `${lines.map(formatLine).join('\n')}\n` : '');
    },
    flush(done: TransformCallback) {
      done(null, pending ? formatLine(pending) : '');
    },
  });
}

/** One line of output, made readable if it holds a pino record after its prefix (see readableLogs). */
export function logLineFormatter({ colorize = false } = {}): (line: string) => string {
  const pretty = prettyFactory({
    colorize,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,service',
    singleLine: true,
  });
  return (line: string): string => {
    const start = line.indexOf('{');
    if (start < 0) return line;
    let record: unknown;
    try {
      record = JSON.parse(line.slice(start));
    } catch {
      return line;
    }
    if (!record || typeof record !== 'object' || !('level' in record)) return line;
    return line.slice(0, start) + pretty(record).trimEnd();
  };
}
