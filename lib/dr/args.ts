/** The arguments of `npm run dr` (tools/dr.ts): parsed and checked before any command module loads. */
import { parseArgs } from "node:util";

export const COMMANDS = ["record", "record-stacks", "rebuild", "drill", "failover", "retire"] as const;
const USAGE = `usage: npm run dr -- <${COMMANDS.join("|")}> [flags] (see tools/dr.ts)`;

const REQUIRED: Record<(typeof COMMANDS)[number], string[]> = {
  record: ["stack"],
  "record-stacks": ["deployed"],
  rebuild: ["stack"],
  drill: ["stack"],
  failover: ["global-cluster", "to-region"],
  retire: ["stack", "cluster-deleted"],
};

export function parseDrArgs(argv: string[]) {
  const [command, ...rest] = argv;
  if (!(COMMANDS as readonly string[]).includes(command)) throw new Error(command ? `unknown command "${command}"; ${USAGE}` : USAGE);
  const { values } = parseArgs({
    args: rest,
    strict: true,
    options: {
      stack: { type: "string" }, bucket: { type: "string" }, "kms-key": { type: "string" }, "dr-region": { type: "string" },
      "observe-only": { type: "boolean" }, "ledger-version": { type: "string" }, "ledger-environment": { type: "string" }, "timeout-minutes": { type: "string" },
      "global-cluster": { type: "string" }, "to-region": { type: "string" }, "allow-data-loss": { type: "boolean" }, "cluster-deleted": { type: "boolean" },
      deployed: { type: "string" },
    },
  });
  const missing = REQUIRED[command as (typeof COMMANDS)[number]].filter((k) => values[k as keyof typeof values] === undefined);
  if (missing.length > 0) throw new Error(`${command} needs ${missing.map((m) => `--${m}`).join(", ")}`);
  const minutes = values["timeout-minutes"] === undefined ? 30 : Number(values["timeout-minutes"]);
  if (!Number.isFinite(minutes) || minutes <= 0) throw new Error(`--timeout-minutes "${values["timeout-minutes"]}" is not a positive number`);
  return { command: command as (typeof COMMANDS)[number], values, timeoutMs: minutes * 60_000 };
}

export type DrArgs = ReturnType<typeof parseDrArgs>;
