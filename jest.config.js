/** Tests run against real components: see test/global-setup.ts. Type-checking is `tsc --noEmit`. */
const swc = ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } }];

module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // Fault and cluster tests run on their own: npm run test:faults, npm run test:cluster.
  testPathIgnorePatterns: ['/node_modules/', '/test/faults/', '/test/cluster/'],
  // content-disposition (used by @fastify/static for /docs) ships only ESM: compile it to CommonJS.
  transform: { '^.+\\.(ts|js)$': swc },
  transformIgnorePatterns: ['/node_modules/(?!content-disposition/)'],
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
  testTimeout: 90_000,
  maxWorkers: 2,
};
