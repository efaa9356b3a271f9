/**
 * libs/kafka's integration tests, a project of their own (kafka-int): they use libs/testing, whose dependencies
 * (pg) Nx would otherwise list in the generated package.json of every service that imports libs/kafka.
 */
module.exports = {
  displayName: 'kafka:int',
  preset: '../../../jest.preset.js',
  rootDir: __dirname,
  testMatch: ['<rootDir>/**/*.int-spec.ts'],
  testTimeout: 60000,
};
