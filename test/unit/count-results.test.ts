import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

/*
 * CI ends with the line scripts/count-results.mjs prints from vitest's JSON reports; what failed
 * is named just above it, since the runner's own output may have scrolled out of the log's tail.
 */

const script = join(import.meta.dirname, "..", "..", "scripts", "count-results.mjs");

function countResults(exitCode: number, ...reports: object[]): string[] {
  const dir = mkdtempSync(join(tmpdir(), "count-results-"));
  const files = reports.map((report, i) => {
    const file = join(dir, `report-${i}.json`);
    writeFileSync(file, JSON.stringify(report));
    return file;
  });
  const output = execFileSync("node", [script, "--exit-code", String(exitCode), ...files], {
    encoding: "utf8",
  });
  return output.trimEnd().split("\n");
}

describe("the closing line of a CI run", () => {
  it("counts every report's tests and names each failure with the start of its message, the first last", () => {
    const lines = countResults(
      2,
      { numPassedTests: 4, numFailedTests: 0, testResults: [] },
      {
        numPassedTests: 3,
        numFailedTests: 1,
        testResults: [
          {
            name: "test/e2e/rollout/controls.test.ts",
            status: "failed",
            assertionResults: [
              { status: "passed", fullName: "pauses" },
              {
                status: "failed",
                fullName: "rollout controls aborts from the spec",
                failureMessages: [
                  "\u001b[31mError: timed out after 240 s\u001b[39m\n\n    at waitFor (wait.ts:27:13)\n    at x\n    at y",
                ],
              },
            ],
          },
          {
            name: "test/e2e/broken.test.ts",
            status: "failed",
            message: "SyntaxError: Unexpected token",
            assertionResults: [],
          },
        ],
      },
    );
    // Last to first, so the first failure of the run sits next to the closing line.
    expect(lines).toEqual([
      "FAILED test/e2e/broken.test.ts: SyntaxError: Unexpected token",
      "FAILED test/e2e/rollout/controls.test.ts > rollout controls aborts from the spec: Error: timed out after 240 s |     at waitFor (wait.ts:27:13) |     at x",
      "7 passed, 2 failed",
    ]);
  });

  it("counts a failure outside the test runner when make failed with every test green", () => {
    const lines = countResults(2, { numPassedTests: 5, numFailedTests: 0, testResults: [] });
    expect(lines.at(-1)).toBe("5 passed, 1 failed");
    expect(lines[0]).toMatch(/outside the test runner/);
  });
});
