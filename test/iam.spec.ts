import { GLOBAL_CLUSTER_PROMOTING_ACTIONS, permissionsBoundaryPolicy, providerPermissionsPolicy, REPLICATION_ROLE_SUFFIX } from "../components/iamPolicies";
import { allowsAll, evaluate, evaluateUnder } from "./iam";

const policy = (...Statement: object[]) => JSON.stringify({ Version: "2012-10-17", Statement });
const RES = "arn:aws:iam::1:role/app/x";

describe("the IAM oracle the policy tests rely on", () => {
  test("nothing allowed is an implicit deny; an Allow matches actions case-insensitively with wildcards", () => {
    expect(evaluate(policy(), { action: "iam:GetRole", resource: RES })).toBe("ImplicitDeny");
    const p = policy({ Effect: "Allow", Action: ["iam:Get*", "s3:?utObject"], Resource: "*" });
    expect(evaluate(p, { action: "IAM:getrole", resource: RES })).toBe("Allow");
    expect(evaluate(p, { action: "s3:PutObject", resource: RES })).toBe("Allow");
    expect(evaluate(p, { action: "s3:DeleteObject", resource: RES })).toBe("ImplicitDeny");
  });

  test("resources match by wildcard, case-sensitively, and a path is part of the ARN", () => {
    const p = policy({ Effect: "Allow", Action: "iam:TagRole", Resource: ["arn:aws:iam::1:role/app/*"] });
    expect(evaluate(p, { action: "iam:TagRole", resource: RES })).toBe("Allow");
    expect(evaluate(p, { action: "iam:TagRole", resource: "arn:aws:iam::1:role/x" })).toBe("ImplicitDeny");
    expect(evaluate(p, { action: "iam:TagRole", resource: "arn:aws:iam::1:role/APP/x" })).toBe("ImplicitDeny");
  });

  test("an explicit Deny beats any Allow", () => {
    const p = policy({ Effect: "Allow", Action: "iam:*", Resource: "*" }, { Effect: "Deny", Action: "iam:DeleteRole", Resource: RES });
    expect(evaluate(p, { action: "iam:DeleteRole", resource: RES })).toBe("ExplicitDeny");
    expect(evaluate(p, { action: "iam:UpdateRole", resource: RES })).toBe("Allow");
  });

  test("a condition key the request lacks fails the condition; keys compare case-insensitively, values not", () => {
    const p = policy({ Effect: "Allow", Action: "iam:TagRole", Resource: "*", Condition: { StringEquals: { "aws:RequestTag/team": "a" }, StringLike: { "aws:PrincipalTag/env": "prod-*" } } });
    expect(evaluate(p, { action: "iam:TagRole", resource: RES, context: { "aws:requesttag/team": "a", "aws:PrincipalTag/env": "prod-eu" } })).toBe("Allow");
    expect(evaluate(p, { action: "iam:TagRole", resource: RES, context: { "aws:RequestTag/team": "A", "aws:PrincipalTag/env": "prod-eu" } })).toBe("ImplicitDeny");
    expect(evaluate(p, { action: "iam:TagRole", resource: RES, context: { "aws:RequestTag/team": "a" } })).toBe("ImplicitDeny");
  });

  test("a negated operator holds when no value matches, and when the key is absent", () => {
    const p = policy({ Effect: "Deny", Action: "iam:*", Resource: "*", Condition: { ArnNotLike: { "aws:PrincipalArn": ["arn:aws:iam::1:role/ci", "arn:aws:iam::1:role/ops-*"] } } });
    expect(evaluate(p, { action: "iam:CreateRole", resource: RES, context: { "aws:PrincipalArn": "arn:aws:iam::1:role/ci" } })).toBe("ImplicitDeny");
    expect(evaluate(p, { action: "iam:CreateRole", resource: RES, context: { "aws:PrincipalArn": "arn:aws:iam::1:role/ops-admin" } })).toBe("ImplicitDeny");
    expect(evaluate(p, { action: "iam:CreateRole", resource: RES, context: { "aws:PrincipalArn": "arn:aws:iam::1:role/dev" } })).toBe("ExplicitDeny");
    expect(evaluate(p, { action: "iam:CreateRole", resource: RES })).toBe("ExplicitDeny");
  });

  test("a service control policy's Deny wins over the identity policy's Allow; without one the identity policy decides", () => {
    const allow = policy({ Effect: "Allow", Action: "iam:CreateRole", Resource: "*" });
    const scp = policy({ Effect: "Deny", Action: "iam:CreateRole", Resource: "arn:aws:iam::1:role/app/*" });
    expect(evaluateUnder([scp], allow, { action: "iam:CreateRole", resource: RES })).toBe("ExplicitDeny");
    expect(evaluateUnder([scp], allow, { action: "iam:CreateRole", resource: "arn:aws:iam::1:role/y" })).toBe("Allow");
    expect(evaluateUnder([scp], policy(), { action: "iam:CreateRole", resource: "arn:aws:iam::1:role/y" })).toBe("ImplicitDeny");
  });

  test("Bool compares case-insensitively and needs the key", () => {
    const p = policy({ Effect: "Allow", Action: "kms:CreateGrant", Resource: "*", Condition: { Bool: { "kms:GrantIsForAWSResource": "true" } } });
    expect(evaluate(p, { action: "kms:CreateGrant", resource: RES, context: { "kms:GrantIsForAWSResource": "True" } })).toBe("Allow");
    expect(evaluate(p, { action: "kms:CreateGrant", resource: RES, context: { "kms:GrantIsForAWSResource": "false" } })).toBe("ImplicitDeny");
    expect(evaluate(p, { action: "kms:CreateGrant", resource: RES })).toBe("ImplicitDeny");
  });

  test("Null tests only whether the key is in the request: \"true\" when absent, \"false\" when present", () => {
    const p = policy({ Effect: "Allow", Action: "ec2:CreateTags", Resource: "*", Condition: { Null: { "aws:RequestTag/owner": "true", "aws:ResourceTag/owner": "false" } } });
    expect(evaluate(p, { action: "ec2:CreateTags", resource: RES, context: { "aws:ResourceTag/owner": "x" } })).toBe("Allow");
    expect(evaluate(p, { action: "ec2:CreateTags", resource: RES, context: { "aws:ResourceTag/owner": "x", "aws:RequestTag/owner": "y" } })).toBe("ImplicitDeny");
    expect(evaluate(p, { action: "ec2:CreateTags", resource: RES })).toBe("ImplicitDeny");
  });

  test("allowsAll needs every authorization of a call", () => {
    const p = policy({ Effect: "Allow", Action: "iam:CreateRole", Resource: "*" });
    expect(allowsAll(p, [{ action: "iam:CreateRole", resource: RES }])).toBe(true);
    expect(allowsAll(p, [{ action: "iam:CreateRole", resource: RES }, { action: "iam:TagRole", resource: RES }])).toBe(false);
  });

  test("NotResource applies a statement to every resource it does not list", () => {
    const p = policy({ Effect: "Deny", Action: "iam:AttachRolePolicy", NotResource: ["arn:aws:iam::*:role/app/*"] });
    expect(evaluate(p, { action: "iam:AttachRolePolicy", resource: "arn:aws:iam::1:role/admin" })).toBe("ExplicitDeny");
    expect(evaluate(p, { action: "iam:AttachRolePolicy", resource: RES })).toBe("ImplicitDeny");
    expect(() => evaluate(policy({ Effect: "Deny", Action: "*", Resource: "*", NotResource: "x" }), { action: "s3:GetObject", resource: RES })).toThrow("exactly one of Resource and NotResource");
  });

  test("refuses what it does not model instead of guessing", () => {
    expect(() => evaluate(policy({ Effect: "Allow", Action: "*", Resource: "*", Condition: { IpAddress: { "aws:SourceIp": "10.0.0.0/8" } } }), { action: "s3:GetObject", resource: RES }))
      .toThrow("iam oracle: condition operator IpAddress is not modelled");
    expect(() => evaluate(policy({ Effect: "Allow", NotAction: "iam:*", Resource: "*" }), { action: "s3:GetObject", resource: RES }))
      .toThrow("iam oracle: statement element NotAction is not modelled");
  });
});

// ------------------------------------------------------------------------------------------------
// Replication to dr.region (issue 15): what the providers and the replication role may do, as requests.

describe("replication to the DR region, request by request", () => {
  const ACCOUNT = "777788889999";
  const inputs = {
    boundaryArn: `arn:aws:iam::${ACCOUNT}:policy/nixplane-boundary`, kmsKeyArn: `arn:aws:kms:eu-west-1:${ACCOUNT}:key/primary`, accountId: ACCOUNT,
    clusterName: "nixplane-prod", namingPrefix: "acme-prod", environment: "prod",
  };
  const drKmsKeyArn = `arn:aws:kms:eu-central-1:${ACCOUNT}:key/dr`;
  const providers = providerPermissionsPolicy({ ...inputs, drKmsKeyArn });
  const boundary = permissionsBoundaryPolicy({ kmsKeyArn: inputs.kmsKeyArn, namingPrefix: "acme-prod", drKmsKeyArn });
  const bucket = (b: string) => `arn:aws:s3:::${b}`;
  const role = (name: string) => `arn:aws:iam::${ACCOUNT}:role/nixplane/${name}`;
  const globalCluster = (name: string) => `arn:aws:rds::${ACCOUNT}:global-cluster:${name}`;
  const cluster = (region: string, name: string) => `arn:aws:rds:${region}:${ACCOUNT}:cluster:${name}`;
  const creating = { "aws:RequestTag/nixplane:environment": "prod", "aws:RequestTag/managed-by": "crossplane" };
  const composed = { "aws:ResourceTag/nixplane:environment": "prod", "aws:ResourceTag/managed-by": "crossplane" };
  const crr = role(`acme-prod-team-checkout-assets${REPLICATION_ROLE_SUFFIX}`);

  test("the providers may do what the ObjectStore replication composes: the -dr bucket, the replication rule, passing the -crr role to S3", () => {
    for (const action of ["s3:CreateBucket", "s3:PutBucketVersioning", "s3:PutEncryptionConfiguration", "s3:PutBucketPublicAccessBlock", "s3:PutBucketOwnershipControls"]) {
      expect([action, evaluate(providers, { action, resource: bucket("acme-prod-team-checkout-assets-dr") })]).toEqual([action, "Allow"]);
    }
    expect(evaluate(providers, { action: "s3:PutReplicationConfiguration", resource: bucket("acme-prod-team-checkout-assets") })).toBe("Allow");
    expect(evaluate(providers, { action: "iam:PassRole", resource: crr, context: { "iam:PassedToService": "s3.amazonaws.com" } })).toBe("Allow");
    expect(evaluate(providers, { action: "kms:CreateGrant", resource: drKmsKeyArn, context: { "kms:GrantIsForAWSResource": "true" } })).toBe("Allow");
    expect(evaluate(providers, { action: "kms:DescribeKey", resource: drKmsKeyArn })).toBe("Allow");
  });

  test("iam:PassRole of a replication role to any service but S3 is denied, and so is passing any other role to S3", () => {
    for (const service of ["lambda.amazonaws.com", "ec2.amazonaws.com", "batchoperations.s3.amazonaws.com"]) {
      expect([service, evaluate(providers, { action: "iam:PassRole", resource: crr, context: { "iam:PassedToService": service } })]).toEqual([service, "ImplicitDeny"]);
    }
    for (const r of [role("acme-prod-team-checkout-api"), role("acme-staging-team-checkout-assets-crr"), `arn:aws:iam::${ACCOUNT}:role/admin-crr`]) {
      expect([r, evaluate(providers, { action: "iam:PassRole", resource: r, context: { "iam:PassedToService": "s3.amazonaws.com" } })]).toEqual([r, "ImplicitDeny"]);
    }
  });

  test("replication into a bucket outside the prefix is denied: the providers cannot configure it, the replication role cannot write it", () => {
    expect(evaluate(providers, { action: "s3:PutReplicationConfiguration", resource: bucket("acme-pulumi-state") })).toBe("ImplicitDeny");
    expect(evaluate(providers, { action: "s3:PutReplicationConfiguration", resource: bucket("acme-staging-team-checkout-assets") })).toBe("ImplicitDeny");
    // The boundary every composed role carries, the replication role included.
    expect(evaluate(boundary, { action: "s3:ReplicateObject", resource: `${bucket("acme-prod-team-checkout-assets-dr")}/k` })).toBe("Allow");
    expect(evaluate(boundary, { action: "s3:GetObjectVersionForReplication", resource: `${bucket("acme-prod-team-checkout-assets")}/k` })).toBe("Allow");
    for (const other of ["attacker-owned-bucket", "acme-staging-team-checkout-assets-dr"]) {
      expect([other, evaluate(boundary, { action: "s3:ReplicateObject", resource: `${bucket(other)}/k` })]).toEqual([other, "ImplicitDeny"]);
    }
    expect(evaluate(boundary, { action: "kms:Encrypt", resource: drKmsKeyArn })).toBe("Allow");
    // Still never bucket configuration for a Git-created role.
    expect(evaluate(boundary, { action: "s3:PutReplicationConfiguration", resource: bucket("acme-prod-team-checkout-assets") })).toBe("ExplicitDeny");
  });

  test("the providers may create this environment's global clusters from its own tagged clusters, and the tagged secondary in the DR region", () => {
    expect(evaluate(providers, { action: "rds:CreateGlobalCluster", resource: globalCluster("acme-prod-team-checkout-orders") })).toBe("Allow");
    expect(evaluate(providers, { action: "rds:CreateGlobalCluster", resource: cluster("eu-west-1", "acme-prod-team-checkout-orders"), context: composed })).toBe("Allow");
    expect(evaluate(providers, { action: "rds:ModifyGlobalCluster", resource: globalCluster("acme-prod-team-checkout-orders") })).toBe("Allow");
    expect(evaluate(providers, { action: "rds:CreateDBCluster", resource: cluster("eu-central-1", "acme-prod-team-checkout-orders-dr"), context: creating })).toBe("Allow");
    expect(evaluate(providers, { action: "rds:AddTagsToResource", resource: cluster("eu-central-1", "acme-prod-team-checkout-orders-dr"), context: creating })).toBe("Allow");
  });

  test("a global cluster of another name, or from a cluster without this environment's tags, is denied", () => {
    expect(evaluate(providers, { action: "rds:CreateGlobalCluster", resource: globalCluster("acme-staging-team-checkout-orders") })).toBe("ImplicitDeny");
    expect(evaluate(providers, { action: "rds:CreateGlobalCluster", resource: cluster("eu-west-1", "acme-prod-team-checkout-orders") })).toBe("ImplicitDeny");
    expect(evaluate(providers, { action: "rds:CreateGlobalCluster", resource: cluster("eu-west-1", "acme-prod-team-checkout-orders"), context: { "aws:ResourceTag/nixplane:environment": "staging", "aws:ResourceTag/managed-by": "crossplane" } })).toBe("ImplicitDeny");
  });

  test("deleting, detaching or promoting a global cluster's member is denied to the providers outright: failover is a person's step", () => {
    expect(GLOBAL_CLUSTER_PROMOTING_ACTIONS).toEqual(expect.arrayContaining(["rds:RemoveFromGlobalCluster", "rds:FailoverGlobalCluster", "rds:SwitchoverGlobalCluster"]));
    for (const action of ["rds:DeleteGlobalCluster", "rds:RemoveFromGlobalCluster", "rds:FailoverGlobalCluster", "rds:SwitchoverGlobalCluster"]) {
      expect([action, evaluate(providers, { action, resource: globalCluster("acme-prod-team-checkout-orders"), context: composed })]).toEqual([action, "ExplicitDeny"]);
    }
    expect(evaluate(providers, { action: "rds:PromoteReadReplicaDBCluster", resource: cluster("eu-central-1", "acme-prod-team-checkout-orders-dr"), context: composed })).toBe("ExplicitDeny");
    expect(evaluate(providers, { action: "rds:DeleteDBCluster", resource: cluster("eu-central-1", "acme-prod-team-checkout-orders-dr"), context: composed })).toBe("ExplicitDeny");
  });

  test("without dr.region none of it is granted: no PassRole to S3, no global clusters, no DR key", () => {
    const plain = providerPermissionsPolicy(inputs);
    expect(evaluate(plain, { action: "iam:PassRole", resource: crr, context: { "iam:PassedToService": "s3.amazonaws.com" } })).toBe("ImplicitDeny");
    expect(evaluate(plain, { action: "rds:CreateGlobalCluster", resource: globalCluster("acme-prod-team-checkout-orders") })).toBe("ImplicitDeny");
    expect(evaluate(plain, { action: "kms:Encrypt", resource: drKmsKeyArn })).toBe("ImplicitDeny");
  });
});
