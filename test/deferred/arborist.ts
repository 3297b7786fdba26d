// jest.config.js maps `@npmcli/arborist` here; see ./load.ts.
import { deferredRequire } from "./load";
export = deferredRequire("@npmcli/arborist");
