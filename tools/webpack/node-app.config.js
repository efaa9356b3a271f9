const { NxAppWebpackPlugin } = require('@nx/webpack/app-plugin');
const { basename, join } = require('node:path');

/**
 * The webpack configuration of every service: one bundle of the app and its libs in dist/apps/<name>;
 * node_modules stay external and are listed in a generated package.json, so the artifact carries only
 * this service's own dependencies. `migrations` copies the app's SQL migrations next to the bundle.
 */
function nodeAppConfig(appDir, { migrations = false } = {}) {
  const name = basename(appDir);
  return {
    output: { path: join(__dirname, '../../dist/apps', name) },
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
        assets: migrations ? [{ input: `apps/${name}/src/migrations`, glob: '*.sql', output: 'migrations' }] : [],
      }),
    ],
  };
}

module.exports = { nodeAppConfig };
