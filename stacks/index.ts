/**
 * Pulumi entry point (`main` in Pulumi.yaml). The module exports an async function: Pulumi awaits it
 * and makes the returned object's properties the stack outputs. Config is validated, and the admin
 * list checked against the deploying identity, before anything else is registered.
 */
import { loadConfig } from "./config";
import { createProgram } from "./program";

export = async () => createProgram(loadConfig());
