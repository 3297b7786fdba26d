/** Tests are transpiled by swc (fast); `tsc --noEmit` in `npm test` does the type-checking once. */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  transform: { "^.+\\.ts$": ["@swc/jest", { jsc: { target: "es2022" }, module: { type: "commonjs" } }] },
  moduleFileExtensions: ["ts", "js", "json"],
  testTimeout: 60000,
  // Two cores here and in CI: one worker per core (jest defaults to cores - 1).
  maxWorkers: 2,
  // Each test file gets a fresh module registry, but a worker's heap keeps growing across files (the
  // @pulumi/* modules are loaded again per file). Recycle a worker whose heap (heapUsed, not RSS) passes
  // this after a file, so no test process grows past the suite's 600 MiB budget (npm run bench reports
  // the peak). At 450MB a worker reached 759 MiB RSS: it started a heavy file (manifests, crossplane,
  // argocdEndpoint add ~300 MiB) with ~450 MB of heap; at 300MB the peak was 617 MiB.
  workerIdleMemoryLimit: "300MB",
};
