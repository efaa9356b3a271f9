import 'reflect-metadata';
import { join } from 'node:path';
import { runService } from '@export/service';
import { AppModule } from './app.module';
import { DeliveryConfig, SECRET_NAMES } from './config';
import { SCHEMA } from './database/prepare-database';

/** `node main.js` serves; `node main.js migrate` applies the delivery schema's migrations and exits. */
runService({
  name: 'autopilot-delivery',
  config: DeliveryConfig,
  secrets: SECRET_NAMES,
  // The migrations are copied beside main.js by the build (webpack assets).
  database: { schema: SCHEMA, migrationsDir: join(__dirname, 'migrations') },
  module: (config, logger) => AppModule.register(config, logger),
});
