/**
 * How the offline tools load TypeScript: `node --require ./tools/load-ts.cjs tools/plan.ts`.
 *
 * Compiles each .ts file with swc (the compiler jest already uses, same settings: CommonJS, ES2022)
 * and keeps the output in a content-addressed cache under the OS temp folder, so a second run
 * compiles nothing. Unlike tsx it installs no resolution hooks (every `require` of a dependency
 * goes straight to Node's resolver) and no ESM loader thread, and it emits no source maps:
 * @pulumi/pulumi captures `new Error().stack` for every promise it makes, and with source maps on
 * (tsx turns them on) every one of those traces was source-mapped. Types are checked by `tsc`, not here.
 * Stack traces name compiled lines; `npx tsx tools/plan.ts` runs the same code with mapped traces.
 */
"use strict";
const crypto = require("node:crypto");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const Module = require("node:module");

const SWC_VERSION = require("@swc/core/package.json").version;
const OPTIONS = {
  jsc: { target: "es2022", parser: { syntax: "typescript" } },
  module: { type: "commonjs" },
  sourceMaps: false,
};
const CACHE_DIR = path.join(os.tmpdir(), `nixplane-ts-cache-${typeof process.getuid === "function" ? process.getuid() : "user"}`);
const KEY_PREFIX = `${SWC_VERSION}\0${JSON.stringify(OPTIONS)}\0`;

/**
 * The cache key: swc's version, the options and the source. Not the file name: without source maps
 * swc's output does not depend on it (test/loadTs.spec.ts), so a clone or a second checkout of the
 * repository reuses the entries of the first instead of compiling every file again.
 */
function cacheKey(source) {
  return crypto.createHash("sha256").update(KEY_PREFIX).update(source).digest("hex");
}

let swc;
function compile(source, filename) {
  const key = cacheKey(source);
  const cached = path.join(CACHE_DIR, `${key}.js`);
  try {
    return fs.readFileSync(cached, "utf8");
  } catch {
    swc ??= require("@swc/core");
    const { code } = swc.transformSync(source, { ...OPTIONS, filename });
    try {
      fs.mkdirSync(CACHE_DIR, { recursive: true });
      const tmp = `${cached}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, code);
      fs.renameSync(tmp, cached); // atomic: concurrent runs never read a half-written file
    } catch { /* a read-only temp folder only costs the cache */ }
    return code;
  }
}

Module._extensions[".ts"] = function loadTs(module, filename) {
  module._compile(compile(fs.readFileSync(filename, "utf8"), filename), filename);
};

if (!process.execArgv.includes("--enable-source-maps") && !/--enable-source-maps/.test(process.env.NODE_OPTIONS ?? "")) {
  process.setSourceMapsEnabled(false);
}

// For tests only: the key and the options (nothing else uses this module's exports).
module.exports = { cacheKey, OPTIONS };
