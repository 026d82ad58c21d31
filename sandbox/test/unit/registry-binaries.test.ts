import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DISTRIBUTION_VERSION, distributionBinaryPath } from "../../src/runtime/registry-binaries.js";

const componentsScript = readFileSync(new URL("../../../scripts/components.sh", import.meta.url), "utf8");

describe("where the sandbox finds Distribution v3's registry binary", () => {
  it("runs the version scripts/components.sh builds", () => {
    const pinned = /^DISTRIBUTION_VERSION=(\S+)/m.exec(componentsScript)?.[1];
    expect(pinned).toBe(DISTRIBUTION_VERSION);
  });

  it("looks in the components cache by the script's rule", () => {
    expect(distributionBinaryPath({ CLOUDDROVE_COMPONENTS_CACHE: "/c", HOME: "/h" })).toBe(
      "/c/distribution-v3.0.0/bin/registry",
    );
    expect(distributionBinaryPath({ XDG_CACHE_HOME: "/x", HOME: "/h" })).toBe(
      "/x/clouddrove/components/distribution-v3.0.0/bin/registry",
    );
    expect(distributionBinaryPath({ HOME: "/h" })).toBe(
      "/h/.cache/clouddrove/components/distribution-v3.0.0/bin/registry",
    );
    // The script's ${VAR:-default}: an empty variable counts as unset.
    expect(distributionBinaryPath({ CLOUDDROVE_COMPONENTS_CACHE: "", XDG_CACHE_HOME: "", HOME: "/h" })).toBe(
      "/h/.cache/clouddrove/components/distribution-v3.0.0/bin/registry",
    );
    // The script prints the same directory for eval.
    expect(componentsScript).toContain(
      'echo "DISTRIBUTION_BIN_DIR=$CACHE/distribution-$DISTRIBUTION_VERSION/bin"',
    );
    expect(componentsScript).toContain(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the script's shell line, read as text
      "CACHE=${CLOUDDROVE_COMPONENTS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/clouddrove/components}",
    );
  });
});
