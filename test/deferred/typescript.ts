// jest.config.js maps `typescript` here; see ./load.ts.
import { deferredRequire } from "./load";
export = deferredRequire("typescript");
