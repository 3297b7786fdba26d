/**
 * The stack files themselves: which stacks there are and their raw `config:` blocks. No Pulumi and no
 * schema here, so the checker and new-env load in milliseconds (lib/stackConfig.ts builds on this).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import YAML from "yaml";
import { REPO_ROOT } from "./paths";

export function stackFile(stack: string, root = REPO_ROOT): string {
  return path.join(root, "stacks", `Pulumi.${stack}.yaml`);
}

export function listStacks(root = REPO_ROOT): string[] {
  return fs.readdirSync(path.join(root, "stacks"))
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => !!s)
    .sort();
}

/** The stack `npm run plan` plans when none is named. */
export const DEFAULT_STACK = "dev";

/** The stack's file; UnknownStackError when there is none. */
function existingStackFile(stack: string, root = REPO_ROOT): string {
  const file = stackFile(stack, root);
  if (!fs.existsSync(file)) throw new UnknownStackError(stack, root);
  return file;
}

/** The stack file's `config:` block, raw (`{ secure: … }` for encrypted values). */
export function readStackDoc(stack: string, root = REPO_ROOT): Record<string, unknown> {
  const file = existingStackFile(stack, root);
  return (YAML.parse(fs.readFileSync(file, "utf8")) ?? {}).config ?? {};
}

/** A stack that has no stacks/Pulumi.<stack>.yaml: one line naming the stacks there are. */
export class UnknownStackError extends Error {
  constructor(stack: string, root = REPO_ROOT) {
    super(`no stack "${stack}": ${path.relative(root, stackFile(stack, root))} does not exist (stacks: ${listStacks(root).join(", ")}; \`npm run new-env -- ${stack}\` creates one)`);
  }
}

