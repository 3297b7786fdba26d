/**
 * Reading YAML files into plain data: one definition, used on the main thread and by the parsing
 * workers of lib/parallelYaml.ts (which load this module only, not the CRD registry).
 *
 * `readYamlDocuments` is the reference: the `yaml` package, YAML 1.2 with its core schema.
 * `readYamlDocumentsFast` gives exactly the same result (documents, or the same error) 4-5x faster for
 * the files that make up most of a tree (XRs): js-yaml with a schema that resolves plain scalars with
 * yaml's own core-schema rules, on files that use none of the features where the two parsers differ;
 * everything else, and anything js-yaml refuses, is read by the reference. test/checkerFastPaths.test.ts
 * holds one to the other.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as v8 from "node:v8";
import { FAILSAFE_SCHEMA, loadAll, Type } from "js-yaml";
import { parseAllDocuments } from "yaml";

/** All non-empty documents of a YAML file; a parse error throws with the file name. */
export function readYamlDocuments(file: string): unknown[] {
  return parseYamlText(fs.readFileSync(file, "utf8"), file);
}

function parseYamlText(text: string, file: string): unknown[] {
  const docs = parseAllDocuments(text);
  const list = Array.isArray(docs) ? docs : [docs];
  return list.map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0].message}`);
    return doc.toJS() as unknown;
  }).filter((d) => d !== null && d !== undefined);
}

/**
 * Plain scalars resolved by YAML 1.2's core schema (YAML 1.2.2 spec, 10.3.2 "Tag Resolution": null,
 * bool, int in base 8, 10 and 16, float), tried in the order yaml 2.9 tries them (dist/schema/core/*.js),
 * which test/checkerFastPaths.test.ts holds this reader to.
 * js-yaml's own CORE_SCHEMA is wider: it reads 0b101, 1_000 and +0x1F as numbers, which YAML 1.2's core
 * schema (and so the checker, and the API server's YAML reader) keeps as strings.
 */
const INT: [RegExp, (s: string) => number][] = [
  [/^0o[0-7]+$/, (s) => parseInt(s.substring(2), 8)],
  [/^[-+]?[0-9]+$/, (s) => parseInt(s, 10)],
  [/^0x[0-9a-fA-F]+$/, (s) => parseInt(s.substring(2), 16)],
];
const FLOAT: [RegExp, (s: string) => number][] = [
  [/^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/, (s) => (s.slice(-3).toLowerCase() === "nan" ? NaN : s[0] === "-" ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY)],
  [/^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/, (s) => parseFloat(s)],
  [/^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/, (s) => parseFloat(s)],
];
// One js-yaml type per tag (a schema keeps only the last type of a tag), trying yaml's tests in yaml's order.
const scalar = (tag: string, rules: [RegExp, (s: string) => unknown][]) => new Type(tag, {
  kind: "scalar",
  resolve: (s: string | null) => s !== null && rules.some(([test]) => test.test(s)),
  construct: (s: string) => rules.find(([test]) => test.test(s))![1](s),
});
export const YAML_1_2_CORE = FAILSAFE_SCHEMA.extend({
  implicit: [
    scalar("tag:yaml.org,2002:null", [[/^(?:~|[Nn]ull|NULL)?$/, () => null]]),
    scalar("tag:yaml.org,2002:bool", [[/^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/, (s) => s[0] === "t" || s[0] === "T"]]),
    scalar("tag:yaml.org,2002:int", INT),
    scalar("tag:yaml.org,2002:float", FLOAT),
  ],
});

/**
 * Text the fast path leaves to the reference, because the parsers differ on it (or may): tags `!` (yaml
 * falls back to a string with a warning, js-yaml refuses; `%YAML 1.1` switches yaml's schema), anchors
 * `&` (yaml expands aliases under a count limit, js-yaml shares them), explicit keys `?` and collections
 * as keys `]:` `}:` (yaml writes them as YAML text, js-yaml with String()), tabs (each parser has its own
 * rules for tabs near indentation), `\r`, a byte-order mark, directives `%` at a line's start, and
 * content on a `---` or `...` line (yaml refuses a block collection there, js-yaml reads it).
 * Conservative: a `!` or `?` inside a quoted string only costs the fast path for that file.
 */
const REFERENCE_ONLY = /[!&?\t\r\uFEFF]|^%|[\]}] *:|^(?:---|\.\.\.) +[^ #\n]/m;

/**
 * `readYamlDocuments(file)`, the same documents or the same error, faster where it can be. With
 * `cached`, what only the reference may read is kept across processes (`cachedReference`).
 */
export function readYamlDocumentsFast(file: string, options: { cached?: boolean } = {}): unknown[] {
  const text = fs.readFileSync(file, "utf8");
  return fastDocuments(text) ?? (options.cached ? cachedReference(text, file) : parseYamlText(text, file));
}

/**
 * The reference's documents for `text`, kept under the OS temp folder in V8's serialization format, by
 * the sha256 of yaml's version and the text: the files only the reference may read are the APIs'
 * (Compositions with anchors, policies with CEL), about 0.4 s of the checker's every run with yaml
 * cold, and the same from run to run. V8's format keeps what JSON would not (NaN, infinities, -0,
 * an alias's one object); a parse error is never kept, so it is thrown again. Objects come back in
 * Node's own realm (not a jest sandbox's): the checker's threads read with it, tests compare problems.
 */
const YAML_VERSION = (require("yaml/package.json") as { version: string }).version;
const REFERENCE_CACHE = path.join(os.tmpdir(), `nixplane-yaml-${typeof process.getuid === "function" ? process.getuid() : "user"}`);
export function cachedReference(text: string, file: string, cacheDir: string = REFERENCE_CACHE): unknown[] {
  if (!privateCacheDir(cacheDir)) return parseYamlText(text, file);
  const cached = path.join(cacheDir, `${crypto.createHash("sha256").update(`yaml ${YAML_VERSION}\0`).update(text).digest("hex")}.v8`);
  try {
    const docs = v8.deserialize(fs.readFileSync(cached));
    if (Array.isArray(docs)) return docs;
  } catch { /* not kept yet */ }
  const docs = parseYamlText(text, file);
  keepInCache(cached, () => v8.serialize(docs));
  return docs;
}

/**
 * Writes a cache entry: through a temporary file renamed into place (atomic: a concurrent reader never
 * sees half a file). A failure, making the data included, only costs the cache.
 */
export function keepInCache(file: string, data: () => string | Uint8Array): void {
  try {
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, data());
    fs.renameSync(tmp, file);
  } catch { /* no cache */ }
}

/** The documents js-yaml reads from `text` where they are exactly the reference's; undefined where only the reference may read it. */
export function fastDocuments(text: string): unknown[] | undefined {
  if (REFERENCE_ONLY.test(text) || linesNeedReference(text)) return undefined;
  let docs: unknown[];
  try {
    docs = loadAll(text, undefined, { schema: YAML_1_2_CORE });
  } catch {
    return undefined; // refused: the reference decides, with its own message
  }
  // A null key: yaml names it "", js-yaml "null" (a quoted "null" key only costs the fast path).
  return docs.some(hasNullKey) ? undefined : docs.filter((d) => d !== null && d !== undefined);
}

/**
 * Whether the text has a quoted scalar or a flow collection that may span lines (yaml refuses a
 * continuation line not indented past its parent, js-yaml reads it: rather than model indentation, such
 * files go to the reference), a quote inside a plain scalar (`Bob's`), or a collection nested in a flow
 * mapping (`{x: 1, [a]}`: a collection as a key). Line by line, outside comments: a quote opens a
 * quoted scalar where a node may start (after line-start spaces, `:`, `-`, `?`, `[`, `{`, `,`) and must
 * close on the same line (`\\"` escapes in double quotes, `''` in single quotes); brackets must match
 * on their line. Conservative: brackets in a plain scalar (`x[1`) only cost the fast path.
 */
export function linesNeedReference(text: string): boolean {
  let prev = "\n"; // the last character that is not a space, on this line ("\n" at a line's start)
  const open: string[] = []; // flow collections opened on this line, innermost last
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "\n") {
      if (open.length > 0) return true;
      prev = c;
      continue;
    }
    if (c === " ") continue;
    if (c === "#" && (prev === "\n" || text[i - 1] === " ")) {
      while (i + 1 < text.length && text[i + 1] !== "\n") i++;
      continue;
    }
    if (c === '"' || c === "'") {
      if (!(prev === "\n" || ":-?[{,".includes(prev))) return true;
      let j = i + 1;
      for (; j < text.length && text[j] !== "\n"; j++) {
        if (c === '"' && text[j] === "\\") {
          if (j + 1 >= text.length || text[j + 1] === "\n") return true;
          j++;
        } else if (text[j] === c) {
          if (c === "'" && text[j + 1] === "'") j++;
          else break;
        }
      }
      if (j >= text.length || text[j] !== c) return true;
      // What may follow a quoted scalar on its line (yaml refuses a comment without a space before it).
      if (j + 1 < text.length && !" \n:,]}".includes(text[j + 1])) return true;
      i = j;
    } else if (c === "[" || c === "{") {
      if (open[open.length - 1] === "{") return true;
      open.push(c);
    } else if (c === "]" || c === "}") {
      if (open.pop() !== (c === "]" ? "[" : "{")) return true;
    }
    prev = c;
  }
  return open.length > 0;
}

function hasNullKey(v: unknown): boolean {
  if (v === null || typeof v !== "object") return false;
  if (Array.isArray(v)) return v.some(hasNullKey);
  for (const k in v as Record<string, unknown>) if (k === "null" || hasNullKey((v as Record<string, unknown>)[k])) return true;
  return false;
}

/** Verdicts of privateCacheDir per folder (exported for tests, which change a folder's mode). */
export const checkedDirs = new Map<string, boolean>();
/**
 * Whether `dir` may hold a cache this process trusts: created private (0700) if missing, then a real directory
 * owned by this user that no one else can write. The OS temp folder is shared, and the validator cache holds code
 * this process runs: a folder someone else made first, or a symlink, means no cache, never their files.
 */
export function privateCacheDir(dir: string): boolean {
  let ok = checkedDirs.get(dir);
  if (ok === undefined) {
    try {
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      const st = fs.lstatSync(dir);
      ok = st.isDirectory() && (typeof process.getuid !== "function" || st.uid === process.getuid()) && (st.mode & 0o022) === 0;
    } catch {
      ok = false;
    }
    checkedDirs.set(dir, ok);
  }
  return ok;
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
