import { compareQuantities, quantityValue } from "../components/quantity";

const value = (q: string) => {
  const v = quantityValue(q);
  return v && Number(v.num) / Number(v.den);
};

describe("quantityValue", () => {
  test("cpu in cores: millicores, plain and decimal numbers", () => {
    expect(value("250m")).toBe(0.25);
    expect(value("2")).toBe(2);
    expect(value("0.5")).toBe(0.5);
    expect(value(".5")).toBe(0.5);
    expect(value("1.")).toBe(1);
    expect(value("+1")).toBe(1);
  });

  test("memory in bytes: binary and decimal suffixes differ", () => {
    expect(value("1Ki")).toBe(1024);
    expect(value("512Mi")).toBe(512 * 2 ** 20);
    expect(value("1.5Gi")).toBe(1.5 * 2 ** 30);
    expect(value("1G")).toBe(1e9);
  });

  test("what Kubernetes would not parse (or nobody writes) is not a quantity", () => {
    for (const q of ["256MB", "1gi", "", "-1", ".", "Mi", "1e3", "1 Gi"]) expect([q, quantityValue(q)]).toEqual([q, undefined]);
  });
});

describe("compareQuantities", () => {
  test("is exact where floating point is not: 700m is 0.7, 2300m is 2.3, 1001M is 1.001G", () => {
    expect(compareQuantities("700m", "0.7")).toBe(0);
    expect(compareQuantities("2300m", "2.3")).toBe(0);
    expect(compareQuantities("1001M", "1.001G")).toBe(0);
  });

  test("orders across suffixes", () => {
    expect(compareQuantities("1G", "1Gi")).toBe(-1);
    expect(compareQuantities("1Gi", "1024Mi")).toBe(0);
    expect(compareQuantities("1500m", "1")).toBe(1);
    expect(compareQuantities("100m", "1")).toBe(-1);
  });

  test("refuses to compare what is not a quantity", () => {
    expect(() => compareQuantities("1GB", "1Gi")).toThrow("compareQuantities: 1GB is not a quantity");
  });
});
