/**
 * Argument parsing shared by the command-line entry points in tools/: unknown flags and extra words
 * are refused in one line (a `UsageError`), never ignored. Built on node:util `parseArgs` (strict).
 */
import { parseArgs as nodeParseArgs } from "node:util";

export class UsageError extends Error {}

export interface CliSpec {
  /** Boolean flags, without dashes: `help` → `--help`. */
  flags: string[];
  /** Options taking one value: `diff` → `--diff <value>`. */
  options: string[];
  /** How many positional words are allowed at most. */
  positionals: number;
}

export interface ParsedArgs {
  flags: Set<string>;
  options: Map<string, string>;
  positionals: string[];
}

export function parseArgs(argv: string[], spec: CliSpec): ParsedArgs {
  const options: Record<string, { type: "boolean" | "string" }> = {};
  for (const f of spec.flags) options[f] = { type: "boolean" };
  for (const o of spec.options) options[o] = { type: "string" };
  let parsed: ReturnType<typeof nodeParseArgs>;
  try {
    parsed = nodeParseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    // node's messages are one sentence plus a hint about `--`; keep the sentence.
    throw new UsageError((err instanceof Error ? err.message : String(err)).split(". ")[0].replace(/\.$/, ""));
  }
  const positionals = parsed.positionals;
  if (positionals.length > spec.positionals) {
    throw new UsageError(`unexpected argument ${JSON.stringify(positionals[spec.positionals])}`);
  }
  const out: ParsedArgs = { flags: new Set(), options: new Map(), positionals };
  for (const [key, value] of Object.entries(parsed.values)) {
    if (value === true) out.flags.add(key);
    else if (typeof value === "string") out.options.set(key, value);
  }
  return out;
}
