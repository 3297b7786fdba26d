/**
 * Test oracle: the part of IAM's identity-policy evaluation the provider policies rely on, so the tests
 * can state what the providers may and may not do as requests rather than as statement shapes.
 * Modelled: explicit Deny wins, then any Allow, else implicit deny; `*` and `?` wildcards in actions
 * (case-insensitive) and resources, NotResource (the statement applies to every resource it does not list); Condition
 * operators Null ("true": the key is absent, "false": present), StringEquals, StringLike, ArnLike, Bool, where a key
 * absent from the request fails the condition, and their negations StringNotEquals, StringNotLike,
 * ArnNotLike, which hold when no value matches or the key is absent (IAM's rules without ...IfExists). Anything else (NotAction,
 * other operators, ...IfExists, a condition key not in CONDITION_KEYS) throws, so a policy this oracle cannot judge never
 * passes silently.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
 */

export interface IamRequest {
  action: string;
  resource: string;
  /** Condition keys present in the request context, e.g. `aws:RequestTag/team`. */
  context?: Record<string, string>;
}

export type Decision = "Allow" | "ExplicitDeny" | "ImplicitDeny";

interface Statement {
  Sid?: string;
  Effect: "Allow" | "Deny";
  Action: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
  [other: string]: unknown;
}

const list = (v: string | string[]) => (Array.isArray(v) ? v : [v]);

/** Compiled once per pattern: the oracle judges thousands of requests against the same policies. */
const patterns = new Map<string, RegExp>();
function wildcard(pattern: string, value: string, ignoreCase: boolean): boolean {
  const key = `${ignoreCase ? "i" : "s"}${pattern}`;
  let compiled = patterns.get(key);
  if (!compiled) {
    const re = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
    patterns.set(key, (compiled = new RegExp(`^${re}$`, ignoreCase ? "i" : "")));
  }
  return compiled.test(value);
}

const OPERATORS: Record<string, (pattern: string, value: string) => boolean> = {
  StringEquals: (p, v) => p === v,
  StringLike: (p, v) => wildcard(p, v, false),
  ArnLike: (p, v) => wildcard(p, v, false),
  Bool: (p, v) => p.toLowerCase() === v.toLowerCase(),
};
/** Negated operators hold when the value matches none of the patterns, and when the key is absent. */
const NEGATED: Record<string, string> = { StringNotEquals: "StringEquals", StringNotLike: "StringLike", ArnNotLike: "ArnLike" };

const SAR = "https://docs.aws.amazon.com/service-authorization/latest/reference";
/**
 * The condition keys the oracle models: a key names a value in the request context, which the tests supply, so a
 * key is listed here only with the page that says which actions' requests carry it. A key the policy names but no
 * request of that action carries makes a positive operator fail and a negated one hold: a typo in a key is no
 * error in IAM, so it must be one here.
 */
export const CONDITION_KEYS: { key: RegExp; source: string }[] = [
  { key: /^aws:(RequestTag|ResourceTag|PrincipalTag)\/.+$/i, source: "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html (global keys); per action: the service's page" },
  { key: /^aws:(PrincipalArn|SourceArn|SourceAccount|SecureTransport)$/i, source: "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html" },
  { key: /^ec2:(CreateAction|Vpc|Subnet|AuthorizedService)$/i, source: `${SAR}/list_amazonec2.html` },
  { key: /^elasticloadbalancing:CreateAction$/i, source: `${SAR}/list_elasticloadbalancingv2.html` },
  { key: /^iam:(AWSServiceName|PermissionsBoundary|PolicyARN|PassedToService)$/i, source: `${SAR}/list_awsidentityandaccessmanagementiam.html` },
  { key: /^kms:(GrantIsForAWSResource|ViaService)$/i, source: `${SAR}/list_awskeymanagementservice.html` },
  { key: /^s3:(x-amz-server-side-encryption|x-amz-server-side-encryption-aws-kms-key-id)$/i, source: `${SAR}/list_amazons3.html` },
  { key: /^secretsmanager:ResourceTag\/.+$/i, source: `${SAR}/list_awssecretsmanager.html` },
  // Web identity federation: the OIDC provider's claims, `<issuer>:sub` and `<issuer>:aud`.
  { key: /^[a-z0-9.-]+\.[a-z]+(\/[A-Za-z0-9/]+)?:(sub|aud)$/i, source: "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#condition-keys-wif" },
];

function modelledKey(key: string): void {
  if (!CONDITION_KEYS.some((k) => k.key.test(key))) throw new Error(`iam oracle: condition key ${key} is not modelled`);
}

function conditionHolds(condition: Statement["Condition"], context: Record<string, string>): boolean {
  return Object.entries(condition ?? {}).every(([operator, keys]) => {
    if (operator === "Null")
      return Object.entries(keys).every(([key, v]) => {
        modelledKey(key);
        const present = Object.keys(context).some((k) => k.toLowerCase() === key.toLowerCase());
        return String(v).toLowerCase() === "true" ? !present : present;
      });
    const negated = operator in NEGATED;
    const test = OPERATORS[negated ? NEGATED[operator] : operator];
    if (!test) throw new Error(`iam oracle: condition operator ${operator} is not modelled`);
    // Keys are case-insensitive in IAM; every key must hold, any of its values may match.
    return Object.entries(keys).every(([key, values]) => {
      modelledKey(key);
      const present = Object.entries(context).find(([k]) => k.toLowerCase() === key.toLowerCase());
      const matched = present !== undefined && list(values).some((p) => test(p, present[1]));
      return negated ? !matched : matched;
    });
  });
}

function matches(s: Statement, req: IamRequest): boolean {
  for (const k of Object.keys(s)) if (!["Sid", "Effect", "Action", "Resource", "NotResource", "Condition"].includes(k)) throw new Error(`iam oracle: statement element ${k} is not modelled`);
  if ((s.Resource === undefined) === (s.NotResource === undefined)) throw new Error("iam oracle: a statement needs exactly one of Resource and NotResource");
  const resourceMatches = s.Resource !== undefined
    ? list(s.Resource).some((r) => wildcard(r, req.resource, false))
    : !list(s.NotResource!).some((r) => wildcard(r, req.resource, false));
  return (
    list(s.Action).some((a) => wildcard(a, req.action, true)) &&
    resourceMatches &&
    conditionHolds(s.Condition, req.context ?? {})
  );
}

/** The decision of one identity policy document (a JSON string, as the program renders it) for `req`. */
export function evaluate(policy: string, req: IamRequest): Decision {
  const statements = list(JSON.parse(policy).Statement) as unknown as Statement[];
  const hits = statements.filter((s) => matches(s, req));
  if (hits.some((s) => s.Effect === "Deny")) return "ExplicitDeny";
  return hits.some((s) => s.Effect === "Allow") ? "Allow" : "ImplicitDeny";
}

/**
 * An identity policy under service control policies: an SCP's explicit Deny wins over any Allow (the
 * SCPs are assumed to sit beside AWS's default FullAWSAccess, so they only deny).
 */
export function evaluateUnder(scps: string[], policy: string, req: IamRequest): Decision {
  return scps.some((scp) => evaluate(scp, req) === "ExplicitDeny") ? "ExplicitDeny" : evaluate(policy, req);
}

/** Every request IAM authorizes for one API call must be allowed (e.g. CreateRole with tags also needs TagRole). */
export function allowsAll(policy: string, reqs: IamRequest[]): boolean {
  return reqs.every((r) => evaluate(policy, r) === "Allow");
}
