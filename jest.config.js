/** Tests are transpiled by swc (fast); `tsc --noEmit` in `npm test` does the type-checking once. */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  transform: { "^.+\\.ts$": ["@swc/jest", { jsc: { target: "es2022" }, module: { type: "commonjs" } }] },
  moduleFileExtensions: ["ts", "js", "json"],
  // @pulumi/pulumi's closure-serialization dependencies (lib/lazyClosureDeps.ts LAZY_MODULES), loaded
  // on first use instead of once per test file: see test/deferred/load.ts.
  moduleNameMapper: {
    "^typescript$": "<rootDir>/test/deferred/typescript.ts",
    "^@npmcli/arborist$": "<rootDir>/test/deferred/arborist.ts",
  },
  testTimeout: 60000,
  // Two cores here and in CI: one worker per core (jest defaults to cores - 1).
  maxWorkers: 2,
  // Each test file gets a fresh module registry, but a worker's heap keeps what earlier files left.
  // Recycle a worker whose heap (heapUsed, not RSS) passes this after a file, so no test process grows
  // past the suite's 600 MiB budget (npm run bench reports the peak). A spec bundle ends at 170-430 MiB
  // of heap and peaks ~410 MiB RSS on a fresh worker; at 250MB a bundle ending at 172 MiB kept its
  // worker and the next bundle on it peaked at 581-609 MiB. At 150MB every bundle leaves its worker.
  workerIdleMemoryLimit: "150MB",
  // The program bundles first, on fresh workers: test/sequencer.js.
  testSequencer: "<rootDir>/test/sequencer.js",
};
