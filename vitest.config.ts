import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: {
    // Tests run the sandbox from its sources, like the CLI's own; the built CLI loads its dist/.
    alias: { "@clouddrove/sandbox": fileURLToPath(new URL("sandbox/src/index.ts", import.meta.url)) },
  },
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests start real processes (registry, S3 server, sandbox); two cores are all we have.
    maxWorkers: 2,
    // No sandbox this run started may outlive it (only this run's: they carry its mark).
    globalSetup: ["test/support/no-leftover-sandboxes.ts"],
    // `vitest run --project unit` needs no build; integration and e2e run the built CLI and the
    // sandbox's background process (npm test builds first).
    projects: [
      { extends: true, test: { name: "unit", include: ["test/unit/**/*.test.ts"] } },
      { extends: true, test: { name: "integration", include: ["test/integration/**/*.test.ts"] } },
      { extends: true, test: { name: "e2e", include: ["test/e2e/**/*.test.ts"] } },
      { extends: true, test: { name: "sandbox", include: ["sandbox/test/**/*.test.ts"] } },
      // Against a real control plane (scripts/real-cluster.sh, docs/real-cluster.md). Only
      // `npm run test:real` has it (CLOUDDROVE_REAL_CLUSTER=1): its first run builds Kubernetes from
      // source, which `npm test` must not start.
      ...(process.env.CLOUDDROVE_REAL_CLUSTER
        ? [{ extends: true, test: { name: "real", include: ["test/real/**/*.test.ts"] } }]
        : []),
    ],
  },
});
