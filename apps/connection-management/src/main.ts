import 'reflect-metadata';
import { join } from 'node:path';
import { migrateCommand, prepareSchemaStep } from '@export/database';
import { runService } from '@export/service';
import { AppModule } from './app.module';
import { configureApp, listenBoth } from './app.setup';
import { CONTROL_PLANE_SECRETS, ControlPlaneConfig } from './config';
import { SCHEMA } from './database/database';

// The migrations are copied beside main.js by the build (webpack assets).
const database = { schema: SCHEMA, migrationsDir: join(__dirname, 'migrations') };

/** `node main.js` serves; `node main.js migrate` applies the control_plane schema's migrations and exits. */
runService({
  name: 'connection-management',
  config: ControlPlaneConfig,
  secrets: CONTROL_PLANE_SECRETS,
  commands: { migrate: migrateCommand(database) },
  beforeStart: prepareSchemaStep(database),
  module: (config, logger) => AppModule.register(config, logger),
  configure: (app) => configureApp(app),
  listen: (app, config) =>
    listenBoth(app, { port: config.PORT, host: '0.0.0.0', internalPort: config.INTERNAL_PORT, internalHost: config.INTERNAL_HOST }),
});
