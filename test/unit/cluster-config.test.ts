import { readFileSync } from "node:fs";
import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { ClusterValues } from "../../src/core/cluster/cluster-config.js";
import { CLUSTER_TAG, MANAGED_BY_TAG } from "../../src/core/cluster/constants.js";
import { readClusterTemplate } from "../../src/steps/cluster/templates.js";
import { renderExampleClusterConfig } from "../support/cluster-config.js";

const schema = JSON.parse(readFileSync(new URL("../fixtures/eksctl/schema.json", import.meta.url), "utf8"));
// eksctl's schema is draft-07 (its $schema says so), Ajv's default; its x-* annotations need strict off.
const validate = new Ajv({ strict: false, allErrors: true }).compile(schema);

const render = renderExampleClusterConfig;

interface NodeGroup {
  name: string;
  availabilityZones: string[];
  desiredCapacity: number;
  minSize: number;
  maxSize: number;
  instanceType: string;
  privateNetworking: boolean;
}

const cases: Array<Partial<ClusterValues>> = [
  { region: "eu-west-1", zones: ["eu-west-1a", "eu-west-1b", "eu-west-1c"] },
  { name: "prod-registry", region: "us-east-1", zones: ["us-east-1a", "us-east-1b", "us-east-1d"] },
  {
    name: "tokyo",
    region: "ap-northeast-1",
    zones: ["ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d"],
    kubernetesVersion: "1.30",
    instanceType: "t3.large",
  },
];

describe("the eksctl ClusterConfig", () => {
  it("the template itself is valid eksctl input", () => {
    const template = parse(readClusterTemplate());
    expect(validate(template), JSON.stringify(validate.errors)).toBe(true);
  });

  it("the vendored schema rejects what eksctl rejects (unknown fields, a numeric version)", () => {
    const config = render().object as Record<string, Record<string, unknown>>;
    expect(validate({ ...config, nodeGroupz: [] })).toBe(false);
    expect(validate({ ...config, metadata: { ...config.metadata, version: 1.3 } })).toBe(false);
    expect(validate({ ...config, vpc: { nat: { gateway: "Double" } } })).toBe(false);
  });

  for (const values of cases) {
    describe(`${values.region} ${values.zones?.join(",")}`, () => {
      const rendered = render(values);
      const config = rendered.object as {
        metadata: { name: string; region: string; version: unknown; tags: Record<string, string> };
        availabilityZones: string[];
        managedNodeGroups: NodeGroup[];
        addons: Array<{ name: string; configurationValues?: string }>;
        iam: { withOIDC: boolean };
        vpc: { nat: { gateway: string } };
      };

      it("validates against eksctl's schema", () => {
        expect(validate(config), JSON.stringify(validate.errors)).toBe(true);
      });

      it("names the cluster, region and exactly the three zones", () => {
        expect(config.metadata.name).toBe(values.name ?? "clouddrove");
        expect(config.metadata.region).toBe(values.region);
        expect(config.availabilityZones).toEqual(values.zones);
      });

      it("has one managed node group per zone, pinned to it, with one node", () => {
        expect(config.managedNodeGroups).toHaveLength(3);
        config.managedNodeGroups.forEach((group, i) => {
          const zone = values.zones?.[i] as string;
          expect(group.name).toBe(`ng-${zone}`);
          expect(group.availabilityZones).toEqual([zone]);
          expect(group.desiredCapacity).toBe(1);
          expect(group.minSize).toBe(1);
          expect(group.instanceType).toBe(values.instanceType ?? "m6i.large");
          expect(group.privateNetworking).toBe(true);
        });
      });

      it("quotes metadata.version so it stays a string", () => {
        const version = values.kubernetesVersion ?? "1.33";
        expect(rendered.text).toContain(`version: "${version}"`);
        expect(parse(rendered.text).metadata.version).toBe(version);
        expect(typeof config.metadata.version).toBe("string");
      });

      it("turns on network policy in the VPC CNI and installs the storage and identity addons", () => {
        const names = config.addons.map((a) => a.name);
        expect(names).toEqual([
          "vpc-cni",
          "aws-efs-csi-driver",
          "aws-ebs-csi-driver",
          "snapshot-controller",
          "eks-pod-identity-agent",
        ]);
        const cni = config.addons.find((a) => a.name === "vpc-cni");
        expect(typeof cni?.configurationValues).toBe("string");
        expect(JSON.parse(cni?.configurationValues as string)).toEqual({ enableNetworkPolicy: "true" });
      });

      it("enables OIDC, a NAT gateway per zone, and tags the cluster as clouddrove's", () => {
        expect(config.iam.withOIDC).toBe(true);
        expect(config.vpc.nat.gateway).toBe("HighlyAvailable");
        expect(config.metadata.tags[MANAGED_BY_TAG]).toBe("clouddrove");
        expect(config.metadata.tags[CLUSTER_TAG]).toBe(values.name ?? "clouddrove");
      });
    });
  }

  it("keeps the template's comments once, not once per node group", () => {
    const { text } = render();
    expect(text).toContain("Network-policy enforcement in the VPC CNI");
    expect(text.match(/Room for EKS's replace-first upgrades/g)).toHaveLength(1);
  });
});
