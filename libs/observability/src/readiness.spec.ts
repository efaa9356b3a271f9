import { Readiness } from './readiness';

describe('Readiness', () => {
  it('is ready only when every check is up', async () => {
    const readiness = new Readiness();
    readiness.register('db', () => true);
    readiness.register('kafka', async () => false);
    expect(await readiness.evaluate()).toEqual({ ready: false, checks: { db: 'up', kafka: 'down' } });
  });

  it('treats a throwing check as down', async () => {
    const readiness = new Readiness();
    readiness.register('db', () => {
      throw new Error('connection refused');
    });
    expect((await readiness.evaluate()).ready).toBe(false);
  });
});
