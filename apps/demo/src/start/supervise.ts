import { EventEmitter } from 'node:events';
import {
  createConcurrently,
  KillOnSignal,
  LogError,
  LogExit,
  Logger,
  LogOutput,
  RestartProcess,
  type ConcurrentlyResult,
} from 'concurrently';
import { readableLogs } from './readable-logs';
import type { ServiceLaunch } from './start-plan';

/** Restarts per service before it is left down: the waits double, 1 s, 2 s, ... 512 s (about 17 minutes in all). */
export const MAX_RESTARTS = 10;

const COLORS = ['cyan', 'magenta', 'green', 'yellow'];
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Runs the services as one supervised set with `concurrently`: each line behind its service's name, a crashed
 * service restarted after 1, 2, 4 ... s (at most MAX_RESTARTS times), and a stop (Ctrl-C, SIGTERM, SIGHUP)
 * passed to every service as SIGINT, which they take as a graceful stop, never as a crash to restart
 * (concurrently restarts a service that a SIGTERM ended). Log records are made readable unless `jsonLogs`
 * (see readableLogs). Resolves when all have ended.
 */
export function superviseServices(
  services: ServiceLaunch[],
  { node = process.execPath, jsonLogs = false, signals = process as NodeJS.EventEmitter } = {},
): ConcurrentlyResult {
  const stop = new EventEmitter();
  for (const signal of STOP_SIGNALS) signals.on(signal, () => stop.emit('SIGINT', 'SIGINT'));
  const output = readableLogs({ colorize: process.stdout.isTTY === true });
  output.pipe(process.stdout);
  const logger = new Logger({ prefixFormat: '{name}', raw: false });
  const width = Math.max(...services.map((s) => s.name.length));
  return createConcurrently(
    services.map((service, i) => ({
      name: service.name.padEnd(width),
      // `exec`: no shell stays between the supervisor and the service, so signals reach the service itself.
      command: `exec ${JSON.stringify(node)} --enable-source-maps ${JSON.stringify(service.entry)}`,
      env: service.env,
      prefixColor: COLORS[i % COLORS.length],
    })),
    {
      logger,
      outputStream: jsonLogs ? process.stdout : output,
      prefixColors: COLORS,
      controllers: [
        new LogError({ logger }),
        new LogOutput({ logger }),
        new LogExit({ logger }),
        new KillOnSignal({ process: stop }),
        new RestartProcess({ logger, delay: 'exponential', tries: MAX_RESTARTS }),
      ],
    },
  );
}
