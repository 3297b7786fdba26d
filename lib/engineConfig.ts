/**
 * The Pulumi engine's project-config rules, applied before any program runs, so the offline plan
 * refuses what `pulumi preview`/`up` would. Source: pulumi/pulumi `sdk/go/common/workspace/config.go`
 * (`mergeConfig`, `validateStackConfigValues`, `validateStackConfigValue`) and `project.go`
 * (`ValidateConfigValue`):
 *   1. a key declared in the project's namespace with neither `default` nor `value`, and not set by
 *      the stack, is missing ("Stack 'dev' is missing configuration value 'x'");
 *   2. a default is written into the stack config as a plain value (`createConfigValue`) and only
 *      then validated, so a `secret: true` key whose value is not `secure:` fails ("must be encrypted
 *      as it's secret") — a secret key can therefore have no default;
 *   3. an explicitly typed key's value must have its type: `string`; `integer` (or a string that
 *      parses as one); `boolean` (or "true"/"false"); `array` with `items` checked one by one.
 */

export interface ProjectConfigType {
  type?: string;
  items?: { type: string; items?: ProjectConfigType["items"] };
  description?: string;
  secret?: boolean;
  default?: unknown;
  value?: unknown;
}

export interface ProjectDoc {
  name: string;
  config?: Record<string, ProjectConfigType>;
}

/** A stack value encrypted by `pulumi config set --secret`: `{ secure: "<ciphertext>" }`. */
export const isSecure = (v: unknown) => !!v && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 1 && "secure" in (v as object);
const isObjectValue = (v: unknown) => v !== null && typeof v === "object" && !isSecure(v);

/** `ValidateConfigValue`: plain stack values reach it as strings, structured ones as JSON. */
export function valueHasType(type: string, items: ProjectConfigType["items"], content: unknown): boolean {
  switch (type) {
    case "string":
      return typeof content === "string";
    case "integer":
      return (typeof content === "number" && Number.isInteger(content)) || (typeof content === "string" && /^[+-]?\d+$/.test(content));
    case "boolean":
      return typeof content === "boolean" || content === "true" || content === "false";
    default:
      return Array.isArray(content) && items !== undefined && content.every((item) => valueHasType(items.type, items.items, item));
  }
}

function typeName(type: string, items: ProjectConfigType["items"]): string {
  return items ? `array<${typeName(items.type, items.items)}>` : type;
}

/**
 * Every error the engine would raise for `stack`, given Pulumi.yaml and the stack file's `config:`
 * block (raw YAML values; `{ secure: … }` for encrypted ones), in the engine's words.
 */
export function engineConfigErrors(project: ProjectDoc, stack: string, stackConfig: Record<string, unknown>): string[] {
  const errors: string[] = [];
  const merged: Record<string, unknown> = { ...stackConfig };
  const missing: string[] = [];
  const declared = Object.entries(project.config ?? {}).sort(([a], [b]) => a.localeCompare(b));
  for (const [key, decl] of declared) {
    const full = key.includes(":") ? key : `${project.name}:${key}`;
    if (full in merged) continue;
    if (decl.default === undefined && decl.value === undefined) {
      if (full.startsWith(`${project.name}:`)) missing.push(key);
      continue;
    }
    merged[full] = decl.default !== undefined ? decl.default : decl.value; // plain, never secure
  }
  if (missing.length > 0) {
    const list = missing.length === 1 ? `'${missing[0]}'` : `${missing.slice(0, -1).map((k) => `'${k}'`).join(", ")} and '${missing.at(-1)}'`;
    return [`Stack '${stack}' is missing configuration value${missing.length === 1 ? "" : "s"} ${list}`];
  }
  for (const [key, decl] of declared) {
    if (decl.type === undefined) continue; // only explicitly typed keys are validated
    const full = key.includes(":") ? key : `${project.name}:${key}`;
    if (!(full in merged)) continue;
    const value = merged[full];
    if (decl.secret && !isSecure(value)) {
      errors.push(`Stack '${stack}' with configuration key '${key}' must be encrypted as it's secret`);
      continue;
    }
    if (isSecure(value)) continue; // the engine checks the decrypted value; offline it is unknown
    const content = isObjectValue(value) ? value : String(value);
    if (!valueHasType(decl.type, decl.items, content)) errors.push(`Stack '${stack}' with configuration key '${key}' must be of type '${typeName(decl.type, decl.items)}'`);
  }
  return errors;
}
