/**
 * The gitops checker's benchmark input: a copy of gitops/ plus N generated composite resources, one
 * YAML file each, under environments/bench/claims/. `npm run bench` times the real checker
 * (tools/gitops-check.ts) over that tree in a child process, so reading and parsing every file from
 * disk is measured, not only checking objects already in memory.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import YAML from "yaml";
import { generateComposites } from "./gitops";

export const COMPOSITE_COUNTS = [5_000, 50_000] as const;

/** Writes the tree and returns its gitops/ folder; the caller removes `path.dirname(result)`. */
export function writeCompositeTree(gitopsDir: string, n: number): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "nixplane-bench-gitops-"));
  const dir = path.join(root, "gitops");
  fs.cpSync(gitopsDir, dir, { recursive: true });
  const claims = path.join(dir, "environments", "bench", "claims");
  fs.mkdirSync(claims, { recursive: true });
  generateComposites(n).forEach((xr, i) => fs.writeFileSync(path.join(claims, `xr-${String(i).padStart(6, "0")}.yaml`), YAML.stringify(xr)));
  return dir;
}
