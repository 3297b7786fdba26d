/**
 * The plan diff: what a change does to a stack, read from two offline plans (the base commit's and the
 * head commit's `plan/<stack>/resources.json`) without credentials, so every pull request, forks
 * included, can be shown it. Resources are matched by URN:
 * - added / removed: the URN is only in head / only in base;
 * - replaced: the engine would delete and create it: the same type and name under another parent (a URN
 *   change without an alias), or a change to an input the provider cannot update in place (REPLACE_ON);
 * - changed: the same URN with different inputs, listed by input path.
 * Values are masked twice: Pulumi secrets are already `[secret]` in the plan, and values under keys that
 * name credentials (and a Kubernetes Secret's data) are masked here too, since the diff is posted publicly.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { PlanEntry } from "./plan";
import { SECRET_MASK } from "./run";

export type ChangeKind = "added" | "removed" | "replaced" | "changed";

export interface InputChange {
  /** Input path as a user reads it: `values.server.replicas`, `subnetIds[1]`. */
  path: string;
  /** Masked; undefined when the input is absent on that side. */
  before?: unknown;
  after?: unknown;
}

export interface ResourceChange {
  kind: ChangeKind;
  urn: string;
  type: string;
  name: string;
  /** For `replaced`: why the engine would replace it. */
  reasons: string[];
  /** Changed inputs (for `changed` and `replaced`). */
  inputs: InputChange[];
  /** Protected in base: a delete or replacement of it fails `pulumi up` until unprotected. */
  protect: boolean;
}

export interface PlanDiff {
  changes: ResourceChange[];
  counts: Record<ChangeKind, number>;
  unchanged: number;
}

/**
 * Inputs a change to which the provider cannot apply in place, so the engine replaces the resource.
 * Each from the provider's schema ("forces new resource" / ForceNew in terraform-provider-aws, Pulumi's
 * replaceOnChanges for Kubernetes objects); only types nixplane creates are listed.
 */
export const REPLACE_ON: Record<string, string[]> = {
  "aws:ec2/vpc:Vpc": ["cidrBlock", "instanceTenancy"],
  "aws:ec2/subnet:Subnet": ["cidrBlock", "availabilityZone", "availabilityZoneId", "vpcId"],
  "aws:ec2/natGateway:NatGateway": ["allocationId", "subnetId", "connectivityType"],
  "aws:ec2/securityGroup:SecurityGroup": ["name", "namePrefix", "description", "vpcId"],
  "aws:eks/nodeGroup:NodeGroup": ["amiType", "capacityType", "clusterName", "diskSize", "instanceTypes", "nodeGroupName", "nodeGroupNamePrefix", "nodeRoleArn", "subnetIds"],
  "aws:eks/addon:Addon": ["addonName", "clusterName"],
  "aws:eks/accessEntry:AccessEntry": ["clusterName", "principalArn", "type"],
  "aws:eks/podIdentityAssociation:PodIdentityAssociation": ["clusterName", "namespace", "serviceAccount"],
  "aws:iam/role:Role": ["name", "namePrefix", "path"],
  "aws:iam/policy:Policy": ["name", "namePrefix", "path", "description"],
  "aws:iam/openIdConnectProvider:OpenIdConnectProvider": ["url"],
  "aws:kms/key:Key": ["customerMasterKeySpec", "keyUsage", "multiRegion"],
  "aws:cloudwatch/logGroup:LogGroup": ["name", "namePrefix"],
  "aws:s3/bucket:Bucket": ["bucket", "bucketPrefix"],
  "aws:s3/bucketV2:BucketV2": ["bucket", "bucketPrefix"],
  "aws:codebuild/project:Project": ["name"],
  "aws:acm/certificate:Certificate": ["domainName", "subjectAlternativeNames", "validationMethod", "keyAlgorithm"],
  "aws:route53/record:Record": ["name", "type", "zoneId"],
  "eks:index:Cluster": ["name", "vpcId", "kubernetesServiceIpAddressRange"],
  "kubernetes:helm.sh/v3:Release": ["name", "namespace"],
};
/** Kubernetes objects are replaced when their identity changes. */
const KUBERNETES_REPLACE_ON = ["metadata.name", "metadata.namespace", "kind"];

/** Keys whose values are credentials wherever they appear (matched case-insensitively on the last path segment). */
const CREDENTIAL_KEY = /(password|passphrase|secret|token|privatekey|sshprivatekey|apikey|credentials?)$/i;

function isKubernetesSecret(e: PlanEntry): boolean {
  return e.type === "kubernetes:core/v1:Secret" || (e.type.startsWith("kubernetes:") && e.inputs.kind === "Secret");
}

/** A copy of `inputs` with every credential-like value masked (Pulumi secrets are masked already). */
export function maskCredentials(entry: Pick<PlanEntry, "type" | "inputs">): Record<string, unknown> {
  const walk = (v: unknown, key: string, top: boolean): unknown => {
    if (top && (key === "data" || key === "stringData") && isKubernetesSecret(entry as PlanEntry)) return SECRET_MASK;
    if (CREDENTIAL_KEY.test(key) && v !== null && typeof v !== "object" && v !== "" && v !== false) return SECRET_MASK;
    if (Array.isArray(v)) return v.map((x) => walk(x, key, false));
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, k, false)]));
    return v;
  };
  return Object.fromEntries(Object.entries(entry.inputs).map(([k, v]) => [k, walk(v, k, true)]));
}

/** JSON documents held in strings (IAM policies, kubeconfigs) are compared as documents. */
function expand(v: unknown): unknown {
  if (typeof v === "string" && /^\s*[{[]/.test(v)) {
    try {
      return JSON.parse(v);
    } catch {
      return v;
    }
  }
  return v;
}

const join = (base: string, key: string | number) => (typeof key === "number" ? `${base}[${key}]` : base ? `${base}.${key}` : key);

/** Every leaf path where `a` and `b` differ. Arrays compare by index. */
export function diffValues(a: unknown, b: unknown, at = ""): InputChange[] {
  a = expand(a);
  b = expand(b);
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  const bothArrays = Array.isArray(a) && Array.isArray(b);
  const bothObjects = !bothArrays && a !== null && b !== null && typeof a === "object" && typeof b === "object" && !Array.isArray(a) && !Array.isArray(b);
  if (bothArrays) {
    const [x, y] = [a as unknown[], b as unknown[]];
    return Array.from({ length: Math.max(x.length, y.length) }, (_, i) =>
      i >= x.length ? [{ path: join(at, i), after: y[i] }] : i >= y.length ? [{ path: join(at, i), before: x[i] }] : diffValues(x[i], y[i], join(at, i))).flat();
  }
  if (bothObjects) {
    const [x, y] = [a as Record<string, unknown>, b as Record<string, unknown>];
    return [...new Set([...Object.keys(x), ...Object.keys(y)])].sort().flatMap((k) =>
      !(k in y) ? [{ path: join(at, k), before: x[k] }] : !(k in x) ? [{ path: join(at, k), after: y[k] }] : diffValues(x[k], y[k], join(at, k)));
  }
  return [{ path: at, before: a, after: b }];
}

function replaceReasons(type: string, changed: InputChange[]): string[] {
  const keys = type.startsWith("kubernetes:") && type !== "kubernetes:helm.sh/v3:Release" ? KUBERNETES_REPLACE_ON : REPLACE_ON[type] ?? [];
  return keys.filter((k) => changed.some((c) => c.path === k || c.path.startsWith(`${k}.`) || c.path.startsWith(`${k}[`)))
    .map((k) => `${k} cannot change in place`);
}

const typeAndName = (e: PlanEntry) => `${e.type}::${e.name}`;

/** The resource-by-resource difference from `base` to `head` (both `resources.json` entries of one stack). */
export function diffPlans(base: PlanEntry[], head: PlanEntry[]): PlanDiff {
  const baseBy = new Map(base.map((e) => [e.urn, e]));
  const headBy = new Map(head.map((e) => [e.urn, e]));
  const changes: ResourceChange[] = [];
  let unchanged = 0;
  const onlyBase = base.filter((e) => !headBy.has(e.urn));
  const onlyHead = head.filter((e) => !baseBy.has(e.urn));
  // Same type and name, new URN: a new parent without an alias, which the engine deletes and recreates.
  const movedFrom = new Map(onlyBase.map((e) => [typeAndName(e), e]));
  const moved = new Set<string>();
  for (const h of onlyHead) {
    const b = movedFrom.get(typeAndName(h));
    if (b && !moved.has(b.urn)) {
      moved.add(b.urn);
      changes.push({ kind: "replaced", urn: h.urn, type: h.type, name: h.name, protect: b.protect, reasons: [`parent changed without an alias (was ${b.parent ?? "the stack"})`], inputs: diffValues(maskCredentials(b), maskCredentials(h)) });
    } else {
      changes.push({ kind: "added", urn: h.urn, type: h.type, name: h.name, protect: h.protect, reasons: [], inputs: [] });
    }
  }
  for (const b of onlyBase) {
    if (!moved.has(b.urn)) changes.push({ kind: "removed", urn: b.urn, type: b.type, name: b.name, protect: b.protect, reasons: [], inputs: [] });
  }
  for (const h of head) {
    const b = baseBy.get(h.urn);
    if (!b) continue;
    const inputs = diffValues(maskCredentials(b), maskCredentials(h));
    if (inputs.length === 0) { unchanged++; continue; }
    const reasons = replaceReasons(h.type, inputs);
    changes.push({ kind: reasons.length ? "replaced" : "changed", urn: h.urn, type: h.type, name: h.name, protect: b.protect, reasons, inputs });
  }
  const order: Record<ChangeKind, number> = { replaced: 0, removed: 1, added: 2, changed: 3 };
  changes.sort((x, y) => order[x.kind] - order[y.kind] || x.urn.localeCompare(y.urn));
  const counts = { added: 0, removed: 0, replaced: 0, changed: 0 };
  for (const c of changes) counts[c.kind]++;
  return { changes, counts, unchanged };
}

/** Reads `<dir>/resources.json`, naming the file when it is missing or not a plan. */
export function readPlanEntries(dir: string): PlanEntry[] {
  const file = path.join(dir, "resources.json");
  if (!fs.existsSync(file)) throw new Error(`no plan at ${file}: run \`npm run plan -- <stack>\` first`);
  const entries = JSON.parse(fs.readFileSync(file, "utf8"));
  if (!Array.isArray(entries) || entries.some((e) => typeof e?.urn !== "string" || typeof e?.type !== "string"))
    throw new Error(`${file} is not a plan's resources.json (an array of entries with urn and type)`);
  return entries;
}

/** The diff of two plan directories of one stack (`plan/<stack>` of the base and of the head commit). */
export function diffPlanDirs(baseDir: string, headDir: string): PlanDiff {
  return diffPlans(readPlanEntries(baseDir), readPlanEntries(headDir));
}

const MAX_VALUE_CHARS = 120;
/** One value on one line, shortened: long values (user data, manifests) would drown the diff. */
export function showValue(v: unknown): string {
  if (v === undefined) return "(none)";
  const s = typeof v === "string" ? JSON.stringify(v) : JSON.stringify(v) ?? String(v);
  return s.length > MAX_VALUE_CHARS ? `${s.slice(0, MAX_VALUE_CHARS - 1)}…` : s;
}

const SYMBOL: Record<ChangeKind, string> = { added: "+", removed: "-", replaced: "+-", changed: "~" };

export function summary(d: PlanDiff): string {
  const parts = (["added", "removed", "replaced", "changed"] as ChangeKind[]).filter((k) => d.counts[k] > 0).map((k) => `${d.counts[k]} ${k}`);
  return parts.length ? `${parts.join(", ")}, ${d.unchanged} unchanged` : `no changes (${d.unchanged} resources)`;
}

/** For the terminal: one line per resource, indented input changes. */
export function renderPlanDiffText(stack: string, d: PlanDiff): string {
  const lines = [`stack ${stack}: ${summary(d)}`];
  for (const c of d.changes) {
    lines.push(`  ${SYMBOL[c.kind].padEnd(2)} ${c.type} ${c.name}${c.protect && c.kind !== "added" && c.kind !== "changed" ? "  (protected: up fails until unprotected)" : ""}${c.reasons.length ? `  [${c.reasons.join("; ")}]` : ""}`);
    for (const i of c.inputs) lines.push(`       ${i.path}: ${showValue(i.before)} => ${showValue(i.after)}`);
  }
  return lines.join("\n");
}

/** Hidden marker by which the comment workflow finds its own comment to update. */
export const PLAN_DIFF_COMMENT_MARKER = "<!-- nixplane-plan-diff -->";
/** GitHub refuses comment bodies over 65,536 characters. */
export const MAX_COMMENT_CHARS = 65_000;
const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/`/g, "'").replace(/\n/g, " ");

/** One pull-request comment for every stack: a summary line each, details folded. */
export function renderPlanDiffMarkdown(stacks: { stack: string; diff: PlanDiff }[], opts: { base?: string; head?: string } = {}): string {
  const head = [PLAN_DIFF_COMMENT_MARKER, "### nixplane offline plan diff", ""];
  if (opts.base || opts.head) head.push(`Base \`${opts.base ?? "?"}\` → head \`${opts.head ?? "?"}\`. Offline: the program under mocks, no cloud state; secrets masked.`, "");
  const body: string[] = [];
  for (const { stack, diff } of stacks) {
    body.push(`<details${diff.counts.replaced + diff.counts.removed > 0 ? " open" : ""}><summary><b>${stack}</b>: ${summary(diff)}</summary>`, "");
    if (diff.changes.length) {
      body.push("| | resource | type | what changes |", "|---|---|---|---|");
      for (const c of diff.changes) {
        const what = [...c.reasons.map((r) => `**${r}**`), ...(c.protect && (c.kind === "removed" || c.kind === "replaced") ? ["**protected**"] : []),
          ...c.inputs.map((i) => `\`${cell(i.path)}\`: ${cell(showValue(i.before))} → ${cell(showValue(i.after))}`)].join("<br>");
        body.push(`| ${SYMBOL[c.kind]} | ${cell(c.name)} | ${cell(c.type)} | ${what} |`);
      }
    }
    body.push("", "</details>", "");
  }
  let text = [...head, ...body].join("\n");
  if (text.length > MAX_COMMENT_CHARS) {
    const note = "\n\n…truncated: the full diff is in the workflow's `plan-diff` artifact.\n";
    text = text.slice(0, MAX_COMMENT_CHARS - note.length) + note;
  }
  return text;
}
