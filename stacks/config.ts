/**
 * The typed stack configuration: ONE zod schema for a whole environment, with every default in it.
 *
 * `parseConfig` is pure (tests call it directly); `loadConfig` reads the `nixplane:*` keys of the
 * current stack and calls it. A bad config throws one `ConfigError` listing every bad key, its value
 * and what is allowed, before the program registers a single resource.
 */
import type * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { isCidr, cidrContains } from "../components/cidr";
import { argocdUrlProblem, DEFAULT_CROSSPLANE_RESOURCES, KUBERNETES_VERSIONS, NAT_MODES, NODE_IMAGE_MODES } from "../lib/choices";
import { compareQuantities, QUANTITY, quantityValue } from "../components/quantity";
import { ADOPTION_PHASES } from "../lib/dr/phase";
import { meetsRule, NAME_RULES, namingPrefixProblem } from "../lib/naming";

// The components own their allowed values; the schema reuses them so the two cannot drift.
export { KUBERNETES_VERSIONS, NAT_MODES, NODE_IMAGE_MODES };

export const ARCHITECTURES = ["x86_64", "arm64"] as const;
export const INTERFACE_ENDPOINTS = ["ecr.api", "ecr.dkr", "sts", "ec2", "ssm", "ssmmessages", "ec2messages", "logs"] as const;
export const TAINT_EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"] as const;
export const PROVIDER_AUTH_MODES = ["irsa", "podIdentity"] as const;

/** Pinned versions: what is installed is what `../shared/crds` validates (see its SOURCES.md). */
export const DEFAULT_VERSIONS = {
  crossplaneChart: "2.3.4",
  providerAws: "v2.6.0",
  functionPatchAndTransform: "v0.10.8",
  functionEnvironmentConfigs: "v0.7.1",
  functionAutoReady: "v0.6.0",
  argocdChart: "10.3.3",
} as const;

export const DEFAULT_VPC_CIDR = "10.0.0.0/16";
export const DEFAULT_AZ_COUNT = 3;
export const DEFAULT_NODE_DISK_GIB = 50;
export const DEFAULT_FLOW_LOG_RETENTION_DAYS = 90;
export const DEFAULT_CONTROL_PLANE_LOG_RETENTION_DAYS = 90;
export const DEFAULT_SERVICE_CIDR = "172.20.0.0/16";

/** CloudWatch Logs accepts only these retention periods. */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

const AWS_REGION = /^(us|eu|ap|sa|ca|me|af|il|mx)(-gov)?-[a-z]+-\d$/;
const ACCOUNT_ID = /^\d{12}$/;
const AMI_ID = /^ami-[0-9a-f]{8,17}$/;
const IAM_PRINCIPAL_ARN = /^arn:aws(-cn|-us-gov)?:iam::\d{12}:(role|user)\/[\w+=,.@\/-]+$/;
const IAM_POLICY_ARN = /^arn:aws(-cn|-us-gov)?:iam::(\d{12}|aws):policy\/[\w+=,.@\/-]+$/;
const INSTANCE_TYPE = /^([a-z]+)(\d+)([a-z-]*)\.([a-z0-9]+)$/;
const K8S_LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const K8S_LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/;
/**
 * Versions have the format of the registry that serves them: Crossplane package tags carry a `v`
 * (xpkg.crossplane.io/crossplane-contrib/provider-aws-s3:v2.6.0; `:2.6.0` does not exist), Helm chart
 * versions do not (the charts' index.yaml lists `2.3.4`, `10.3.3`).
 */
const PACKAGE_TAG = /^v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/;
const CHART_VERSION = /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/;
const packageTag = (example: string) => z.string().regex(PACKAGE_TAG, { message: `is not a Crossplane package tag: tags carry a leading v (e.g. ${example})` });
const chartVersion = (example: string) => z.string().regex(CHART_VERSION, { message: `is not a Helm chart version: no leading v (e.g. ${example})` });

/**
 * The CPU architecture an EC2 instance type runs. Graviton families carry a `g` right after the
 * generation (m7g, c7gn, r8gd, t4g, im4gn, g5g); `a1` is the first Graviton. Everything else is x86_64.
 */
export function instanceTypeArchitecture(instanceType: string): (typeof ARCHITECTURES)[number] | undefined {
  const m = INSTANCE_TYPE.exec(instanceType);
  if (!m) return undefined;
  const [, family, generation, suffix] = m;
  if (family === "a" && generation === "1") return "arm64";
  return suffix.startsWith("g") ? "arm64" : "x86_64";
}

const cidr = z.string().refine(isCidr, { message: "is not a CIDR" });

const taintSchema = z.strictObject({
  key: z.string().regex(K8S_LABEL_KEY, { message: "is not a Kubernetes label key" }),
  value: z.string().regex(K8S_LABEL_VALUE, { message: "is not a Kubernetes label value" }).optional(),
  effect: z.enum(TAINT_EFFECTS),
});

const nodeGroupSchema = z
  .strictObject({
    name: z.string().regex(/^[a-z][a-z0-9-]{0,30}$/, { message: "must be lower-case letters, digits and '-', starting with a letter, at most 31 characters" }),
    architecture: z.enum(ARCHITECTURES),
    instanceTypes: z.array(z.string().regex(INSTANCE_TYPE, { message: "is not an EC2 instance type (family+generation.size, e.g. m7i.large)" })).min(1, { message: "must list at least one instance type" }),
    minSize: z.number().int().min(0),
    desiredSize: z.number().int().min(0),
    maxSize: z.number().int().min(1),
    diskSizeGiB: z.number().int().min(20).max(16384).default(DEFAULT_NODE_DISK_GIB),
    /** Rolling updates replace at most this many nodes at once. */
    maxUnavailable: z.number().int().min(1).default(1),
    labels: z.record(z.string().regex(K8S_LABEL_KEY, { message: "is not a Kubernetes label key" }), z.string().regex(K8S_LABEL_VALUE, { message: "is not a Kubernetes label value" })).default({}),
    taints: z.array(taintSchema).default([]),
  })
  .superRefine((g, ctx) => {
    if (g.minSize > g.maxSize) ctx.addIssue({ code: "custom", path: ["minSize"], message: `(${g.minSize}) > maxSize (${g.maxSize})` });
    if (g.desiredSize < g.minSize || g.desiredSize > g.maxSize)
      ctx.addIssue({ code: "custom", path: ["desiredSize"], message: `(${g.desiredSize}) is not between minSize (${g.minSize}) and maxSize (${g.maxSize})` });
    g.instanceTypes.forEach((t, i) => {
      const arch = instanceTypeArchitecture(t);
      if (arch && arch !== g.architecture)
        ctx.addIssue({ code: "custom", path: ["instanceTypes", i], message: `"${t}" is an ${arch} instance type, but architecture is ${g.architecture}` });
    });
  });

const vpcSchema = z
  .strictObject({
    cidr: cidr.default(DEFAULT_VPC_CIDR),
    azCount: z.number().int().min(2).max(6).default(DEFAULT_AZ_COUNT),
    natMode: z.enum(NAT_MODES).default("single"),
    flowLogs: z
      .strictObject({
        enabled: z.boolean().default(true),
        retentionDays: z.literal(LOG_RETENTION_DAYS).default(DEFAULT_FLOW_LOG_RETENTION_DAYS),
      })
      .default({ enabled: true, retentionDays: DEFAULT_FLOW_LOG_RETENTION_DAYS }),
    /** Interface endpoints let private nodes reach AWS APIs without a NAT hop. */
    interfaceEndpoints: z.array(z.enum(INTERFACE_ENDPOINTS)).default([]),
    /** Use an existing VPC instead of creating one (`cidr`, `azCount`, `natMode` are then ignored). */
    existing: z
      .strictObject({
        vpcId: z.string().regex(/^vpc-[0-9a-f]{8,17}$/, { message: "is not a VPC ID (vpc-…)" }),
        privateSubnetIds: z.array(z.string().regex(/^subnet-[0-9a-f]{8,17}$/, { message: "is not a subnet ID (subnet-…)" })).min(2, { message: "needs at least two subnets (EKS requires two AZs)" }),
        publicSubnetIds: z.array(z.string().regex(/^subnet-[0-9a-f]{8,17}$/, { message: "is not a subnet ID (subnet-…)" })).optional(),
      })
      .optional(),
  })
  .superRefine((v, ctx) => {
    if (!isCidr(v.cidr)) return;
    const prefix = Number(v.cidr.split("/")[1]);
    if (prefix > 20) ctx.addIssue({ code: "custom", path: ["cidr"], message: `"${v.cidr}" is too small: use a /16 to /20 so every AZ gets room for pods` });
    if (prefix < 16) ctx.addIssue({ code: "custom", path: ["cidr"], message: `"${v.cidr}" is larger than AWS allows for a VPC (/16 at most)` });
  });

const endpointSchema = z
  .strictObject({
    publicAccess: z.boolean().default(false),
    publicAccessCidrs: z.array(cidr).default([]),
  })
  .superRefine((e, ctx) => {
    if (e.publicAccess && e.publicAccessCidrs.length === 0)
      ctx.addIssue({ code: "custom", path: ["publicAccessCidrs"], message: "must list at least one CIDR when publicAccess is true (secure by default: no open endpoint)" });
    if (!e.publicAccess && e.publicAccessCidrs.length > 0)
      ctx.addIssue({ code: "custom", path: ["publicAccessCidrs"], message: "is set but publicAccess is false: set publicAccess: true or remove the CIDRs" });
  });

const nodeImageSchema = z
  .strictObject({
    /** `lock`: the committed image lock (nixos/images.lock.json) written by the image pipeline; `ami`: explicit IDs. */
    mode: z.enum(NODE_IMAGE_MODES).default("lock"),
    /** With mode `ami`: the AMI for every architecture a node group uses. */
    amiIds: z.strictObject({ x86_64: z.string().regex(AMI_ID, { message: "is not an AMI ID (ami-[0-9a-f]{8,17})" }).optional(), arm64: z.string().regex(AMI_ID, { message: "is not an AMI ID (ami-[0-9a-f]{8,17})" }).optional() }).default({}),
  })
  .superRefine((n, ctx) => {
    if (n.mode === "lock" && (n.amiIds.x86_64 || n.amiIds.arm64))
      ctx.addIssue({ code: "custom", path: ["amiIds"], message: "is only used with mode \"ami\"; with mode \"lock\" the AMI comes from nixos/images.lock.json" });
  });

const quantity = z.string().regex(QUANTITY, { message: "is not a Kubernetes quantity (e.g. 500m, 2, 512Mi, 1Gi)" });
const cpuMemory = z.strictObject({ cpu: quantity, memory: quantity });
/** Pod requests and limits; Kubernetes refuses a request above its limit, so config does first. */
const podResources = z
  .strictObject({ requests: cpuMemory, limits: cpuMemory })
  .superRefine((r, ctx) => {
    for (const k of ["cpu", "memory"] as const) {
      // An unparsable quantity is reported by its own field's rule.
      if (quantityValue(r.requests[k]) && quantityValue(r.limits[k]) && compareQuantities(r.requests[k], r.limits[k]) > 0)
        ctx.addIssue({ code: "custom", path: ["requests", k], message: `"${r.requests[k]}" is above limits.${k} "${r.limits[k]}"` });
    }
  });

const crossplaneSchema = z.strictObject({
  chartVersion: chartVersion(DEFAULT_VERSIONS.crossplaneChart).default(DEFAULT_VERSIONS.crossplaneChart),
  replicas: z.number().int().min(1).max(5).default(1),
  /** The Crossplane pod's requests and limits (the providers size themselves). */
  resources: podResources.default(DEFAULT_CROSSPLANE_RESOURCES),
  providerVersion: packageTag(DEFAULT_VERSIONS.providerAws).default(DEFAULT_VERSIONS.providerAws),
  /** How the AWS providers get credentials: never static keys. */
  providerAuth: z.enum(PROVIDER_AUTH_MODES).default("podIdentity"),
  /** Boundary every IAM role created from Git must carry; nixplane creates one when unset. */
  permissionsBoundaryArn: z.string().regex(IAM_POLICY_ARN, { message: "is not an IAM policy ARN" }).optional(),
  functions: z
    .strictObject({
      patchAndTransform: packageTag(DEFAULT_VERSIONS.functionPatchAndTransform).default(DEFAULT_VERSIONS.functionPatchAndTransform),
      environmentConfigs: packageTag(DEFAULT_VERSIONS.functionEnvironmentConfigs).default(DEFAULT_VERSIONS.functionEnvironmentConfigs),
      autoReady: packageTag(DEFAULT_VERSIONS.functionAutoReady).default(DEFAULT_VERSIONS.functionAutoReady),
    })
    .default({ patchAndTransform: DEFAULT_VERSIONS.functionPatchAndTransform, environmentConfigs: DEFAULT_VERSIONS.functionEnvironmentConfigs, autoReady: DEFAULT_VERSIONS.functionAutoReady }),
});

const argocdSchema = z.strictObject({
  chartVersion: chartVersion(DEFAULT_VERSIONS.argocdChart).default(DEFAULT_VERSIONS.argocdChart),
  /** Highly available Argo CD (several replicas, redis-ha): on in prod. */
  ha: z.boolean().default(false),
  /** Where users reach Argo CD (https, no trailing slash): the OIDC redirect is <url>/auth/callback. */
  url: z.string().superRefine((u, ctx) => {
    const problem = argocdUrlProblem(u);
    if (problem) ctx.addIssue({ code: "custom", message: `"${u}" ${problem}` });
  }).optional(),
  /** OIDC single sign-on; when set, the local admin account is disabled. */
  sso: z
    .strictObject({
      issuer: z.url({ message: "is not a URL" }),
      clientId: z.string().min(1),
      adminGroups: z.array(z.string().min(1)).min(1),
    })
    .optional(),
});

const gitopsSchema = z.strictObject({
  repoUrl: z.string().regex(/^(https:\/\/|ssh:\/\/|git@)[^\s]+$/, { message: "is not a Git URL (https://…, ssh://… or git@…)" }),
  revision: z.string().min(1).default("main"),
  /** Folder of the environments in the repo; the root Application syncs `<path>/environments/<environment>`. */
  path: z.string().regex(/^[A-Za-z0-9._\/-]+$/, { message: "is not a relative path" }).default("gitops"),
});

/**
 * The naming contract (lib/naming.ts): every AWS name composed from Git is <prefix>-<namespace>-<name>.
 * Unique to the organization and the environment (S3 names are global); a DR rebuild keeps its source's.
 */
const namingSchema = z.strictObject({
  prefix: z.string(),
});

const drSchema = z.strictObject({
  /** Region that gets a copy of every node AMI, ready for a rebuild there. */
  region: z.string().regex(AWS_REGION, { message: "is not an AWS region" }).optional(),
  /** The stack this one rebuilds; its Git-managed resources are re-adopted, never recreated. */
  sourceStack: z.string().regex(/^[A-Za-z0-9._\/-]+$/, { message: "is not a stack name" }).optional(),
  /** Set by `npm run dr -- rebuild|drill` (lib/dr/phase.ts): Observe while a rebuilt cluster looks, then Own. */
  adoptionPhase: z.enum(ADOPTION_PHASES).optional(),
  /** Drill only: the environment whose names the compositions compute external names from. */
  namingEnvironment: z.string().regex(/^[a-z][a-z0-9-]{1,15}$/, { message: "must be 2-16 lower-case letters, digits or '-'" }).optional(),
  /** Drill only: the Crossplane providers may only read (lib/dr/readOnlyPolicy.ts). */
  readOnlyProviders: z.boolean().optional(),
  /**
   * Private subnets in dr.region (at least two AZs) for the secondary clusters of Databases that replicate
   * (an Aurora global cluster's secondary needs a DB subnet group there): e.g. the DR stack's VPC, stood up
   * ahead with `inCluster: false`. Default none: a Database asking for replication is then refused at render.
   */
  // A DB subnet group spans at least two AZs: one subnet would fail only when Crossplane reconciles in the DR region.
  privateSubnetIds: z.array(z.string().regex(/^subnet-[0-9a-f]{8,17}$/, { message: "is not a subnet ID (subnet-…)" }))
    .refine((ids) => ids.length !== 1, { message: "needs at least two subnets in different AZs (an RDS DB subnet group spans two), or none" }).optional(),
});

/** The in-VPC GitHub Actions runner (components/deployRunner.ts); absent: none (CI must reach the API server otherwise). */
export const RUNNER_COMPUTE_TYPES = ["BUILD_GENERAL1_SMALL", "BUILD_GENERAL1_MEDIUM", "BUILD_GENERAL1_LARGE", "BUILD_GENERAL1_XLARGE"] as const;
const deployRunnerSchema = z.strictObject({
  /** `owner/name` of the GitHub repository whose deploy and preview jobs it runs. */
  repository: z.string().regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, { message: "is not a GitHub owner/name" }),
  /** CodeConnections connection to GitHub; default: the account's CodeBuild source credential. */
  connectionArn: z.string().regex(/^arn:aws(-cn|-us-gov)?:(codeconnections|codestar-connections):[a-z0-9-]+:\d{12}:connection\/[0-9a-f-]+$/, { message: "is not a CodeConnections connection ARN" }).optional(),
  computeType: z.enum(RUNNER_COMPUTE_TYPES).default("BUILD_GENERAL1_MEDIUM"),
});

/** Where Argo CD is served (components/argocdEndpoint.ts): required with argocd.url. */
const HOSTED_ZONE_ID = /^Z[0-9A-Z]{1,31}$/;
const ingressSchema = z.strictObject({
  /** Route 53 zone of the URL's host record. */
  hostedZoneId: z.string().regex(HOSTED_ZONE_ID, { message: "is not a Route 53 hosted zone ID (Z…)" }),
  /** Public zone ACM validates the certificate in; default hostedZoneId. Ignored with certificateArn. */
  validationZoneId: z.string().regex(HOSTED_ZONE_ID, { message: "is not a Route 53 hosted zone ID (Z…)" }).optional(),
  /** An existing ACM certificate for the host; default: requested and DNS-validated by nixplane. */
  certificateArn: z.string().regex(/^arn:aws(-cn|-us-gov)?:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]+$/, { message: "is not an ACM certificate ARN" }).optional(),
  /** Who may reach the internal load balancer; default the VPC's CIDR. */
  allowedCidrs: z.array(cidr).min(1).optional(),
});

/**
 * An optional section can have no default in Pulumi.yaml (the engine then requires it), so those
 * sections declare `default: {}`, and an empty object means "not configured".
 */
const optionalSection = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (v !== null && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 0 ? undefined : v), schema.optional());

/** The Pulumi state bucket's name (S3's rules, lib/naming.ts); "" (the Pulumi.yaml default) means none. */
const stateBucketSchema = z.preprocess((v) => (v === "" ? undefined : v), z.string().superRefine((b, ctx) => {
  const broken = NAME_RULES.s3Bucket.filter((r) => !meetsRule(r, b));
  if (broken.length > 0) ctx.addIssue({ code: "custom", message: `is not an S3 bucket name: ${broken.map((r) => r.text).join("; ")}` });
}).optional());

export const configSchema = z
  .strictObject({
    environment: z.string().regex(/^[a-z][a-z0-9-]{1,15}$/, { message: "must be 2-16 lower-case letters, digits or '-'" }),
    region: z.string().regex(AWS_REGION, { message: "is not an AWS region (e.g. eu-west-1)" }),
    allowedAccountIds: z.array(z.string().regex(ACCOUNT_ID, { message: "is not a 12-digit AWS account ID" })).min(1, { message: "must name at least one account: it guards against deploying to the wrong one" }),
    tags: z.record(z.string(), z.string()).default({}),
    vpc: vpcSchema.default(vpcSchema.parse({})),
    kubernetesVersion: z.enum(KUBERNETES_VERSIONS),
    endpoint: endpointSchema.default({ publicAccess: false, publicAccessCidrs: [] }),
    controlPlaneLogRetentionDays: z.literal(LOG_RETENTION_DAYS).default(DEFAULT_CONTROL_PLANE_LOG_RETENTION_DAYS),
    serviceCidr: cidr.default(DEFAULT_SERVICE_CIDR),
    adminPrincipals: z.array(z.string().regex(IAM_PRINCIPAL_ARN, { message: "is not an IAM role or user ARN (arn:aws:iam::<account>:role/<name>)" })).default([]),
    nodeGroups: z.array(nodeGroupSchema).min(1, { message: "must define at least one node group" }),
    nodeImage: nodeImageSchema.default({ mode: "lock", amiIds: {} }),
    crossplane: crossplaneSchema.default(crossplaneSchema.parse({})),
    argocd: argocdSchema.default({ chartVersion: DEFAULT_VERSIONS.argocdChart, ha: false }),
    gitops: gitopsSchema,
    naming: namingSchema,
    dr: drSchema.default({}),
    /** Protect stateful resources (KMS keys, log groups, image bucket) from deletion. */
    protect: z.boolean().default(true),
    deployRunner: optionalSection(deployRunnerSchema),
    /** false only for an environment's first bootstrap (before its in-VPC runner exists): nothing in-cluster is registered. */
    inCluster: z.boolean().default(true),
    ingress: optionalSection(ingressSchema),
    /** The bucket holding Pulumi's state (the account bootstrap's): denied to the providers and to every Git-created role. */
    stateBucket: stateBucketSchema,
  })
  .superRefine((c, ctx) => {
    const seen = new Set<string>();
    c.nodeGroups.forEach((g, i) => {
      if (seen.has(g.name)) ctx.addIssue({ code: "custom", path: ["nodeGroups", i, "name"], message: `"${g.name}" is used by another node group` });
      seen.add(g.name);
    });
    if (c.dr.region && c.dr.region === c.region)
      ctx.addIssue({ code: "custom", path: ["dr", "region"], message: `"${c.dr.region}" is the primary region: a DR copy must go elsewhere` });
    if (c.dr.privateSubnetIds?.length && !c.dr.region)
      ctx.addIssue({ code: "custom", path: ["dr", "privateSubnetIds"], message: "needs dr.region: the subnets are in the DR region" });
    if (!c.vpc.existing && isCidr(c.vpc.cidr) && isCidr(c.serviceCidr) && (cidrContains(c.vpc.cidr, c.serviceCidr.split("/")[0]) || cidrContains(c.serviceCidr, c.vpc.cidr.split("/")[0])))
      ctx.addIssue({ code: "custom", path: ["serviceCidr"], message: `"${c.serviceCidr}" overlaps vpc.cidr "${c.vpc.cidr}"` });
    if (c.nodeImage.mode === "ami" && c.nodeImage.amiIds) {
      for (const arch of ARCHITECTURES) {
        const used = c.nodeGroups.some((g) => g.architecture === arch);
        if (!used && c.nodeImage.amiIds[arch])
          ctx.addIssue({ code: "custom", path: ["nodeImage", "amiIds", arch], message: `is set but no node group uses ${arch}` });
        if (used && !c.nodeImage.amiIds[arch])
          ctx.addIssue({ code: "custom", path: ["nodeImage", "amiIds", arch], message: `is required with mode "ami": a node group uses ${arch}` });
      }
    }
    const prefixProblem = namingPrefixProblem(c.naming.prefix, { environment: c.environment, region: c.region });
    if (prefixProblem) ctx.addIssue({ code: "custom", path: ["naming", "prefix"], message: `"${c.naming.prefix}" ${prefixProblem}` });
    if (c.argocd.sso === undefined && c.environment === "prod")
      ctx.addIssue({ code: "custom", path: ["argocd", "sso"], message: "is required in prod: the local admin account must not be the way in" });
    if (c.argocd.url !== undefined && c.ingress === undefined)
      ctx.addIssue({ code: "custom", path: ["ingress"], message: `is required with argocd.url: nothing serves ${c.argocd.url} otherwise (set ingress.hostedZoneId)` });
    if (c.ingress && !c.ingress.allowedCidrs && c.vpc.existing)
      ctx.addIssue({ code: "custom", path: ["ingress", "allowedCidrs"], message: "is required with vpc.existing: nixplane does not know that VPC's CIDR" });
    if (c.argocd.sso !== undefined && c.argocd.url === undefined)
      ctx.addIssue({ code: "custom", path: ["argocd", "url"], message: "is required with argocd.sso: Argo CD sends the identity provider back to <url>/auth/callback" });
  });

export type NixplaneConfig = z.output<typeof configSchema>;
export type NodeGroupConfig = NixplaneConfig["nodeGroups"][number];
export type Architecture = (typeof ARCHITECTURES)[number];

/** Every problem in a stack's config, each naming its key; thrown once, before any resource exists. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid nixplane config (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/** `nodeGroups[0].minSize`: the path as a user writes it. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>((acc, p) => (typeof p === "number" ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)), "");
}

function valueAt(input: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let v: unknown = input;
  for (const p of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

function show(v: unknown): string {
  return typeof v === "string" ? `"${v}"` : JSON.stringify(v);
}

/** One line per zod issue: key, offending value, what is allowed. */
export function describeIssue(issue: z.core.$ZodIssue, input: unknown): string[] {
  const key = formatPath(issue.path);
  const value = valueAt(input, issue.path);
  switch (issue.code) {
    case "invalid_value":
      return [`${key} ${show(value)} is not one of ${issue.values.map((v) => String(v)).join(", ")}`];
    case "unrecognized_keys":
      return issue.keys.map((k) => `${formatPath([...issue.path, k])} is not a known setting`);
    case "invalid_type":
      return value === undefined ? [`${key} is required (${issue.expected})`] : [`${key} ${show(value)} must be ${issue.expected === "number" ? "a number" : `of type ${issue.expected}`}`];
    case "invalid_union":
      return [`${key} ${show(value)} is not allowed`];
    case "too_small":
    case "too_big":
      if (issue.origin === "array" || issue.origin === "string") return [`${key} ${issue.message}`];
      return [`${key} (${show(value)}) ${issue.code === "too_small" ? `must be >= ${issue.minimum}` : `must be <= ${issue.maximum}`}`];
    case "custom":
      // Messages that already quote the value start with it; the rest get the value put in front.
      // An empty object is an optional section's "not configured" (its Pulumi.yaml default): nothing to quote.
      if (/^[("]/.test(issue.message) || value === undefined || (value !== null && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length === 0)) return [`${key} ${issue.message}`];
      return [`${key} ${show(value)} ${issue.message}`];
    default:
      return [`${key} ${show(value)} ${issue.message}`];
  }
}

/** Validate raw config (as read from the stack) and apply the defaults. Throws `ConfigError`. */
export function parseConfig(raw: unknown): NixplaneConfig {
  const result = configSchema.safeParse(raw);
  if (result.success) return result.data;
  throw new ConfigError(result.error.issues.flatMap((i) => describeIssue(i, raw)));
}

/** The top-level settings, read from the stack's `nixplane:` namespace. */
export const CONFIG_KEYS = Object.keys(configSchema.shape) as (keyof typeof configSchema.shape)[];

/** Keys whose value is a plain string: Pulumi hands "1.33" and 1.33 over alike, so only these skip JSON. */
function isStringSetting(key: string): boolean {
  let t: any = (configSchema.shape as Record<string, any>)[key];
  while (t?.def?.type === "default" || t?.def?.type === "optional") t = t.def.innerType;
  return t?.def?.type === "string" || t?.def?.type === "enum";
}

/**
 * Turn the stack's config strings (as Pulumi passes them: JSON for structured values) into the raw
 * object `parseConfig` takes. `get` reads one `nixplane:` key; `allKeys` lists every key set, so a
 * typo'd top-level key is reported too.
 */
export function readRawConfig(get: (key: string) => string | undefined, allKeys: string[]): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  for (const key of new Set([...CONFIG_KEYS, ...allKeys])) {
    if (key === GITOPS_CREDENTIALS_KEY) continue;
    const v = get(key);
    if (v === undefined) continue;
    if (isStringSetting(key)) { raw[key] = v; continue; }
    try {
      raw[key] = JSON.parse(v);
    } catch {
      raw[key] = v; // zod then names the key and the type it expected
    }
  }
  return raw;
}

/**
 * Provider namespaces nixplane configures itself: every AWS and Kubernetes resource gets an explicit
 * provider built from `nixplane:*` settings, so `aws:region` and the like in a stack file do nothing.
 */
export const IGNORED_PROVIDER_NAMESPACES = ["aws", "kubernetes", "eks", "command"] as const;

/** One warning per stack key nixplane ignores (`aws:region`, …), naming the setting to use instead. */
export function ignoredProviderKeys(keys: string[]): string[] {
  return keys
    .filter((k) => (IGNORED_PROVIDER_NAMESPACES as readonly string[]).includes(k.split(":")[0]) && k.includes(":"))
    .sort()
    .map((k) => `${k} is ignored: nixplane builds its providers from nixplane:* settings (the region is nixplane:region, the account guard nixplane:allowedAccountIds)`);
}

/** The Git credentials (a token or an SSH private key) stay a Pulumi secret end to end. */
export const GITOPS_CREDENTIALS_KEY = "gitopsCredentials";

export interface LoadedConfig {
  config: NixplaneConfig;
  /** Undefined for a public repository. */
  gitopsCredentials?: pulumi.Output<string>;
}

/** Read and validate the current stack's config; nothing is registered before this returns. */
export function loadConfig(): LoadedConfig {
  // Required here, not imported: the schema above is also used by tools that never run the program.
  const pulumi = require("@pulumi/pulumi") as typeof import("@pulumi/pulumi");
  const cfg = new pulumi.Config("nixplane");
  const allKeys = Object.keys(pulumi.runtime.allConfig())
    .filter((k) => k.startsWith("nixplane:"))
    .map((k) => k.slice("nixplane:".length));
  const config = parseConfig(readRawConfig((k) => cfg.get(k), allKeys));
  for (const warning of ignoredProviderKeys(Object.keys(pulumi.runtime.allConfig()))) pulumi.log.warn(warning);
  // Undeclared in Pulumi.yaml on purpose (an optional secret cannot be declared there): see its comment.
  return { config, gitopsCredentials: cfg.getSecret(GITOPS_CREDENTIALS_KEY) };
}
