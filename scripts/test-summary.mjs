// Prints the test run's closing line in the plain form any CI reads ("tests: N passed, N failed"),
// from the JSON report vitest wrote next to its usual output.
import { readFileSync } from "node:fs";

const report = JSON.parse(readFileSync(new URL("../.vitest-results.json", import.meta.url), "utf8"));
// Sandboxes the tests left running (test/support/no-leftover-sandboxes.ts): each one is a failure.
let leaks = [];
try {
  leaks = JSON.parse(readFileSync(new URL("../.vitest-leaks.json", import.meta.url), "utf8"));
} catch {
  leaks = ["(the leftover-sandbox check did not run)"];
}
for (const leak of leaks) console.log(`left running by the tests: ${leak}`);
console.log(`tests: ${report.numPassedTests} passed, ${report.numFailedTests + leaks.length} failed`);
if (report.numTotalTests === 0 || leaks.length > 0) process.exitCode = 1;
