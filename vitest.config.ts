import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: {
    // Tests run the sandbox from its sources, like the CLI's own; the built CLI loads its dist/.
    alias: { "@clouddrove/sandbox": fileURLToPath(new URL("sandbox/src/index.ts", import.meta.url)) },
  },
  test: {
    include: ["test/**/*.test.ts", "sandbox/test/**/*.test.ts"],
    globalSetup: ["test/support/no-leftover-sandboxes.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests start real processes (registry, S3 server, sandbox); two cores are all we have.
    maxWorkers: 2,
  },
});
