const { NxAppWebpackPlugin } = require('@nx/webpack/app-plugin');
const { join } = require('node:path');

// Bundles the app with its libs; node_modules stay external and are listed in the generated package.json,
// so the artifact in dist/ carries only this service's own dependencies. The SQL migrations travel beside
// main.js because the service migrates its schema at start.
module.exports = {
  output: { path: join(__dirname, '../../dist/apps/connection-management') },
  plugins: [
    new NxAppWebpackPlugin({
      target: 'node',
      compiler: 'tsc',
      main: './src/main.ts',
      tsConfig: './tsconfig.app.json',
      optimization: false,
      outputHashing: 'none',
      generatePackageJson: true,
      sourceMap: true,
      assets: [{ input: 'apps/connection-management/src/migrations', glob: '*.sql', output: 'migrations' }],
    }),
  ],
};
