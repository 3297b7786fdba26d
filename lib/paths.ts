import * as path from "node:path";

/** The repository root (the folder holding package.json), whatever the working directory. */
export const REPO_ROOT = path.resolve(__dirname, "..");
/** The folder Argo CD syncs, whose compositions decide which providers and kinds are installed. */
export const GITOPS_DIR = path.join(REPO_ROOT, "gitops");
/** tsx's command line, for tests that run a tool in a child process as `node <TSX_CLI> <file>`. */
export const TSX_CLI = path.join(REPO_ROOT, "node_modules", "tsx", "dist", "cli.mjs");
