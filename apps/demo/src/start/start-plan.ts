import { parseEnv } from 'node:util';

/** The four services `npm start` runs (the simulator is not one of them: it stands in for Autopilot). */
export const SERVICES = [
  { name: 'connection-management', defaultPort: 3000, migrates: true },
  { name: 'segment-extraction', defaultPort: 3001, migrates: false },
  { name: 'field-mapping', defaultPort: 3002, migrates: false },
  { name: 'autopilot-delivery', defaultPort: 3003, migrates: true },
] as const;

export type ServiceName = (typeof SERVICES)[number]['name'];

/** `connection-management` -> `CONNECTION_MANAGEMENT`: the prefix of a service's own settings in `.env`. */
export const serviceVariablePrefix = (name: string) => name.toUpperCase().replace(/-/g, '_');

/** Settings that belong to one service: set once for all four, they would collide. */
const PER_SERVICE = ['PORT', 'KAFKA_GROUP_ID'] as const;

export interface EnvSource {
  exists(path: string): boolean;
  read(path: string): string;
}

export interface LoadedEnv {
  env: Record<string, string>;
  /** The file the settings came from. */
  file: string;
  /** Said before anything starts, e.g. that `.env` is missing and `.env.example` is used. */
  notice?: string;
}

/**
 * The settings of the four services: the `.env` file (or the one named), under the process's own
 * environment, which wins (so `KAFKA_BROKERS=... npm start` works as expected). Without a `.env` and
 * without an explicit file, `.env.example` (development settings against the simulator) is used, and said.
 */
export function loadStartEnv(
  { envFile, processEnv }: { envFile?: string; processEnv: NodeJS.ProcessEnv },
  source: EnvSource,
): LoadedEnv {
  let file = envFile ?? '.env';
  let notice: string | undefined;
  if (!source.exists(file)) {
    if (envFile) throw new Error(`${envFile}: no such file (--env-file)`);
    file = '.env.example';
    notice =
      'no .env here: using .env.example (development settings; copy it to .env and edit it for your setup)';
    if (!source.exists(file)) throw new Error('neither .env nor .env.example found in the working directory');
  }
  const fromFile = parseEnv(source.read(file)) as Record<string, string>;
  const fromProcess = Object.fromEntries(
    Object.entries(processEnv).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  return { env: { ...fromFile, ...fromProcess }, file, notice };
}

export interface ServiceLaunch {
  name: ServiceName;
  port: number;
  /** `node dist/apps/<name>/main.js` */
  entry: string;
  env: Record<string, string>;
}

export interface StartPlan {
  /** One-shot `node main.js migrate` runs before the services start (empty with MIGRATE_ON_START=true). */
  migrations: ServiceLaunch[];
  services: ServiceLaunch[];
}

/**
 * What `npm start` runs, from the merged settings: each service on its port (`<SERVICE>_PORT`, default 3000-3003)
 * with its stable consumer group (`<SERVICE>_KAFKA_GROUP_ID`, default the service's own: its name). Unless
 * `MIGRATE_ON_START=true`, the two services with a schema are migrated first by their one-shot command and then
 * start with `MIGRATE_ON_START=false` (they refuse to start, naming what is pending, if the schema is behind).
 * Throws, naming the variable, on what cannot work.
 */
export function startPlan(env: Record<string, string>): StartPlan {
  const problems: string[] = [];
  for (const key of PER_SERVICE) {
    if (env[key] !== undefined && env[key] !== '') {
      problems.push(
        `${key} is set for all four services; set it per service instead (${SERVICES.map((s) => `${serviceVariablePrefix(s.name)}_${key}`).join(', ')})`,
      );
    }
  }
  const migrateOnStart = (env['MIGRATE_ON_START'] ?? '').trim().toLowerCase() === 'true';
  const services = SERVICES.map((service): ServiceLaunch => {
    const prefix = serviceVariablePrefix(service.name);
    const portText = env[`${prefix}_PORT`];
    const port = portText === undefined || portText === '' ? service.defaultPort : Number(portText);
    if (!Number.isInteger(port) || port < 1 || port > 65535)
      problems.push(`${prefix}_PORT: must be a port number (1-65535)`);
    const group = env[`${prefix}_KAFKA_GROUP_ID`];
    const own: Record<string, string> = { PORT: String(port), ...(group ? { KAFKA_GROUP_ID: group } : {}) };
    if (service.migrates && !migrateOnStart) own['MIGRATE_ON_START'] = 'false';
    return {
      name: service.name,
      port,
      entry: `dist/apps/${service.name}/main.js`,
      env: { ...withoutPerService(env), ...own },
    };
  });
  const ports = services.map((s) => s.port);
  const internal = Number(env['INTERNAL_PORT'] || 3100);
  if (ports.includes(internal)) problems.push(`INTERNAL_PORT: ${internal} is also a service's port`);
  if (new Set(ports).size !== ports.length) problems.push(`two services on one port (${ports.join(', ')})`);
  if (problems.length)
    throw new Error(`cannot start the services:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  const migrations = migrateOnStart
    ? []
    : services.filter((s) => SERVICES.find((x) => x.name === s.name)?.migrates);
  return { migrations, services };
}

function withoutPerService(env: Record<string, string>): Record<string, string> {
  const copy = { ...env };
  for (const key of PER_SERVICE) delete copy[key];
  return copy;
}
