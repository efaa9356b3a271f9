import { AppError } from './app-error';
import { failureClass, failureCode } from './failure-class';

const pgError = (code: string, message = 'pg') => Object.assign(new Error(message), { code, severity: 'ERROR' });
const sysError = (code: string) => Object.assign(new Error(`connect ${code}`), { code, errno: -111, syscall: 'connect' });
const kafkaError = (name: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(name), { name, ...extra });

describe('failureClass', () => {
  it.each([
    ['a validation AppError', new AppError('validation', 'x')],
    ['a contract violation', new AppError('contract-violation', 'x')],
    ['a NUL byte refused by PostgreSQL (22021)', pgError('22021', 'invalid byte sequence for encoding "UTF8": 0x00')],
    ['a value too long (22001)', pgError('22001')],
    ['a unique violation (23505)', pgError('23505')],
    ['a check violation (23514)', pgError('23514')],
    ['an undefined column (42703)', pgError('42703')],
    ['a RangeError (deep nesting, invalid length)', new RangeError('Maximum call stack size exceeded')],
    ['a SyntaxError', new SyntaxError('Unexpected token')],
    ['a message too large for the broker', kafkaError('KafkaJSProtocolError', { type: 'MESSAGE_TOO_LARGE' })],
  ])('%s is permanent: dead-lettered at once', (_name, error) => {
    expect(failureClass(error)).toBe('permanent');
  });

  it.each([
    ['PostgreSQL refusing connections', sysError('ECONNREFUSED')],
    ['a reset connection', sysError('ECONNRESET')],
    ['a DNS failure', sysError('EAI_AGAIN')],
    ['PostgreSQL shutting down (57P01)', pgError('57P01')],
    ['PostgreSQL connection failure (08006)', pgError('08006')],
    ['PostgreSQL out of connections (53300)', pgError('53300')],
    ['a pg pool timeout', new Error('timeout exceeded when trying to connect')],
    ['the broker gone', kafkaError('KafkaJSConnectionError')],
    ['kafkajs out of retries', kafkaError('KafkaJSNumberOfRetriesExceeded')],
    ['a dependency reported unavailable', new AppError('upstream-unavailable', 'control plane unreachable')],
  ])('%s is an outage: pause, never spend the message bound', (_name, error) => {
    expect(failureClass(error)).toBe('outage');
  });

  it.each([
    ['a serialization failure (40001)', pgError('40001')],
    ['a deadlock (40P01)', pgError('40P01')],
    ['a statement timeout (57014)', pgError('57014')],
    ['an internal AppError', new AppError('internal', 'x')],
    ['an unknown Error', new Error('boom')],
    ['a TypeError (a bug: may pass once fixed and redeployed, bounded)', new TypeError('x is undefined')],
    ['a thrown string', 'boom'],
  ])('%s is transient: retried up to the bound', (_name, error) => {
    expect(failureClass(error)).toBe('transient');
  });
});

describe('failureCode', () => {
  it('names the failure for the dead letter', () => {
    expect(failureCode(pgError('22021'))).toBe('SQLSTATE_22021');
    expect(failureCode(new RangeError('x'))).toBe('RANGE_ERROR');
    expect(failureCode(kafkaError('KafkaJSProtocolError', { type: 'MESSAGE_TOO_LARGE' }))).toBe('MESSAGE_TOO_LARGE');
    expect(failureCode(new AppError('validation', 'x', { code: 'SNAPSHOT_OUTSIDE_TENANT_ROOT' }))).toBe(
      'SNAPSHOT_OUTSIDE_TENANT_ROOT',
    );
    expect(failureCode(new AppError('validation', 'x'))).toBe('NON_RETRYABLE');
    expect(failureCode(new AppError('validation', 'x', { code: 'not a code\n' }))).toBe('NON_RETRYABLE');
  });
});
