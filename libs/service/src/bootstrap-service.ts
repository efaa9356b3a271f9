import { parseArgs } from 'node:util';
import { assertProductionSecrets, loadConfig } from '@export/config';
import { connectKafkaTransport } from '@export/kafka';
import { createLogger } from '@export/logging';
import { Readiness } from '@export/observability';
import type { DynamicModule, INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Logger as NestPinoLogger } from 'nestjs-pino';
import type { Logger } from 'pino';
import type { z } from 'zod';

/** What every service's configuration has (libs/config commonEnv, kafkaEnv and the service's PORT). */
export interface ServiceConfigBase {
  LOG_LEVEL: string;
  PORT: number;
  KAFKA_GROUP_ID: string;
}

/** A command of `node main.js <command>` besides serving, e.g. libs/database's `migrate`. */
export interface ServiceCommand {
  /** One line of the usage message. */
  summary: string;
  /** Runs the command for the named service with its environment; resolves to the process's exit code. */
  run(service: string, env: NodeJS.ProcessEnv): Promise<number>;
}

export interface ServiceDefinition<C extends ServiceConfigBase> {
  /** The service's name: logs, metrics, Kafka client id, messages. */
  name: string;
  /** The zod schema of its environment (see libs/config serviceConfig). */
  config: z.ZodType<C>;
  /** Secrets that production refuses to take at their development default. */
  secrets?: readonly string[];
  /** Commands besides serving, by name (e.g. `migrate`); a service without any ignores its arguments. */
  commands?: Readonly<Record<string, ServiceCommand>>;
  /** Runs once the configuration is valid and before the app is built (e.g. the schema's migrations). */
  beforeStart?: (config: C, logger: Logger) => Promise<void>;
  /** The root module of the service. */
  module(config: C, logger: Logger): DynamicModule;
  /** Partitions each Kafka handler takes at once unless its `@EventPattern` says (default 1). */
  partitionsConsumedConcurrently?(config: C): number;
  /** More setup of the HTTP app (middleware, filters, documentation) before it starts. */
  configure?(app: INestApplication, config: C): void;
  /** Serves HTTP and says where (default: PORT on 0.0.0.0). */
  listen?(app: INestApplication, config: C): Promise<Record<string, unknown>>;
}

/**
 * Builds and starts a service: configuration (every fault named), the production secrets check, its
 * `beforeStart` step (a database service's migrations), the Nest app with the pino logger and shutdown
 * hooks, the Kafka handlers (`@EventPattern`, started once every provider is ready) and the HTTP listener.
 */
export async function bootstrapService<C extends ServiceConfigBase>(
  definition: ServiceDefinition<C>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<INestApplication> {
  const { name } = definition;
  const config = loadConfig(name, definition.config, env);
  if (definition.secrets) assertProductionSecrets(name, config as Record<string, unknown>, [...definition.secrets]);
  const logger = createLogger({ service: name, level: config.LOG_LEVEL });
  await definition.beforeStart?.(config, logger);
  const app = await NestFactory.create(definition.module(config, logger), { bufferLogs: true });
  app.useLogger(app.get(NestPinoLogger));
  app.enableShutdownHooks();
  definition.configure?.(app, config);
  await startKafkaHandlers(app, {
    groupId: config.KAFKA_GROUP_ID,
    partitionsConsumedConcurrently: definition.partitionsConsumedConcurrently?.(config),
  });
  const address = definition.listen
    ? await definition.listen(app, config)
    : (await app.listen(config.PORT, '0.0.0.0'), { port: config.PORT });
  logger.info(address, `${name} started`);
  return app;
}

/**
 * Initializes the app (every provider's onModuleInit) and starts its Kafka handlers, each consumer reporting
 * to the service's readiness; what main.ts does through bootstrapService and in-process tests do themselves.
 */
export async function startKafkaHandlers(
  app: INestApplication,
  options: { groupId: string; partitionsConsumedConcurrently?: number },
): Promise<void> {
  await app.init();
  connectKafkaTransport(app, { ...options, readiness: app.get(Readiness) });
  await app.startAllMicroservices();
}

/** Exit code of a wrong command line (sysexits.h EX_USAGE). */
export const USAGE_EXIT_CODE = 64;

export class UsageError extends Error {
  constructor(service: string, problem: string, commands: Readonly<Record<string, ServiceCommand>>) {
    const lines = Object.entries(commands).map(([name, command]) => `\n  ${name.padEnd(12)}  ${command.summary}`);
    super(
      `${service}: ${problem}\nusage: node main.js [${Object.keys(commands).join('|')}]\n  (no command)  start the service${lines.join('')}`,
    );
    this.name = 'UsageError';
  }
}

/**
 * Parses a service's arguments (`process.argv.slice(2)`): none serves (undefined), one names a command;
 * throws a UsageError for anything else.
 */
export function parseServiceCommand(
  service: string,
  commands: Readonly<Record<string, ServiceCommand>>,
  argv: string[],
): ServiceCommand | undefined {
  let positionals: string[];
  try {
    ({ positionals } = parseArgs({ args: argv, allowPositionals: true, strict: true, options: {} }));
  } catch (error) {
    throw new UsageError(service, error instanceof Error ? error.message : String(error), commands);
  }
  if (positionals.length === 0) return undefined;
  const [name] = positionals;
  if (positionals.length === 1 && name !== undefined && Object.hasOwn(commands, name)) return commands[name];
  throw new UsageError(service, `unknown command: ${positionals.join(' ')}`, commands);
}

/**
 * The whole `main.ts` of a service: `node main.js` serves (bootstrapService); `node main.js <command>` runs
 * one of its commands (a database service's `migrate`) and exits with its code. A start that fails exits 1
 * (a wrong command line 64): the supervisor restarts it.
 */
export function runService<C extends ServiceConfigBase>(definition: ServiceDefinition<C>): void {
  main(definition).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(error instanceof UsageError ? USAGE_EXIT_CODE : 1);
  });
}

async function main<C extends ServiceConfigBase>(definition: ServiceDefinition<C>): Promise<void> {
  const { name, commands } = definition;
  const command = commands && parseServiceCommand(name, commands, process.argv.slice(2));
  if (command) process.exit(await command.run(name, process.env));
  await bootstrapService(definition);
}
