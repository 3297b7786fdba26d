/**
 * Reads a stack's config the way the Pulumi CLI hands it to a program: project defaults from
 * Pulumi.yaml, overridden by stacks/Pulumi.<stack>.yaml, every value a string (JSON when structured).
 * Encrypted (`secure:`) values cannot be decrypted offline: they become a placeholder and stay secret.
 */
import * as path from "node:path";
import { engineConfigErrors, isSecure, type ProjectDoc } from "./engineConfig";
import { REPO_ROOT } from "./paths";
import { listStacks, parseYamlFile, readStackDoc, stackFile, UnknownStackError } from "./stackFiles";

export { listStacks, readStackDoc, stackFile, UnknownStackError };
import { readRawConfig } from "../stacks/config";

export const OFFLINE_SECRET_PLACEHOLDER = "offline-plan-placeholder";

export interface StackConfig {
  config: Record<string, string>;
  secretKeys: string[];
}

function toConfigString(v: unknown): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}

/** Pulumi.yaml as the engine reads it. */
export function readProject(root = REPO_ROOT): ProjectDoc {
  return parseYamlFile(path.join(root, "Pulumi.yaml")) as ProjectDoc;
}

/** What the engine would refuse before running the program (lib/engineConfig.ts), in its words. */
export class EngineConfigError extends Error {
  constructor(readonly errors: string[]) {
    super(`the Pulumi engine would refuse this stack's config:\n${errors.map((e) => `  - ${e}`).join("\n")}`);
  }
}

export function readStackConfig(stack: string, root = REPO_ROOT): StackConfig {
  const project = readProject(root);
  const stackDoc = readStackDoc(stack, root);
  const errors = engineConfigErrors(project, stack, stackDoc);
  if (errors.length > 0) throw new EngineConfigError(errors);
  const config: Record<string, string> = {};
  const secretKeys: string[] = [];
  // As mergeConfig does: declared defaults first, then the stack's values over them.
  for (const [key, decl] of Object.entries(project.config ?? {})) {
    const full = key.includes(":") ? key : `${project.name}:${key}`;
    if (decl.default !== undefined) config[full] = toConfigString(decl.default);
  }
  for (const [key, value] of Object.entries<any>(stackDoc)) {
    if (isSecure(value)) {
      config[key] = OFFLINE_SECRET_PLACEHOLDER;
      secretKeys.push(key);
    } else {
      config[key] = toConfigString(value);
    }
  }
  return { config, secretKeys };
}

/** The raw `nixplane:*` values of a stack, as `parseConfig` takes them (tests use this). */
export function rawStackValues(stack: string, root = REPO_ROOT): Record<string, unknown> {
  const { config } = readStackConfig(stack, root);
  const keys = Object.keys(config).filter((k) => k.startsWith("nixplane:")).map((k) => k.slice("nixplane:".length));
  return readRawConfig((k) => config[`nixplane:${k}`], keys);
}
