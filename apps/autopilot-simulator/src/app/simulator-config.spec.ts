import { SimulatorConfigError, loadSimulatorConfig } from './simulator-config';
import { DEFAULT_SWITCHES } from './simulator-switches';

describe('loadSimulatorConfig', () => {
  it('has sensible defaults', () => {
    expect(loadSimulatorConfig({})).toEqual({
      port: 8089,
      host: '127.0.0.1',
      basePath: '/v1',
      apiKeys: [],
      logLevel: 'info',
      logRequests: false,
      switches: DEFAULT_SWITCHES,
    });
  });

  it('reads the environment, with empty variables meaning unset', () => {
    const config = loadSimulatorConfig({
      PORT: '9000',
      SIM_API_KEYS: 'k1, k2:acme ,k3:acme',
      SIM_RATE_LIMIT_RPS: '0',
      SIM_RETRY_AFTER: 'true',
      SIM_LATENCY_MS: '',
      SIM_FAIL_503_PROBABILITY: '0.25',
      SIM_BAD_EMAIL_PATTERN: 'bad',
      SIM_REVOKE_AFTER: 'k1=3',
      SIM_FAULT_ROUTES: 'POST /contacts, GET /account',
      SIM_DUPLICATE_LIST_MODE: 'conflict',
    });
    expect(config.port).toBe(9000);
    expect(config.apiKeys).toEqual([
      { key: 'k1', account: 'k1' },
      { key: 'k2', account: 'acme' },
      { key: 'k3', account: 'acme' },
    ]);
    expect(config.switches).toMatchObject({
      rateLimitRps: 0,
      retryAfter: true,
      latencyMs: 0,
      fail503Probability: 0.25,
      badEmailPattern: 'bad',
      revokeAfter: { k1: 3 },
      faultRoutes: ['POST /contacts', 'GET /account'],
      duplicateListMode: 'conflict',
    });
  });

  it('lets command-line flags win over the environment', () => {
    const config = loadSimulatorConfig({ PORT: '9000', SIM_RATE_LIMIT_RPS: '5' }, [
      '--port',
      '0',
      '--rate-limit-rps',
      '20',
      '--retry-after',
      '--fail-503-next',
      '2',
      '--base-path',
      '/api/v1',
    ]);
    expect(config).toMatchObject({ port: 0, basePath: '/api/v1', switches: { rateLimitRps: 20, retryAfter: true, fail503Next: 2 } });
  });

  it('lists every problem with the variable and flag to fix', () => {
    let error: unknown;
    try {
      loadSimulatorConfig({ PORT: 'eighty', SIM_RATE_LIMIT_RPS: '-1', SIM_HANG_PROBABILITY: '2', SIM_BAD_EMAIL_PATTERN: '(' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SimulatorConfigError);
    expect((error as SimulatorConfigError).problems).toEqual([
      'PORT (--port): Invalid input: expected number, received NaN',
      'SIM_RATE_LIMIT_RPS (--rate-limit-rps): Too small: expected number to be >=0',
      'SIM_HANG_PROBABILITY (--hang-probability): Too big: expected number to be <=1',
      'SIM_BAD_EMAIL_PATTERN (--bad-email-pattern): must be a valid regular expression',
    ]);
    expect((error as Error).message).toMatch(/^Invalid autopilot-simulator configuration:\n {2}- PORT/);
    expect(() => loadSimulatorConfig({ SIM_REVOKE_AFTER: 'k1' })).toThrow(/SIM_REVOKE_AFTER.*key=count/);
  });
});
