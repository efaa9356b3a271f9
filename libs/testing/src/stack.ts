import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { createTestDatabase, type TestDatabase } from './database';
import { defaultTestKafka, freePort, serviceConsumerGroups, startGroupAtEnd, type TestKafkaConnection } from './kafka';
import { startServiceProcess, WORKSPACE_ROOT, type ServiceProcess } from './service-process';
import { TEST_SNAPSHOT_ROOT } from './snapshots';

export interface StackOptions {
  /** Requests per second the simulator allows per key (0 = unlimited). */
  simulatorRps?: number;
  /** Pace of the delivery service (defaults to the simulator's limit; 0 = no pacing). */
  deliveryRps?: number;
  /** API keys the simulator accepts. */
  apiKeys?: string[];
  /** Number of delivery instances. */
  deliveryInstances?: number;
  /** First port; the stack takes the next nine, and first + 100 for the control plane's internal listener. */
  basePort?: number;
  logDir?: string;
  /** Database to use instead of a fresh one (the demo keeps its own). */
  databaseUrl?: string;
  logLevel?: string;
  /** SNAPSHOT_ROOT of the control plane and extraction (default TEST_SNAPSHOT_ROOT, `<workspace>/tmp/snapshots`). */
  snapshotRoot?: string;
  /** Extra environment per app (e.g. `{ 'autopilot-delivery': { AUTOPILOT_PACING_MARGIN_MS: '4' } }`). */
  env?: Partial<Record<string, Record<string, string>>>;
  /** Node options per app (e.g. `{ 'field-mapping': ['--cpu-prof'] }`). */
  nodeArgs?: Partial<Record<string, string[]>>;
  /**
   * The broker the services use and how the stack's own clients (consumer-group set-up) connect to it;
   * default: the shared broker, PLAINTEXT. The services' own credentials go in `env` (KAFKA_SASL_*).
   */
  kafka?: TestKafkaConnection;
}

export interface Stack {
  apiUrl: string;
  /** Where a tenant's snapshots must be written: `<snapshotRoot>/<tenantId>/` (see tenantSnapshotDir). */
  snapshotRoot: string;
  /** The control plane's internal listener (service calls only; /metrics and /docs when moved there). */
  internalUrl: string;
  simulatorUrl: string;
  database?: TestDatabase;
  databaseUrl: string;
  services: Record<string, ServiceProcess>;
  deliveries: ServiceProcess[];
  startDelivery(index: number): Promise<ServiceProcess>;
  /**
   * Starts a service again under its stack name (e.g. `segment-extraction`, `autopilot-delivery-0`) with the
   * same port, group and environment, after it was stopped or killed; waits until it is ready.
   */
  restart(name: string): Promise<ServiceProcess>;
  stop(): Promise<void>;
}

/** Redis of the tests: REDIS_URL (a container's, see tools/scripts/with-infrastructure.ts), else the local one. */
export const TEST_REDIS_URL = process.env['REDIS_URL'] || 'redis://127.0.0.1:6379';

export const DEV_JWT_SECRET = 'dev-only-auth-jwt-secret-for-local-development';
/** The development default of INTERNAL_AUTH_SECRET (service tokens between delivery and the control plane). */
export const DEV_INTERNAL_AUTH_SECRET = 'dev-only-internal-auth-secret-for-local-development';

/**
 * Starts the Autopilot simulator and the four services from their built artifacts (dist/apps), each a
 * separate process, against the local Kafka broker, PostgreSQL and Redis. Requires `nx run-many -t build`.
 */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  // A fixed block when asked (the demo's API on 3000), otherwise ports that are free now: stacks of
  // other suites or sessions may run on this machine at the same time.
  const base = options.basePort;
  const port = async (offset: number) => (base === undefined ? freePort() : base + offset);
  const ports = {
    api: await port(0),
    extraction: await port(1),
    mapping: await port(2),
    simulator: await port(3),
    delivery: await port(4),
    // The control plane's internal listener: 3100 next to the demo's 3000.
    internal: base === undefined ? await freePort() : base + 100,
  };
  const logDir = options.logDir ?? join(WORKSPACE_ROOT, 'tmp', 'logs', `stack-${Date.now()}`);
  const database = options.databaseUrl ? undefined : await createTestDatabase('stack');
  const databaseUrl = options.databaseUrl ?? (database as TestDatabase).url;
  const apiKeys = options.apiKeys ?? [`sim-key-${randomBytes(6).toString('hex')}`];
  const simulatorRps = options.simulatorRps ?? 0;
  // Delivery paces as the destination limits (0 = no pacing, for an unthrottled simulator).
  const deliveryRps = options.deliveryRps ?? simulatorRps;
  const simulatorUrl = `http://127.0.0.1:${ports.simulator}`;
  const apiUrl = `http://127.0.0.1:${ports.api}`;
  const snapshotRoot = options.snapshotRoot ?? TEST_SNAPSHOT_ROOT;
  const internalUrl = `http://127.0.0.1:${ports.internal}`;
  const kafka = options.kafka ?? defaultTestKafka();
  const common = {
    KAFKA_BROKERS: kafka.brokers.join(','),
    LOG_LEVEL: options.logLevel ?? 'info',
    AUTH_JWT_SECRET: DEV_JWT_SECRET,
    INTERNAL_AUTH_SECRET: DEV_INTERNAL_AUTH_SECRET,
  };
  const services: Record<string, ServiceProcess> = {};
  // Fresh consumer groups that start at the end of every topic: this stack sees only its own messages,
  // not the history that other tests left on the shared broker.
  const stackId = randomBytes(4).toString('hex');
  const group = (service: string) => `${service}-${stackId}`;
  await Promise.all(serviceConsumerGroups(group).map(([groupId, topics]) => startGroupAtEnd(groupId, topics, kafka)));
  const deliveries: ServiceProcess[] = [];
  const launchers = new Map<string, () => Promise<ServiceProcess>>();

  const start = async (name: string, app: string, port: number, env: Record<string, string>, readyPath?: string) => {
    const entry = `dist/apps/${app}/main.js`;
    const launch = async () => {
      const service = await startServiceProcess({
        name,
        entry,
        port,
        env: { ...common, KAFKA_GROUP_ID: group(app), ...env, ...options.env?.[app] },
        nodeArgs: options.nodeArgs?.[app],
        logDir,
        readyPath,
      });
      services[name] = service;
      const index = /^autopilot-delivery-(\d+)$/.exec(name);
      if (index) deliveries[Number(index[1])] = service;
      return service;
    };
    launchers.set(name, launch);
    return launch();
  };
  const startDelivery = async (index: number) => {
    const deliveryPort = index === 0 ? ports.delivery : await port(4 + index);
    const service = await start(`autopilot-delivery-${index}`, 'autopilot-delivery', deliveryPort, {
      DATABASE_URL: databaseUrl,
      REDIS_URL: TEST_REDIS_URL,
      CONTROL_PLANE_URL: internalUrl,
      AUTOPILOT_BASE_URL: `${simulatorUrl}/v1`,
      AUTOPILOT_RATE_LIMIT_RPS: String(deliveryRps),
    });
    return service;
  };

  try {
    await start('autopilot-simulator', 'autopilot-simulator', ports.simulator, {
      SIM_API_KEYS: apiKeys.join(','),
      SIM_RATE_LIMIT_RPS: String(simulatorRps),
    }, '/__sim/health');
    await start('connection-management', 'connection-management', ports.api, {
      DATABASE_URL: databaseUrl,
      AUTOPILOT_BASE_URL: `${simulatorUrl}/v1`,
      SNAPSHOT_ROOT: snapshotRoot,
      INTERNAL_PORT: String(ports.internal),
    });
    await Promise.all([
      start('segment-extraction', 'segment-extraction', ports.extraction, { SNAPSHOT_ROOT: snapshotRoot }),
      start('field-mapping', 'field-mapping', ports.mapping, {}),
    ]);
    for (let i = 0; i < (options.deliveryInstances ?? 1); i++) await startDelivery(i);
  } catch (error) {
    await Promise.allSettled(Object.values(services).map((s) => s.stop()));
    await database?.drop().catch(() => undefined);
    throw error;
  }

  return {
    apiUrl,
    snapshotRoot,
    internalUrl,
    simulatorUrl,
    database,
    databaseUrl,
    services,
    deliveries,
    startDelivery,
    restart: async (name: string) => {
      const launch = launchers.get(name);
      if (!launch) throw new Error(`No service ${name} in this stack`);
      await services[name]?.stop();
      return launch();
    },
    stop: async () => {
      await Promise.allSettled(Object.values(services).map((s) => s.stop()));
      await database?.drop().catch(() => undefined);
    },
  };
}

/**
 * A development user token as the control plane expects it (HS256 with AUTH_JWT_SECRET; claims sub/tid/role
 * and an `exp`, `expiresIn` from now), for tests, benchmarks and the demo.
 */
export function signToken(
  claims: { sub: string; tid: string; role: string },
  secret = DEV_JWT_SECRET,
  expiresIn = '1h',
): Promise<string> {
  const { sub, ...rest } = claims;
  return new SignJWT(rest)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(secret));
}
