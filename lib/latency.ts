/**
 * The timeline's data: how long AWS (and the cluster) take to create each Pulumi resource type, and
 * which explicit `dependsOn` edges are NECESSARY — orderings the cloud requires that Pulumi cannot
 * see through data. Pure data; the arithmetic lives in lib/timeline.ts.
 *
 * Durations are typical first-creation times in seconds, including the provider's own waiter
 * (Pulumi returns when the provider says "created", not when the API call returns). Each rule names
 * its public source; where no measurement was found the figure is an estimate and says so.
 * Rules are matched in order: the first whose type (and optional name/input test) fits wins.
 */

export interface ResourceFacts {
  type: string;
  name: string;
  /** Inputs as recorded by the mock harness (secrets masked). */
  inputs: Record<string, unknown>;
  /** False for components (local or remote). */
  custom: boolean;
  remote: boolean;
}

export interface LatencyRule {
  /** Exact Pulumi type token, or a RegExp over it. */
  type: string | RegExp;
  /** Optional RegExp over the resource name (e.g. the Argo CD vs Crossplane Helm release). */
  name?: RegExp;
  /** Optional test over the recorded inputs (e.g. the `pulumi.com/waitFor` annotation). */
  when?: (r: ResourceFacts) => boolean;
  seconds: number | ((r: ResourceFacts) => number);
  /** Public sources (URLs) the figure comes from. */
  source: string[];
  note?: string;
}

/** Unlisted custom resources: a plain synchronous cloud API call plus the provider's read-back. */
export const DEFAULT_SECONDS = 10;

/** Pulumi waits for a Kubernetes object's condition only when it carries this annotation. */
export const WAIT_FOR_ANNOTATION = "pulumi.com/waitFor";

function annotations(r: ResourceFacts): Record<string, unknown> {
  const metadata = r.inputs.metadata as { annotations?: Record<string, unknown> } | undefined;
  return metadata?.annotations ?? {};
}
const waitsForCondition = (r: ResourceFacts) => WAIT_FOR_ANNOTATION in annotations(r);
const helmSkipsAwait = (r: ResourceFacts) => r.inputs.skipAwait === true;

/** `time:index/sleep:Sleep`'s createDuration ("30s", "2m") in seconds. */
export function parseGoDuration(s: unknown): number {
  if (typeof s !== "string") return 0;
  let total = 0;
  for (const [, n, unit] of s.matchAll(/(\d+(?:\.\d+)?)(h|m|s)/g)) total += Number(n) * ({ h: 3600, m: 60, s: 1 } as const)[unit as "h" | "m" | "s"];
  return total;
}

const TF = "https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources";

export const LATENCY: LatencyRule[] = [
  // ── Things that take no cloud time ────────────────────────────────────────────────────────────
  { type: /^pulumi:providers:/, seconds: 0, source: [], note: "provider instances are configuration, created locally" },

  // ── EKS ───────────────────────────────────────────────────────────────────────────────────────
  {
    type: "eks:index:Cluster", seconds: 600,
    source: [
      "https://github.com/aws/containers-roadmap/issues/1227",
      "https://github.com/aws-samples/eks-workshop/pull/1101",
      "https://github.com/DevopsArtFactory/terraform-provisioning/pull/46",
    ],
    note: "AWS: control plane 'in 9 minutes or less, on average' (2021); a 2024 apply log shows 8m33s; @pulumi/eks adds OIDC provider, SGs and the aws-auth/access setup (~1 min)",
  },
  { type: "aws:eks/cluster:Cluster", seconds: 540, source: ["https://github.com/aws-samples/eks-workshop/pull/1101", "https://github.com/DevopsArtFactory/terraform-provisioning/pull/46"] },
  {
    type: "aws:eks/nodeGroup:NodeGroup", seconds: 180,
    source: ["https://github.com/umotif-public/terraform-aws-eks-node-group/issues/7", "https://github.com/eksctl-io/eksctl/pull/482"],
    note: "measured 'Creation complete after 2m50s' (Terraform) and 3m36s (eksctl nodegroup stack); EKS waits for the nodes to join",
  },
  {
    type: "aws:eks/addon:Addon", name: /coredns|ebs-csi/, seconds: 120,
    source: ["https://github.com/aws-ia/terraform-aws-eks-blueprints/issues/642", "https://github.com/terraform-aws-modules/terraform-aws-eks/issues/3001"],
    note: "ACTIVE only once its pods run on nodes; historically up to 15 min, ~2 min once nodes exist",
  },
  { type: "aws:eks/addon:Addon", seconds: 45, source: ["https://github.com/aws-ia/terraform-aws-eks-blueprints/issues/642"], note: "vpc-cni/kube-proxy/pod-identity-agent: 'as soon as the pods passed readiness check' (DaemonSets)" },
  { type: /^aws:eks\/(accessEntry:AccessEntry|accessPolicyAssociation:AccessPolicyAssociation)$/, seconds: 5, source: ["https://docs.aws.amazon.com/eks/latest/userguide/access-entries.html"], note: "synchronous API; estimate" },
  {
    type: "aws:eks/podIdentityAssociation:PodIdentityAssociation", seconds: 10,
    source: ["https://github.com/hashicorp/terraform-provider-aws/pull/34717", "https://github.com/aws/eks-pod-identity-agent/issues/52"],
    note: "synchronous, but the provider retries while the new IAM role propagates; the agent sees it after 5-10 s",
  },

  // ── Network ───────────────────────────────────────────────────────────────────────────────────
  { type: "aws:ec2/vpc:Vpc", seconds: 24, source: ["https://github.com/turbot/steampipe-plugin-aws/pull/131"], note: "measured 'aws_vpc ... Creation complete after 24s' (with DNS attributes)" },
  { type: "aws:ec2/subnet:Subnet", seconds: 10, source: ["https://github.com/turbot/steampipe-plugin-aws/pull/131", "https://github.com/terraform-aws-modules/terraform-aws-eks/issues/2203"], note: "measured 7 s and 10 s" },
  { type: "aws:ec2/routeTableAssociation:RouteTableAssociation", seconds: 1, source: ["https://github.com/terraform-aws-modules/terraform-aws-eks/issues/2203"], note: "measured 1 s" },
  { type: /^aws:ec2\/(routeTable:RouteTable|route:Route|internetGateway:InternetGateway|eip:Eip)$/, seconds: 3, source: ["https://github.com/terraform-aws-modules/terraform-aws-eks/issues/2203"], note: "same log: synchronous EC2 calls finish in 1-3 s" },
  {
    type: "aws:ec2/natGateway:NatGateway", seconds: 120,
    source: ["https://github.com/kubernetes/kops/pull/944", "https://github.com/hashicorp/terraform/issues/8687"],
    note: "pending → available: 'up to 5 min' (kops), logs still creating at 3m+; ~2 min typical",
  },
  {
    type: "aws:ec2/vpcEndpoint:VpcEndpoint", when: (r) => r.inputs.vpcEndpointType === "Interface", seconds: 120,
    source: ["https://github.com/aws-amplify/amplify-category-api/pull/1875", "https://github.com/hashicorp/terraform-provider-aws/issues/7148"],
    note: "one ENI per subnet plus private DNS; pending → available ~1.5-2 min, usable 20-30 s after 'available'",
  },
  { type: "aws:ec2/vpcEndpoint:VpcEndpoint", seconds: 5, source: ["https://docs.aws.amazon.com/vpc/latest/privatelink/gateway-endpoints.html"], note: "gateway endpoints only add prefix-list routes; estimate" },
  { type: /^aws:ec2\/(securityGroup:SecurityGroup|securityGroupRule:SecurityGroupRule)$|^aws:vpc\/securityGroup(Ingress|Egress)Rule:/, seconds: 3, source: ["https://github.com/hashicorp-education/learn-terraform-variables/pull/6"], note: "measured 2-5 s per rule" },
  { type: "aws:ec2/flowLog:FlowLog", seconds: 5, source: ["https://github.com/pulumi/pulumi-aws/issues/2411"], note: "synchronous, retried while the delivery role propagates (~2 s)" },
  { type: "aws:ec2/launchTemplate:LaunchTemplate", seconds: 2, source: ["https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateLaunchTemplate.html"], note: "synchronous API; estimate" },

  // ── Node image: copies of the pipeline's images (the build itself is its own stage: IMAGE_PIPELINE_STEPS) ───
  {
    type: "aws:ec2/amiCopy:AmiCopy", name: /-dr$/, seconds: 900,
    source: ["https://github.com/ansible/ansible/pull/37680", "https://github.com/hashicorp/packer/issues/6536", "https://github.com/bottlerocket-os/twoliter/pull/603"],
    note: "cross-region copy (DR): a 10-minute wait is routinely exceeded",
  },
  {
    type: "aws:ec2/amiCopy:AmiCopy", seconds: 600,
    source: ["https://docs.aws.amazon.com/ebs/latest/userguide/ebs-copy-snapshot.html", "https://github.com/hashicorp/packer/issues/6536"],
    note: "cross-account promotion, same region: re-encrypting under the environment's own key makes a full (non-incremental) snapshot copy",
  },
  {
    type: "aws:route53/record:Record", seconds: 40,
    source: ["https://github.com/hashicorp/terraform-provider-aws/pull/11300"],
    note: "the provider waits for the change to be INSYNC: measured 'Creation complete after 37s' and 39s",
  },
  { type: /^aws:s3\//, seconds: 2, source: ["https://docs.aws.amazon.com/AmazonS3/latest/API/Welcome.html"], note: "buckets and bucket settings; estimate" },

  // ── IAM, KMS, logs ────────────────────────────────────────────────────────────────────────────
  { type: "aws:iam/role:Role", seconds: 7, source: ["https://github.com/turbot/steampipe-plugin-aws/pull/131", "https://github.com/hashicorp/terraform/pull/7733"], note: "measured 7 s; the provider retries for IAM propagation" },
  { type: /^aws:iam\//, seconds: 4, source: ["https://github.com/turbot/steampipe-plugin-aws/pull/131"], note: "measured policy attachments 4 s" },
  { type: /^aws:kms\/key:Key$/, seconds: 15, source: ["https://github.com/aws-cloudformation/aws-cloudformation-resource-providers-kms/pull/3"], note: "create is fast; providers stabilize for policy propagation" },
  { type: /^aws:kms\//, seconds: 2, source: ["https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateAlias.html"], note: "synchronous; estimate" },
  { type: /^aws:cloudwatch\/logGroup:LogGroup$/, seconds: 2, source: ["https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html"], note: "synchronous; estimate" },

  // ── In-cluster ────────────────────────────────────────────────────────────────────────────────
  {
    type: "kubernetes:helm.sh/v3:Release", name: /argo/, when: helmSkipsAwait, seconds: 60,
    source: [
      "https://github.com/helm/helm/blob/v3.20.2/pkg/action/hooks.go",
      "https://github.com/argoproj/argo-helm/blob/argo-cd-10.1.1/charts/argo-cd/templates/redis-secret-init/job.yaml",
    ],
    note: "skipAwait still runs the chart's pre-install hook Job (redis-secret-init) and Helm waits for it to complete: one pull of the argocd image on a fresh node and a short run; estimate",
  },
  { type: "kubernetes:helm.sh/v3:Release", when: helmSkipsAwait, seconds: 5, source: ["https://www.pulumi.com/registry/packages/kubernetes/api-docs/helm/v3/release/"], note: "skipAwait: only the apply" },
  {
    type: "kubernetes:helm.sh/v3:Release", name: /argo/, seconds: 240,
    source: ["https://github.com/sigstore/scaffolding/pull/227", "https://github.com/camptocamp/devops-stack/pull/381"],
    note: "Argo CD (HA: redis-ha, several controllers) regularly exceeds Helm's default 5-minute wait",
  },
  {
    type: "kubernetes:helm.sh/v3:Release", name: /crossplane/, seconds: 90,
    source: ["https://github.com/crossplane/crossplane/issues/2182"],
    note: "two Deployments plus CRDs; estimate",
  },
  { type: "kubernetes:helm.sh/v3:Release", seconds: 120, source: ["https://gitlab.com/gitlab-org/charts/gitlab/-/merge_requests/18"], note: "Helm waits for pods ready; default 5-min timeout" },
  {
    type: /^kubernetes:pkg\.crossplane\.io\/v1:Provider$/, when: waitsForCondition, seconds: 150,
    source: ["https://github.com/aws-ia/terraform-aws-eks-blueprints/pull/389", "https://github.com/crossplane/crossplane/issues/2182"],
    note: "package pull, CRD install and the provider pod becoming Healthy; a fixed 30 s sleep was not enough",
  },
  {
    type: /^kubernetes:pkg\.crossplane\.io\/v1(beta1)?:Function$/, when: waitsForCondition, seconds: 45,
    source: ["https://github.com/crossplane/crossplane/issues/2182"],
    note: "small package, one pod; estimate",
  },
  {
    type: "kubernetes:argoproj.io/v1alpha1:Application", when: waitsForCondition, seconds: 180,
    source: ["https://argo-cd.readthedocs.io/en/stable/operator-manual/argocd-cm-yaml/", "https://github.com/argoproj/argo-cd/discussions/7597"],
    note: "first sync of the root app-of-apps; without a webhook Argo CD refreshes every timeout.reconciliation (default 180 s)",
  },
  {
    type: "kubernetes:networking.k8s.io/v1:Ingress", seconds: 30,
    source: ["https://github.com/pulumi/pulumi-kubernetes/blob/master/provider/pkg/await/ingress.go", "https://github.com/kubernetes-sigs/aws-load-balancer-controller/blob/main/docs/guide/ingress/spec.md"],
    note: "Pulumi waits for status.loadBalancer.ingress, which the controller writes once it has created the ALB, its target group, listener and rules (CreateLoadBalancer returns the DNS name at once), plus 10 s for the backend's Endpoints to settle; estimate",
  },
  { type: /^kubernetes:/, seconds: 2, source: ["https://pulumi.com/blog/improving-kubernetes-management-with-pulumis-await-logic/"], note: "plain objects: created as soon as the API server accepts them" },

  // ── Helpers ───────────────────────────────────────────────────────────────────────────────────
  { type: "time:index/sleep:Sleep", seconds: (r) => parseGoDuration(r.inputs.createDuration), source: ["https://www.pulumi.com/registry/packages/time/api-docs/sleep/"] },
  { type: /^(tls|random):/, seconds: 0, source: [], note: "computed locally by the provider" },
];

/** Modelled creation seconds of one resource, with the rule that decided it (undefined: the default). */
export function modelledSeconds(r: ResourceFacts): { seconds: number; rule?: LatencyRule } {
  const rule = LATENCY.find((x) =>
    (typeof x.type === "string" ? x.type === r.type : x.type.test(r.type)) && (!x.name || x.name.test(r.name)) && (!x.when || x.when(r)));
  if (rule) return { seconds: typeof rule.seconds === "number" ? rule.seconds : rule.seconds(r), rule };
  // Components (local or multi-language without a rule above) take no time themselves; their children do.
  if (!r.custom) return { seconds: 0 };
  return { seconds: DEFAULT_SECONDS };
}

// ─────────────────────────────────────────────────────────────────────────────────────────────────
// Necessary explicit ordering.
//
// The lower bound keeps every edge Pulumi derives from data (propertyDependencies, and the provider
// a resource is created through) — the resource cannot even be described without it. An explicit
// `dependsOn` edge is kept only if its (dependent, dependency) pair is listed below with the reason
// the cloud needs that order although no input carries it. Anything else is a needless wait.
// Pairs are matched on types (and names where a type is too broad); a `dependsOn` on a component
// reaches the engine as edges to each of its children, and each edge is judged on its own.
// ─────────────────────────────────────────────────────────────────────────────────────────────────

export interface NecessaryOrdering {
  dependent: string | RegExp;
  dependency: string | RegExp;
  /** Optional RegExp over the dependency's name. */
  dependencyName?: RegExp;
  reason: string;
  source: string[];
}

const K8S_OBJECT = /^kubernetes:(?!helm\.sh\/)/;
const ANY_K8S = /^kubernetes:/;
const HELM = "kubernetes:helm.sh/v3:Release";
const NODE_GROUP = "aws:eks/nodeGroup:NodeGroup";
const INGRESS = "kubernetes:networking.k8s.io/v1:Ingress";
const CROSSPLANE_PKG = /^kubernetes:pkg\.crossplane\.io\/v1(beta1)?:(Provider|Function)$/;

export const NECESSARY_ORDERING: NecessaryOrdering[] = [
  {
    dependent: "kubernetes:helm.sh/v3:Release", dependency: /^aws:eks\/(nodeGroup:NodeGroup|addon:Addon)$/,
    reason: "Helm waits for the chart's pods to be Ready: they need schedulable nodes, pod networking (vpc-cni) and DNS (coredns); the release's inputs name none of them",
    source: ["https://www.pulumi.com/registry/packages/kubernetes/api-docs/helm/v3/release/"],
  },
  {
    dependent: "aws:ec2/natGateway:NatGateway", dependency: "aws:ec2/internetGateway:InternetGateway",
    reason: "a public NAT gateway needs the VPC's internet gateway attached; nothing in its inputs refers to it",
    source: [`${TF}/nat_gateway`, "https://spin.atomicobject.com/aws-nat-implicit-dependency"],
  },
  {
    dependent: /^eks:index:Cluster$|^aws:eks\/cluster:Cluster$/, dependency: "aws:cloudwatch/logGroup:LogGroup",
    reason: "EKS creates /aws/eks/<name>/cluster itself (no retention, no key) on first write; the group must exist first for its settings to hold",
    source: [`${TF}/eks_cluster`],
  },
  {
    dependent: /^aws:eks\/(nodeGroup:NodeGroup|cluster:Cluster)$/, dependency: /^aws:iam\/(rolePolicyAttachment:RolePolicyAttachment|rolePolicy:RolePolicy)$/,
    reason: "the role's policies must be attached before EKS uses the role (and detached only after it is done deleting)",
    source: [`${TF}/eks_node_group`, `${TF}/eks_cluster`],
  },
  {
    dependent: NODE_GROUP, dependency: /^aws:ec2\/(natGateway:NatGateway|route:Route|routeTable:RouteTable|routeTableAssociation:RouteTableAssociation|vpcEndpoint:VpcEndpoint)$/,
    reason: "nodes in private subnets must reach the EKS API, ECR and STS (through NAT or endpoints) to join; the node group only names subnets",
    source: ["https://spin.atomicobject.com/aws-nat-implicit-dependency", "https://docs.aws.amazon.com/eks/latest/userguide/private-clusters.html"],
  },
  {
    dependent: NODE_GROUP, dependency: /^aws:eks\/(accessEntry:AccessEntry|addon:Addon)$/, dependencyName: /node|vpc-cni|kube-proxy|pod-identity/,
    reason: "nodes join through the node role's access entry and become Ready only with the CNI and kube-proxy",
    source: ["https://docs.aws.amazon.com/eks/latest/userguide/access-entries.html"],
  },
  {
    dependent: "aws:eks/addon:Addon", dependency: NODE_GROUP,
    reason: "coredns (and other Deployment add-ons) stay DEGRADED until nodes exist",
    source: ["https://github.com/terraform-aws-modules/terraform-aws-eks/issues/3001", "https://github.com/pulumi/pulumi-eks/issues/1819"],
  },
  {
    dependent: ANY_K8S, dependency: /^aws:eks\/(accessEntry:AccessEntry|accessPolicyAssociation:AccessPolicyAssociation)$/,
    reason: "the deployer's identity must be authorized in the cluster before any Kubernetes API call",
    source: ["https://docs.aws.amazon.com/eks/latest/userguide/access-entries.html"],
  },
  {
    dependent: HELM, dependency: NODE_GROUP,
    reason: "Helm waits for pods to be Ready, which needs schedulable nodes",
    source: ["https://gitlab.com/gitlab-org/charts/gitlab/-/merge_requests/18"],
  },
  {
    dependent: HELM, dependency: "aws:eks/addon:Addon", dependencyName: /coredns|vpc-cni|kube-proxy|pod-identity/,
    reason: "pods get no network, Service routing, DNS or Pod Identity credentials before the CNI, kube-proxy, coredns and Pod Identity agent add-ons run",
    source: ["https://github.com/terraform-aws-modules/terraform-aws-eks/issues/3001"],
  },
  {
    dependent: INGRESS, dependency: HELM, dependencyName: /lbc|load-balancer/,
    reason: "the load balancer controller's webhook vingress.elbv2.k8s.aws validates every Ingress with failurePolicy Fail: until its pods serve, the Ingress is refused (pulumi-kubernetes retries a create for 31 s only)",
    source: [
      "https://github.com/kubernetes-sigs/aws-load-balancer-controller/blob/v3.5.0/helm/aws-load-balancer-controller/templates/webhook.yaml",
      "https://github.com/pulumi/pulumi-kubernetes/blob/master/provider/pkg/await/await.go",
    ],
  },
  {
    dependent: INGRESS, dependency: "aws:eks/addon:Addon", dependencyName: /coredns/,
    reason: "Pulumi waits for the Ingress's status, which the controller writes after calling the AWS APIs it resolves through cluster DNS",
    source: ["https://github.com/pulumi/pulumi-kubernetes/blob/master/provider/pkg/await/ingress.go"],
  },
  {
    dependent: K8S_OBJECT, dependency: HELM, dependencyName: /crossplane/,
    reason: "Crossplane's kinds (Provider, Function, DeploymentRuntimeConfig, EnvironmentConfig) are CRDs the Crossplane chart installs",
    source: ["https://github.com/aws-ia/terraform-aws-eks-blueprints/pull/389"],
  },
  {
    dependent: K8S_OBJECT, dependency: HELM, dependencyName: /argo/,
    reason: "Application/AppProject are CRDs the Argo CD chart installs, and its namespace holds the repository secret",
    source: ["https://argo-cd.readthedocs.io/en/stable/operator-manual/cluster-bootstrapping/"],
  },
  {
    dependent: /^kubernetes:(aws(\.m)?\.upbound\.io|aws\.crossplane\.io)\//, dependency: CROSSPLANE_PKG,
    reason: "ProviderConfig's CRD comes from the provider package, which must be Healthy first",
    source: ["https://github.com/crossplane/crossplane/issues/2182", "https://github.com/aws-ia/terraform-aws-eks-blueprints/pull/389"],
  },
  {
    dependent: /^kubernetes:pkg\.crossplane\.io\/v1:Provider$/, dependency: "aws:eks/addon:Addon", dependencyName: /coredns/,
    reason: "Pulumi waits for the Provider to be Healthy, and Crossplane's package manager resolves the package registry from inside its pod, through cluster DNS",
    source: ["https://github.com/crossplane/crossplane/blob/v2.3.4/cluster/charts/crossplane/templates/deployment.yaml"],
  },
  {
    dependent: CROSSPLANE_PKG, dependency: /^kubernetes:pkg\.crossplane\.io\/v1beta1:DeploymentRuntimeConfig$|^aws:eks\/podIdentityAssociation:PodIdentityAssociation$|^aws:eks\/addon:Addon$/,
    reason: "the provider pod is created with its runtime config (referenced by name) and gets Pod Identity credentials only if the association exists before the pod starts",
    source: ["https://github.com/aws/containers-roadmap/issues/2507", "https://github.com/aws/eks-pod-identity-agent/issues/52"],
  },
  {
    dependent: "kubernetes:argoproj.io/v1alpha1:Application", dependency: "kubernetes:argoproj.io/v1alpha1:AppProject",
    reason: "spec.project names the AppProject (a string); an Application whose project does not exist fails to reconcile",
    source: ["https://argo-cd.readthedocs.io/en/stable/user-guide/projects/"],
  },
  {
    dependent: "kubernetes:argoproj.io/v1alpha1:Application", dependency: "kubernetes:argoproj.io/v1alpha1:AppProjectPatch",
    reason: "security, not data: until the built-in default project is emptied, an Application in Git naming it could deploy any kind",
    source: ["https://argo-cd.readthedocs.io/en/stable/user-guide/projects/"],
  },
  {
    dependent: "kubernetes:argoproj.io/v1alpha1:Application", dependency: /^kubernetes:(?!argoproj\.io\/)/,
    reason: "the first sync applies XRDs, Compositions and XRs that need Crossplane, its provider, functions, ProviderConfig and the EnvironmentConfig contract, and reads the repository secret",
    source: ["https://argo-cd.readthedocs.io/en/stable/operator-manual/cluster-bootstrapping/"],
  },
];

function matches(pattern: string | RegExp, s: string): boolean {
  return typeof pattern === "string" ? pattern === s : pattern.test(s);
}

/** The allow-list entry that makes `dependent` → `dependency` a necessary explicit edge, if any. */
export function necessaryOrdering(dependent: { type: string }, dependency: { type: string; name: string }): NecessaryOrdering | undefined {
  return NECESSARY_ORDERING.find((o) =>
    matches(o.dependent, dependent.type) && matches(o.dependency, dependency.type) && (!o.dependencyName || o.dependencyName.test(dependency.name)));
}

// ─────────────────────────────────────────────────────────────────────────────────────────────────
// The image pipeline: its own stage (.github/workflows/image.yml, `npm run image`), before any `pulumi up`, once per
// architecture on a native runner, in parallel. Unchanged Nix sources skip everything after the build (the image
// with that output hash is already registered).
// ─────────────────────────────────────────────────────────────────────────────────────────────────

export interface PipelineStep {
  step: string;
  seconds: number;
  source: string[];
  note: string;
}

export const IMAGE_PIPELINE_STEPS: PipelineStep[] = [
  {
    step: "nix build (raw disk image)", seconds: 600,
    source: ["https://github.com/NixOS/nixpkgs/issues/20471", "https://github.com/input-output-hk/iohk-ops/pull/85"],
    note: "NixOS amazon image: 3m22s with a warm cache, ~35 min cold; 10 min assumes the binary cache serves most of the closure",
  },
  {
    step: "coldsnap upload (EBS direct APIs: StartSnapshot, PutSnapshotBlock, CompleteSnapshot)", seconds: 180,
    source: ["https://github.com/awslabs/coldsnap", "https://docs.aws.amazon.com/ebs/latest/userguide/ebs-accessing-snapshot.html", "https://github.com/bottlerocket-os/twoliter/pull/603"],
    note: "only non-zero 512 KiB blocks of a ~2-4 GB image, in parallel; Bottlerocket's tooling replaced VM Import with it. VM Import took 10-30+ min (below)",
  },
  {
    step: "copy-snapshot under the image key (KMS re-encryption)", seconds: 300,
    source: ["https://docs.aws.amazon.com/ebs/latest/userguide/ebs-copy-snapshot.html"],
    note: "a copy encrypted to a new key is a full copy; a few GB of mostly sparse data; estimate",
  },
  { step: "register-image and wait for available", seconds: 60, source: ["https://github.com/bottlerocket-os/twoliter/pull/603"], note: "RegisterImage from a snapshot, then waiting for 'available'" },
  { step: "share AMI, snapshot (and the key policy) with promoted accounts", seconds: 5, source: ["https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/sharingamis-explicit.html"], note: "synchronous APIs; estimate" },
];

/** What the pipeline replaced: S3 upload then VM Import's ImportSnapshot, for comparison in the README. */
export const VM_IMPORT_SECONDS: PipelineStep = {
  step: "S3 upload + VM Import (replaced)", seconds: 720,
  source: ["https://github.com/NixOS/amis/pull/123", "https://github.com/nanovms/ops/pull/799", "https://github.com/osbuild/osbuild-composer/pull/500", "https://github.com/NixOS/amis/pull/294"],
  note: "upload 'usually 5 minutes' from CI runners, then imports measured at up to 15 minutes; NixOS allows 100 min",
};

/** Modelled seconds of one image (per architecture; architectures run in parallel). */
export function imagePipelineSeconds(steps: PipelineStep[] = IMAGE_PIPELINE_STEPS): number {
  return steps.reduce((sum, s) => sum + s.seconds, 0);
}
