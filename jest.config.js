/** Jest: TypeScript through ts-jest (transpile only; `npm run typecheck` does the type-checking). */
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>'],
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { diagnostics: false }],
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
  modulePathIgnorePatterns: ['<rootDir>/dist/'],
  // Obtain the Temporal CLI once, before any worker starts (it may have to be built).
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  // A backstop only: tests wait for conditions with deadlines of their own, which say what was
  // missing; on a busy machine a story of several such waits takes minutes.
  testTimeout: 300_000,
  // Each test file shares one dev server; two at once suits a 2-core machine.
  maxWorkers: 2,
  verbose: true,
};
