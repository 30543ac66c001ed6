// Prints the closing line "N passed, N failed" from vitest JSON reports.
// usage: node count-results.mjs --exit-code <make's exit code> <report.json>...
// A test file that fails to load has no failed test in it, so it counts as one failure; and a
// non-zero exit with nothing failed in the reports (lint, type check, a setup step) counts as one.
// Each failure is named above the closing line with the start of its message, so the end of a CI
// log says what failed even when the runner's own output scrolled away.
import { existsSync, readFileSync } from "node:fs";
import { stripVTControlCharacters } from "node:util";

const args = process.argv.slice(2);
let exitCode = 0;
if (args[0] === "--exit-code") {
  exitCode = Number(args[1]);
  args.splice(0, 2);
}

let passed = 0;
let failed = 0;
let skipped = 0;
const failures = [];
const firstLines = (message) =>
  stripVTControlCharacters(message)
    .split("\n")
    .filter((line) => line.trim() !== "")
    .slice(0, 3)
    .join(" | ")
    .slice(0, 600);
for (const file of args) {
  if (!existsSync(file)) continue;
  const report = JSON.parse(readFileSync(file, "utf8"));
  passed += report.numPassedTests ?? 0;
  failed += report.numFailedTests ?? 0;
  skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  for (const suite of report.testResults ?? []) {
    const failedTests = (suite.assertionResults ?? []).filter((t) => t.status === "failed");
    for (const test of failedTests)
      failures.push(
        `${suite.name} > ${test.fullName}: ${firstLines((test.failureMessages ?? []).join("\n"))}`,
      );
    if (suite.status === "failed" && failedTests.length === 0) {
      failed += 1;
      failures.push(`${suite.name}: ${firstLines(suite.message ?? "failed to load")}`);
    }
  }
}
if (exitCode !== 0 && failed === 0) {
  console.log(
    `make test exited ${exitCode} outside the test runner (lint, type check or a setup step): see above`,
  );
  failed = 1;
}
// The first failure is often the cause of the ones after it (a test that leaves its model half-way
// through a rollout): it is printed last, next to the closing line, where a log's tail keeps it.
for (const failure of failures.reverse()) console.log(`FAILED ${failure}`);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
