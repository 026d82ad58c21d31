import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { cleanEnv, runCli, tempDir } from "../support/run-cli.js";
import { ScriptedPrompter } from "../support/scripted-prompter.js";

const EFS = ["--efs-file-system-id", "fs-0123456789abcdef0"];
const PASSWORD = "correct-horse-battery-staple";

/** The printed documents, of every kind the render makes: read field by field, whatever their model. */
// biome-ignore lint/suspicious/noExplicitAny: documents of any kind
type Document = Record<string, any>;

function documents(stdout: string): Document[] {
  const docs = parseAllDocuments(stdout);
  for (const doc of docs) expect(doc.errors).toEqual([]);
  return docs.map((d) => d.toJS());
}

describe("clouddrove deploy --dry-run", () => {
  it("prints only a YAML stream of every object, in apply order, with secrets masked", async () => {
    const env = cleanEnv({ CI: "true", CLOUDDROVE_REGISTRY_PASSWORD: PASSWORD });
    const run = await runCli(["deploy", "--dry-run", "-o", "yaml", ...EFS], { env });
    expect(run.code).toBe(0);
    const objects = documents(run.stdout);
    const kinds = objects.map((o) => o.kind);
    expect(kinds[0]).toBe("Namespace");
    expect(kinds.indexOf("Secret")).toBeLessThan(kinds.indexOf("Deployment"));
    expect(kinds.indexOf("PersistentVolumeClaim")).toBeLessThan(kinds.indexOf("Deployment"));
    expect(kinds).toEqual(
      expect.arrayContaining(["Service", "NetworkPolicy", "PodDisruptionBudget", "ConfigMap"]),
    );
    expect(run.stdout).not.toContain(PASSWORD);
    expect(run.stdout).not.toContain(Buffer.from(PASSWORD).toString("base64"));
    for (const secret of objects.filter((o) => o.kind === "Secret")) {
      for (const value of Object.values({ ...secret.data, ...secret.stringData })) {
        expect(value).toBe("<masked>");
      }
    }
    // The warning about an empty CIDR list goes to stderr, never into the YAML.
    expect(run.stderr).toContain("nothing outside it can reach the registry");
  });

  it("shows the secrets with --show-secrets, the htpasswd entry being bcrypt", async () => {
    const env = cleanEnv({ CI: "true", CLOUDDROVE_REGISTRY_PASSWORD: PASSWORD });
    const run = await runCli(["deploy", "--dry-run", "--show-secrets", ...EFS], { env });
    expect(run.code).toBe(0);
    const secrets = documents(run.stdout).filter((o) => o.kind === "Secret");
    const text = JSON.stringify(secrets);
    const decoded = secrets.flatMap((s) =>
      Object.values(s.data ?? {}).map((v) => Buffer.from(String(v), "base64").toString("utf8")),
    );
    const all = `${text}\n${decoded.join("\n")}`;
    expect(all).toMatch(/clouddrove:\$2[aby]\$10\$/);
    expect(all).toContain(PASSWORD);
  });

  it("gives the same output for the same inputs (generated secrets aside)", async () => {
    const env = cleanEnv({ CI: "true", CLOUDDROVE_REGISTRY_PASSWORD: PASSWORD });
    const a = await runCli(["deploy", "--dry-run", ...EFS, "--allowed-cidrs", "10.0.0.0/8"], { env });
    const b = await runCli(["deploy", "--dry-run", ...EFS, "--allowed-cidrs", "10.0.0.0/8"], { env });
    expect(a.code).toBe(0);
    // Masked, even the generated http.secret does not show: the two renders are identical.
    expect(a.stdout).toMatch(/clouddrove\.io\/config-sha256: [0-9a-f]{64}/);
    expect(a.stdout).toBe(b.stdout);
    expect(a.stderr).not.toContain("nothing outside");
  });

  it("-o json prints exactly one JSON document: a v1 List", async () => {
    const env = cleanEnv({ CLOUDDROVE_REGISTRY_PASSWORD: PASSWORD });
    const run = await runCli(["deploy", "--dry-run", "-o", "json", ...EFS], { env });
    expect(run.code).toBe(0);
    const list = JSON.parse(run.stdout);
    expect(list).toMatchObject({ apiVersion: "v1", kind: "List" });
    expect(list.items.map((o: { kind: string }) => o.kind)).toContain("Deployment");
  });

  it("settings reach the manifests (flags and --set)", async () => {
    const env = cleanEnv({ CI: "true" });
    const run = await runCli(
      ["--set", "storage.size=80Gi", "deploy", "--dry-run", ...EFS, "--replicas", "4", "-n", "registry"],
      { env },
    );
    expect(run.code).toBe(0);
    const objects = documents(run.stdout);
    const deployment = objects.find((o) => o.kind === "Deployment");
    expect(deployment?.spec.replicas).toBe(4);
    expect(deployment?.metadata.namespace).toBe("registry");
    expect(objects.find((o) => o.kind === "PersistentVolume")?.spec.capacity.storage).toBe("80Gi");
    expect(objects.find((o) => o.kind === "Namespace")?.metadata.name).toBe("registry");
  });

  it("takes --region and --cluster-name, the settings deploy reads to find the EFS file system", async () => {
    const env = cleanEnv({ CI: "true" });
    const run = await runCli(
      ["deploy", "--dry-run", ...EFS, "--region", "eu-central-1", "--cluster-name", "prod"],
      {
        env,
      },
    );
    expect(run.stderr).not.toContain("unknown option");
    expect(run.code).toBe(0);
  });

  it("--rotate-credentials without a terminal and without --yes is exit 2 naming --yes, before any connection", async () => {
    const home = tempDir();
    const run = await runCli(["deploy", "--rotate-credentials", ...EFS], {
      env: cleanEnv({ CI: "true", HOME: home }),
    });
    // Exit 2, not 4: it stopped before looking for the kubeconfig (there is none in this HOME).
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      "Rotating the registry credentials needs a confirmation; nothing was changed.",
    );
    expect(run.stderr).toContain("Pass --yes");
    expect(run.stdout).toBe("");
  });

  it("without a terminal, a missing EFS id is exit 2 naming the flag and env var, with nothing on stdout", async () => {
    const run = await runCli(["deploy", "--dry-run"], { env: cleanEnv({ CI: "true" }) });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toContain("--efs-file-system-id or CLOUDDROVE_STORAGE_EFS_FILE_SYSTEM_ID");
  });

  it("at a terminal, asks for the missing EFS id and the password", async () => {
    const prompter = new ScriptedPrompter(["fs-0123456789abcdef0", "short", PASSWORD]);
    const run = await runCli(["deploy", "--dry-run", "--allowed-cidrs", "10.0.0.0/8"], {
      tty: true,
      prompter,
      env: cleanEnv(),
    });
    expect(run.code).toBe(0);
    expect(prompter.asked.map((q) => q.kind)).toEqual(["input", "password"]);
    expect(prompter.asked[1]?.rejected[0]).toContain("at least 12 characters");
    expect(documents(run.stdout).some((o) => o.kind === "Deployment")).toBe(true);
  });

  it("renders Distribution 3's layout for a 3.x version (config path, serve argument, tracing off)", async () => {
    const env = cleanEnv({ CI: "true" });
    const run = await runCli(["deploy", "--dry-run", ...EFS, "--registry-version", "3.0.0"], { env });
    expect(run.code).toBe(0);
    const deployment = documents(run.stdout).find((o) => o.kind === "Deployment");
    const container = deployment?.spec.template.spec.containers[0];
    expect(container.image).toBe("registry:3.0.0");
    expect(container.args).toEqual(["serve", "/etc/distribution/config.yml"]);
    expect(container.volumeMounts).toContainEqual(
      expect.objectContaining({ mountPath: "/etc/distribution" }),
    );
    expect(container.env).toContainEqual({ name: "OTEL_TRACES_EXPORTER", value: "none" });
  });

  it("refuses a dry-run mode other than client or server, exit 2", async () => {
    const run = await runCli(["deploy", "--dry-run=everything", ...EFS], { env: cleanEnv({ CI: "true" }) });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("everything");
    expect(run.stdout).toBe("");
  });

  it("refuses EBS with the reason, exit 2", async () => {
    const run = await runCli(["deploy", "--dry-run", "--storage-type", "ebs"], {
      env: cleanEnv({ CI: "true" }),
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("ReadWriteOnce");
    expect(run.stdout).toBe("");
  });

  it("reads the password from stdin and rejects a weak one", async () => {
    const weak = await runCli(["deploy", "--dry-run", ...EFS, "--registry-password-stdin"], {
      env: cleanEnv({ CI: "true" }),
      stdin: "short\n",
    });
    expect(weak.code).toBe(2);
    expect(weak.stderr).toContain("at least 12 characters");
    const good = await runCli(
      ["deploy", "--dry-run", "--show-secrets", ...EFS, "--registry-password-stdin"],
      {
        env: cleanEnv({ CI: "true" }),
        stdin: `${PASSWORD}\n`,
      },
    );
    expect(good.code).toBe(0);
    const pull = documents(good.stdout).find((o) => o.type === "kubernetes.io/dockerconfigjson");
    const dockerConfig = JSON.parse(Buffer.from(pull?.data[".dockerconfigjson"], "base64").toString("utf8"));
    const auths = Object.values(dockerConfig.auths) as Array<{ password: string }>;
    expect(auths[0]?.password).toBe(PASSWORD);
  });
});
