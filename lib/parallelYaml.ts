/**
 * Reading and parsing many YAML files on every core, synchronously for the caller.
 *
 * Parsing YAML is most of the checker's cost once Git holds thousands of XR files. `startReadingYaml`
 * starts worker threads at once (they parse while the caller does other work, e.g. loads the CRD
 * registry); `finish()` then parses on the calling thread too, taking chunks of files from the same
 * shared counter until none is left, waits for the workers (Atomics.wait) and returns every file's
 * documents in file order. The result is exactly `files.map(readYamlDocuments)`: the workers run that
 * same function (lib/yamlDocs.ts), and structured cloning keeps plain data, key order and aliases
 * within a file. Any file that failed anywhere is read again on the calling thread, in file order, so
 * the first failure throws exactly the error a sequential read would.
 */
import * as os from "node:os";
import * as path from "node:path";
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from "node:worker_threads";
import { readYamlDocumentsFast, withPlainEnv } from "./yamlDocs";

/** Below this many files a worker's start-up (~50 ms of CPU) costs more than it saves. */
export const PARALLEL_MIN_FILES = 1_000;
/** Files per chunk taken from the shared counter: small enough to balance, large enough to batch messages. */
const CHUNK = 64;
/** A worker silent this long is given up on (a chunk of 64 files takes milliseconds). */
export const STALL_MS = 5_000;

/** How a worker thread loads our TypeScript (as the tools do). */
export const LOAD_TS = path.join(__dirname, "..", "tools", "load-ts.cjs");

/**
 * Starts `count` worker threads running `source`, each given `data(port)` with its end of a message
 * channel; returns the calling thread's ends. Workers are unref'd and silent, and a worker's error is
 * ignored: callers take what workers sent and do the rest themselves (a worker that dies never hangs them).
 */
export function startWorkers(count: number, source: string, data: (port: MessagePort) => Record<string, unknown>): MessagePort[] {
  const ports: MessagePort[] = [];
  for (let w = 0; w < count; w++) {
    const { port1, port2 } = new MessageChannel();
    ports.push(port1);
    const worker = new Worker(source, { eval: true, workerData: data(port2), transferList: [port2], stdout: false, stderr: false });
    worker.unref();
    worker.on("error", () => {});
  }
  return ports;
}

/** Hands every message waiting on `ports` to `take`; whether there was any. */
export function takeMessages(ports: MessagePort[], take: (message: unknown) => void): boolean {
  let any = false;
  for (const port of ports) {
    for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) {
      take(m.message);
      any = true;
    }
  }
  return any;
}

/**
 * Waits until `shared[slot]` counts `workers`, taking messages meanwhile (`drain`, and once more at the
 * end). A worker that dies without its `finally` (process.exit, out of memory, never started) never
 * counts itself: the wait also ends once no message has arrived for `stallMs`, and the caller does
 * whatever that worker did not send.
 */
export function waitForWorkers(shared: Int32Array, slot: number, workers: number, stallMs: number, drain: () => boolean): void {
  let quietSince = Date.now();
  for (let n = Atomics.load(shared, slot); n < workers && Date.now() - quietSince < stallMs; n = Atomics.load(shared, slot)) {
    Atomics.wait(shared, slot, n, 100);
    if (drain()) quietSince = Date.now();
  }
  drain();
}
// Slots of the shared counter: next file index to take, workers finished.
const NEXT = 0;
const DONE = 1;

interface ChunkMessage { start: number; docs: (unknown[] | null)[] }

// The worker loads TypeScript the way the offline tools do (swc, no type check), then only lib/yamlDocs.ts.
const WORKER_SOURCE = `
const { workerData } = require("node:worker_threads");
const { files, counter, chunk, port } = workerData;
const shared = new Int32Array(counter);
try {
  require(workerData.loadTs);
  const { readYamlDocumentsFast, withPlainEnv } = require(workerData.yamlDocs);
  withPlainEnv(() => {
  for (let start = Atomics.add(shared, ${NEXT}, chunk); start < files.length; start = Atomics.add(shared, ${NEXT}, chunk)) {
    const docs = [];
    for (let i = start; i < Math.min(start + chunk, files.length); i++) {
      try { docs.push(readYamlDocumentsFast(files[i])); } catch { docs.push(null); }
    }
    port.postMessage({ start, docs });
  }
  });
} finally {
  // Whatever happened here, the calling thread stops waiting; what was not sent it reads itself.
  port.close();
  Atomics.add(shared, ${DONE}, 1);
  Atomics.notify(shared, ${DONE});
}
`;

/** `NIXPLANE_YAML_WORKERS` (a whole number) overrides the default: one worker per extra core. */
export function workersFor(files: number, env: NodeJS.ProcessEnv = process.env): number {
  const override = env.NIXPLANE_YAML_WORKERS;
  if (override !== undefined) {
    if (!/^\d+$/.test(override)) throw new Error(`NIXPLANE_YAML_WORKERS must be a whole number of worker threads, got ${JSON.stringify(override)}`);
    return Number(override);
  }
  return files < PARALLEL_MIN_FILES ? 0 : Math.max(0, os.availableParallelism() - 1);
}

export interface PendingYaml {
  /** Every file's documents, in file order; throws the error a sequential read would throw first. */
  finish(): unknown[][];
}

/**
 * Starts reading `files`; `workers` defaults to `workersFor(files.length)`.
 */
export function startReadingYaml(files: string[], options: { workers?: number; /** tests */ loadTs?: string; stallMs?: number } = {}): PendingYaml {
  const stallMs = options.stallMs ?? STALL_MS;
  const workers = options.workers ?? workersFor(files.length);
  if (workers === 0) return { finish: () => withPlainEnv(() => files.map((f) => readYamlDocumentsFast(f))) };

  const counter = new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT);
  const shared = new Int32Array(counter);
  // The workers report nothing: whatever they could not parse or send, the calling thread reads itself.
  const ports = startWorkers(workers, WORKER_SOURCE, (port) => ({
    loadTs: options.loadTs ?? LOAD_TS, yamlDocs: path.join(__dirname, "yamlDocs.ts"), files, counter, chunk: CHUNK, port,
  }));

  return {
    finish(): unknown[][] {
      const results: (unknown[] | null | undefined)[] = new Array(files.length);
      /** Takes every chunk the workers sent; whether there was any. */
      const drain = (): boolean => takeMessages(ports, (m) => {
        const { start, docs } = m as ChunkMessage;
        docs.forEach((d, k) => { results[start + k] = d; });
      });
      withPlainEnv(() => {
        for (let start = Atomics.add(shared, NEXT, CHUNK); start < files.length; start = Atomics.add(shared, NEXT, CHUNK)) {
          for (let i = start; i < Math.min(start + CHUNK, files.length); i++) {
            try { results[i] = readYamlDocumentsFast(files[i]); } catch { results[i] = null; }
          }
          drain();
        }
      });
      waitForWorkers(shared, DONE, workers, stallMs, drain); // what a dead worker did not send is read below
      for (const port of ports) port.close();
      // Failures, and any chunk a dead worker never sent, are read here: in order, so the first throws.
      return results.map((docs, i) => docs ?? readYamlDocumentsFast(files[i]));
    },
  };
}
