/** Shared by the gitops tests: the real tree, checked with the real stacks, one object replaced by a broken copy. */
import * as path from "node:path";
import { crdsDir, loadCrdRegistry, repoRoot, type KubeObject } from "../lib/crds";
import { checkDocuments, formatProblem, loadGitops, stackFacts, type GitopsDocument } from "../lib/gitops";

export const gitopsDir = path.join(repoRoot(), "gitops");
let cached: GitopsDocument[] | undefined;
export const treeDocs = () => (cached ??= loadGitops(gitopsDir));

// The stack files are read once: no test writes them, and each check used to parse them all again.
let facts: ReturnType<typeof stackFacts> | undefined;
export const check = (docs: GitopsDocument[]) => checkDocuments(docs, loadCrdRegistry(crdsDir()), { stacks: (facts ??= stackFacts()) }).map(formatProblem);

/** Every problem of the real tree with one object (file, kind, name) edited. */
export function checkWith(file: string, kind: string, name: string, edit: (o: any) => void, extra: GitopsDocument[] = []): string[] {
  let hit = false;
  const changed = treeDocs().map((d) => {
    if (d.file !== file || d.obj.kind !== kind || d.obj.metadata?.name !== name) return d;
    hit = true;
    const copy = structuredClone(d.obj) as KubeObject;
    edit(copy);
    return { file: d.file, obj: copy };
  });
  if (!hit) throw new Error(`no ${kind}/${name} in ${file}`);
  return check([...changed, ...extra]);
}

/** Only the problems reported on the example XR of an API (one line per rendered defect, not one per environment). */
export const onExample = (api: string, problems: string[]) => problems.filter((p) => p.startsWith(`gitops/apis/${api}/example.yaml: `));

export const OBJECTSTORES = "gitops/apis/objectstores/composition.yaml";
export const OS = "objectstores.platform.nixplane.io";
export const DATABASES = "gitops/apis/databases/composition.yaml";
export const DB = "databases.platform.nixplane.io";
export const WORKLOADROLES = "gitops/apis/workloadroles/composition.yaml";
export const WR = "workloadroles.platform.nixplane.io";
export const resources = (o: any) => o.spec.pipeline[1].input.resources;
export const resource = (o: any, name: string) => resources(o).find((r: any) => r.name === name);
