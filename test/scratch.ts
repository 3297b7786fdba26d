import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/**
 * Temporary folders for one test file (or one bundled spec), removed after it: call once at the
 * file's top level, so the cleanup hook belongs to that file's scope. Each run used to leave its clones,
 * CRD caches and plan copies behind (GBs in the OS temp folder after a day of runs).
 */
export function scratchDirs(): (prefix: string) => string {
  const made: string[] = [];
  afterAll(() => {
    for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });
  return (prefix) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    made.push(dir);
    return dir;
  };
}
