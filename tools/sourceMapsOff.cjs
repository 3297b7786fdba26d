/**
 * Preloaded by `npm run plan` after tsx's CommonJS hooks (`node --require tsx/cjs --require
 * ./tools/sourceMapsOff.cjs tools/plan.ts`). tsx switches V8 source maps on when it registers, and
 * @pulumi/pulumi's debuggablePromise captures `new Error().stack` for every promise it makes, so each
 * of those traces was source-mapped (more than half the prod program's time). With them off tsx also
 * skips inlining maps into what it compiles. The plan's output does not depend on stack traces; an
 * error's stack then names compiled line numbers (set NODE_OPTIONS=--enable-source-maps and run
 * `npx tsx tools/plan.ts` to debug with mapped traces).
 */
if (!process.execArgv.includes("--enable-source-maps") && !/--enable-source-maps/.test(process.env.NODE_OPTIONS ?? "")) {
  process.setSourceMapsEnabled(false);
}
