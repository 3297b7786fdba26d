import * as path from "node:path";

/** The repository root (the folder holding package.json), whatever the working directory. */
export const REPO_ROOT = path.resolve(__dirname, "..", "..");
