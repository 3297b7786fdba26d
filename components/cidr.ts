/** IPv4 CIDR arithmetic: pure functions, property-tested in test/cidr.spec.ts. */

const OCTET = "(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
const CIDR_RE = new RegExp(`^${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}/(\\d|[12]\\d|3[0-2])$`);

export function isCidr(s: string): boolean {
  if (!CIDR_RE.test(s)) return false;
  const { base, prefix } = parseCidr(s);
  // A CIDR whose host bits are set ("10.0.0.1/16") is almost always a typo.
  return (base & hostMask(prefix)) >>> 0 === 0;
}

function hostMask(prefix: number): number {
  return prefix === 32 ? 0 : (0xffffffff >>> prefix) >>> 0;
}

function ipToInt(ip: string): number {
  return ip.split(".").reduce((acc, o) => ((acc << 8) | Number(o)) >>> 0, 0);
}

export function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => (n >>> s) & 0xff).join(".");
}

export function parseCidr(s: string): { base: number; prefix: number } {
  const [ip, p] = s.split("/");
  return { base: ipToInt(ip), prefix: Number(p) };
}

/** Whether `ip` lies inside `cidr`. */
export function cidrContains(cidr: string, ip: string): boolean {
  const { base, prefix } = parseCidr(cidr);
  const mask = (~hostMask(prefix)) >>> 0;
  return ((ipToInt(ip) & mask) >>> 0) === base;
}

/**
 * The subnet plan of a VPC. Private subnets (nodes and pods: the VPC CNI gives every pod a VPC address)
 * split the first half of the VPC evenly across the AZs, rounded up to a power of two; public subnets
 * (load balancers and NAT only) take blocks a quarter that size from the second half. Deterministic:
 * the same CIDR and AZ count always give the same subnets.
 */
export function planSubnets(vpcCidr: string, azCount: number): { private: string[]; public: string[] } {
  const { base, prefix } = parseCidr(vpcCidr);
  const slots = 1 << Math.ceil(Math.log2(azCount));
  const bits = Math.log2(slots);
  // Private: first half of the VPC, one slot per AZ.
  const privatePrefix = prefix + 1 + bits;
  const privateSize = 2 ** (32 - privatePrefix);
  const priv = Array.from({ length: azCount }, (_, i) => `${intToIp(base + i * privateSize)}/${privatePrefix}`);
  // Public: the second half, in slots a quarter the size of a private slot.
  const publicPrefix = privatePrefix + 2;
  const publicSize = 2 ** (32 - publicPrefix);
  const half = base + 2 ** (32 - prefix - 1);
  const pub = Array.from({ length: azCount }, (_, i) => `${intToIp(half + i * publicSize)}/${publicPrefix}`);
  return { private: priv, public: pub };
}
