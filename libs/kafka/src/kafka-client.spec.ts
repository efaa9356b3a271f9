import { Writable } from 'node:stream';
import pino from 'pino';
import { describeKafkaSecurity } from './kafka-client';
import { KafkaModule } from './kafka.module';

const sasl = { mechanism: 'scram-sha-512' as const, username: 'field-mapping', password: 'p4ssw0rd-never-logged' };

function capture() {
  const lines: string[] = [];
  const stream = new Writable({ write: (chunk, _enc, done) => (lines.push(chunk.toString()), done()) });
  return { logger: pino({ level: 'info' }, stream), lines };
}

describe('Kafka connection security', () => {
  it('names the protocol and the user, never the password', () => {
    expect(describeKafkaSecurity({})).toEqual({ protocol: 'PLAINTEXT' });
    expect(describeKafkaSecurity({ ssl: true })).toEqual({ protocol: 'SSL' });
    expect(describeKafkaSecurity({ sasl })).toEqual({ protocol: 'SASL_PLAINTEXT', mechanism: 'scram-sha-512', username: 'field-mapping' });
    expect(describeKafkaSecurity({ ssl: { ca: ['pem'] }, sasl })).toMatchObject({ protocol: 'SASL_SSL' });
  });

  it('logs the connection and its warnings once at start, without the password', () => {
    const { logger, lines } = capture();
    KafkaModule.forRoot({ service: 'field-mapping', brokers: ['b:9093'], logger, ssl: true, sasl, warnings: ['plaintext allowed'] });
    const records = lines.map((line) => JSON.parse(line));
    expect(records).toEqual([
      expect.objectContaining({ msg: 'kafka connection', protocol: 'SASL_SSL', username: 'field-mapping' }),
      expect.objectContaining({ msg: 'plaintext allowed', level: 40 }),
    ]);
    expect(lines.join('')).not.toContain(sasl.password);
  });
});
