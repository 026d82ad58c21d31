import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests start real processes (registry, S3 server, sandbox); two cores are all we have.
    maxWorkers: 2,
  },
});
