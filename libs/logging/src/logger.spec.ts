import { Writable } from 'node:stream';
import pino from 'pino';
import { REDACTED_PATHS } from './logger';

describe('log redaction', () => {
  it('never writes an API key or an authorization header', () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
    const logger = pino({ redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }, sink);
    logger.info({ connection: { apiKey: 'sk-secret-1234' }, req: { headers: { authorization: 'Bearer abc.def' } } }, 'x');
    logger.info({ config: { headers: { autopilotapikey: 'sk-secret-5678' } } }, 'y');
    const all = lines.join('');
    expect(all).not.toContain('sk-secret');
    expect(all).not.toContain('abc.def');
    expect(all).toContain('[redacted]');
  });
});
