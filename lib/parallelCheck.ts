/**
 * The gitops checker over a tree on every core, synchronously for the caller: `checkDocuments` over
 * `loadGitops(dir)`, the same problems in the same order, with the per-XR work (schema, rendering,
 * judging what is composed) split between the calling thread and worker threads.
 *
 * Two stages. Parse: every thread takes chunks of files from a shared counter (lib/parallelYaml.ts's
 * pattern) and parses them; a worker sends the calling thread the context documents it met in full
 * (XRDs, Compositions, Applications, EnvironmentConfigs, admission objects: `isContextDocument`) and
 * keeps every other document itself, sending only a placeholder. Check: the calling thread loads the
 * CRD registry, builds the tree's context (`treeContext`) and sends it to the workers (which loaded their
 * own registry meanwhile); each thread then checks the documents it holds (`checkDocument`,
 * `renderDocument`), and the calling thread puts every result back in tree order. Nothing but the small
 * context crosses to the workers, and only problems come back.
 *
 * Any file a worker failed to parse, and the files of a worker that died or went silent for STALL_MS,
 * are read and checked on the calling thread, in file order: a parse error throws exactly the error
 * a sequential read would throw first.
 */
import * as os from "node:os";
import * as path from "node:path";
import { loadCrdRegistry, yamlFiles } from "./crds";
import { CONTEXT_KINDS, checkDocument, isContextDocument, problemsInOrder, treeContext, type CheckOptions, type DocumentCheck, type GitopsDocument, type Problem } from "./gitops";
import { LOAD_TS, STALL_MS, startWorkers, takeMessages, waitForWorkers, workersFor } from "./parallelYaml";
import { renderDocument } from "./renderCheck";
import { readYamlDocumentsFast, withPlainEnv } from "./yamlDocs";
import type { KubeObject } from "./crds";

/**
 * Below this many files the checker runs on the calling thread alone. A worker costs ~1 s of CPU of its
 * own (it loads the checker and the registry, and compiles the validators and the renderer again) and
 * splitting the work costs ~20% more CPU in all: on the 2-core machine, 5,000 XRs took 3.4 s of CPU
 * alone against 5.7 s with a worker; 50,000 XRs 15 s on one thread against 8.7 s + 8.6 s on two.
 */
export const CHECK_PARALLEL_MIN_FILES = 10_000;

/**
 * Worker threads for checking `files` files: `NIXPLANE_YAML_WORKERS` if set; none for small trees; else one
 * per core left idle once this thread has one and the machine's other work (the 1-minute load average
 * beyond 1.5) has its share: on busy cores a worker only adds its own CPU (50,000 XRs at load 4.5: 27.5 s
 * with a worker, 23.9 s without).
 */
export function checkWorkersFor(files: number, env: NodeJS.ProcessEnv = process.env, load: number = os.loadavg()[0], cores: number = os.availableParallelism()): number {
  if (env.NIXPLANE_YAML_WORKERS !== undefined) return workersFor(files, env);
  if (files < CHECK_PARALLEL_MIN_FILES) return 0;
  // Beyond 1.5: a run's own threads lift the 1-minute average by ~1 for the next run (the bench runs it thrice).
  return Math.max(0, Math.min(cores - 1, Math.round(cores - 1 - Math.max(0, load - 1.5))));
}

/** Files only yaml may read (the APIs') are kept across runs (lib/yamlDocs.ts cachedReference). */
const CACHED = { cached: true };
/** Files per chunk: the unit of parsing and of checking taken from the shared counters. */
const CHUNK = 64;
// Slots of the shared counter: next chunk to parse, workers done parsing, workers done checking.
const NEXT = 0;
const PARSED = 1;
const CHECKED = 2;

interface ParseMessage { chunk: number; entries: (unknown[] | null)[] }
interface DocResult extends DocumentCheck { i: number; k: number }

// Parses its share of chunks, keeping their documents and sending the context ones; then loads the
// registry, waits for the context, and checks chunks: first those it parsed, then any nobody has taken
// (reading those files again). On any failure it stops and says it is done: the calling thread checks
// whatever it did not send.
const WORKER_SOURCE = `
const path = require("node:path");
const { workerData } = require("node:worker_threads");
const { files, base, counter, claims: claimsBuffer, chunk, port, contextKinds } = workerData;
const shared = new Int32Array(counter);
const claims = new Int32Array(claimsBuffer);
const chunks = claims.length;
const context = new Set(contextKinds);
const held = new Map(); // file index → its documents
const CACHED = { cached: true };
const mine = [];
let read;
try {
  require(workerData.loadTs);
  const { readYamlDocumentsFast, withPlainEnv } = require(workerData.yamlDocs);
  read = (i) => withPlainEnv(() => readYamlDocumentsFast(files[i], CACHED));
  withPlainEnv(() => {
    for (let c = Atomics.add(shared, ${NEXT}, 1); c < chunks; c = Atomics.add(shared, ${NEXT}, 1)) {
      const entries = [];
      for (let i = c * chunk; i < Math.min((c + 1) * chunk, files.length); i++) {
        let docs;
        try { docs = readYamlDocumentsFast(files[i], CACHED); } catch { entries.push(null); continue; }
        held.set(i, docs);
        entries.push(docs.map((obj) => (context.has(obj.kind) ? obj : undefined)));
      }
      mine.push(c);
      port.postMessage({ chunk: c, entries });
    }
  });
} catch {
  read = undefined;
}
Atomics.add(shared, ${PARSED}, 1);
Atomics.notify(shared, ${PARSED});
const done = () => {
  port.close();
  Atomics.add(shared, ${CHECKED}, 1);
  Atomics.notify(shared, ${CHECKED});
};
let lib;
try {
  if (!read) throw new Error("parsing failed");
  lib = { ...require(workerData.gitops), ...require(workerData.renderCheck), crds: require(workerData.crdsModule) };
  // Loaded before the context comes, from where crdsDir() finds the CRDs (loaded again if the calling thread's are elsewhere).
  try { lib.registryDir = lib.crds.crdsDir(); lib.registry = lib.crds.loadCrdRegistry(lib.registryDir); } catch {}
} catch {
  lib = undefined;
}
if (!lib) done();
else port.once("message", ({ contextDocs, options, crds }) => {
  try {
    const registry = lib.registry && lib.registryDir === crds ? lib.registry : lib.crds.loadCrdRegistry(crds);
    const tree = lib.treeContext(contextDocs, registry, options);
    const check = (c) => {
      const out = [];
      for (let i = c * chunk; i < Math.min((c + 1) * chunk, files.length); i++) {
        const docs = held.get(i) ?? read(i);
        const file = path.relative(base, files[i]);
        docs.forEach((obj, k) => {
          if (context.has(obj.kind)) return;
          const doc = { file, obj };
          const r = lib.renderDocument(doc, tree.render);
          out.push({ i, k, own: lib.checkDocument(doc, tree), render: r.problems, rendered: r.rendered });
        });
        held.delete(i);
      }
      port.postMessage(out);
    };
    for (const c of mine) if (Atomics.compareExchange(claims, c, 0, 1) === 0) check(c);
    for (let c = chunks - 1; c >= 0; c--) if (Atomics.compareExchange(claims, c, 0, 1) === 0) check(c);
  } catch {} finally { done(); }
});
`;

/** What `finish` needs, asked for when the sequential checker would (so errors come in its order). */
export interface TreeLoad {
  /** The CRD folder (workers load `crdsDir()`'s beforehand, and this one if it differs). */
  crds: () => string;
  options: () => CheckOptions;
}

export interface TreeCheck {
  problems: Problem[];
  /** Documents in the tree. */
  objects: number;
}

/**
 * Starts checking the tree at `gitopsDir`; `finish({ crds, options })` returns what
 * `checkDocuments(loadGitops(gitopsDir), loadCrdRegistry(crds()), options())` returns, and throws what it throws.
 */
export function startCheckingGitops(gitopsDir: string, tuning: { workers?: number; /** tests */ loadTs?: string; stallMs?: number } = {}): { finish(load: TreeLoad): TreeCheck } {
  const base = path.dirname(path.resolve(gitopsDir));
  const files = yamlFiles(gitopsDir);
  const chunks = Math.ceil(files.length / CHUNK);
  const stallMs = tuning.stallMs ?? STALL_MS;
  const workers = tuning.workers ?? checkWorkersFor(files.length);
  const counter = new SharedArrayBuffer(3 * Int32Array.BYTES_PER_ELEMENT);
  const shared = new Int32Array(counter);
  const claimsBuffer = new SharedArrayBuffer(Math.max(1, chunks) * Int32Array.BYTES_PER_ELEMENT);
  const claims = new Int32Array(claimsBuffer);
  // Whatever a worker did not send, the calling thread does itself.
  const ports = startWorkers(workers, WORKER_SOURCE, (port) => ({
    loadTs: tuning.loadTs ?? LOAD_TS,
    yamlDocs: path.join(__dirname, "yamlDocs.ts"), gitops: path.join(__dirname, "gitops.ts"),
    renderCheck: path.join(__dirname, "renderCheck.ts"), crdsModule: path.join(__dirname, "crds.ts"),
    files, base, counter, claims: claimsBuffer, chunk: CHUNK, port, contextKinds: [...CONTEXT_KINDS],
  }));

  const chunkFiles = (c: number) => Array.from({ length: Math.min((c + 1) * CHUNK, files.length) - c * CHUNK }, (_, j) => c * CHUNK + j);

  return {
    finish(load: TreeLoad): TreeCheck {
      // Per file: its documents, `undefined` for one only a worker has; null for a file that failed to parse.
      const entries: (unknown[] | null | undefined)[] = new Array(files.length);
      const mine: number[] = [];
      const parsed = (): boolean => takeMessages(ports, (m) => {
        const { chunk, entries: got } = m as ParseMessage;
        got.forEach((e, j) => { entries[chunk * CHUNK + j] = e; });
      });
      withPlainEnv(() => {
        for (let c = Atomics.add(shared, NEXT, 1); c < chunks; c = Atomics.add(shared, NEXT, 1)) {
          for (const i of chunkFiles(c)) {
            try { entries[i] = readYamlDocumentsFast(files[i], CACHED); } catch { entries[i] = null; }
          }
          mine.push(c);
          parsed();
        }
      });
      waitForWorkers(shared, PARSED, workers, stallMs, parsed);

      // In the order of the sequential checker: the registry, then the first parse error, then the options.
      const crds = load.crds();
      const registry = loadCrdRegistry(crds);
      // Failures, and files a dead worker never sent, are read here in order: the first failure throws.
      withPlainEnv(() => { for (let i = 0; i < files.length; i++) entries[i] ??= readYamlDocumentsFast(files[i], CACHED); });
      const options = load.options();

      // Every document in tree order; `obj` undefined where only a worker has it.
      const docs: { i: number; k: number; file: string; obj?: KubeObject }[] = [];
      const firstDoc: number[] = new Array(files.length);
      entries.forEach((list, i) => {
        firstDoc[i] = docs.length;
        const file = path.relative(base, files[i]);
        list!.forEach((obj, k) => docs.push({ i, k, file, obj: obj as KubeObject | undefined }));
      });
      // Context documents are this thread's objects throughout (Applications are found by identity).
      const contextAt = new Map<number, GitopsDocument>(); // position in `docs` → context document
      docs.forEach((d, pos) => { if (d.obj !== undefined && isContextDocument(d.obj)) contextAt.set(pos, d as GitopsDocument); });
      const context = [...contextAt.values()];
      const tree = treeContext(context, registry, options);
      const contextDocs: GitopsDocument[] = context.map(({ file, obj }) => ({ file, obj }));
      for (const port of ports) port.postMessage({ contextDocs, options, crds });

      const results: (DocResult | undefined)[] = new Array(docs.length);
      const checked = (): boolean => takeMessages(ports, (m) => {
        for (const r of m as DocResult[]) results[firstDoc[r.i] + r.k] = r;
      });
      const checkHere = (pos: number, doc: GitopsDocument): void => {
        const r = renderDocument(doc, tree.render);
        results[pos] = { i: docs[pos].i, k: docs[pos].k, own: checkDocument(doc, tree), render: r.problems, rendered: r.rendered };
      };
      for (const [pos, d] of contextAt) checkHere(pos, d);
      /** Checks a chunk's documents, but context ones (done above); reads again a file only a worker has. */
      const checkChunk = (c: number): void => {
        withPlainEnv(() => {
          for (const i of chunkFiles(c)) {
            let list = entries[i]!;
            if (list.some((obj) => obj === undefined)) list = readYamlDocumentsFast(files[i], CACHED);
            list.forEach((obj, k) => {
              const pos = firstDoc[i] + k;
              if (!contextAt.has(pos)) checkHere(pos, { file: docs[pos].file, obj: obj as KubeObject });
            });
          }
        });
        checked();
      };
      for (const c of mine) if (Atomics.compareExchange(claims, c, 0, 1) === 0) checkChunk(c);
      for (let c = 0; c < chunks; c++) if (Atomics.compareExchange(claims, c, 0, 1) === 0) checkChunk(c);
      waitForWorkers(shared, CHECKED, workers, stallMs, checked);
      for (const port of ports) port.close();

      // Whatever a worker took and did not send (a worker sends a chunk's results whole, or not at all): checked here.
      const missing = new Set(docs.flatMap((d, pos) => (results[pos] ? [] : [Math.floor(d.i / CHUNK)])));
      for (const c of missing) checkChunk(c);

      return { problems: problemsInOrder(tree, results as DocResult[]), objects: docs.length };
    },
  };
}
