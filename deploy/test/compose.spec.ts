import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { load } from 'js-yaml';

const ROOT = resolve(__dirname, '../..');

/** The deployable services: their Dockerfile, port and health path. export-cli is a CLI, not an image. */
const SERVICES = {
  'connection-management': { port: 3000, health: '/healthz' },
  'segment-extraction': { port: 3001, health: '/healthz' },
  'field-mapping': { port: 3002, health: '/healthz' },
  'autopilot-delivery': { port: 3003, health: '/healthz' },
  'autopilot-simulator': { port: 8089, health: '/__sim/health' },
} as const;
type ServiceName = keyof typeof SERVICES;
const NAMES = Object.keys(SERVICES) as ServiceName[];

interface ComposeService {
  image?: string;
  command?: string[];
  restart?: string;
  build?: { context: string; dockerfile: string; args?: Record<string, string> };
  environment?: Record<string, string>;
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string; required?: boolean }>;
  profiles?: string[];
}

// docker compose is not installed here: the file is checked with a YAML parser (merge keys resolved).
const compose = load(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as { services: Record<string, ComposeService> };
const services = compose.services;

describe('docker-compose.yml', () => {
  it.each(NAMES)('builds %s from its own Dockerfile', (name) => {
    const build = services[name]?.build;
    expect(build).toEqual({ context: '.', dockerfile: `apps/${name}/Dockerfile` });
    expect(existsSync(join(ROOT, build?.dockerfile ?? ''))).toBe(true);
  });

  it.each(NAMES)('gives %s its port and a health check on it', (name) => {
    const service = services[name];
    const { port, health } = SERVICES[name];
    expect(service?.environment?.['PORT']).toBe(String(port));
    const check = service?.healthcheck?.test.join(' ') ?? '';
    expect(check).toContain(health);
    if (name === 'autopilot-simulator') expect(check).toContain(`:${port}/`);
    else expect(check).toContain('process.env.PORT');
  });

  const pipeline = NAMES.filter((n) => n !== 'autopilot-simulator');
  it.each(pipeline)('points %s at the containers and waits for the topics', (name) => {
    const service = services[name] as ComposeService;
    expect(service.environment).toMatchObject({
      KAFKA_BROKERS: 'kafka:9092',
      DATABASE_URL: expect.stringContaining('@postgres:5432/'),
      REDIS_URL: 'redis://redis:6379',
      // The simulator by default; AUTOPILOT_BASE_URL (environment or .env) points them at the real Autopilot.
      AUTOPILOT_BASE_URL: '${AUTOPILOT_BASE_URL:-http://autopilot-simulator:8089/v1}',
      CONTROL_PLANE_URL: 'http://connection-management:3100',
      NODE_ENV: 'development',
    });
    expect(service.depends_on?.['kafka-topics']).toEqual({ condition: 'service_completed_successfully' });
  });

  it("serves the control plane's internal listener on the compose network only, never on the host", () => {
    const cp = services['connection-management'] as ComposeService & { ports?: string[] };
    expect(cp.environment).toMatchObject({ INTERNAL_PORT: '3100', INTERNAL_HOST: '0.0.0.0' });
    expect(cp.ports ?? []).toEqual(['3000:3000']);
  });

  it('runs the simulator only with the simulator profile; delivery waits for it only when it runs', () => {
    expect(services['autopilot-simulator']?.profiles).toEqual(['simulator']);
    for (const [name, service] of Object.entries(services)) {
      if (name !== 'autopilot-simulator') expect({ name, profiles: service.profiles }).toEqual({ name, profiles: undefined });
    }
    expect(services['autopilot-delivery']?.depends_on?.['autopilot-simulator']).toEqual({
      condition: 'service_healthy',
      required: false,
    });
  });

  it('starts each service after what it needs', () => {
    const needs = (name: string) => Object.keys(services[name]?.depends_on ?? {}).sort();
    expect(needs('connection-management')).toEqual(['connection-management-migrate', 'kafka-topics', 'postgres']);
    expect(needs('segment-extraction')).toEqual(['kafka-topics']);
    expect(needs('field-mapping')).toEqual(['kafka-topics']);
    expect(needs('autopilot-delivery')).toEqual(
      ['autopilot-delivery-migrate', 'autopilot-simulator', 'connection-management', 'kafka-topics', 'postgres', 'redis'].sort(),
    );
  });

  // The services with a PostgreSQL schema: a one-shot migrate service each, which the service waits for.
  it.each(['connection-management', 'autopilot-delivery'] as const)(
    'migrates the schema of %s once, in a one-shot service it waits for, not at its start',
    (name) => {
      const service = services[name] as ComposeService;
      const migrate = services[`${name}-migrate`] as ComposeService;
      const cmd = readFileSync(join(ROOT, 'apps', name, 'Dockerfile'), 'utf8')
        .split('\n')
        .filter((line) => line.startsWith('CMD '))
        .pop();
      expect(migrate.build).toEqual(service.build);
      expect(migrate.command).toEqual([...(JSON.parse(cmd?.slice(4) ?? '[]') as string[]), 'migrate']);
      expect(migrate.environment?.['DATABASE_URL']).toBe(service.environment?.['DATABASE_URL']);
      expect(migrate.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
      // A failed migration stops `docker compose up` with its exit code instead of being retried blindly.
      expect(migrate.restart).toBe('no');
      expect(service.depends_on?.[`${name}-migrate`]).toEqual({ condition: 'service_completed_successfully' });
      expect(service.environment?.['MIGRATE_ON_START']).toBe('false');
    },
  );

  it('migrates nothing in the services without a schema', () => {
    for (const name of ['segment-extraction', 'field-mapping'])
      expect(Object.keys(services).filter((s) => s.startsWith(`${name}-migrate`))).toEqual([]);
  });

  it('waits only on health checks that exist, and on services that exist', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const [dependency, { condition }] of Object.entries(service.depends_on ?? {})) {
        expect({ name, dependency, exists: dependency in services }).toEqual({ name, dependency, exists: true });
        if (condition === 'service_healthy')
          expect({ name, dependency, healthcheck: Boolean(services[dependency]?.healthcheck) }).toEqual({
            name,
            dependency,
            healthcheck: true,
          });
      }
    }
  });

  it('holds no secrets: only development defaults, overridable from the environment', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const [key, value] of Object.entries(service.environment ?? {})) {
        if (!/SECRET|KEY$|ENCRYPTION/.test(key) || key === 'SIM_API_KEYS') continue;
        expect({ name, key, value }).toEqual({ name, key, value: expect.stringMatching(/^\$\{[A-Z_]+:-dev-only-[^}]+\}$/) });
      }
    }
  });
});

describe.each(NAMES)('apps/%s/Dockerfile', (name) => {
  const text = readFileSync(join(ROOT, 'apps', name, 'Dockerfile'), 'utf8');
  const instructions = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .filter((line) => line.trim() && !line.trim().startsWith('#'));
  const stages = instructions.filter((line) => line.startsWith('FROM '));
  const runtime = instructions.slice(instructions.lastIndexOf(stages[stages.length - 1] as string));

  it('is multi-stage: builds the app, installs only its production dependencies', () => {
    expect(stages.map((line) => line.split(' AS ')[1])).toEqual(['build', 'deps', 'runtime']);
    expect(text).toContain(`npx nx build ${name} `);
    expect(text).toContain('npm ci --omit=dev');
    expect(text).toContain(`/workspace/dist/apps/${name}/package.json`);
  });

  it('runs as a numeric non-root user with its port, health check and graceful stop', () => {
    const { port, health } = SERVICES[name];
    expect(runtime).toContain('USER 1000:1000');
    expect(runtime.some((line) => /^ENV .*NODE_ENV=production/.test(line) && line.includes(`PORT=${port}`))).toBe(true);
    expect(runtime.some((line) => line === `EXPOSE ${port}` || line.startsWith(`EXPOSE ${port} `))).toBe(true);
    expect(runtime.find((line) => line.startsWith('HEALTHCHECK'))).toContain(health);
    expect(runtime).toContain('STOPSIGNAL SIGTERM');
    expect(runtime[runtime.length - 1]).toBe('CMD ["node", "--enable-source-maps", "main.js"]');
  });

  it('copies nothing into the runtime image but the bundle and its node_modules', () => {
    const copies = runtime.filter((line) => line.startsWith('COPY'));
    expect(copies).toEqual([
      'COPY --from=deps /app/node_modules ./node_modules',
      `COPY --from=build /workspace/dist/apps/${name}/ ./`,
    ]);
  });
});
