/**
 * CEL evaluation for CRD `x-kubernetes-validations`, backed by @marcbachmann/cel-js.
 *
 * cel-js ships as ESM only. Node >= 20.19 can `require()` ESM, but Jest (< Node 24.9) runs tests in
 * a vm sandbox whose `require` cannot, so the library is loaded through Node's own `createRequire`
 * taken from the main realm. Values built inside the sandbox belong to another realm (cel-js checks
 * prototypes), so they are re-created in the main realm before evaluation.
 */
import type * as Cel from "@marcbachmann/cel-js";
import { runInThisContext } from "node:vm";

type MainRealm = { createRequire: (from: string) => NodeJS.Require; parse: (json: string) => unknown; Object: unknown };
const main = runInThisContext(
  "({ createRequire: process.getBuiltinModule('node:module').createRequire, parse: JSON.parse, Object })",
) as MainRealm;
const cel = main.createRequire(__filename)("@marcbachmann/cel-js") as typeof Cel;
const sameRealm = main.Object === Object;

/** `self` is untyped (dyn): the schema, not CEL, types the object. */
const environment = new cel.Environment({ unlistedVariablesAreDyn: true });

export type CelProgram = (self: unknown) => unknown;
const programs = new Map<string, CelProgram>();

/**
 * Kubernetes CEL reaches a property whose name is a CEL reserved word, or holds `.`, `-`, `/` or `__`,
 * through an escaped identifier (`namespace` as `__namespace__`, `a-b` as `a__dash__b`): see
 * "Escaping" in https://kubernetes.io/docs/reference/using-api/cel/. Upjet's CRDs use it
 * (`has(self.forProvider.__namespace__)`), so rules that mention an escape see the object with
 * escaped names.
 */
const CEL_RESERVED = new Set(["true", "false", "null", "in", "as", "break", "const", "continue", "else", "for", "function", "if",
  "import", "let", "loop", "package", "namespace", "return", "var", "void", "while"]);
export function escapeCelName(name: string): string {
  if (CEL_RESERVED.has(name)) return `__${name}__`;
  return name.replace(/__/g, "__underscores__").replace(/\./g, "__dot__").replace(/-/g, "__dash__").replace(/\//g, "__slash__");
}
function escapeKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(escapeKeys);
  if (v === null || typeof v !== "object") return v;
  return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [escapeCelName(k), escapeKeys(x)]));
}

/** Parses once per rule text; the returned program evaluates the rule with `self` bound. */
export function compileRule(rule: string): CelProgram {
  let program = programs.get(rule);
  if (!program) {
    const parsed = environment.parse(rule);
    const escaped = rule.includes("__");
    program = (self) => {
      const value = escaped ? escapeKeys(self) : self;
      return parsed({ self: sameRealm ? value : main.parse(JSON.stringify(value)) });
    };
    programs.set(rule, program);
  }
  return program;
}

/** Parses once; the program evaluates `expression` with the given variables (admission policies: object, params, request, variables). */
export function compileExpression(expression: string): (variables: Record<string, unknown>) => unknown {
  const parsed = environment.parse(expression);
  return (variables) => parsed(sameRealm ? variables : (main.parse(JSON.stringify(variables)) as Record<string, unknown>));
}
