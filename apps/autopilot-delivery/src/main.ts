import 'reflect-metadata';
import { join } from 'node:path';
import { migrateCommand, prepareSchemaStep } from '@export/database';
import { runService } from '@export/service';
import { AppModule } from './app.module';
import { DeliveryConfig, SECRET_NAMES } from './config';
import { SCHEMA } from './database/prepare-database';

// The migrations are copied beside main.js by the build (webpack assets).
const database = { schema: SCHEMA, migrationsDir: join(__dirname, 'migrations') };

/** `node main.js` serves; `node main.js migrate` applies the delivery schema's migrations and exits. */
runService({
  name: 'autopilot-delivery',
  config: DeliveryConfig,
  secrets: SECRET_NAMES,
  commands: { migrate: migrateCommand(database) },
  beforeStart: prepareSchemaStep(database),
  module: (config, logger) => AppModule.register(config, logger),
});
