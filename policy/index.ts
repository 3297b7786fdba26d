/** The policy pack every preview and deploy runs: `pulumi preview --policy-pack policy`. The rules live in rules.ts. */
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./rules";

new PolicyPack("nixplane", { enforcementLevel: "mandatory", policies });
