import fc from "fast-check";
import { cidrContains, intToIp, isCidr, parseCidr, planSubnets } from "../components/cidr";

const vpcArb = fc.record({ a: fc.integer({ min: 0, max: 255 }), b: fc.integer({ min: 0, max: 255 }), prefix: fc.integer({ min: 16, max: 20 }), az: fc.integer({ min: 2, max: 6 }) })
  .map(({ a, b, prefix, az }) => {
    const base = (((a << 24) | (b << 16)) >>> 0) & ((0xffffffff << (32 - prefix)) >>> 0);
    return { cidr: `${intToIp(base >>> 0)}/${prefix}`, az };
  });

function range(cidr: string): [number, number] {
  const { base, prefix } = parseCidr(cidr);
  return [base, base + 2 ** (32 - prefix) - 1];
}

describe("planSubnets (property-based)", () => {
  test("every subnet is a valid CIDR inside the VPC", () => {
    fc.assert(fc.property(vpcArb, ({ cidr, az }) => {
      const p = planSubnets(cidr, az);
      for (const s of [...p.private, ...p.public]) {
        expect(isCidr(s)).toBe(true);
        const [lo, hi] = range(s);
        expect(cidrContains(cidr, intToIp(lo)) && cidrContains(cidr, intToIp(hi))).toBe(true);
      }
    }));
  });

  test("no two subnets overlap, and there is one of each tier per AZ", () => {
    fc.assert(fc.property(vpcArb, ({ cidr, az }) => {
      const p = planSubnets(cidr, az);
      expect([p.private.length, p.public.length]).toEqual([az, az]);
      const ranges = [...p.private, ...p.public].map(range).sort((x, y) => x[0] - y[0]);
      for (let i = 1; i < ranges.length; i++) expect(ranges[i][0]).toBeGreaterThan(ranges[i - 1][1]);
    }));
  });

  test("private subnets are four times the size of public ones", () => {
    fc.assert(fc.property(vpcArb, ({ cidr, az }) => {
      const p = planSubnets(cidr, az);
      expect(parseCidr(p.public[0]).prefix - parseCidr(p.private[0]).prefix).toBe(2);
    }));
  });

  test("a /16 over three AZs gives /19 private and /21 public subnets", () => {
    expect(planSubnets("10.0.0.0/16", 3)).toEqual({
      private: ["10.0.0.0/19", "10.0.32.0/19", "10.0.64.0/19"],
      public: ["10.0.128.0/21", "10.0.136.0/21", "10.0.144.0/21"],
    });
  });
});

describe("isCidr", () => {
  test.each([["10.0.0.0/16", true], ["10.0.0.0/33", false], ["10.0.0.1/16", false], ["256.0.0.0/8", false], ["10.0.0.0", false], ["0.0.0.0/0", true]])("%s → %s", (s, ok) => {
    expect(isCidr(s)).toBe(ok);
  });
});
