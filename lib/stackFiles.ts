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
  return ((parseYamlFile(file) ?? {}) as { config?: Record<string, unknown> }).config ?? {};
}

/** Parsed texts of stack and project files, kept for the process: a few small files. */
const parsedTexts = new Map<string, unknown>();
const PARSED_TEXTS_MAX = 32;

/**
 * `YAML.parse` of a stack or project file, parsed once per distinct text: a run reads Pulumi.yaml and its
 * stack file twice, and the test suite reads the same few files hundreds of times (yaml's parsing of them
 * took ~0.8 s of its CPU). The file is read every time, so an edited file is parsed afresh; each caller
 * gets its own copy.
 */
export function parseYamlFile(file: string): unknown {
  const text = fs.readFileSync(file, "utf8");
  if (!parsedTexts.has(text)) {
    const parsed: unknown = YAML.parse(text);
    if (parsedTexts.size >= PARSED_TEXTS_MAX) parsedTexts.clear();
    parsedTexts.set(text, parsed);
  }
  return structuredClone(parsedTexts.get(text));
}

/** A stack that has no stacks/Pulumi.<stack>.yaml: one line naming the stacks there are. */
export class UnknownStackError extends Error {
  constructor(stack: string, root = REPO_ROOT) {
    super(`no stack "${stack}": ${path.relative(root, stackFile(stack, root))} does not exist (stacks: ${listStacks(root).join(", ")}; \`npm run new-env -- ${stack}\` creates one)`);
  }
}

