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
  // Each test file gets a fresh module registry, but a worker's heap keeps growing across files (the
  // @pulumi/* modules are loaded again per file). Recycle a worker whose heap (heapUsed, not RSS) passes
  // this after a file, so no test process grows past the suite's 600 MiB budget (npm run bench reports
  // the peak). RSS runs ~200 MiB above heapUsed and a heavy file (manifests, crossplane, argocdEndpoint)
  // adds ~300 MiB: largest worker at 450MB 759 MiB, at 300MB 617-666, at 250MB 539, at 200MB 561 MiB;
  // each step down costs restarts (npm test CPU here: 300MB 226 s, 250MB 248 s, 200MB 260 s).
  workerIdleMemoryLimit: "250MB",
  // The program bundles first, on fresh workers: test/sequencer.js.
  testSequencer: "<rootDir>/test/sequencer.js",
};
