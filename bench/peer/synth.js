/**
 * The benchmark's peer (`npm run bench -- --peer`): a blueprint shaped like nixplane's prod stack,
 * built with CDK EKS Blueprints and synthesized to CloudFormation in a temporary directory.
 * Offline by construction: account, region and the region's AZs are given, every add-on version is
 * pinned (a version of "auto" asks the EKS API at synth time), and nothing calls the CDK CLI.
 */
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const cdk = require("aws-cdk-lib");
const ec2 = require("aws-cdk-lib/aws-ec2");
const eks = require("aws-cdk-lib/aws-eks");
const blueprints = require("@aws-quickstart/eks-blueprints");

const ACCOUNT = "777788889999";
const REGION = "eu-west-1";
const AZS = ["eu-west-1a", "eu-west-1b", "eu-west-1c"];

const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "nixplane-peer-"));
const app = new cdk.App({
  outdir,
  // What `cdk synth` would have looked up and cached in cdk.context.json: the region's zones.
  context: { [`availability-zones:account=${ACCOUNT}:region=${REGION}`]: AZS },
});

const version = eks.KubernetesVersion.V1_33;
const clusterProvider = new blueprints.MngClusterProvider({
  version,
  minSize: 3,
  desiredSize: 6,
  maxSize: 20,
  instanceTypes: [new ec2.InstanceType("m7i.2xlarge"), new ec2.InstanceType("m6i.2xlarge")],
  nodeGroupSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
  diskSize: 100,
});

const built = blueprints.EksBlueprint.builder()
  .account(ACCOUNT)
  .region(REGION)
  .version(version)
  .clusterProvider(clusterProvider)
  .resourceProvider(blueprints.GlobalResources.Vpc, new blueprints.VpcProvider(undefined, { primaryCidr: "10.30.0.0/16" }))
  .addOns(
    new blueprints.addons.VpcCniAddOn({ version: "v1.20.4-eksbuild.2" }),
    new blueprints.addons.KubeProxyAddOn("v1.33.3-eksbuild.4"),
    new blueprints.addons.CoreDnsAddOn("v1.12.1-eksbuild.2"),
    new blueprints.addons.EksPodIdentityAgentAddOn("v1.3.10-eksbuild.2"),
    new blueprints.addons.ArgoCDAddOn({
      bootstrapRepo: { repoUrl: "https://github.com/acme-platform/platform-gitops.git", path: "gitops", targetRevision: "release" },
    }),
  )
  .buildAsync(app, "nixplane-peer-prod");

built.then(() => {
  try {
    const assembly = app.synth();
    // A lookup CDK could not answer from context is recorded as "missing" (the CLI would call AWS).
    const missing = assembly.manifest.missing ?? [];
    if (missing.length > 0) throw new Error(`synth needs AWS lookups: ${missing.map((m) => m.key).join(", ")}`);
    const templates = assembly.stacks.map((s) => s.templateFile);
    const resources = assembly.stacks.reduce((n, s) => n + Object.keys(s.template.Resources ?? {}).length, 0);
    console.log(JSON.stringify({ stacks: assembly.stacks.length, templates, resources, outdir }));
  } finally {
    if (!process.env.NIXPLANE_PEER_KEEP) fs.rmSync(outdir, { recursive: true, force: true });
  }
}).catch((err) => {
  console.error(err);
  process.exit(1);
});
