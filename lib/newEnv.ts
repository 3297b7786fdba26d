/**
 * `npm run new-env -- <name> [--from <stack>]`: a new environment is a stack file plus its folder in
 * gitops/environments/. The stack file is derived from an existing one (default dev) so it starts
 * valid, and the folder starts with an empty claims/; the settings a new environment must review are listed at the top of the stack file.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import YAML from "yaml";
import { gitopsEnvironment } from "./gitopsLayout";
import { REPO_ROOT } from "./paths";
import { listStacks, readStackDoc, stackFile } from "./stackFiles";
import { IMAGE_ENVIRONMENT, githubEnvironment } from "./ciRoles";
import { ledgerRecorderGithubEnvironment } from "./dr/recorder";

export const ENVIRONMENT_NAME = /^[a-z][a-z0-9-]{1,15}$/;
/**
 * Suffixes of the GitHub environments derived from a stack's name (`<stack>-preview`, `<stack>-dr-record`), and the
 * image pipeline's: the CI roles trust an environment by name alone, so no stack may be named like one.
 */
export const RESERVED_SUFFIXES = [githubEnvironment("x", "preview"), ledgerRecorderGithubEnvironment("x")].map((e) => e.slice(1));

export function reservedNameProblem(name: string): string | undefined {
  const suffix = RESERVED_SUFFIXES.find((s) => name.endsWith(s));
  if (suffix) return `environment name "${name}" ends in "${suffix}", the suffix of a stack's derived GitHub environment: choose a name without it`;
  if (name === IMAGE_ENVIRONMENT) return `environment name "${name}" is the image pipeline's GitHub environment: choose another name`;
  return undefined;
}

/** The GitOps folder a stack's root Application syncs, relative to the repository: `<gitops.path>/environments/<env>`. */
export function environmentFolder(stack: string, root = REPO_ROOT): string {
  const doc = readStackDoc(stack, root);
  const dr = (doc["nixplane:dr"] ?? {}) as { sourceStack?: string };
  const environment = gitopsEnvironment(String(doc["nixplane:environment"] ?? stack), dr.sourceStack);
  const gitops = (doc["nixplane:gitops"] ?? {}) as { path?: string };
  return path.join((gitops.path ?? "gitops").replace(/\/+$/, ""), "environments", environment);
}

/** One problem per stack whose environment folder is missing: the root Application would sync nothing. */
export function missingEnvironmentFolders(root = REPO_ROOT): string[] {
  return listStacks(root).flatMap((stack) => {
    const folder = environmentFolder(stack, root);
    return fs.existsSync(path.join(root, folder)) ? [] : [`stack ${stack}: ${folder}/ does not exist, so its root Application would sync nothing (\`npm run new-env -- ${stack}\` creates the skeleton)`];
  });
}

export interface NewEnvironment { stackFile: string; files: string[] }


/** Writes the stack file and the environment folder; refuses a bad or taken name before writing anything. */
export function createEnvironment(name: string, from = "dev", root = REPO_ROOT): NewEnvironment {
  if (!ENVIRONMENT_NAME.test(name)) throw new Error(`environment name "${name}" must be 2-16 lower-case letters, digits or '-', starting with a letter`);
  const reserved = reservedNameProblem(name);
  if (reserved) throw new Error(reserved);
  if (fs.existsSync(stackFile(name, root))) throw new Error(`stack ${name} exists already: ${path.relative(root, stackFile(name, root))}`);
  if (!listStacks(root).includes(from)) throw new Error(`--from ${from}: no such stack (stacks: ${listStacks(root).join(", ")})`);
  const sourceFolder = path.join(root, environmentFolder(from, root));
  const targetFolder = path.join(path.dirname(sourceFolder), name);
  if (fs.existsSync(targetFolder)) throw new Error(`${path.relative(root, targetFolder)}/ exists already`);

  const doc = YAML.parseDocument(fs.readFileSync(stackFile(from, root), "utf8"));
  doc.setIn(["config", "nixplane:environment"], name);
  doc.commentBefore = [
    ` ${name}: created by \`npm run new-env -- ${name} --from ${from}\`. Review before the first \`pulumi up\`:`,
    "   nixplane:allowedAccountIds (its own account), nixplane:vpc.cidr, nixplane:adminPrincipals,",
    "   nixplane:gitops.revision, and the claims in its environment folder.",
  ].join("\n");
  fs.writeFileSync(stackFile(name, root), doc.toString());

  // The root Application Pulumi creates syncs this folder (namespaces and XRs); it starts empty, and
  // Git keeps an empty folder only with a file in it.
  fs.mkdirSync(path.join(targetFolder, "claims"), { recursive: true });
  fs.writeFileSync(path.join(targetFolder, "claims", ".gitkeep"), "");
  const files = [path.relative(root, path.join(targetFolder, "claims", ".gitkeep"))];
  return { stackFile: path.relative(root, stackFile(name, root)), files };
}
