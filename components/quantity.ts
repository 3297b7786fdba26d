/**
 * Kubernetes resource quantities (`250m`, `1.5`, `512Mi`, `2G`): parsed to plain numbers so config can
 * refuse requests above limits before Kubernetes would refuse the pod. Exponent forms (`1e3`) are not
 * accepted: nobody writes them by hand, and refusing is clearer than guessing.
 */
const SUFFIX: Record<string, number> = {
  n: 1e-9, u: 1e-6, m: 1e-3, "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};
export const QUANTITY = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$/;

/** The quantity's value in base units (cores, bytes); undefined when it is not a quantity. */
export function parseQuantity(q: string): number | undefined {
  const m = QUANTITY.exec(q);
  return m ? Number(m[1]) * SUFFIX[m[2] ?? ""] : undefined;
}
