/** Entry point of the account bootstrap (bootstrap/Pulumi.yaml): run once per AWS account by an admin. */
import * as pulumi from "@pulumi/pulumi";
import { AccountBootstrap, githubEnvironments, imageAccountOf, type StackSpec } from "./account";
import { readImageLock } from "../lib/imageLock";

const config = new pulumi.Config("nixplane-bootstrap");
const stacks = config.requireObject<StackSpec[]>("stacks");
/** The image account (nixos/images.lock.json's): the image key and the image pipeline's role. */
const imageAccount = config.getBoolean("images") ?? false;
const account = new AccountBootstrap("nixplane", {
  repository: config.require("repository"),
  stacks,
  stateBucket: config.require("stateBucket"),
  createOidcProvider: config.getBoolean("createOidcProvider"),
  existingOidcProviderArn: config.get("existingOidcProviderArn"),
  images: imageAccount ? imageAccountOf(readImageLock()) : undefined,
});

/** `pulumi login <this>/nixplane`… the backend URL the workflows use (PULUMI_BACKEND_URL). */
export const stateBucketUrl = account.stateBucketUrl;
/** Per stack: AWS_DEPLOY_ROLE (environment <stack>), AWS_PREVIEW_ROLE (<stack>-preview), the secrets provider. */
export const ci = account.stacks;
/** In the image account: AWS_IMAGE_ROLE (environment images) and the image key. */
export const images = account.images;
/** The GitHub environments to create, with their rules. */
export const environments = githubEnvironments(stacks, imageAccount);
