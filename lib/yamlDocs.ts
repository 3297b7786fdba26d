/**
 * Reading YAML files into plain data: one definition, used on the main thread and by the parsing
 * workers of lib/parallelYaml.ts (which load this module only, not the CRD registry).
 */
import * as fs from "node:fs";
import { parseAllDocuments } from "yaml";

/** All non-empty documents of a YAML file; a parse error throws with the file name. */
export function readYamlDocuments(file: string): unknown[] {
  const docs = parseAllDocuments(fs.readFileSync(file, "utf8"));
  const list = Array.isArray(docs) ? docs : [docs];
  return list.map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0].message}`);
    return doc.toJS() as unknown;
  }).filter((d) => d !== null && d !== undefined);
}

/**
 * Runs `fn` (which parses many files) with `process.env` a plain copy of itself. yaml 2.9's parser
 * reads `process.env.LOG_TOKENS` for every token (dist/parse/parser.js `next`, and the composer
 * `LOG_STREAM` per document), and each read of the real `process.env` is a call into C++ (~0.5 µs):
 * a quarter of the CPU of parsing small files. Values are the same; the real object is back after.
 */
export function withPlainEnv<T>(fn: () => T): T {
  const env = process.env;
  process.env = { ...env };
  try {
    return fn();
  } finally {
    process.env = env;
  }
}
