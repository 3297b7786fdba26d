import { parseQuantity } from "../components/quantity";

describe("parseQuantity", () => {
  test("cpu in cores: millicores and plain numbers", () => {
    expect(parseQuantity("250m")).toBeCloseTo(0.25);
    expect(parseQuantity("1500m")).toBeCloseTo(1.5);
    expect(parseQuantity("2")).toBe(2);
    expect(parseQuantity("0.5")).toBe(0.5);
  });

  test("memory in bytes: binary and decimal suffixes differ", () => {
    expect(parseQuantity("1Ki")).toBe(1024);
    expect(parseQuantity("512Mi")).toBe(512 * 2 ** 20);
    expect(parseQuantity("1Gi")).toBe(parseQuantity("1024Mi"));
    expect(parseQuantity("1G")).toBe(1e9);
    expect(parseQuantity("1G")! < parseQuantity("1Gi")!).toBe(true);
  });

  test("what Kubernetes would not parse (or nobody writes) is not a quantity", () => {
    for (const q of ["256MB", "1gi", "", "-1", "1.", "Mi", "1e3", "1 Gi"]) expect([q, parseQuantity(q)]).toEqual([q, undefined]);
  });
});
