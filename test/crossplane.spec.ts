import * as path from "node:path";
import {
  ACTIVATION_POLICY_NAME, activationPolicy, composedManagedResources, crossplaneValues, DEFAULT_CROSSPLANE_RESOURCES,
  providerService, providerServices, runtimeConfigSpec, validateCrossplaneArgs, type CrossplaneArgs,
} from "../components/crossplane";
import { CROSSPLANE_IAM_PATH, CROSSPLANE_ROLE_TAG, permissionsBoundaryPolicy, providerPermissionsPolicy } from "../components/iamPolicies";
import { DEFAULT_VERSIONS } from "../stacks/config";
import { composedKinds } from "../lib/gitops";
import { REPO_ROOT } from "../lib/paths";
import { outputValue, planStack, type Plan } from "./harness";
import { allowsAll, evaluate, evaluateUnder } from "./iam";

const RELEASE = "kubernetes:helm.sh/v3:Release";
const PROVIDER = "kubernetes:pkg.crossplane.io/v1:Provider";
const FUNCTION = "kubernetes:pkg.crossplane.io/v1:Function";
const DRC = "kubernetes:pkg.crossplane.io/v1beta1:DeploymentRuntimeConfig";
const MRAP = "kubernetes:apiextensions.crossplane.io/v1alpha1:ManagedResourceActivationPolicy";
const PROVIDER_CONFIG = "kubernetes:aws.upbound.io/v1beta1:ProviderConfig";
const CLUSTER_PROVIDER_CONFIG = "kubernetes:aws.m.upbound.io/v1beta1:ClusterProviderConfig";
const ROLE = "aws:iam/role:Role";
const ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy";
const BOUNDARY = "aws:iam/policy:Policy";
const ASSOCIATION = "aws:eks/podIdentityAssociation:PodIdentityAssociation";
const KMS_KEY = "aws:kms/key:Key";

const GITOPS = path.join(REPO_ROOT, "gitops");
const crossplaneOverride = (o: Record<string, unknown>) => ({ overrides: { "nixplane:crossplane": JSON.stringify(o) } });
const doc = (r: { inputs: Record<string, unknown> }, key: string) => JSON.parse(r.inputs[key] as string);
const output = (plan: Plan, key: string) => outputValue((plan.outputs as Record<string, any>)[key]) as Promise<string>;

describe("Crossplane of the prod stack (Pod Identity)", () => {
  let plan: Plan;
  beforeAll(async () => {
    plan = await planStack("prod");
  });

  test("the chart is crossplane from charts.crossplane.io at the configured version, with prod's replicas and resources", () => {
    const release = plan.find(RELEASE, "nixplane-crossplane");
    expect(release.inputs).toMatchObject({
      chart: "crossplane",
      version: DEFAULT_VERSIONS.crossplaneChart,
      repositoryOpts: { repo: "https://charts.crossplane.io/stable" },
      namespace: "crossplane-system",
      createNamespace: true,
    });
    expect(release.inputs.values).toMatchObject({
      replicas: 2,
      resourcesCrossplane: { requests: { cpu: "500m", memory: "512Mi" }, limits: { cpu: "2", memory: "2Gi" } },
      provider: { defaultActivations: [] },
    });
  });

  test("the activation policy activates exactly the kinds gitops/ composes, nothing by wildcard", () => {
    const mrap = plan.find(MRAP, "nixplane-crossplane-activations");
    const composed = composedKinds(GITOPS);
    expect(composed.length).toBeGreaterThan(0);
    expect(mrap.inputs).toEqual({ apiVersion: "apiextensions.crossplane.io/v1alpha1", kind: "ManagedResourceActivationPolicy", metadata: { name: ACTIVATION_POLICY_NAME }, spec: { activate: composed } });
    expect(composed.some((k) => k.includes("*"))).toBe(false);
  });

  test("one Provider per AWS service gitops/ composes, pinned to the configured provider-upjet-aws version, waited on until Healthy", () => {
    const services = providerServices(composedKinds(GITOPS));
    // WorkloadRoles compose Pod Identity associations: the eks family provider comes with them.
    expect(services).toEqual(["ec2", "eks", "iam", "rds", "s3"]);
    expect(plan.all(PROVIDER).map((p) => p.name).sort()).toEqual(services.map((s) => `nixplane-crossplane-provider-aws-${s}`));
    for (const s of services) {
      expect(plan.find(PROVIDER, `nixplane-crossplane-provider-aws-${s}`).inputs).toEqual({
        apiVersion: "pkg.crossplane.io/v1",
        kind: "Provider",
        metadata: { name: `provider-aws-${s}`, annotations: { "pulumi.com/waitFor": "condition=Healthy" } },
        spec: { package: `xpkg.crossplane.io/crossplane-contrib/provider-aws-${s}:${DEFAULT_VERSIONS.providerAws}`, runtimeConfigRef: { name: "provider-aws" } },
      });
    }
  });

  test("the three composition functions gitops/ calls, each pinned", () => {
    const packages = plan.all(FUNCTION).map((f) => [(f.inputs.metadata as any).name, (f.inputs.spec as any).package]).sort();
    expect(packages).toEqual([
      ["function-auto-ready", `xpkg.crossplane.io/crossplane-contrib/function-auto-ready:${DEFAULT_VERSIONS.functionAutoReady}`],
      ["function-environment-configs", `xpkg.crossplane.io/crossplane-contrib/function-environment-configs:${DEFAULT_VERSIONS.functionEnvironmentConfigs}`],
      ["function-patch-and-transform", `xpkg.crossplane.io/crossplane-contrib/function-patch-and-transform:${DEFAULT_VERSIONS.functionPatchAndTransform}`],
    ]);
  });

  test("Pod Identity: the role trusts pods.eks.amazonaws.com for AssumeRole and TagSession, nothing else", () => {
    expect(doc(plan.find(ROLE, "nixplane-crossplane-providers"), "assumeRolePolicy")).toEqual({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { Service: "pods.eks.amazonaws.com" }, Action: ["sts:AssumeRole", "sts:TagSession"] }],
    });
  });

  test("Pod Identity: one association for the service-account name the runtime config pins", () => {
    const association = plan.find(ASSOCIATION, "nixplane-crossplane-providers");
    expect(association.inputs).toMatchObject({ clusterName: "nixplane-prod", namespace: "crossplane-system", serviceAccount: "provider-aws" });
    expect(plan.dependsOn(association, plan.find(ROLE, "nixplane-crossplane-providers"))).toBe(true);
    const drc = plan.find(DRC, "nixplane-crossplane-runtime");
    expect((drc.inputs.spec as any)).toEqual({ serviceAccountTemplate: { metadata: { name: "provider-aws" } } });
    // The webhook injects credentials at pod start: the runtime (and so every provider pod) waits for the association.
    expect(drc.dependsOn).toEqual([association.urn, plan.find(RELEASE, "nixplane-crossplane").urn].sort());
  });

  test("both default provider configs use Pod Identity, never a Secret", () => {
    for (const [type, name] of [[PROVIDER_CONFIG, "nixplane-crossplane-providerconfig"], [CLUSTER_PROVIDER_CONFIG, "nixplane-crossplane-clusterproviderconfig"]]) {
      expect(plan.find(type, name).inputs).toMatchObject({ metadata: { name: "default" }, spec: { credentials: { source: "PodIdentity" } } });
    }
  });

  test("IAM roles can only be created or changed with the platform's boundary, which can never be removed or rewritten", async () => {
    const boundary = plan.find(BOUNDARY, "nixplane-crossplane-boundary");
    const boundaryArn = await output(plan, "permissionsBoundaryArn");
    expect(boundaryArn).toMatch(/^arn:aws:iam::777788889999:policy\/nixplane-crossplane-boundary-/);
    const statements = doc(plan.find(ROLE_POLICY, "nixplane-crossplane-providers"), "policy").Statement as any[];
    const bounded = statements.find((s) => s.Sid === "IamRolesOnlyWithBoundary");
    expect(bounded).toEqual({
      Sid: "IamRolesOnlyWithBoundary",
      Effect: "Allow",
      Action: ["iam:CreateRole", "iam:PutRolePermissionsBoundary", "iam:AttachRolePolicy", "iam:DetachRolePolicy", "iam:PutRolePolicy", "iam:DeleteRolePolicy"],
      Resource: ["arn:aws:iam::777788889999:role/nixplane/acme-prod-*"],
      Condition: { StringEquals: { "iam:PermissionsBoundary": boundaryArn } },
    });
    expect(statements.find((s) => s.Sid === "NeverRemoveBoundary")).toMatchObject({ Effect: "Deny", Action: ["iam:DeleteRolePermissionsBoundary"], Resource: "*" });
    expect(statements.find((s) => s.Sid === "NeverChangeBoundary")).toMatchObject({ Effect: "Deny", Resource: [boundaryArn] });
    // No other statement grants a boundary-conditioned action without the condition.
    for (const s of statements.filter((x) => x.Effect === "Allow" && x !== bounded)) {
      for (const a of ["iam:CreateRole", "iam:AttachRolePolicy", "iam:PutRolePolicy", "iam:PutRolePermissionsBoundary", "iam:*"]) expect(s.Action).not.toContain(a);
    }
    expect(doc(boundary, "policy").Statement.find((s: any) => s.Sid === "NoIdentityChanges")).toMatchObject({ Effect: "Deny", Action: expect.arrayContaining(["iam:*"]) });
  });

  describe("what the providers' policy allows, request by request (test/iam.ts)", () => {
    const ACCOUNT = "777788889999";
    const role = (name: string, p = CROSSPLANE_IAM_PATH) => `arn:aws:iam::${ACCOUNT}:role${p}${name}`;
    const managedPolicy = (name: string, p = CROSSPLANE_IAM_PATH) => `arn:aws:iam::${ACCOUNT}:policy${p}${name}`;
    const upjetTags = { [`aws:RequestTag/${CROSSPLANE_ROLE_TAG.key}`]: CROSSPLANE_ROLE_TAG.value, "aws:RequestTag/crossplane-name": "acme-prod-team-a-api" };
    const taggedRole = { [`aws:ResourceTag/${CROSSPLANE_ROLE_TAG.key}`]: CROSSPLANE_ROLE_TAG.value };
    let policy: string;
    let boundaryArn: string;
    beforeAll(async () => {
      policy = plan.find(ROLE_POLICY, "nixplane-crossplane-providers").inputs.policy as string;
      boundaryArn = await output(plan, "permissionsBoundaryArn");
    });

    test("creating a workload role as upjet does (tags on create, with the boundary, under the path) is allowed", () => {
      // CreateRole with Tags is authorized as CreateRole and as TagRole on a role that does not exist yet.
      const context = { ...upjetTags, "iam:PermissionsBoundary": boundaryArn };
      expect(allowsAll(policy, [
        { action: "iam:CreateRole", resource: role("acme-prod-team-a-api"), context },
        { action: "iam:TagRole", resource: role("acme-prod-team-a-api"), context: upjetTags },
      ])).toBe(true);
      expect(evaluate(policy, { action: "iam:AttachRolePolicy", resource: role("acme-prod-team-a-api"), context: { "iam:PermissionsBoundary": boundaryArn } })).toBe("Allow");
      expect(evaluate(policy, { action: "iam:UpdateAssumeRolePolicy", resource: role("acme-prod-team-a-api"), context: taggedRole })).toBe("Allow");
      expect(evaluate(policy, { action: "iam:CreatePolicy", resource: managedPolicy("acme-prod-team-a-api") })).toBe("Allow");
      expect(evaluate(policy, { action: "iam:CreatePolicyVersion", resource: managedPolicy("acme-prod-team-a-api") })).toBe("Allow");
    });

    test("a WorkloadRole's Pod Identity association: on this cluster only, passing only /nixplane/ roles, only to EKS Pod Identity", () => {
      const cluster = (name: string) => `arn:aws:eks:eu-west-1:${ACCOUNT}:cluster/${name}`;
      const association = (name: string) => `arn:aws:eks:eu-west-1:${ACCOUNT}:podidentityassociation/${name}/a-0123456789abcdefg`;
      const passed = { "iam:PassedToService": "pods.eks.amazonaws.com" };
      expect(allowsAll(policy, [
        { action: "eks:CreatePodIdentityAssociation", resource: cluster("nixplane-prod") },
        { action: "iam:PassRole", resource: role("acme-prod-team-a-api"), context: passed },
        { action: "eks:TagResource", resource: association("nixplane-prod") },
        { action: "eks:DescribePodIdentityAssociation", resource: association("nixplane-prod") },
        { action: "eks:UpdatePodIdentityAssociation", resource: association("nixplane-prod") },
      ])).toBe(true);
      expect(evaluate(policy, { action: "eks:CreatePodIdentityAssociation", resource: cluster("another-cluster") })).toBe("ImplicitDeny");
      expect(evaluate(policy, { action: "eks:DeletePodIdentityAssociation", resource: association("nixplane-prod") })).toBe("ImplicitDeny");
      expect(evaluate(policy, { action: "iam:PassRole", resource: role("OrganizationAccountAccessRole", "/"), context: passed })).toBe("ImplicitDeny");
      expect(evaluate(policy, { action: "iam:PassRole", resource: role("acme-prod-team-a-api"), context: { "iam:PassedToService": "ec2.amazonaws.com" } })).toBe("ImplicitDeny");
    });

    test("RDS may create the master-password secret of a cluster as the providers, and no other secret", () => {
      const secret = (name: string) => `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:${name}`;
      expect(allowsAll(policy, [
        { action: "secretsmanager:CreateSecret", resource: secret("rds!cluster-0a1b2c3d-AbCdEf") },
        { action: "secretsmanager:TagResource", resource: secret("rds!cluster-0a1b2c3d-AbCdEf") },
      ])).toBe(true);
      expect(evaluate(policy, { action: "secretsmanager:CreateSecret", resource: secret("prod/payments/api-key") })).toBe("ImplicitDeny");
      expect(evaluate(policy, { action: "secretsmanager:GetSecretValue", resource: secret("rds!cluster-0a1b2c3d-AbCdEf") })).toBe("ImplicitDeny");
      expect(evaluate(policy, { action: "secretsmanager:DeleteSecret", resource: secret("rds!cluster-0a1b2c3d-AbCdEf") })).toBe("ImplicitDeny");
    });

    test("a role without the platform's boundary, or outside the path, cannot be created", () => {
      expect(evaluate(policy, { action: "iam:CreateRole", resource: role("acme-prod-team-a-api"), context: upjetTags })).toBe("ImplicitDeny");
      expect(evaluate(policy, { action: "iam:CreateRole", resource: role("acme-prod-team-a-api"), context: { ...upjetTags, "iam:PermissionsBoundary": managedPolicy("other", "/") } })).toBe("ImplicitDeny");
      expect(evaluate(policy, { action: "iam:CreateRole", resource: role("admin", "/"), context: { ...upjetTags, "iam:PermissionsBoundary": boundaryArn } })).toBe("ImplicitDeny");
    });

    test("roles and policies outside the path are out of reach, even tagged as Crossplane's", () => {
      for (const action of ["iam:TagRole", "iam:UpdateAssumeRolePolicy", "iam:DeleteRole", "iam:UntagRole"]) {
        expect([action, evaluate(policy, { action, resource: role("OrganizationAccountAccessRole", "/"), context: { ...taggedRole, ...upjetTags } })]).toEqual([action, "ImplicitDeny"]);
      }
      // Rewriting a policy attached to someone else would grant the providers anything.
      for (const action of ["iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:DeletePolicy"]) {
        expect([action, evaluate(policy, { action, resource: managedPolicy("AdminAccess", "/") })]).toEqual([action, "ImplicitDeny"]);
      }
    });

    test("the providers cannot change their own role or the boundary", async () => {
      expect(plan.find(ROLE, "nixplane-crossplane-providers").inputs.path).toBeUndefined();
      const own = await output(plan, "crossplaneProviderRoleArn");
      expect(own).toMatch(/^arn:aws:iam::777788889999:role\/nixplane-crossplane-providers-/);
      for (const action of ["iam:UpdateAssumeRolePolicy", "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:TagRole"]) {
        expect([action, evaluate(policy, { action, resource: own, context: { ...taggedRole, ...upjetTags, "iam:PermissionsBoundary": boundaryArn } })]).toEqual([action, "ImplicitDeny"]);
      }
      expect(evaluate(policy, { action: "iam:CreatePolicyVersion", resource: boundaryArn })).toBe("ExplicitDeny");
      expect(evaluate(policy, { action: "iam:DeleteRolePermissionsBoundary", resource: role("acme-prod-team-a-api"), context: taggedRole })).toBe("ExplicitDeny");
    });

    test("an untagged role in the path is out of reach until it carries upjet's tag, which only the path guard keeps others from arranging", async () => {
      expect(evaluate(policy, { action: "iam:UpdateAssumeRolePolicy", resource: role("acme-prod-made-by-hand") })).toBe("ImplicitDeny");
      expect(evaluate(policy, { action: "iam:TagRole", resource: role("acme-prod-made-by-hand"), context: { "aws:RequestTag/team": "a" } })).toBe("ImplicitDeny");
      // IAM cannot tell tag-on-create from tagging an existing role: the identity policy alone allows this…
      expect(evaluate(policy, { action: "iam:TagRole", resource: role("acme-prod-made-by-hand"), context: upjetTags })).toBe("Allow");
      // …so the stack renders the SCP that keeps anyone but the providers from writing under the path.
      const guard = await output(plan, "iamPathGuardPolicy");
      const provider = { "aws:PrincipalArn": await output(plan, "crossplaneProviderRoleArn") };
      const admin = { "aws:PrincipalArn": `arn:aws:iam::${ACCOUNT}:role/AWSReservedSSO_Admin_0123` };
      for (const action of ["iam:CreateRole", "iam:CreatePolicy", "iam:TagRole", "iam:UpdateAssumeRolePolicy"]) {
        const resource = action === "iam:CreatePolicy" ? managedPolicy("acme-prod-made-by-hand") : role("acme-prod-made-by-hand");
        expect([action, evaluate(guard, { action, resource, context: admin })]).toEqual([action, "ExplicitDeny"]);
      }
      expect(evaluate(guard, { action: "iam:CreateRole", resource: role("admin-tooling", "/"), context: admin })).toBe("ImplicitDeny");
      // The providers keep every right the first test gave them.
      const context = { ...upjetTags, "iam:PermissionsBoundary": boundaryArn, ...provider };
      expect(evaluateUnder([guard], policy, { action: "iam:CreateRole", resource: role("acme-prod-team-a-api"), context })).toBe("Allow");
      expect(evaluateUnder([guard], policy, { action: "iam:TagRole", resource: role("acme-prod-team-a-api"), context: { ...upjetTags, ...provider } })).toBe("Allow");
      expect(evaluateUnder([guard], policy, { action: "iam:CreatePolicyVersion", resource: managedPolicy("acme-prod-team-a-api"), context: provider })).toBe("Allow");
    });
  });

  describe("least privilege, request by request (issue 14): what Git could reach before is denied, what the compositions need is allowed", () => {
    const ACCOUNT = "777788889999";
    const bucket = (name: string) => `arn:aws:s3:::${name}`;
    const composed = { "aws:ResourceTag/nixplane:environment": "prod", "aws:ResourceTag/managed-by": "crossplane" };
    const creating = { "aws:RequestTag/nixplane:environment": "prod", "aws:RequestTag/managed-by": "crossplane" };
    const sg = (id: string) => `arn:aws:ec2:eu-west-1:${ACCOUNT}:security-group/${id}`;
    const rdsCluster = (id: string) => `arn:aws:rds:eu-west-1:${ACCOUNT}:cluster:${id}`;
    let policy: string;
    let boundary: string;
    let guard: string;
    beforeAll(async () => {
      policy = plan.find(ROLE_POLICY, "nixplane-crossplane-providers").inputs.policy as string;
      boundary = plan.find(BOUNDARY, "nixplane-crossplane-boundary").inputs.policy as string;
      guard = await output(plan, "iamPathGuardPolicy");
    });

    test("S3: only buckets named <prefix>-…; the state bucket, the image bucket and other environments' are out of reach; DeleteBucket never", () => {
      for (const other of ["acme-pulumi-state", "nixplane-node-image-images-0a1b2c", "acme-staging-team-checkout-assets"]) {
        expect([other, evaluate(policy, { action: "s3:PutBucketPolicy", resource: bucket(other) })]).toEqual([other, "ImplicitDeny"]);
      }
      expect(evaluate(policy, { action: "s3:DeleteBucket", resource: bucket("acme-prod-team-checkout-assets") })).toBe("ExplicitDeny");
      expect(allowsAll(policy, ["s3:CreateBucket", "s3:PutBucketVersioning", "s3:PutEncryptionConfiguration", "s3:PutBucketPublicAccessBlock", "s3:PutBucketOwnershipControls", "s3:PutLifecycleConfiguration", "s3:GetBucketTagging"]
        .map((action) => ({ action, resource: bucket("acme-prod-team-checkout-assets") })))).toBe(true);
    });

    test("the state bucket (nixplane:stateBucket) is explicitly denied to the providers and to every Git-created role", () => {
      const state = "acme-nixplane-state-777788889999";
      for (const action of ["s3:PutBucketPolicy", "s3:GetObject", "s3:PutObject", "s3:ListBucket"]) {
        for (const resource of [bucket(state), `${bucket(state)}/.pulumi/stacks/nixplane/prod.json`]) {
          expect([action, resource, evaluate(policy, { action, resource })]).toEqual([action, resource, "ExplicitDeny"]);
          expect([action, resource, evaluate(boundary, { action, resource })]).toEqual([action, resource, "ExplicitDeny"]);
        }
      }
    });

    test("a state bucket named with the environment's prefix is still out of reach; without the setting it would not be", () => {
      const inputs = { boundaryArn: "arn:aws:iam::777788889999:policy/b", kmsKeyArn: "arn:aws:kms:eu-west-1:777788889999:key/k", accountId: ACCOUNT, clusterName: "nixplane-prod", namingPrefix: "acme-prod", environment: "prod" };
      const guarded = providerPermissionsPolicy({ ...inputs, protectedBuckets: ["acme-prod-pulumi-state"] });
      expect(evaluate(guarded, { action: "s3:PutBucketPolicy", resource: bucket("acme-prod-pulumi-state") })).toBe("ExplicitDeny");
      expect(evaluate(guarded, { action: "s3:PutBucketPolicy", resource: bucket("acme-prod-team-checkout-assets") })).toBe("Allow");
      expect(evaluate(providerPermissionsPolicy(inputs), { action: "s3:PutBucketPolicy", resource: bucket("acme-prod-pulumi-state") })).toBe("Allow");
      const boundaryOf = (protectedBuckets?: string[]) => permissionsBoundaryPolicy({ kmsKeyArn: inputs.kmsKeyArn, namingPrefix: "acme-prod", protectedBuckets });
      expect(evaluate(boundaryOf(["acme-prod-pulumi-state"]), { action: "s3:GetObject", resource: `${bucket("acme-prod-pulumi-state")}/x` })).toBe("ExplicitDeny");
      expect(evaluate(boundaryOf(), { action: "s3:GetObject", resource: `${bucket("acme-prod-pulumi-state")}/x` })).toBe("Allow");
    });

    test("RDS: create only with this environment's tags, change only what carries them, delete never", () => {
      expect(evaluate(policy, { action: "rds:DeleteDBCluster", resource: rdsCluster("anything"), context: composed })).toBe("ExplicitDeny");
      expect(evaluate(policy, { action: "rds:DeleteDBInstance", resource: `arn:aws:rds:eu-west-1:${ACCOUNT}:db:acme-prod-team-checkout-orders-1`, context: composed })).toBe("ExplicitDeny");
      expect(allowsAll(policy, [
        { action: "rds:CreateDBCluster", resource: rdsCluster("acme-prod-team-checkout-orders"), context: creating },
        { action: "rds:AddTagsToResource", resource: rdsCluster("acme-prod-team-checkout-orders"), context: creating },
        { action: "rds:ModifyDBCluster", resource: rdsCluster("acme-prod-team-checkout-orders"), context: composed },
        { action: "rds:DescribeDBClusters", resource: rdsCluster("acme-prod-team-checkout-orders") },
      ])).toBe(true);
      expect(evaluate(policy, { action: "rds:CreateDBCluster", resource: rdsCluster("x") })).toBe("ImplicitDeny");
      expect(evaluate(policy, { action: "rds:ModifyDBCluster", resource: rdsCluster("billing"), context: { "aws:ResourceTag/nixplane:environment": "prod", "aws:ResourceTag/managed-by": "pulumi" } })).toBe("ImplicitDeny");
      expect(evaluate(policy, { action: "rds:ModifyDBCluster", resource: rdsCluster("acme-staging-x"), context: { "aws:ResourceTag/nixplane:environment": "staging", "aws:ResourceTag/managed-by": "crossplane" } })).toBe("ImplicitDeny");
    });

    test("EC2: rules only on groups composed for this environment, never on the EKS cluster's security group", () => {
      // The cluster security group is EKS's (tagged by EKS and Pulumi's defaults, never managed-by crossplane).
      const eks = { "aws:ResourceTag/aws:eks:cluster-name": "nixplane-prod", "aws:ResourceTag/nixplane:environment": "prod", "aws:ResourceTag/managed-by": "pulumi" };
      expect(evaluate(policy, { action: "ec2:AuthorizeSecurityGroupIngress", resource: sg("sg-0cluster"), context: eks })).toBe("ImplicitDeny");
      expect(evaluate(policy, { action: "ec2:AuthorizeSecurityGroupIngress", resource: sg("sg-0other") })).toBe("ImplicitDeny");
      // Tagging a foreign group into scope is refused too: CreateTags only at creation or on composed groups.
      expect(evaluate(policy, { action: "ec2:CreateTags", resource: sg("sg-0cluster"), context: { ...creating, ...eks } })).toBe("ImplicitDeny");
      expect(allowsAll(policy, [
        { action: "ec2:CreateSecurityGroup", resource: sg("sg-0new"), context: creating },
        { action: "ec2:CreateSecurityGroup", resource: `arn:aws:ec2:eu-west-1:${ACCOUNT}:vpc/vpc-0a1b`, context: creating },
        { action: "ec2:CreateTags", resource: sg("sg-0new"), context: { ...creating, "ec2:CreateAction": "CreateSecurityGroup" } },
        { action: "ec2:AuthorizeSecurityGroupIngress", resource: sg("sg-0db"), context: composed },
        { action: "ec2:AuthorizeSecurityGroupIngress", resource: `arn:aws:ec2:eu-west-1:${ACCOUNT}:security-group-rule/sgr-0new`, context: creating },
      ])).toBe(true);
    });

    test("IAM: only this environment's roles and policies under the path; another environment's in the account are out of reach", () => {
      const other = `arn:aws:iam::${ACCOUNT}:role/nixplane/acme-staging-team-a-api`;
      expect(evaluate(policy, { action: "iam:UpdateAssumeRolePolicy", resource: other, context: { "aws:ResourceTag/crossplane-kind": "role.iam.aws.m.upbound.io" } })).toBe("ImplicitDeny");
      expect(evaluate(policy, { action: "iam:CreatePolicyVersion", resource: `arn:aws:iam::${ACCOUNT}:policy/nixplane/acme-staging-team-a-api` })).toBe("ImplicitDeny");
    });

    test("the SCP also stops attaching a /nixplane/ policy to a role outside the path, a user or a group", async () => {
      const attach = (action: string, resource: string) => evaluate(guard, { action, resource, context: { "iam:PolicyARN": `arn:aws:iam::${ACCOUNT}:policy/nixplane/acme-prod-team-a-api` } });
      expect(attach("iam:AttachRolePolicy", `arn:aws:iam::${ACCOUNT}:role/admin`)).toBe("ExplicitDeny");
      expect(attach("iam:AttachUserPolicy", `arn:aws:iam::${ACCOUNT}:user/alice`)).toBe("ExplicitDeny");
      expect(attach("iam:AttachGroupPolicy", `arn:aws:iam::${ACCOUNT}:group/devs`)).toBe("ExplicitDeny");
      // The providers still attach it to their own roles under the path.
      const provider = { "aws:PrincipalArn": await output(plan, "crossplaneProviderRoleArn"), "iam:PolicyARN": `arn:aws:iam::${ACCOUNT}:policy/nixplane/acme-prod-team-a-api` };
      expect(evaluate(guard, { action: "iam:AttachRolePolicy", resource: `arn:aws:iam::${ACCOUNT}:role/nixplane/acme-prod-team-a-api`, context: provider })).toBe("ImplicitDeny");
      expect(evaluate(guard, { action: "iam:AttachRolePolicy", resource: `arn:aws:iam::${ACCOUNT}:role/admin`, context: provider })).toBe("ExplicitDeny");
      // Other policies attach anywhere as before.
      expect(evaluate(guard, { action: "iam:AttachRolePolicy", resource: `arn:aws:iam::${ACCOUNT}:role/admin`, context: { "iam:PolicyARN": "arn:aws:iam::aws:policy/ReadOnlyAccess" } })).toBe("ImplicitDeny");
    });

    test("boundary: objects of this environment's buckets only, never the state or image bucket, never bucket configuration", () => {
      expect(allowsAll(boundary, [
        { action: "s3:GetObject", resource: `${bucket("acme-prod-team-checkout-assets")}/a.txt` },
        { action: "s3:PutObject", resource: `${bucket("acme-prod-team-checkout-assets")}/a.txt` },
        { action: "s3:ListBucket", resource: bucket("acme-prod-team-checkout-assets") },
      ])).toBe(true);
      for (const other of ["acme-pulumi-state", "nixplane-node-image-images-0a1b2c", "acme-staging-team-checkout-assets"]) {
        for (const action of ["s3:GetObject", "s3:PutObject"]) expect([other, action, evaluate(boundary, { action, resource: `${bucket(other)}/key` })]).toEqual([other, action, "ImplicitDeny"]);
      }
      for (const action of ["s3:PutBucketPublicAccessBlock", "s3:PutBucketPolicy", "s3:DeleteBucket", "s3:PutEncryptionConfiguration"]) {
        expect([action, evaluate(boundary, { action, resource: bucket("acme-prod-team-checkout-assets") })]).toEqual([action, "ExplicitDeny"]);
      }
    });

    test("boundary: a database's master secret of this environment can be read (where the role's policy grants it), another's never", () => {
      const secret = `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:rds!cluster-0a1b-AbCd`;
      const of = (cluster: string) => ({ "secretsmanager:ResourceTag/aws:rds:primaryDBClusterArn": rdsCluster(cluster) });
      expect(evaluate(boundary, { action: "secretsmanager:GetSecretValue", resource: secret, context: of("acme-prod-team-checkout-orders") })).toBe("Allow");
      expect(evaluate(boundary, { action: "secretsmanager:GetSecretValue", resource: secret, context: of("acme-staging-team-checkout-orders") })).toBe("ImplicitDeny");
      expect(evaluate(boundary, { action: "secretsmanager:GetSecretValue", resource: `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:prod/api-key` })).toBe("ImplicitDeny");
    });
  });

  test("the data key and prod's DR-region data key rotate, are protected, and are the only keys the providers may use", () => {
    const key = plan.find(KMS_KEY, "nixplane-crossplane-data-key");
    expect(key.inputs).toMatchObject({ enableKeyRotation: true, deletionWindowInDays: 30 });
    expect(key.protect).toBe(true);
    // dr.region: a second key there seals the replicas, through a provider for that region.
    const drKey = plan.find(KMS_KEY, "nixplane-crossplane-data-key-dr");
    expect(drKey.inputs).toMatchObject({ enableKeyRotation: true, deletionWindowInDays: 30 });
    expect(drKey.protect).toBe(true);
    // Through the Platform's one provider of that region (tagged like every resource of the stack).
    const drProvider = plan.find("pulumi:providers:aws", "nixplane-aws-dr");
    expect(drProvider.inputs).toMatchObject({ region: "eu-central-1", allowedAccountIds: JSON.stringify(["777788889999"]) });
    expect(drKey.provider?.startsWith(`${drProvider.urn}::`)).toBe(true);
    const statements = doc(plan.find(ROLE_POLICY, "nixplane-crossplane-providers"), "policy").Statement as any[];
    const kms = statements.filter((s) => s.Action.some((a: string) => a.startsWith("kms:")));
    expect(kms.map((s) => s.Sid)).toEqual(["UseDataKey", "DataKeyGrantsForAwsServices"]);
    // (Mocked ARNs carry the stack's region whatever the provider's.)
    for (const s of kms) expect(s.Resource).toEqual([expect.stringMatching(/^arn:aws:kms:eu-west-1:777788889999:key\//), expect.stringMatching(/^arn:aws:kms:[a-z0-9-]+:777788889999:key\//)]);
    // Grants only for AWS services (RDS encrypting a cluster), never to an arbitrary principal.
    const policy = plan.find(ROLE_POLICY, "nixplane-crossplane-providers").inputs.policy as string;
    const keyArn = kms[0].Resource[0];
    expect(evaluate(policy, { action: "kms:CreateGrant", resource: keyArn, context: { "kms:GrantIsForAWSResource": "true" } })).toBe("Allow");
    expect(evaluate(policy, { action: "kms:CreateGrant", resource: keyArn, context: { "kms:GrantIsForAWSResource": "false" } })).toBe("ImplicitDeny");
    expect(evaluate(policy, { action: "kms:CreateGrant", resource: keyArn })).toBe("ImplicitDeny");
    expect(evaluate(policy, { action: "kms:Decrypt", resource: "arn:aws:kms:eu-west-1:777788889999:key/other" })).toBe("ImplicitDeny");
  });

  // The pkg.crossplane.io CRDs are created by the chart's `core init` container, not by Helm
  // (crossplane v2.3.4 cmd/crossplane/core/init.go, NewCoreCRDs): only the awaited release guarantees
  // them, and pulumi-kubernetes retries a create against a missing kind for 31 s only
  // (provider/pkg/await/await.go Creation, pkg/retry/retry.go).
  test("custom resources wait for the release that installs their CRDs, and nothing more", () => {
    const release = plan.find(RELEASE, "nixplane-crossplane").urn;
    expect(plan.find(MRAP, "nixplane-crossplane-activations").dependsOn).toEqual([release]);
    for (const f of plan.all(FUNCTION)) expect(f.dependsOn).toEqual([release]);
  });

  // Pulumi awaits each Provider until Healthy (WAIT_FOR_HEALTHY), and the package manager pulls the
  // package from xpkg.crossplane.io from inside Crossplane's pod: the name resolves through CoreDNS.
  // The release itself does not wait for CoreDNS (test/cluster.spec.ts), so this edge is the Providers'.
  test("Providers wait for the release, their runtime config and cluster DNS (the package pull), and nothing more", () => {
    const release = plan.find(RELEASE, "nixplane-crossplane").urn;
    const runtime = plan.find(DRC, "nixplane-crossplane-runtime").urn;
    const coredns = plan.find("aws:eks/addon:Addon", "nixplane-cluster-coredns").urn;
    expect(plan.all(PROVIDER).length).toBeGreaterThan(0);
    for (const p of plan.all(PROVIDER)) expect(p.dependsOn).toEqual([release, runtime, coredns].sort());
  });

  // Healthy, not Installed: the package manager marks a Provider Installed as soon as it has applied the
  // active revision object, before that revision establishes its CRDs (crossplane v2.3.4
  // internal/controller/pkg/manager/reconciler.go, MarkConditions(v1.Active()) after Apply), and the
  // ProviderConfig kinds are CRDs of the family provider's package.
  test("provider configs wait for every provider (whose Healthy condition Pulumi awaits), not for the release alone", () => {
    const providers = plan.all(PROVIDER).map((p) => p.urn).sort();
    expect(plan.find(PROVIDER_CONFIG, "nixplane-crossplane-providerconfig").dependsOn).toEqual(providers);
    expect(plan.find(CLUSTER_PROVIDER_CONFIG, "nixplane-crossplane-clusterproviderconfig").dependsOn).toEqual(providers);
  });
});

describe("Crossplane with IRSA", () => {
  let plan: Plan;
  beforeAll(async () => {
    plan = await planStack("dev", crossplaneOverride({ providerAuth: "irsa" }));
  });

  test("the role trusts the cluster's OIDC provider for every provider revision's service account, audience sts", async () => {
    const issuer = (await output(plan, "oidcProviderUrl")).replace(/^https:\/\//, "");
    expect(issuer).toMatch(/^oidc\.eks\.eu-west-1\.amazonaws\.com\/id\/[0-9A-F]{32}$/);
    expect(doc(plan.find(ROLE, "nixplane-crossplane-providers"), "assumeRolePolicy")).toEqual({
      Version: "2012-10-17",
      Statement: [{
        Effect: "Allow",
        Principal: { Federated: `arn:aws:iam::111122223333:oidc-provider/${issuer}` },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: {
          StringEquals: { [`${issuer}:aud`]: "sts.amazonaws.com" },
          StringLike: { [`${issuer}:sub`]: "system:serviceaccount:crossplane-system:provider-aws-*" },
        },
      }],
    });
  });

  test("no Pod Identity association; the runtime config annotates each revision's service account with the role", async () => {
    expect(plan.all(ASSOCIATION)).toEqual([]);
    const drc = plan.find(DRC, "nixplane-crossplane-runtime");
    const roleArn = await output(plan, "crossplaneProviderRoleArn");
    expect(roleArn).toMatch(/^arn:aws:iam::111122223333:role\/nixplane-crossplane-providers/);
    expect(drc.inputs.spec).toEqual({ serviceAccountTemplate: { metadata: { annotations: { "eks.amazonaws.com/role-arn": roleArn } } } });
    expect(drc.dependsOn).toEqual([plan.find(RELEASE, "nixplane-crossplane").urn]);
  });

  test("both default provider configs use IRSA", () => {
    expect((plan.find(PROVIDER_CONFIG, "nixplane-crossplane-providerconfig").inputs.spec as any).credentials).toEqual({ source: "IRSA" });
    expect((plan.find(CLUSTER_PROVIDER_CONFIG, "nixplane-crossplane-clusterproviderconfig").inputs.spec as any).credentials).toEqual({ source: "IRSA" });
  });
});

describe("Crossplane with a boundary given in config", () => {
  const given = "arn:aws:iam::111122223333:policy/org-workload-boundary";
  let plan: Plan;
  beforeAll(async () => {
    plan = await planStack("dev", crossplaneOverride({ permissionsBoundaryArn: given }));
  });

  test("creates no boundary and conditions role changes on the given one", () => {
    expect(plan.all(BOUNDARY)).toEqual([]);
    const statements = doc(plan.find(ROLE_POLICY, "nixplane-crossplane-providers"), "policy").Statement as any[];
    expect(statements.find((s) => s.Sid === "IamRolesOnlyWithBoundary").Condition).toEqual({ StringEquals: { "iam:PermissionsBoundary": given } });
    expect((plan.find("kubernetes:apiextensions.crossplane.io/v1beta1:EnvironmentConfig", "nixplane-handoff-environment").inputs.data as any).permissionsBoundaryArn).toBe(given);
  });
});

describe("pure parts", () => {
  test("providerService names the family provider of a kind, cluster-scoped or namespaced", () => {
    expect(providerService("buckets.s3.aws.m.upbound.io")).toBe("s3");
    expect(providerService("instances.rds.aws.upbound.io")).toBe("rds");
    expect(providerService("objectstores.platform.nixplane.io")).toBeUndefined();
    expect(providerServices(["roles.iam.aws.m.upbound.io", "buckets.s3.aws.m.upbound.io", "policies.iam.aws.m.upbound.io"])).toEqual(["iam", "s3"]);
  });

  test("the seam reads another gitops tree: a composition composing a KMS key brings provider-aws-kms", () => {
    const kinds = composedManagedResources(path.join(__dirname, "fixtures", "issue5", "gitops"));
    expect(kinds).toEqual(["aliases.kms.aws.m.upbound.io", "keys.kms.aws.m.upbound.io"]);
    expect(providerServices(kinds)).toEqual(["kms"]);
  });

  test("the default activation (every kind of every provider) is switched off in the chart values", () => {
    expect(crossplaneValues(1, DEFAULT_CROSSPLANE_RESOURCES).provider).toEqual({ defaultActivations: [] });
    expect(activationPolicy(["b.s3.aws.m.upbound.io", "a.s3.aws.m.upbound.io"]).spec).toEqual({ activate: ["a.s3.aws.m.upbound.io", "b.s3.aws.m.upbound.io"] });
  });

  test("IRSA annotates the service accounts, Pod Identity pins their name", () => {
    expect(runtimeConfigSpec("irsa", "arn:aws:iam::1:role/x")).toEqual({ serviceAccountTemplate: { metadata: { annotations: { "eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/x" } } } });
    expect(runtimeConfigSpec("podIdentity", "arn:aws:iam::1:role/x")).toEqual({ serviceAccountTemplate: { metadata: { name: "provider-aws" } } });
  });

  test("validation reports every problem at once", () => {
    const args = { providerAuth: "irsa", activations: ["objectstores.platform.nixplane.io"] } as unknown as CrossplaneArgs;
    expect(validateCrossplaneArgs(args).map((p) => p.propertyPath)).toEqual(["oidcProviderArn", "activations"]);
    expect(validateCrossplaneArgs({ ...args, providerAuth: "static" as never, activations: [] }).map((p) => p.propertyPath)).toEqual(["providerAuth", "activations"]);
  });
});
