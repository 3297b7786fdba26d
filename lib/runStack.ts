/** Runs the real program for one stack under mocks: the offline plan, the tests and the timeline share this. */
import { loadConfig, parseConfig, readRawConfig } from "../stacks/config";
import type { MockEnv } from "./mocks";
import type { RegistrationClock, RunResult } from "./run";
import { readStackConfig } from "./stackConfig";

export const MOCK_ACCOUNT_FALLBACK = "123456789012";

export interface StackRunOptions {
  preview?: boolean;
  /** Config overrides: `nixplane:key` → string, applied over the stack file. */
  overrides?: Record<string, string>;
  secretKeys?: string[];
  unknownClusterOutputs?: boolean;
  clock?: RegistrationClock;
  /** What the mocked AWS answers about the deployer and the region (caller ARN, existing clusters). */
  mockEnv?: Pick<MockEnv, "callerArn" | "existingClusters">;
}

/**
 * The stack file's config with `overrides` over it, validated: a bad value throws the config's own error.
 * Loads neither Pulumi nor the program, so `npm run plan` calls it first and answers bad input at once.
 */
export function stackConfigOf(stack: string, overrides: Record<string, string> = {}) {
  const file = readStackConfig(stack);
  const config = { ...file.config, ...overrides };
  const keys = Object.keys(config).filter((k) => k.startsWith("nixplane:")).map((k) => k.slice(9));
  return { file, config, parsed: parseConfig(readRawConfig((k) => config[`nixplane:${k}`], keys)) };
}

export async function runStack(stack: string, opts: StackRunOptions = {}): Promise<RunResult> {
  // Validate first: a bad config must fail before the mocks or the program are even loaded.
  const { file, config, parsed } = stackConfigOf(stack, opts.overrides);
  // Required only now, so a bad config fails before Pulumi and the program's components even load.
  const { createProgram } = require("../stacks/program") as typeof import("../stacks/program");
  const { runProgram } = require("./run") as typeof import("./run");
  return runProgram({
    stack,
    config,
    secretKeys: [...file.secretKeys, ...(opts.secretKeys ?? [])],
    preview: opts.preview,
    env: { region: parsed.region, accountId: parsed.allowedAccountIds[0] ?? MOCK_ACCOUNT_FALLBACK, unknownClusterOutputs: opts.unknownClusterOutputs, ...opts.mockEnv },
    clock: opts.clock,
    // The program's modules only declare; resources are created by this call, after the mocks are set.
    program: () => createProgram(loadConfig()),
  });
}
