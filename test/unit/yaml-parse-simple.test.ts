/**
 * The configuration-file reader against the `yaml` package: whatever it accepts it must read exactly as
 * `parseDocument(text).toJS()` does (YAML 1.2, core schema), and whatever the package finds an error in,
 * it must refuse (so the package words the error). It must also accept the files clouddrove writes and
 * documents, or it would save no time at all.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseDocument } from "yaml";
import { renderConfigFile } from "../../src/config/load.js";
import { resolveConfig } from "../../src/config/resolve.js";
import { SETTINGS } from "../../src/config/settings.js";
import { toYaml } from "../../src/core/yaml/emit.js";
import { parseSimpleYaml } from "../../src/core/yaml/parse-simple.js";
import { seededRandom } from "../support/seeded-random.js";

/** Accepted texts read as the yaml package reads them; texts the package rejects are refused. */
function agreesWithYamlPackage(text: string): "accepted" | "refused" {
  const simple = parseSimpleYaml(text);
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    expect(simple, `accepted invalid YAML:\n${text}`).toBeUndefined();
    return "refused";
  }
  if (simple === undefined) return "refused";
  expect(simple.value, `read differently:\n${text}`).toEqual(doc.toJS());
  return "accepted";
}

function accepts(text: string): void {
  expect(agreesWithYamlPackage(text), `refused:\n${text}`).toBe("accepted");
}

describe("parseSimpleYaml", () => {
  it("reads the example configuration and every file init can write", () => {
    accepts(readFileSync(new URL("../../examples/clouddrove.yaml", import.meta.url), "utf8"));
    const { values } = resolveConfig({
      set: [
        "storage.efs.fileSystemId=fs-0123456789abcdef0",
        "backup.bucket=registry-backups",
        "backup.region=eu-west-1",
        "network.allowedCidrs=10.0.0.0/16",
      ],
    });
    accepts(
      renderConfigFile(
        values,
        SETTINGS.map((s) => s.key),
      ),
    );
  });

  it("reads scalars, quotes, flow and block sequences, comments and nesting as YAML 1.2 does", () => {
    accepts("a: 1\nb: -2\nc: 0o17\nd: 0x1F\ne: 1.5\nf: 1e3\ng: .inf\nh: -.Inf\ni: .NaN\nj: 1_000\nk: 0123\n");
    accepts("a: true\nb: False\nc: yes\nd: on\ne: ~\nf: null\ng:\nh: 'it''s'\ni: \"tab\\tand \\u00e9\"\n");
    accepts('a: registry:2.8.2\nb: a#b\nc: x # comment\nd: "#not a comment"\ne: 50Gi\nf: 1.33\n');
    accepts("list: [a, \"b, c\", 'd', 1, true, ~]\nempty: []\nspaced: [ a , b ]\n");
    accepts("zones:\n  - eu-west-1a\n  - 'eu-west-1b'\n  - 3\nflat:\n- x\n- y\n");
    accepts(
      "# leading comment\n---\ncluster:\n  name: x   \n\n  # inside\n  deep:\n    deeper:\n      v: 1\nnext: 2\n",
    );
    accepts("- a\n- [b]\n");
    accepts("");
    accepts("# only a comment\n");
  });

  it("refuses what is beyond it, which the yaml package then reads", () => {
    const beyond = [
      "a: &x 1\nb: *x\n",
      "a: !!str 1\n",
      "a: |\n  text\n",
      "a: >\n  text\n",
      "a: plain\n  continued\n",
      "a: {b: 1}\n",
      "a:\n  - b: 1\n",
      "a:\n  -\n    - 1\n",
      '"quoted key": 1\n',
      "1: one\n",
      "true: yes\n",
      'a: "\\x41"\n',
      "a: [1, [2]]\n",
      "a: [1,\n  2]\n",
      "a:\tb\n",
      "a: b\r\n",
      "\ufeffa: b\n",
      "%YAML 1.2\n---\na: b\n",
      "a: :5000\n",
      'a: "x" # it\'s\n',
      "a: [b, ]\n",
    ];
    for (const text of beyond) {
      expect(parseSimpleYaml(text), text).toBeUndefined();
      expect(parseDocument(text).errors.length, text).toBe(0);
    }
  });

  it("refuses every text the yaml package finds an error in", () => {
    const invalid = [
      "a: 1\na: 2\n",
      "a:\n    b: 1\n  c: 2\n",
      "a: b: c\n",
      "a: - b\n",
      "a: [b\n",
      'a: "b\n',
      "a: 'b\n",
      'a: "b" c\n',
      " a: 1\nb: 2\n",
      "a:\n  b: 1\n c: 2\n",
      "- a\nb: 1\n",
      "a: 1\n- b\n",
      "a: }\n",
      "a: ]\n",
      "a: b\n---\nc: d\n",
    ];
    for (const text of invalid) {
      expect(parseSimpleYaml(text), text).toBeUndefined();
      expect(parseDocument(text).errors.length, text).toBeGreaterThan(0);
    }
  });

  it("agrees with the yaml package on random line soups (seeded)", () => {
    const random = seededRandom(20261126);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
    const keys = ["a", "b", "cluster", "name", "x.y", "k-1", "_z", "true", "1", "on", "__proto__"];
    const scalars = [
      ...["1", "-1", "0o7", "0x1f", "1.5", ".5", "1e3", "1_0", "~", "null", "Null", "true", "FALSE", "yes"],
      ...[
        "eu-west-1",
        "a b",
        "a:b",
        "a: b",
        "a #c",
        "a#c",
        "#c",
        "'q'",
        "'it''s'",
        '"d"',
        '"e\\n"',
        '"\\x41"',
      ],
      ...[
        "[a, b]",
        "[]",
        "['x', \"y\"]",
        "[a, [b]]",
        "[a",
        "{a: 1}",
        "&x",
        "*x",
        "!t",
        "|",
        ">",
        "- a",
        "-a",
      ],
      ...["-", "?", ":x", "%", "@", "`", "50Gi", "registry:2.8.2", '"a" b', "'a' # c", "x # y", ""],
    ];
    let accepted = 0;
    for (let round = 0; round < 5000; round++) {
      const lines: string[] = [];
      const count = 1 + Math.floor(random() * 6);
      for (let i = 0; i < count; i++) {
        const indent = " ".repeat(pick([0, 0, 0, 2, 2, 4, 1, 3]));
        const shape = random();
        if (shape < 0.55) lines.push(`${indent}${pick(keys)}: ${pick(scalars)}`);
        else if (shape < 0.75) lines.push(`${indent}${pick(keys)}:`);
        else if (shape < 0.9) lines.push(`${indent}- ${pick(scalars)}`);
        else if (shape < 0.95) lines.push(`${indent}# ${pick(scalars)}`);
        else lines.push(pick(["", "---", "...", "\t", `${pick(keys)}:${pick(scalars)}`]));
      }
      if (agreesWithYamlPackage(`${lines.join("\n")}\n`) === "accepted") accepted++;
    }
    // Enough of the soup is inside the subset for the comparison to mean something.
    expect(accepted).toBeGreaterThan(250);
  });

  it("reads back random configuration-shaped data written as YAML (seeded)", () => {
    const random = seededRandom(7);
    const words = [
      "eu-west-1",
      "clouddrove",
      "50Gi",
      "1.33",
      "10.0.0.0/16",
      "on",
      "0777",
      "a b",
      "it's",
      "é",
    ];
    for (let round = 0; round < 500; round++) {
      const data: Record<string, unknown> = {};
      for (let i = 0; i < 4; i++) {
        const section: Record<string, unknown> = {};
        for (let j = 0; j < 3; j++) {
          const kind = random();
          section[`k${j}`] =
            kind < 0.4
              ? words[Math.floor(random() * words.length)]
              : kind < 0.6
                ? Math.round(random() * 1000) / 10
                : kind < 0.7
                  ? random() < 0.5
                  : words.slice(0, Math.floor(random() * 4));
        }
        data[`s${i}`] = section;
      }
      accepts(toYaml(data));
    }
  });
});
