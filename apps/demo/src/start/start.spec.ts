import { loadStartEnv, startPlan } from './start-plan';
import { readableLogs } from './readable-logs';

const files = (contents: Record<string, string>) => ({
  exists: (path: string) => path in contents,
  read: (path: string) => contents[path] ?? '',
});

describe('loadStartEnv', () => {
  it('reads .env, and the environment wins over it', () => {
    const loaded = loadStartEnv(
      { processEnv: { KAFKA_BROKERS: 'k:1' } },
      files({
        '.env': 'KAFKA_BROKERS=a:9092\n# a comment\nREDIS_URL="redis://r:6379"\n',
        '.env.example': 'X=1',
      }),
    );
    expect(loaded).toEqual({
      env: { KAFKA_BROKERS: 'k:1', REDIS_URL: 'redis://r:6379' },
      file: '.env',
      notice: undefined,
    });
  });

  it('falls back to .env.example, and says so, only when no file was named', () => {
    const loaded = loadStartEnv({ processEnv: {} }, files({ '.env.example': 'NODE_ENV=development' }));
    expect(loaded.file).toBe('.env.example');
    expect(loaded.notice).toMatch(/no \.env here: using \.env\.example/);
    expect(() =>
      loadStartEnv({ envFile: 'prod.env', processEnv: {} }, files({ '.env.example': '' })),
    ).toThrow('prod.env: no such file (--env-file)');
  });
});

describe('startPlan', () => {
  it('runs the four services on 3000-3003 with their own groups, migrating first', () => {
    const plan = startPlan({ KAFKA_BROKERS: 'k:1' });
    expect(plan.services.map((s) => [s.name, s.port, s.entry])).toEqual([
      ['connection-management', 3000, 'dist/apps/connection-management/main.js'],
      ['segment-extraction', 3001, 'dist/apps/segment-extraction/main.js'],
      ['field-mapping', 3002, 'dist/apps/field-mapping/main.js'],
      ['autopilot-delivery', 3003, 'dist/apps/autopilot-delivery/main.js'],
    ]);
    expect(
      plan.services.every((s) => s.env['KAFKA_BROKERS'] === 'k:1' && s.env['KAFKA_GROUP_ID'] === undefined),
    ).toBe(true);
    expect(plan.migrations.map((s) => s.name)).toEqual(['connection-management', 'autopilot-delivery']);
    expect(plan.services.filter((s) => s.env['MIGRATE_ON_START'] === 'false').map((s) => s.name)).toEqual([
      'connection-management',
      'autopilot-delivery',
    ]);
  });

  it('takes ports and groups per service, and leaves migrating to the services with MIGRATE_ON_START=true', () => {
    const plan = startPlan({
      FIELD_MAPPING_PORT: '4002',
      AUTOPILOT_DELIVERY_KAFKA_GROUP_ID: 'team-a.delivery',
      MIGRATE_ON_START: 'true',
    });
    const byName = Object.fromEntries(plan.services.map((s) => [s.name, s]));
    expect(byName['field-mapping'].env['PORT']).toBe('4002');
    expect(byName['autopilot-delivery'].env['KAFKA_GROUP_ID']).toBe('team-a.delivery');
    expect(byName['autopilot-delivery'].env['MIGRATE_ON_START']).toBe('true');
    expect(plan.migrations).toEqual([]);
  });

  it('refuses one PORT or KAFKA_GROUP_ID for all four, bad ports and collisions, naming the variables', () => {
    expect(() => startPlan({ PORT: '3000', KAFKA_GROUP_ID: 'g' })).toThrow(
      /PORT is set for all four services; set it per service instead \(CONNECTION_MANAGEMENT_PORT, [\s\S]*KAFKA_GROUP_ID is set for all four/,
    );
    expect(() => startPlan({ SEGMENT_EXTRACTION_PORT: 'http' })).toThrow(
      'SEGMENT_EXTRACTION_PORT: must be a port number',
    );
    expect(() => startPlan({ FIELD_MAPPING_PORT: '3100' })).toThrow('INTERNAL_PORT: 3100 is also a service');
    expect(() => startPlan({ FIELD_MAPPING_PORT: '3000' })).toThrow('two services on one port');
  });
});

describe('readableLogs', () => {
  it('turns pino JSON lines into readable ones behind their prefix, and passes other lines as they are', async () => {
    const stream = readableLogs();
    const out: string[] = [];
    stream.on('data', (chunk: Buffer) => out.push(chunk.toString()));
    const record = JSON.stringify({
      level: 'info',
      time: Date.UTC(2026, 11, 1, 4, 0, 1),
      pid: 1,
      hostname: 'h',
      service: 'x',
      msg: 'ready',
      runId: 'r1',
    });
    stream.write(`[field-mapping] ${record.slice(0, 20)}`);
    stream.write(`${record.slice(20)}\n[field-mapping] TypeError: boom\n`);
    stream.end('{"not":"a log"}');
    await new Promise((resolve) => stream.on('end', resolve));
    const lines = out.join('').split('\n');
    expect(lines[0]).toMatch(/^\[field-mapping\] \[\d\d:\d\d:\d\d\.\d{3}\] INFO: ready \{"runId":"r1"\}$/);
    expect(lines.slice(1)).toEqual(['[field-mapping] TypeError: boom', '{"not":"a log"}']);
  });
});
