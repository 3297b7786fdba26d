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

/** Parses once per rule text; the returned program evaluates the rule with `self` bound. */
export function compileRule(rule: string): CelProgram {
  let program = programs.get(rule);
  if (!program) {
    const parsed = environment.parse(rule);
    program = (self) => parsed({ self: sameRealm ? self : main.parse(JSON.stringify(self)) });
    programs.set(rule, program);
  }
  return program;
}
