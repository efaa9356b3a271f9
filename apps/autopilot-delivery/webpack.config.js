const { NxAppWebpackPlugin } = require('@nx/webpack/app-plugin');
const { join } = require('node:path');

// Bundles the app with its libs; node_modules stay external and are listed in the generated package.json,
// so the artifact in dist/ carries only this service's own dependencies. The SQL migrations are copied
// next to main.js: the service runs them at start.
module.exports = {
  output: { path: join(__dirname, '../../dist/apps/autopilot-delivery') },
  plugins: [
    new NxAppWebpackPlugin({
      target: 'node',
      compiler: 'tsc',
      main: './src/main.ts',
      tsConfig: './tsconfig.app.json',
      assets: [{ input: './src/migrations', glob: '*.sql', output: './migrations' }],
      optimization: false,
      outputHashing: 'none',
      generatePackageJson: true,
      sourceMap: true,
    }),
  ],
};
