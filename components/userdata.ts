/**
 * Node user data in nodeadm's format, exactly as AL2023 nodes and Karpenter's AL2023 family receive
 * it: a MIME multi-part document whose `application/node.eks.aws` parts each hold a
 * `node.eks.aws/v1alpha1` NodeConfig. The NixOS image runs AWS's own nodeadm to read it.
 */
import YAML from "yaml";

export const NODECONFIG_CONTENT_TYPE = "application/node.eks.aws";
export const MIME_BOUNDARY = "//NIXPLANE//";

export interface Taint {
  key: string;
  value?: string;
  effect: "NoSchedule" | "PreferNoSchedule" | "NoExecute";
}

export interface NodeUserDataArgs {
  clusterName: string;
  apiServerEndpoint: string;
  /** Base64 PEM of the cluster CA, as DescribeCluster returns it. */
  certificateAuthority: string;
  /** The Kubernetes service CIDR (nodeadm infers the cluster DNS address from it). */
  serviceCidr: string;
  labels?: Record<string, string>;
  taints?: Taint[];
}

/** Label every nixplane node carries with its node group's name. */
export const NODE_GROUP_LABEL = "nixplane.io/node-group";

/**
 * A node group's Kubernetes labels: its own plus its name. With a custom AMI EKS does not write the kubelet's
 * bootstrap, so labels and taints reach the node only through the NodeConfig's kubelet flags; the NodeGroup API object
 * carries the same set, so one function feeds both.
 */
export function nodeGroupLabels(groupName: string, labels: Record<string, string> = {}): Record<string, string> {
  return { ...labels, [NODE_GROUP_LABEL]: groupName };
}

/** The NodeConfig object nodeadm reads. */
export function nodeConfig(args: NodeUserDataArgs): Record<string, unknown> {
  const flags: string[] = [];
  const labels = Object.entries(args.labels ?? {}).sort(([a], [b]) => a.localeCompare(b));
  if (labels.length > 0) flags.push(`--node-labels=${labels.map(([k, v]) => `${k}=${v}`).join(",")}`);
  const taints = args.taints ?? [];
  if (taints.length > 0) flags.push(`--register-with-taints=${taints.map((t) => `${t.key}${t.value !== undefined ? `=${t.value}` : ""}:${t.effect}`).join(",")}`);
  return {
    apiVersion: "node.eks.aws/v1alpha1",
    kind: "NodeConfig",
    spec: {
      cluster: {
        name: args.clusterName,
        apiServerEndpoint: args.apiServerEndpoint,
        certificateAuthority: args.certificateAuthority,
        cidr: args.serviceCidr,
      },
      kubelet: flags.length > 0 ? { flags } : {},
    },
  };
}

/** The MIME multi-part user data (plain text; the launch template base64-encodes it). */
export function renderNodeUserData(args: NodeUserDataArgs): string {
  const part = YAML.stringify(nodeConfig(args));
  return [
    "MIME-Version: 1.0",
    `Content-Type: multipart/mixed; boundary="${MIME_BOUNDARY}"`,
    "",
    `--${MIME_BOUNDARY}`,
    `Content-Type: ${NODECONFIG_CONTENT_TYPE}`,
    "",
    "---",
    part.trimEnd(),
    "",
    `--${MIME_BOUNDARY}--`,
    "",
  ].join("\n");
}

/** Split MIME multi-part user data into its parts (content type and body). Used by tests and checks. */
export function parseMimeParts(userData: string): { contentType: string; body: string }[] {
  const boundary = /boundary="?([^"\r\n;]+)"?/.exec(userData)?.[1];
  if (!boundary) throw new Error("user data is not MIME multi-part: no boundary");
  const chunks = userData.split(`--${boundary}`).slice(1);
  const parts: { contentType: string; body: string }[] = [];
  for (const chunk of chunks) {
    if (chunk.startsWith("--")) break;
    const [head, ...rest] = chunk.replace(/^\r?\n/, "").split(/\r?\n\r?\n/);
    const contentType = /Content-Type:\s*([^\s;]+)/i.exec(head)?.[1] ?? "";
    parts.push({ contentType, body: rest.join("\n\n") });
  }
  return parts;
}
