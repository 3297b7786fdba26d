/**
 * What a stack's config may choose from, shared by the config schema (stacks/config.ts) and the
 * components that act on the choice. No Pulumi here: tools that only read stack files (`npm run dr`)
 * validate them without loading the program's components.
 */

/** EKS versions nixplane pins add-ons and node images for (components/cluster.ts). */
export const KUBERNETES_VERSIONS = ["1.31", "1.32", "1.33"] as const;
export type KubernetesVersion = (typeof KUBERNETES_VERSIONS)[number];

/** NAT gateways: one for the VPC, or one per AZ (components/network.ts). */
export const NAT_MODES = ["single", "perAz"] as const;
export type NatMode = (typeof NAT_MODES)[number];

/** Where node images come from: the image lock, or an AMI named in config (components/nodeImage.ts). */
export const NODE_IMAGE_MODES = ["lock", "ami"] as const;
export type NodeImageMode = (typeof NODE_IMAGE_MODES)[number];

/**
 * Why `url` cannot be Argo CD's external URL, or undefined when it can: https, an origin (Argo CD under
 * a path needs server.rootpath and a matching ingress, which nixplane does not set up), no credentials,
 * query or fragment. The config schema and the component share this one check.
 */
export function argocdUrlProblem(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return "is not a URL (https://argocd.example.com)";
  }
  if (u.protocol !== "https:") return "must use https (https://argocd.example.com)";
  if (u.username || u.password || u.search || u.hash || url.endsWith("/") || u.pathname !== "/")
    return "must be an origin only: https://host[:port], no path, trailing slash, credentials, query or fragment";
  return undefined;
}

/** Crossplane's own pod resources unless the stack sets them (components/crossplane.ts). */
export const DEFAULT_CROSSPLANE_RESOURCES = {
  requests: { cpu: "100m", memory: "256Mi" },
  limits: { cpu: "1", memory: "1Gi" },
};
