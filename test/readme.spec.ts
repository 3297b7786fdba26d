import * as fs from "node:fs";
import * as path from "node:path";
import { CONFIG_KEYS, GITOPS_CREDENTIALS_KEY, KUBERNETES_VERSIONS } from "../stacks/config";

const readme = fs.readFileSync(path.resolve(__dirname, "..", "README.md"), "utf8");

describe("the README's configuration reference matches the schema", () => {
  const table = readme.slice(readme.indexOf("## Configuration reference"), readme.indexOf("## The NixOS node image"));
  const documented = [...table.matchAll(/^\| `([A-Za-z]+)` \|/gm)].map((m) => m[1]);

  test("every setting has a row, and every row is a setting", () => {
    expect(documented.sort()).toEqual([...CONFIG_KEYS, GITOPS_CREDENTIALS_KEY].sort()); // gitopsCredentials: read, not declared
  });

  test("the supported Kubernetes versions are the schema's", () => {
    expect(table).toContain(`one of ${KUBERNETES_VERSIONS.join(", ")}`);
  });
});
