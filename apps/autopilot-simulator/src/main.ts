import { CommanderError } from 'commander';
import pino from 'pino';
import { createSimulator } from './app/simulator-app';
import { SimulatorConfig, SimulatorConfigError, loadSimulatorConfig } from './app/simulator-config';

function readConfig(): SimulatorConfig {
  try {
    return loadSimulatorConfig(process.env, process.argv.slice(2));
  } catch (error) {
    if (error instanceof CommanderError) process.exit(error.exitCode);
    if (error instanceof SimulatorConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}

async function main(): Promise<void> {
  const config = readConfig();
  const logger = pino({ name: 'autopilot-simulator', level: config.logLevel });
  const simulator = createSimulator({
    apiKeys: config.apiKeys,
    basePath: config.basePath,
    host: config.host,
    switches: config.switches,
    logger,
    logRequests: config.logRequests,
  });
  if (config.apiKeys.length === 0) {
    logger.warn('no API keys configured (SIM_API_KEYS): every call answers 401 until POST /__sim/keys adds one');
  }
  const address = await simulator.listen(config.port, config.host);
  logger.info(
    {
      baseUrl: address.baseUrl,
      control: `${address.url}/__sim`,
      keys: config.apiKeys.length,
      rateLimitRps: config.switches.rateLimitRps,
    },
    `autopilot simulator listening on ${address.baseUrl}`,
  );

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'autopilot simulator stopping');
    simulator.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'autopilot simulator did not close cleanly');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`autopilot-simulator failed to start: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
