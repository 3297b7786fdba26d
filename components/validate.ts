import * as pulumi from "@pulumi/pulumi";

export type Problem = pulumi.InputPropertyErrorDetails;

/** Throw every problem at once, so a user fixes their arguments in one round. */
export function throwIfInvalid(component: string, problems: Problem[]): void {
  if (problems.length === 0) return;
  throw new pulumi.InputPropertiesError({
    message: `${component}: ${problems.map((p) => `${p.propertyPath} ${p.reason}`).join("; ")}`,
    errors: problems,
  });
}
