/**
 * THE naming contract of everything composed from Git. Every AWS name a composition sets derives,
 * here and only here, from the environment's prefix (stack setting `naming.prefix`, reaching the
 * compositions as the EnvironmentConfig key `namingPrefix`), the XR's namespace and the XR's name:
 *
 *   <prefix>-<namespace>-<name>            e.g. acme-prod-team-checkout-assets
 *
 * S3 bucket names are global and IAM/RDS names are per account, so the prefix (unique to the
 * organization and the environment; not the region, not the cluster) is what keeps dev, staging and
 * prod, and other organizations, from colliding, and what a disaster-recovery rebuild reuses to
 * derive, and so adopt, the same names. The IAM policies of the providers scope S3 by the same prefix.
 *
 * The AWS rules a derived name must meet are data (NAME_RULES), judged three ways from that data:
 * `nameProblems` (the checker), the ValidatingAdmissionPolicy's CEL (`namingAdmissionPolicy`, shipped
 * in gitops/apis) and the config schema's check of the prefix.
 */

/** The XR kinds whose composed names this contract derives, by the API that composes them. */
export const NAMED_APIS = ["ObjectStore", "Database", "WorkloadRole"] as const;
export type NamedApi = (typeof NAMED_APIS)[number];

/** Plural (resource) of each API, as the admission policy matches it. */
export const API_RESOURCES: Record<NamedApi, string> = { ObjectStore: "objectstores", Database: "databases", WorkloadRole: "workloadroles" };

/** The EnvironmentConfig key that carries `naming.prefix` to the compositions. */
export const NAMING_PREFIX_KEY = "namingPrefix";

/**
 * The base every composed name starts with. The one place that joins prefix, namespace and name;
 * compositions build the same string with `CombineFromEnvironment` (`%s-%s-%s`), and the checker
 * holds every rendered name to it.
 */
export function composedName(prefix: string, namespace: string, name: string): string {
  return `${prefix}-${namespace}-${name}`;
}

/** Kinds of AWS name, each with its own rules. */
export type AwsNameKind = "s3Bucket" | "rdsCluster" | "rdsInstance" | "rdsSnapshot" | "rdsSubnetGroup" | "rdsClusterParameterGroup" | "ec2SecurityGroup" | "iamRole" | "iamPolicy";

/** Every AWS name an API composes, by role in the composition: all derive from `composedName`. */
export function apiNames(api: NamedApi, prefix: string, namespace: string, name: string): Record<string, { kind: AwsNameKind; value: string }> {
  const base = composedName(prefix, namespace, name);
  switch (api) {
    case "ObjectStore":
      // The replica and its replication role exist only when the XR asks for replication, but names are
      // immutable: every ObjectStore keeps room for them, so replication can be turned on later.
      return {
        bucket: { kind: "s3Bucket", value: base },
        "replica-bucket": { kind: "s3Bucket", value: `${base}-dr` },
        "replication-role": { kind: "iamRole", value: `${base}-crr` },
        "replication-policy": { kind: "iamPolicy", value: `${base}-crr` },
      };
    case "Database":
      return {
        cluster: { kind: "rdsCluster", value: base },
        "instance-1": { kind: "rdsInstance", value: `${base}-1` },
        "instance-2": { kind: "rdsInstance", value: `${base}-2` },
        "subnet-group": { kind: "rdsSubnetGroup", value: base },
        "parameter-group": { kind: "rdsClusterParameterGroup", value: base },
        "security-group": { kind: "ec2SecurityGroup", value: `${base}-db` },
        "final-snapshot": { kind: "rdsSnapshot", value: `${base}-final` },
        // Replication to the DR region (spec.replication): the Aurora global cluster and its secondary.
        "global-cluster": { kind: "rdsCluster", value: base },
        "dr-cluster": { kind: "rdsCluster", value: `${base}-dr` },
        "dr-instance-1": { kind: "rdsInstance", value: `${base}-dr-1` },
        "dr-subnet-group": { kind: "rdsSubnetGroup", value: `${base}-dr` },
        "dr-parameter-group": { kind: "rdsClusterParameterGroup", value: `${base}-dr` },
        "dr-final-snapshot": { kind: "rdsSnapshot", value: `${base}-dr-final` },
      };
    case "WorkloadRole":
      return { role: { kind: "iamRole", value: base }, policy: { kind: "iamPolicy", value: base }, "database-secret-policy": { kind: "iamPolicy", value: `${base}-db-secret` } };
  }
}

/**
 * One rule: a regular expression the name must match (`must`) or must not match (`mustNot`), written
 * in the subset of syntax that JavaScript and RE2 (Kubernetes CEL's `matches`) read alike, or a length.
 */
export interface NameRule {
  id: string;
  /** What the rule demands, for messages: "3 to 63 characters". */
  text: string;
  maxLength?: number;
  minLength?: number;
  must?: string;
  mustNot?: string;
}

/**
 * AWS's naming rules, per kind of name. Sources:
 * - S3: https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html (general purpose
 *   buckets); nixplane also forbids dots (virtual-hosted-style TLS breaks on them).
 * - RDS: DBClusterIdentifier / DBInstanceIdentifier in the RDS API reference (CreateDBCluster,
 *   CreateDBInstance): 1-63 letters, digits or hyphens, first a letter, no trailing hyphen, no two
 *   consecutive hyphens; DBSubnetGroupName up to 255; DBClusterParameterGroupName 1-255 with the
 *   identifier's character rules.
 * - EC2 security group names: up to 255 characters, must not start with `sg-`.
 * - IAM: https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html (RoleName 1-64,
 *   [\w+=,.@-]) and API_CreatePolicy.html (PolicyName 1-128, same characters).
 */
export const NAME_RULES: Record<AwsNameKind, NameRule[]> = {
  s3Bucket: [
    { id: "s3-bucket-length", text: "3 to 63 characters", minLength: 3, maxLength: 63 },
    { id: "s3-bucket-characters", text: "only lower-case letters, digits and hyphens (no dots), beginning and ending with a letter or digit", must: "^[a-z0-9]([a-z0-9-]*[a-z0-9])?$" },
    { id: "s3-bucket-reserved-prefix", text: "not beginning with xn--, sthree- or amzn-s3-demo-", mustNot: "^(xn--|sthree-|amzn-s3-demo-)" },
    { id: "s3-bucket-reserved-suffix", text: "not ending with -s3alias, --ol-s3, --x-s3 or --table-s3", mustNot: "(-s3alias|--ol-s3|--x-s3|--table-s3)$" },
  ],
  rdsCluster: rdsIdentifierRules("rds-cluster-identifier"),
  rdsInstance: rdsIdentifierRules("rds-instance-identifier"),
  rdsSnapshot: [
    { id: "rds-snapshot-identifier-length", text: "1 to 255 characters", minLength: 1, maxLength: 255 },
    ...rdsIdentifierRules("rds-snapshot-identifier").slice(1),
  ],
  rdsSubnetGroup: [
    { id: "rds-subnet-group-name", text: "1 to 255 letters, digits, periods, underscores, spaces or hyphens", minLength: 1, maxLength: 255, must: "^[a-zA-Z0-9._ -]+$" },
  ],
  rdsClusterParameterGroup: [
    { id: "rds-parameter-group-length", text: "1 to 255 characters", minLength: 1, maxLength: 255 },
    ...rdsIdentifierRules("rds-parameter-group").slice(1),
  ],
  ec2SecurityGroup: [
    { id: "ec2-security-group-name", text: "1 to 255 characters, not beginning with sg-", minLength: 1, maxLength: 255, mustNot: "^sg-" },
  ],
  iamRole: [
    { id: "iam-role-name-length", text: "1 to 64 characters", minLength: 1, maxLength: 64 },
    { id: "iam-role-name-characters", text: "only letters, digits and +=,.@_-", must: "^[a-zA-Z0-9+=,.@_-]+$" },
  ],
  iamPolicy: [
    { id: "iam-policy-name-length", text: "1 to 128 characters", minLength: 1, maxLength: 128 },
    { id: "iam-policy-name-characters", text: "only letters, digits and +=,.@_-", must: "^[a-zA-Z0-9+=,.@_-]+$" },
  ],
};

function rdsIdentifierRules(id: string): NameRule[] {
  return [
    { id: `${id}-length`, text: "1 to 63 characters", minLength: 1, maxLength: 63 },
    { id: `${id}-characters`, text: "only letters, digits and hyphens, beginning with a letter and not ending with a hyphen", must: "^[a-zA-Z]([a-zA-Z0-9-]*[a-zA-Z0-9])?$" },
    { id: `${id}-hyphens`, text: "no two consecutive hyphens", mustNot: "--" },
  ];
}

/** IAM path rules (API_CreateRole.html, Path): 1-512 characters, `/` first and last, printable ASCII. */
export const IAM_PATH_RULE = /^\/([\x21-\x7e]{0,510}\/)?$/;

const compiledRules = new Map<string, RegExp>();
const regex = (source: string) => {
  let r = compiledRules.get(source);
  if (!r) compiledRules.set(source, (r = new RegExp(source)));
  return r;
};

/** Whether `value` meets `rule`. */
export function meetsRule(rule: NameRule, value: string): boolean {
  if (rule.minLength !== undefined && value.length < rule.minLength) return false;
  if (rule.maxLength !== undefined && value.length > rule.maxLength) return false;
  if (rule.must !== undefined && !regex(rule.must).test(value)) return false;
  if (rule.mustNot !== undefined && regex(rule.mustNot).test(value)) return false;
  return true;
}

export interface NameProblem {
  /** The composed resource the name belongs to (`bucket`, `instance-1`, `role`…). */
  resource: string;
  /** The name as derived. */
  name: string;
  rule: string;
  message: string;
}

/** Every AWS rule the names an XR would compose break; empty when all are valid. */
export function nameProblems(api: NamedApi, prefix: string, namespace: string, name: string): NameProblem[] {
  const problems: NameProblem[] = [];
  for (const [resource, { kind, value }] of Object.entries(apiNames(api, prefix, namespace, name))) {
    for (const rule of NAME_RULES[kind]) {
      if (!meetsRule(rule, value)) problems.push({ resource, name: value, rule: rule.id, message: `${kindLabel(kind)} "${value}" (${value.length} characters) breaks ${rule.id}: must be ${rule.text}` });
    }
  }
  return problems;
}

const LABELS: Record<AwsNameKind, string> = {
  s3Bucket: "S3 bucket name", rdsCluster: "RDS cluster identifier", rdsInstance: "RDS instance identifier", rdsSnapshot: "RDS snapshot identifier",
  rdsSubnetGroup: "RDS subnet group name", rdsClusterParameterGroup: "RDS cluster parameter group name",
  ec2SecurityGroup: "security group name", iamRole: "IAM role name", iamPolicy: "IAM policy name",
};
const kindLabel = (k: AwsNameKind) => LABELS[k];

/** Longest prefix allowed: leaves room for a namespace and a name inside S3's 63 characters. */
export const MAX_PREFIX_LENGTH = 24;
const PREFIX = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/**
 * Why `prefix` cannot be an environment's naming prefix, or undefined. It starts every bucket name,
 * so it meets the S3 rules that apply at the start of a name, and the RDS identifier's first-letter and
 * no-double-hyphen rules. Region names and the cluster name are refused: a DR rebuild in another region
 * or with a new cluster must keep deriving the same names.
 */
export function namingPrefixProblem(prefix: string, context: { environment?: string; region?: string } = {}): string | undefined {
  if (prefix.length < 3 || prefix.length > MAX_PREFIX_LENGTH) return `must be 3 to ${MAX_PREFIX_LENGTH} characters (is ${prefix.length})`;
  if (!PREFIX.test(prefix)) return "must be lower-case letters, digits and single hyphens, beginning with a letter and not ending with a hyphen";
  if (/^(xn--|sthree-|amzn-s3-demo-)/.test(prefix) || /^(xn|sthree|amzn-s3-demo)$/.test(prefix)) return "must not begin with a prefix S3 reserves (xn--, sthree-, amzn-s3-demo-)";
  if (/(^|-)(us|eu|ap|sa|ca|me|af|il|mx)(-gov)?-[a-z]+-\d(-|$)/.test(prefix) || (context.region !== undefined && prefix.includes(context.region)))
    return "must not contain a region: a rebuild in another region derives the same names from the same prefix";
  if (context.environment !== undefined && (prefix === context.environment || prefix === `nixplane-${context.environment}`))
    return `must be unique to the organization, not just the environment or its cluster name (e.g. acme-${context.environment})`;
  return undefined;
}

// ------------------------------------------------------------------------------------------------
// The in-cluster guard: a ValidatingAdmissionPolicy over the XRs, with the EnvironmentConfig as its
// parameter (a CRD's own CEL sees metadata.name but neither the namespace nor the prefix).

export const NAMING_POLICY_NAME = "nixplane-composed-names";
export const XR_API_GROUP = "platform.nixplane.io";

const celString = (s: string) => `'${s.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;

/** The CEL condition that `expr` (a string expression) meets `rule`. */
export function ruleCel(rule: NameRule, expr: string): string {
  const parts: string[] = [];
  if (rule.minLength !== undefined) parts.push(`size(${expr}) >= ${rule.minLength}`);
  if (rule.maxLength !== undefined) parts.push(`size(${expr}) <= ${rule.maxLength}`);
  if (rule.must !== undefined) parts.push(`${expr}.matches(${celString(rule.must)})`);
  if (rule.mustNot !== undefined) parts.push(`!${expr}.matches(${celString(rule.mustNot)})`);
  return parts.join(" && ");
}

/** CEL building the same names as `apiNames` from the request and the EnvironmentConfig (`params`). */
function nameCel(value: string, base: string): string {
  const suffix = value.slice(base.length);
  return suffix ? `(variables.base + ${celString(suffix)})` : "variables.base";
}

/**
 * The ValidatingAdmissionPolicy and its binding: on CREATE of a nixplane XR (names are immutable),
 * every AWS name it would compose must meet NAME_RULES, with the `nixplane` EnvironmentConfig as the
 * parameter that supplies the prefix. Missing parameter: denied (the compositions could not name
 * anything either).
 */
export function namingAdmissionPolicy(environmentConfigName = "nixplane"): Record<string, unknown>[] {
  const sample = { prefix: "p", namespace: "n", name: "x" };
  const base = composedName(sample.prefix, sample.namespace, sample.name);
  const validations: Record<string, unknown>[] = [];
  for (const api of NAMED_APIS) {
    for (const [resource, { kind, value }] of Object.entries(apiNames(api, sample.prefix, sample.namespace, sample.name))) {
      const expr = nameCel(value, base);
      for (const rule of NAME_RULES[kind]) {
        validations.push({
          expression: `request.resource.resource != ${celString(API_RESOURCES[api])} || (${ruleCel(rule, expr)})`,
          messageExpression: `${celString(`${kindLabel(kind)} of ${resource} "`)} + ${expr} + ${celString(`" breaks ${rule.id}: must be ${rule.text}`)}`,
          reason: "Invalid",
        });
      }
    }
  }
  return [
    {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingAdmissionPolicy",
      metadata: { name: NAMING_POLICY_NAME, annotations: { "argocd.argoproj.io/sync-wave": "-10" } },
      spec: {
        failurePolicy: "Fail",
        paramKind: { apiVersion: "apiextensions.crossplane.io/v1beta1", kind: "EnvironmentConfig" },
        matchConstraints: {
          resourceRules: [{ apiGroups: [XR_API_GROUP], apiVersions: ["*"], operations: ["CREATE"], resources: NAMED_APIS.map((a) => API_RESOURCES[a]) }],
        },
        variables: [{ name: "base", expression: `string(params.data.${NAMING_PREFIX_KEY}) + '-' + object.metadata.namespace + '-' + object.metadata.name` }],
        validations,
      },
    },
    {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingAdmissionPolicyBinding",
      metadata: { name: NAMING_POLICY_NAME, annotations: { "argocd.argoproj.io/sync-wave": "-10" } },
      spec: {
        policyName: NAMING_POLICY_NAME,
        // A cluster-scoped parameter kind: the namespace must stay unset.
        paramRef: { name: environmentConfigName, parameterNotFoundAction: "Deny" },
        validationActions: ["Deny"],
      },
    },
  ];
}

/** The file gitops/apis/naming-policy.yaml: the policy and binding as YAML documents. */
export function namingPolicyFile(): string {
  // Imported lazily: the program (which imports this module) never writes YAML.
  const { stringify } = require("yaml") as typeof import("yaml");
  const head = "# Generated from lib/naming.ts (namingAdmissionPolicy): `npm run check:gitops -- --write-naming-policy`.\n" +
    "# Refuses an XR whose composed AWS names (<namingPrefix>-<namespace>-<name>) break AWS's naming rules.\n";
  return head + namingAdmissionPolicy().map((o) => stringify(o, { lineWidth: 0 })).join("---\n");
}

/** Name of the EKS cluster of an environment: stable, so Git-side resources can refer to it. */
export function clusterNameFor(environment: string): string {
  return `nixplane-${environment}`;
}
