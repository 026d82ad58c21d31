import { describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/config/resolve.js";
import { envVarName } from "../../src/config/settings.js";
import type { ClouddroveError } from "../../src/errors.js";
import { usageError } from "../support/errors.js";

const allText = (e: ClouddroveError) => [e.message, ...e.details].join("\n");

describe("configuration precedence", () => {
  it("starts from the mission's defaults", () => {
    const { config, sources } = resolveConfig({});
    expect(config.namespace).toBe("clouddrove");
    expect(config.registry).toMatchObject({ image: "registry", version: "2.8.2", replicas: 3 });
    expect(config.registry.memoryRequest).toBe("1Gi");
    expect(config.registry.memoryLimit).toBe("2Gi");
    expect(config.storage).toMatchObject({ type: "efs", size: "50Gi" });
    expect(sources.get("storage.size")).toBe("default");
  });

  it("orders flags > env > --set > file > prompts > defaults", () => {
    const file = { path: "clouddrove.yaml", data: { storage: { size: "60Gi" }, registry: { replicas: 5 } } };
    const answers = new Map<string, string | number | string[]>([
      ["storage.size", "55Gi"],
      ["cluster.region", "eu-west-1"],
    ]);
    const base = { file, answers };
    let r = resolveConfig(base);
    expect(r.config.storage.size).toBe("60Gi");
    expect(r.sources.get("storage.size")).toBe("file");
    expect(r.sources.get("cluster.region")).toBe("prompt");

    r = resolveConfig({ ...base, set: ["storage.size=70Gi"] });
    expect([r.config.storage.size, r.sources.get("storage.size")]).toEqual(["70Gi", "set"]);

    r = resolveConfig({ ...base, set: ["storage.size=70Gi"], env: { CLOUDDROVE_STORAGE_SIZE: "80Gi" } });
    expect([r.config.storage.size, r.sources.get("storage.size")]).toEqual(["80Gi", "env"]);

    r = resolveConfig({
      ...base,
      set: ["storage.size=70Gi"],
      env: { CLOUDDROVE_STORAGE_SIZE: "80Gi" },
      flags: { storageSize: "90Gi" },
    });
    expect([r.config.storage.size, r.sources.get("storage.size")]).toEqual(["90Gi", "flag"]);
    expect(r.config.registry.replicas).toBe(5);
  });

  it("parses lists and integers from text", () => {
    const r = resolveConfig({
      env: { CLOUDDROVE_NETWORK_ALLOWED_CIDRS: "10.0.0.0/8, 192.168.0.0/16" },
      flags: { replicas: "4" },
    });
    expect(r.config.network.allowedCidrs).toEqual(["10.0.0.0/8", "192.168.0.0/16"]);
    expect(r.config.registry.replicas).toBe(4);
  });

  it("names env vars after the key", () => {
    expect(envVarName("storage.efs.fileSystemId")).toBe("CLOUDDROVE_STORAGE_EFS_FILE_SYSTEM_ID");
    expect(envVarName("cluster.kubernetesVersion")).toBe("CLOUDDROVE_CLUSTER_KUBERNETES_VERSION");
  });
});

describe("invalid values are exit 2, naming key, value, source and what is expected", () => {
  it("a quantity like 50GB", () => {
    const e = usageError(() => resolveConfig({ flags: { storageSize: "50GB" } }));
    expect(e.message).toContain("storage.size");
    expect(e.message).toContain("'50GB'");
    expect(e.message).toContain("--storage-size");
    expect(e.message).toContain("50Gi");
  });

  it("an unknown key in the file, with a suggestion", () => {
    const e = usageError(() =>
      resolveConfig({ file: { path: "c.yaml", data: { storage: { sise: "1Gi", size: "1Gi" } } } }),
    );
    expect(e.message).toContain("unknown key 'storage.sise'");
  });

  it("a misspelled top-level key", () => {
    const e = usageError(() =>
      resolveConfig({ file: { path: "c.yaml", data: { registy: { replicas: 3 } } } }),
    );
    expect(e.message).toBe("c.yaml: unknown key 'registy' (did you mean 'registry'?)");
  });

  it("an unknown key in the file names its line and the setting it most likely meant, as --set does", () => {
    const text = [
      "# clouddrove configuration",
      "cluster:",
      "  region: eu-west-1",
      "registry:",
      "  # replicas, one per zone",
      "  replica: 3",
      "",
    ].join("\n");
    const data = { cluster: { region: "eu-west-1" }, registry: { replica: 3 } };
    const e = usageError(() => resolveConfig({ file: { path: "c.yaml", data, text } }));
    expect(e.message).toBe("c.yaml:6: unknown key 'registry.replica' (did you mean 'registry.replicas'?)");
    const set = usageError(() => resolveConfig({ set: ["registry.replica=3"] }));
    expect(set.message).toBe(
      "--set 'registry.replica=3': unknown key 'registry.replica' (did you mean 'registry.replicas'?)",
    );
    const region = usageError(() => resolveConfig({ set: ["cluster.regoin=eu-west-1"] }));
    expect(region.message).toContain("(did you mean 'cluster.region'?)");
  });

  it("suggests nothing for a key far from every setting", () => {
    const e = usageError(() => resolveConfig({ file: { path: "c.yaml", data: { colour: "blue" } } }));
    expect(e.message).toBe("c.yaml: unknown key 'colour'");
  });

  it("an unquoted Kubernetes version in YAML (1.30 parses as a number)", () => {
    const e = usageError(() =>
      resolveConfig({ file: { path: "c.yaml", data: { cluster: { kubernetesVersion: 1.3 } } } }),
    );
    expect(e.message).toContain('quote it: "1.33"');
  });

  it("a cron expression with the wrong field count, a bad CIDR and a bad region, all at once", () => {
    const e = usageError(() =>
      resolveConfig({
        env: { CLOUDDROVE_BACKUP_SCHEDULE: "0 3 * *", CLOUDDROVE_CLUSTER_REGION: "moon-1" },
        set: ["network.allowedCidrs=10.0.0.0/99"],
      }),
    );
    expect(e.message).toContain("3 settings are not valid");
    const text = allText(e);
    expect(text).toContain("backup.schedule");
    expect(text).toContain("has 4");
    expect(text).toContain("network.allowedCidrs");
    expect(text).toContain("cluster.region");
  });

  it("a --set without '=' or with an unknown key", () => {
    expect(usageError(() => resolveConfig({ set: ["storage.size"] })).message).toContain(
      "expected key.path=value",
    );
    expect(usageError(() => resolveConfig({ set: ["storage.sizes=1Gi"] })).message).toContain("unknown key");
  });

  it("EBS storage, with the reason", () => {
    const e = usageError(() => resolveConfig({ flags: { storageType: "ebs" } }));
    expect(e.message).toContain("ReadWriteOnce");
    expect(e.message).toContain("efs");
  });

  it("zones outside the region, or fewer than three", () => {
    const e = usageError(() =>
      resolveConfig({ flags: { region: "eu-west-1", zones: "eu-west-1a,eu-west-1b,us-east-1a" } }),
    );
    expect(e.message).toContain("'us-east-1a' is not in region eu-west-1");
    const two = usageError(() =>
      resolveConfig({ flags: { region: "eu-west-1", zones: "eu-west-1a,eu-west-1b" } }),
    );
    expect(two.message).toContain("at least 3");
  });

  it("an integer out of range", () => {
    expect(usageError(() => resolveConfig({ flags: { replicas: "0" } })).message).toContain("from 1 to 50");
  });
});
