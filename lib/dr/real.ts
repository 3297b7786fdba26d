/**
 * The DR seams over the real tools: the Pulumi Automation API (which drives the `pulumi` CLI), kubectl
 * and the AWS CLI. Each failure becomes one line naming the tool and what it said.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { PulumiCommand } from "@pulumi/pulumi/automation";
import type { ManagedObject } from "./classes";
import type { KubeClient, ObjectStore, Rds, StackOps } from "./interfaces";

export function run(cmd: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT") return reject(new Error(`${cmd} is not installed or not on PATH`));
      const said = (stderr || err.message).trim().split("\n").filter(Boolean).pop() ?? "";
      reject(new Error(`${cmd} ${args.slice(0, 2).join(" ")} failed: ${said}`));
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** Whether `cmd` is an executable file in one of PATH's folders: where execvp, and so the Automation API's `pulumi`, finds it. */
export function onPath(cmd: string, pathVar = process.env.PATH ?? ""): boolean {
  return pathVar.split(path.delimiter).some((dir) => {
    const file = path.join(dir || ".", cmd);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return fs.statSync(file).isFile();
    } catch {
      return false;
    }
  });
}

/**
 * The stack through the Automation API. No Pulumi CLI gives one clear line before the Automation API
 * (all of @pulumi/pulumi, a second of CPU) is loaded; a CLI it refuses (too old) gives its own reason.
 */
export async function automationStack(stackName: string, workDir: string): Promise<StackOps> {
  // PulumiCommand.get() runs `pulumi version` from PATH (automation/cmd.ts).
  if (!onPath("pulumi")) throw new Error("the Pulumi CLI is not installed or not on PATH (https://www.pulumi.com/docs/install/)");
  // Loaded here, not imported: only the commands that drive a stack need the Automation API.
  const { LocalWorkspace, PulumiCommand } = require("@pulumi/pulumi/automation") as typeof import("@pulumi/pulumi/automation");
  let pulumiCommand: PulumiCommand;
  try {
    pulumiCommand = await PulumiCommand.get();
  } catch (err) {
    throw new Error(`the Pulumi CLI on PATH cannot drive this program: ${(err instanceof Error ? err.message : String(err)).split("\n")[0]}`);
  }
  const stack = await LocalWorkspace.createOrSelectStack({ stackName, workDir }, { pulumiCommand });
  const onOutput = (s: string) => process.stderr.write(s);
  return {
    name: stackName,
    setConfig: (key, value) => stack.setConfig(key, { value }, key.split(":")[1]?.includes(".")),
    getConfig: async (key) => (await stack.getAllConfig())[key]?.value,
    refresh: async () => { await stack.refresh({ onOutput }); },
    up: async (opts) => ({ changes: ((await stack.up({ ...opts, onOutput })).summary.resourceChanges ?? {}) as Record<string, number> }),
    outputs: async () => Object.fromEntries(Object.entries(await stack.outputs()).map(([k, v]) => [k, v.value])),
    destroy: async () => { await stack.destroy({ onOutput }); },
    exportState: async () => (await stack.exportStack()).deployment,
    importState: (deployment) => stack.importStack({ version: 3, deployment }),
  };
}

/** kubectl with the stack's kubeconfig (written 0600 to a temporary file). */
export function kubectlClient(kubeconfig: string): KubeClient {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nixplane-dr-"));
  const file = path.join(dir, "kubeconfig");
  fs.writeFileSync(file, typeof kubeconfig === "string" ? kubeconfig : JSON.stringify(kubeconfig), { mode: 0o600 });
  const k = (...args: string[]) => run("kubectl", ["--kubeconfig", file, ...args]);
  return {
    list: async (kind) => (JSON.parse(await k("get", kind, "--all-namespaces", "-o", "json")).items ?? []) as ManagedObject[],
    get: async (kind, namespace, name) => {
      try {
        return JSON.parse(await k("get", kind, name, ...(namespace ? ["-n", namespace] : []), "-o", "json"));
      } catch (e) {
        if (/NotFound|not found/.test((e as Error).message)) return undefined;
        throw e;
      }
    },
    apply: async (obj) => { await run("kubectl", ["--kubeconfig", file, "apply", "--server-side", "--field-manager", "nixplane-dr", "-f", "-"], JSON.stringify(obj)); },
  };
}

export function awsCliStore(region: string): ObjectStore {
  const s3 = (...args: string[]) => run("aws", ["s3api", ...args, "--region", region, "--output", "json"]);
  return {
    versioning: async (bucket) => (JSON.parse((await s3("get-bucket-versioning", "--bucket", bucket)) || "{}").Status ?? "Off"),
    put: async (bucket, key, body, { kmsKeyId }) => {
      const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "nixplane-dr-")), "ledger.json");
      fs.writeFileSync(file, body, { mode: 0o600 });
      const out = JSON.parse(await s3("put-object", "--bucket", bucket, "--key", key, "--body", file, "--server-side-encryption", "aws:kms", "--ssekms-key-id", kmsKeyId, "--content-type", "application/json"));
      return { versionId: out.VersionId };
    },
    get: async (bucket, key, versionId) => {
      const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "nixplane-dr-")), "ledger.json");
      await s3("get-object", "--bucket", bucket, "--key", key, ...(versionId ? ["--version-id", versionId] : []), file);
      return fs.readFileSync(file, "utf8");
    },
  };
}

export function awsCliRds(region: string): Rds {
  const rds = (...args: string[]) => run("aws", ["rds", ...args, "--region", region, "--output", "json"]);
  return {
    describeGlobalCluster: async (id) => {
      const out = JSON.parse(await rds("describe-global-clusters", "--global-cluster-identifier", id)).GlobalClusters?.[0];
      if (!out) return undefined;
      return { members: (out.GlobalClusterMembers ?? []).map((m: any) => ({ arn: m.DBClusterArn, region: String(m.DBClusterArn).split(":")[3], writer: !!m.IsWriter })) };
    },
    promote: async (id, target, mode) => {
      await (mode === "switchover"
        ? rds("switchover-global-cluster", "--global-cluster-identifier", id, "--target-db-cluster-identifier", target)
        : rds("failover-global-cluster", "--global-cluster-identifier", id, "--target-db-cluster-identifier", target, "--allow-data-loss"));
    },
  };
}
