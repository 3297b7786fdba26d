/**
 * How the package scripts launch a tool, for tests that run one in a child process as the user's
 * `npm run <script>` does: `node <argv> <args>`. Every tool script goes through tools/load-ts.cjs (about
 * half tsx's start-up CPU), with the script's own V8 flags; a test that ran the tools under tsx paid tsx's
 * start-up where the user does not, and tested a launcher the user does not use.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { REPO_ROOT, TSX_CLI } from "../lib/paths";

const scripts: Record<string, string> = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")).scripts;

/** Node's arguments for the package script that runs `file` (e.g. "tools/plan.ts"), relative to the repository root. */
export function toolArgv(file: string): string[] {
  const hits = Object.values(scripts).map((s) => s.split(" ")).filter((words) => words.at(-1) === file);
  if (hits.length !== 1) throw new Error(`expected one package script running ${file}, found ${hits.length}`);
  const [launcher, ...rest] = hits[0];
  if (launcher === "tsx") return [TSX_CLI, ...rest];
  if (launcher === "node") return rest;
  throw new Error(`package script for ${file} starts with ${launcher}, not node or tsx`);
}
