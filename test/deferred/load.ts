/**
 * jest's sandbox loads modules itself, past Node's loader, so lib/lazyClosureDeps.ts's hook does not
 * apply there: jest.config.js instead maps each of its LAZY_MODULES to a stand-in in this folder. Each
 * test file has its own module registry, so without this every file that imports @pulumi/pulumi
 * compiled typescript (9 MB) and arborist again: about 1 s of CPU per file.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { deferredModule } from "../../lib/deferredModule";
import { REPO_ROOT } from "../../lib/paths";

/**
 * The file Node loads for `name` from @pulumi/pulumi: the hoisted package's `main`. Not jest's
 * resolver (nor `node:module`'s createRequire, which jest also replaces): both apply moduleNameMapper
 * and would answer with the stand-in itself. test/lazyClosureDeps.test.ts holds this to Node's answer.
 */
export function packageMain(name: string, root = REPO_ROOT): string {
  const dir = path.join(root, "node_modules", name);
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")) as { main?: string; exports?: unknown };
  if (pkg.exports !== undefined) throw new Error(`${name} declares exports: test/deferred/load.ts resolves only by main`);
  return path.join(dir, pkg.main ?? "index.js");
}

export function deferredRequire(name: string): object {
  const real = packageMain(name);
  return deferredModule(() => require(real) as object);
}
