/**
 * Kubernetes resource quantities (`250m`, `1.5`, `.5`, `512Mi`, `2G`), compared exactly so config can
 * refuse a request above its limit before Kubernetes refuses the pod. Floating point would call
 * `700m` larger than `0.7`; here each quantity is a fraction of big integers. Exponent forms (`1e3`)
 * are not accepted: nobody writes them by hand, and refusing is clearer than guessing.
 */
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, "": 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
export const QUANTITY = /^\+?(\d+(?:\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$/;

interface Fraction { num: bigint; den: bigint }

/** The quantity in base units (cores, bytes) as num/den; undefined when it is not a quantity. */
export function quantityValue(q: string): Fraction | undefined {
  const m = QUANTITY.exec(q);
  if (!m) return undefined;
  const [whole, frac = ""] = m[1].split(".");
  let num = BigInt(`${whole}${frac}` || "0");
  let den = 10n ** BigInt(frac.length);
  const suffix = m[2] ?? "";
  if (suffix in BINARY) num *= 2n ** BigInt(BINARY[suffix]);
  else if (DECIMAL[suffix] >= 0) num *= 10n ** BigInt(DECIMAL[suffix]);
  else den *= 10n ** BigInt(-DECIMAL[suffix]);
  return { num, den };
}

/** -1, 0 or 1 as `a` is less than, equal to or greater than `b`; both must be quantities. */
export function compareQuantities(a: string, b: string): -1 | 0 | 1 {
  const x = quantityValue(a);
  const y = quantityValue(b);
  if (!x || !y) throw new Error(`compareQuantities: ${x ? b : a} is not a quantity`);
  const l = x.num * y.den;
  const r = y.num * x.den;
  return l < r ? -1 : l > r ? 1 : 0;
}
