// Prints the test run's closing line in the plain form any CI reads ("tests: N passed, N failed"),
// from the JSON report vitest wrote next to its usual output.
import { readFileSync } from "node:fs";

const report = JSON.parse(readFileSync(new URL("../.vitest-results.json", import.meta.url), "utf8"));
console.log(`tests: ${report.numPassedTests} passed, ${report.numFailedTests} failed`);
if (report.numTotalTests === 0) process.exitCode = 1;
