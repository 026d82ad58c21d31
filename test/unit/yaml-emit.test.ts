/**
 * The YAML writer against the `yaml` package as the reader: whatever it writes must read back as the same
 * data under YAML 1.1 (kubectl, Go's yaml.v2; the package's yaml-1.1 schema, timestamps and sexagesimal
 * numbers included) and under YAML 1.2 (the core schema).
 */
import { describe, expect, it } from "vitest";
import { parseAllDocuments, parse as parseYaml } from "yaml";
import { renderBackupObjects } from "../../src/core/backup/render.js";
import { maskSecrets, renderManifests } from "../../src/core/render/index.js";
import { toYaml, toYamlStream } from "../../src/core/yaml/emit.js";
import { isSafePlain } from "../../src/core/yaml/scalars.js";
import { configWith, credentials, tls } from "../support/render-fixtures.js";
import { seededRandom } from "../support/seeded-random.js";

function readsBackAs(value: unknown): void {
  const text = toYaml(value);
  const expected = JSON.parse(JSON.stringify(value));
  expect(parseYaml(text, { version: "1.1" }), `YAML 1.1 of:\n${text}`).toEqual(expected);
  expect(parseYaml(text, { version: "1.2" }), `YAML 1.2 of:\n${text}`).toEqual(expected);
}

// Strings that mean something else unquoted in one YAML version or the other, or that break plain or
// block style: each is written as a value, as a key, and inside a sequence.
const TRICKY_STRINGS = [
  ...["y", "Y", "n", "N", "yes", "No", "ON", "off", "true", "False", "TRUE", "~", "null", "Null", ""],
  ...["0", "-1", "+1", "0777", "0o17", "0x1F", "0b101", "1_000", "1:20", "1:20.5", "190:20:30", "-1:30"],
  ...[".5", "1.", "1.0", "1e3", "1e+3", "1.0e+3", "6.8523015e+5", "685_230.15", "-.inf", ".Inf", ".NaN"],
  ...[
    "<<",
    "=",
    "2001-12-14",
    "2001-12-14t21:59:43.10-05:00",
    "2001-12-14 21:59:43.10 -5",
    "2001-1-1 1:02:03",
  ],
  ...[
    "-",
    "--",
    "---",
    "---x",
    "...",
    "....",
    "- a",
    "-a",
    "--flag=x",
    "? a",
    "?a",
    ": a",
    ":a",
    "a:",
    "a: b",
  ],
  ...["a:b", "registry:2.8.2", ":5000", "a #b", "#a", "a#b", " lead", "trail ", "in  side", "tab\there"],
  ...["\tlead", 'quote"s', "it's", "'q'", '"q"', "{a}", "[a]", "a,b", "*a", "&a", "!a", "%a", "@a", "`a"],
  ...["|a", ">a", "a|b", "a>b", "<masked>", "café", "emoji 😀", "C:\\path", "back\\slash", "%2F", "a\u0085b"],
  ...["line\nbreak", "multi\nline\n", "two\n\n", "three\n\n\n", "\nleading", "  indented\nx", "x\n  \ny"],
  ...["x\n\n\ny", "x\r\ny", "cr\r", "bell\u0007", "bom\ufeff", "ls\u2028ps\u2029", "nul\u0000", "del\u007f"],
  ...["x\n  indented\n\ty", "#!/bin/sh\nset -eu\n", "key: value\nother: 1\n", "- a\n- b"],
];

describe("toYaml", () => {
  it("writes every tricky string so that both YAML versions read it back unchanged", () => {
    for (const text of TRICKY_STRINGS) {
      readsBackAs({ value: text });
      readsBackAs({ [text]: "key" });
      readsBackAs({ list: [text, { [text]: text }] });
      readsBackAs([text]);
    }
  });

  it("writes strings at the root quoted, so that '...' or '---' cannot end or start a document", () => {
    for (const text of TRICKY_STRINGS) readsBackAs(text);
    expect(toYaml("...")).toBe('"..."\n');
  });

  it("keeps numbers, booleans, null and empty collections as they are", () => {
    readsBackAs({
      numbers: [0, -1, 1.5, -0.25, 1e21, 1.5e-7, 2 ** 53, Number.MAX_VALUE, Number.MIN_VALUE, -1e300],
      booleans: [true, false],
      nothing: null,
      empty: { map: {}, list: [], string: "" },
      nested: [[], [[]], [{}], [[1, [2]]], [{ a: [{ b: [] }] }]],
    });
    expect(toYaml({ big: 1e21 })).toBe("big: 1.0e+21\n");
  });

  it("drops what JSON drops and refuses what has no JSON form", () => {
    expect(toYaml({ a: undefined, b: 1, c: () => 1 })).toBe("b: 1\n");
    expect(toYaml({ when: new Date(0) })).toBe('when: "1970-01-01T00:00:00.000Z"\n');
    expect(() => toYaml(undefined)).toThrow(TypeError);
  });

  it("lays out blocks the way kubectl does: sequences under their key, collection items on the dash", () => {
    const text = toYaml({
      metadata: { name: "x", labels: { "app.kubernetes.io/name": "registry" } },
      args: ["serve", "-c"],
      containers: [{ name: "a", ports: [{ containerPort: 5000 }] }, [1, 2]],
      script: "#!/bin/sh\nset -eu\n",
      trimmed: "a\nb",
      kept: "a\n\n",
    });
    expect(text).toBe(
      [
        "metadata:",
        "  name: x",
        "  labels:",
        "    app.kubernetes.io/name: registry",
        "args:",
        "  - serve",
        "  - -c",
        "containers:",
        "  - name: a",
        "    ports:",
        "      - containerPort: 5000",
        "  - - 1",
        "    - 2",
        "script: |",
        "  #!/bin/sh",
        "  set -eu",
        "trimmed: |-",
        "  a",
        "  b",
        "kept: |+",
        "  a",
        "",
        "",
      ].join("\n"),
    );
  });

  it("survives random data (seeded)", () => {
    const random = seededRandom(20261126);
    const alphabet = [..."aZ09 -_.:/#'\"\\\n\t{}[],&*!|>?%@`~=<+", "é", "😀", "\u2028", "\r"];
    const randomString = () =>
      Array.from(
        { length: Math.floor(random() * 8) },
        () => alphabet[Math.floor(random() * alphabet.length)],
      ).join("");
    const randomValue = (depth: number): unknown => {
      const pick = random();
      if (depth > 3 || pick < 0.45) return randomString();
      if (pick < 0.55) return Math.round((random() - 0.5) * 1e6) / (random() < 0.5 ? 1 : 1000);
      if (pick < 0.6) return random() < 0.5;
      if (pick < 0.65) return null;
      if (pick < 0.8) return Array.from({ length: Math.floor(random() * 4) }, () => randomValue(depth + 1));
      return Object.fromEntries(
        Array.from({ length: Math.floor(random() * 4) }, () => [randomString(), randomValue(depth + 1)]),
      );
    };
    for (let i = 0; i < 1500; i++) readsBackAs({ root: randomValue(0) });
  });
});

describe("isSafePlain", () => {
  it("leaves ordinary Kubernetes strings unquoted", () => {
    for (const text of [
      "registry:2.8.2",
      "50Gi",
      "app.kubernetes.io/name",
      "/var/lib/clouddrove",
      "-c",
      "<masked>",
    ]) {
      expect(isSafePlain(text), text).toBe(true);
    }
    for (const text of ["5000", "on", "1.33", "2001-12-14", "a: b", "#x", "- x", "---", ""]) {
      expect(isSafePlain(text), text).toBe(false);
    }
  });
});

describe("toYamlStream", () => {
  it("writes the rendered registry and backup objects, masked or not, so they read back the same", async () => {
    const config = configWith(
      "storage.efs.fileSystemId=fs-0123456789abcdef0",
      "backup.bucket=registry-backups",
      "backup.roleArn=arn:aws:iam::123456789012:role/registry-backup",
      "backup.region=eu-west-1",
      "network.allowedCidrs=10.0.0.0/16",
    );
    const objects = [
      ...(await renderManifests(config, credentials, tls)),
      ...(await renderBackupObjects(config)),
    ];
    for (const set of [objects, maskSecrets(objects)]) {
      const text = toYamlStream(set);
      for (const version of ["1.1", "1.2"] as const) {
        const docs = parseAllDocuments(text, { version });
        expect(docs.every((d) => d.errors.length === 0)).toBe(true);
        expect(docs.map((d) => d.toJS())).toEqual(set);
      }
    }
    // The registry's config file stays readable in the ConfigMap: a literal block, not one escaped line.
    expect(toYamlStream(objects)).toContain("  config.yml: |\n    version: 0.1\n");
  });
});
