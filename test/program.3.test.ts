// Specs that run the program under mocks, bundled to share one module registry: see ./specs.ts.
import { runSpecs } from "./specs";

runSpecs(__filename);
