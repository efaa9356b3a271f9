const { NxAppWebpackPlugin } = require('@nx/webpack/app-plugin');
const { join } = require('path');

// Paths starting with './' are resolved by the plugin against the project root; outputPath against
// the project root too. Run through `nx build` (the plugin reads the project graph).
module.exports = {
  output: {
    path: join(__dirname, '../../dist/apps/autopilot-simulator'),
  },
  plugins: [
    new NxAppWebpackPlugin({
      target: 'node',
      compiler: 'tsc',
      main: './src/main.ts',
      tsConfig: './tsconfig.app.json',
      outputPath: '../../dist/apps/autopilot-simulator',
      optimization: false,
      outputHashing: 'none',
      generatePackageJson: true,
    }),
  ],
};
