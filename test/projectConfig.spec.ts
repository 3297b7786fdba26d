import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import YAML from "yaml";
import { CONFIG_KEYS, configSchema, GITOPS_CREDENTIALS_KEY, ignoredProviderKeys, parseConfig } from "../stacks/config";
import { engineConfigErrors } from "../lib/engineConfig";
import { EngineConfigError, listStacks, rawStackValues, readStackConfig, readStackDoc } from "../lib/stackConfig";
import { parseYamlFile } from "../lib/stackFiles";

const root = path.resolve(__dirname, "..");
const project = YAML.parse(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8"));

describe("Pulumi.yaml declares exactly the schema's settings", () => {
  test("the project keeps its stacks in stacks/ and runs stacks/index.ts", () => {
    expect(project).toMatchObject({ name: "nixplane", stackConfigDir: "stacks", main: "stacks/index.ts", runtime: { name: "nodejs" } });
  });

  test("every schema key is declared with a description, and nothing else is", () => {
    expect(Object.keys(project.config).sort()).toEqual([...CONFIG_KEYS].sort());
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

  test("the optional Git credentials are not declared: the engine could neither default nor require them", () => {
    expect(project.config[GITOPS_CREDENTIALS_KEY]).toBeUndefined();
  });
});

/**
 * The engine's project-config rules (pulumi/pulumi sdk/go/common/workspace/config.go: mergeConfig,
 * validateStackConfigValue; project.go: ValidateConfigValue), as lib/engineConfig.ts encodes them.
 */
describe("Pulumi.yaml and every stack file pass the engine's config rules", () => {
  const stacks = listStacks();

  test.each(stacks)("%s: no error the engine would raise", (stack) => {
    expect(engineConfigErrors(project, stack, readStackDoc(stack))).toEqual([]);
  });

  test("a secret key with a default is refused for every stack (the default is written in plain text, then validated)", () => {
    const broken = { ...project, config: { ...project.config, gitopsCredentials: { type: "string", secret: true, default: "" } } };
    for (const stack of stacks) {
      expect(engineConfigErrors(broken, stack, readStackDoc(stack))).toContain(`Stack '${stack}' with configuration key 'gitopsCredentials' must be encrypted as it's secret`);
    }
  });

  test("a secret key set with `secure:` passes; set in plain text it is refused", () => {
    const p = { name: "nixplane", config: { token: { type: "string", secret: true } } };
    expect(engineConfigErrors(p, "dev", { "nixplane:token": { secure: "v1:abc" } })).toEqual([]);
    expect(engineConfigErrors(p, "dev", { "nixplane:token": "plain" })).toEqual(["Stack 'dev' with configuration key 'token' must be encrypted as it's secret"]);
  });

  test("a declared key without a default is required", () => {
    const p = { name: "nixplane", config: { a: { type: "string" }, b: { type: "string" }, c: { type: "string", default: "x" } } };
    expect(engineConfigErrors(p, "dev", {})).toEqual(["Stack 'dev' is missing configuration values 'a' and 'b'"]);
    expect(engineConfigErrors(p, "dev", { "nixplane:a": "1" })).toEqual(["Stack 'dev' is missing configuration value 'b'"]);
  });

  test("declared types are checked as the engine checks them", () => {
    const p = { name: "nixplane", config: { n: { type: "integer" }, b: { type: "boolean" }, l: { type: "array", items: { type: "string" } } } };
    expect(engineConfigErrors(p, "dev", { "nixplane:n": 30, "nixplane:b": "true", "nixplane:l": ["x"] })).toEqual([]);
    expect(engineConfigErrors(p, "dev", { "nixplane:n": "thirty", "nixplane:b": "yes", "nixplane:l": [1] })).toEqual([
      "Stack 'dev' with configuration key 'b' must be of type 'boolean'",
      "Stack 'dev' with configuration key 'l' must be of type 'array<string>'",
      "Stack 'dev' with configuration key 'n' must be of type 'integer'",
    ]);
  });

  test("the offline plan refuses a stack the engine would refuse", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nixplane-engine-"));
    fs.mkdirSync(path.join(dir, "stacks"));
    const broken = { ...project, config: { ...project.config, gitopsCredentials: { type: "string", secret: true, default: "" } } };
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), YAML.stringify(broken));
    fs.copyFileSync(path.join(root, "stacks", "Pulumi.dev.yaml"), path.join(dir, "stacks", "Pulumi.dev.yaml"));
    expect(() => readStackConfig("dev", dir)).toThrow(EngineConfigError);
    expect(() => readStackConfig("dev", dir)).toThrow("Stack 'dev' with configuration key 'gitopsCredentials' must be encrypted as it's secret");
  });
});

describe("provider keys nixplane ignores", () => {
  test("aws:region and kubernetes:* in a stack file are warned about, naming the setting that counts", () => {
    expect(ignoredProviderKeys(["nixplane:region", "aws:region", "kubernetes:context", "pulumi:tags"])).toEqual([
      "aws:region is ignored: nixplane builds its providers from nixplane:* settings (the region is nixplane:region, the account guard nixplane:allowedAccountIds)",
      "kubernetes:context is ignored: nixplane builds its providers from nixplane:* settings (the region is nixplane:region, the account guard nixplane:allowedAccountIds)",
    ]);
  });
});

describe("stack and project files, parsed once per text (lib/stackFiles.ts parseYamlFile)", () => {
  test("each caller gets its own copy, and an edited file is parsed afresh", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nixplane-parsed-"));
    try {
      const file = path.join(dir, "Pulumi.x.yaml");
      fs.writeFileSync(file, "config:\n  nixplane:region: eu-west-1\n");
      const first = parseYamlFile(file) as { config: Record<string, string> };
      first.config["nixplane:region"] = "mutated";
      expect(parseYamlFile(file)).toEqual({ config: { "nixplane:region": "eu-west-1" } });
      fs.writeFileSync(file, "config:\n  nixplane:region: us-east-2\n");
      expect(parseYamlFile(file)).toEqual({ config: { "nixplane:region": "us-east-2" } });
      // A text that does not parse throws yaml's own error, every time: nothing is kept for it.
      fs.writeFileSync(file, "config: [unclosed\n");
      for (let i = 0; i < 2; i++) expect(() => parseYamlFile(file)).toThrow(expect.objectContaining({ name: "YAMLParseError", message: expect.stringContaining("Flow sequence in block collection must be sufficiently indented") }));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
