import * as fs from "node:fs";
import * as path from "node:path";
import YAML from "yaml";
import { CONFIG_KEYS, configSchema, GITOPS_CREDENTIALS_KEY, parseConfig } from "../stacks/config";
import { rawStackValues } from "../lib/stackConfig";

const root = path.resolve(__dirname, "..");
const project = YAML.parse(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8"));

describe("Pulumi.yaml declares exactly the schema's settings", () => {
  test("the project keeps its stacks in stacks/ and runs stacks/index.ts", () => {
    expect(project).toMatchObject({ name: "nixplane", stackConfigDir: "stacks", main: "stacks/index.ts", runtime: { name: "nodejs" } });
  });

  test("every schema key is declared with a description, and nothing else is", () => {
    expect(Object.keys(project.config).sort()).toEqual([...CONFIG_KEYS, GITOPS_CREDENTIALS_KEY].sort());
    for (const [k, decl] of Object.entries<any>(project.config)) expect([k, typeof decl.description]).toEqual([k, "string"]);
  });

  test("declared defaults mean the same as the schema's defaults", () => {
    const base = rawStackValues("dev");
    for (const [key, decl] of Object.entries<any>(project.config)) {
      if (!("default" in decl) || key === GITOPS_CREDENTIALS_KEY) continue;
      const withDeclared = parseConfig({ ...base, [key]: decl.default });
      const { [key]: _omit, ...rest } = base;
      const withSchema = parseConfig(rest);
      expect([key, (withDeclared as any)[key]]).toEqual([key, (withSchema as any)[key]]);
    }
  });

  test("required settings have no default in either place", () => {
    const required = CONFIG_KEYS.filter((k) => !configSchema.shape[k].safeParse(undefined).success).sort();
    expect(required).toEqual(["allowedAccountIds", "environment", "gitops", "kubernetesVersion", "naming", "nodeGroups", "region"]);
    for (const k of required) expect(project.config[k].default).toBeUndefined();
  });

  test("the Git credentials are a secret setting", () => {
    expect(project.config[GITOPS_CREDENTIALS_KEY]).toMatchObject({ secret: true, type: "string" });
  });
});
