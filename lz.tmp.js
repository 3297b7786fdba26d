require("./tools/load-ts.cjs"); require("./lib/lazyClosureDeps.ts");
const t0 = performance.now(); require(process.argv[2]); const t1 = performance.now();
const n = Object.keys(require.cache).length; const heavy = ["@pulumi/aws/index.js", "@pulumi/kubernetes/index.js", "@pulumi/pulumi/index.js", "@pulumi/eks/index.js"].filter(h => Object.keys(require.cache).some(k => k.endsWith(h)));
console.log(process.argv[2], (t1 - t0).toFixed(0), "ms", n, "modules", heavy.join(" "));
