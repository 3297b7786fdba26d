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
