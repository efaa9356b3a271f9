import { ApiError } from './api-error';
import { FaultInjector } from './fault-injector';
import { DEFAULT_SWITCHES, simulatorSwitchesSchema } from './simulator-switches';

function injector(start = {}, random = () => 0.5) {
  let now = 1_000;
  const clock = {
    advance: (ms: number) => (now += ms),
  };
  const faults = new FaultInjector(simulatorSwitchesSchema.parse(start), () => now, random);
  return { faults, clock };
}

describe('FaultInjector', () => {
  it('injects nothing with the default switches', () => {
    const { faults } = injector();
    expect(faults.force429('POST /contacts')).toBe(false);
    expect(faults.fail503('POST /contacts')).toBe(false);
    expect(faults.hang('POST /contacts')).toBeNull();
    expect(faults.latency('POST /contacts')).toBe(0);
    expect(faults.isBadEmail('bad@x.com')).toBe(false);
    expect(faults.current).toEqual(DEFAULT_SWITCHES);
  });

  it('fails exactly the next N requests', () => {
    const { faults } = injector({ fail503Next: 2, hangNext: 1, hangMs: 250, force429Next: 1 });
    expect([1, 2, 3].map(() => faults.fail503('GET /account'))).toEqual([true, true, false]);
    expect([1, 2].map(() => faults.hang('GET /account'))).toEqual([250, null]);
    expect([1, 2].map(() => faults.force429('GET /account'))).toEqual([true, false]);
  });

  it('uses the random source for probabilities and jitter', () => {
    const { faults } = injector({ fail503Probability: 0.3, hangProbability: 0.3, latencyMs: 10, latencyJitterMs: 10 }, () => 0.2);
    expect(faults.fail503('POST /contacts')).toBe(true);
    expect(faults.hang('POST /contacts')).toBe(30_000);
    expect(faults.latency('POST /contacts')).toBe(12);
  });

  it('limits faults to the chosen routes', () => {
    const { faults } = injector({ fail503Next: 1, faultRoutes: ['POST /contacts'] });
    expect(faults.fail503('GET /account')).toBe(false);
    expect(faults.fail503('POST /contacts')).toBe(true);
  });

  it('answers 429 to everything during a forced burst', () => {
    const { faults, clock } = injector();
    faults.patch({ force429ForMs: 500 });
    expect(faults.force429('GET /lists')).toBe(true);
    clock.advance(499);
    expect(faults.force429('GET /lists')).toBe(true);
    clock.advance(1);
    expect(faults.force429('GET /lists')).toBe(false);
  });

  it('matches email patterns case-insensitively', () => {
    const { faults } = injector({ badEmailPattern: 'bad', dropEmailPattern: '^drop' });
    expect(faults.isBadEmail('a.BAD@x.com')).toBe(true);
    expect(faults.isDroppedEmail('drop.me@x.com')).toBe(true);
    expect(faults.isDroppedEmail('me.drop@x.com')).toBe(false);
  });

  it('revokes keys at once or after a number of authenticated requests', () => {
    const { faults } = injector({ revokedKeys: ['gone'], revokeAfter: { soon: 2 } });
    expect(faults.isRevoked('gone')).toBe(true);
    expect(faults.isRevoked('soon')).toBe(false);
    faults.noteAuthenticated('soon');
    faults.noteAuthenticated('soon');
    expect(faults.isRevoked('soon')).toBe(true);
    expect(faults.view().remaining.revokeAfter).toEqual({ soon: 0 });
  });

  it('PUT starts from the start switches, PATCH from the current ones', () => {
    const { faults } = injector({ rateLimitRps: 7 });
    faults.patch({ latencyMs: 20, fail503Next: 3 });
    faults.fail503('GET /account');
    faults.patch({ latencyMs: 30 });
    expect(faults.view().remaining.fail503Next).toBe(2);
    expect(faults.current).toMatchObject({ rateLimitRps: 7, latencyMs: 30, fail503Next: 3 });
    faults.replace({ hangNext: 1 });
    expect(faults.current).toMatchObject({ rateLimitRps: 7, latencyMs: 0, fail503Next: 0, hangNext: 1 });
    faults.reset();
    expect(faults.current.hangNext).toBe(0);
  });

  it('rejects unknown or invalid switches with a readable message', () => {
    const { faults } = injector();
    expect(() => faults.patch({ latencyMS: 5 })).toThrow(ApiError);
    expect(() => faults.patch({ badEmailPattern: '(' })).toThrow(/valid regular expression/);
    expect(() => faults.patch({ faultRoutes: ['POST /nope'] })).toThrow(ApiError);
    expect(() => faults.patch([1])).toThrow(/JSON object/);
  });
});
