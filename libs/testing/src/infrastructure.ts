import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** What the tests and the demo need besides the services. */
export type Resource = 'kafka' | 'postgres' | 'redis';
export const RESOURCES: readonly Resource[] = ['kafka', 'postgres', 'redis'];

/**
 * The variables that say where a resource is (any one set = given). Tests read KAFKA_BROKERS,
 * TEST_ADMIN_DATABASE_URL and REDIS_URL; the demo and `npm start` read DATABASE_URL.
 */
export const RESOURCE_VARIABLES: Record<Resource, readonly string[]> = {
  kafka: ['KAFKA_BROKERS'],
  postgres: ['TEST_ADMIN_DATABASE_URL', 'DATABASE_URL'],
  redis: ['REDIS_URL'],
};

/**
 * Where a resource comes from: `container` (testcontainers starts it), `given` (a variable names it), or
 * `local` (the machine's own: the broker of tools/kafka, PostgreSQL on 5432, Redis on 6379, as
 * tools/scripts/ensure-services.sh starts them).
 */
export type Source = 'container' | 'given' | 'local';

export type InfrastructurePlan = Record<Resource, Source>;

/**
 * The decision, per resource: a container when a Docker engine answers and no variable names the resource;
 * otherwise what the variables say, or the local one. Pure.
 */
export function planInfrastructure(env: NodeJS.ProcessEnv, docker: boolean): InfrastructurePlan {
  const source = (resource: Resource): Source => {
    if (RESOURCE_VARIABLES[resource].some((name) => (env[name] ?? '') !== '')) return 'given';
    return docker ? 'container' : 'local';
  };
  return { kafka: source('kafka'), postgres: source('postgres'), redis: source('redis') };
}

/** Where a Docker engine would listen: DOCKER_HOST, else the usual sockets (system, rootless, Docker Desktop). */
export function dockerEndpoints(
  env: NodeJS.ProcessEnv,
): ({ socketPath: string } | { host: string; port: number })[] {
  const dockerHost = env['DOCKER_HOST'];
  if (dockerHost) {
    if (dockerHost.startsWith('unix://')) return [{ socketPath: dockerHost.slice('unix://'.length) }];
    const tcp = /^tcp:\/\/([^:/]+):(\d+)/.exec(dockerHost);
    return tcp ? [{ host: tcp[1], port: Number(tcp[2]) }] : [];
  }
  const runtimeDir = env['XDG_RUNTIME_DIR'];
  return [
    '/var/run/docker.sock',
    ...(runtimeDir ? [join(runtimeDir, 'docker.sock')] : []),
    join(homedir(), '.docker', 'run', 'docker.sock'),
  ].map((socketPath) => ({ socketPath }));
}

/**
 * Whether a Docker engine answers its ping (`GET /_ping` -> 200 OK) within `timeoutMs`. Fast when there is
 * none: a missing socket is not even tried. A client without an engine (as on the project's machines) is "no".
 */
export async function dockerAnswers(
  env: NodeJS.ProcessEnv = process.env,
  {
    timeoutMs = 2000,
    socketExists = existsSync,
  }: { timeoutMs?: number; socketExists?: (path: string) => boolean } = {},
): Promise<boolean> {
  for (const endpoint of dockerEndpoints(env)) {
    if ('socketPath' in endpoint && !socketExists(endpoint.socketPath)) continue;
    if (await ping(endpoint, timeoutMs)) return true;
  }
  return false;
}

function ping(
  endpoint: { socketPath: string } | { host: string; port: number },
  timeoutMs: number,
): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ ...endpoint, path: '/_ping', method: 'GET', timeout: timeoutMs }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve(res.statusCode === 200 && body.trim() === 'OK'));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}
