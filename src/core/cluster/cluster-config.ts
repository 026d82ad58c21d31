/**
 * The eksctl ClusterConfig: templates/cluster/cluster.yaml with the settings applied structurally
 * (parsed with yaml, set by path), never by pasting strings. The template's comments survive, so the
 * file a user sees under --dry-run explains itself.
 */
import { type Document, isMap, isSeq, parseDocument, Scalar, type YAMLMap } from "yaml";
import { CLUSTER_TAG, nodegroupName } from "./constants.js";

export interface ClusterValues {
  name: string;
  region: string;
  /** Exactly the zones to use (already chosen and checked): one worker node group per zone. */
  zones: string[];
  /** A minor such as "1.33". */
  kubernetesVersion: string;
  instanceType: string;
}

export interface RenderedClusterConfig {
  /** The YAML text handed to `eksctl create cluster -f`. */
  text: string;
  /** The same document as plain data (for -o json and for checks). */
  object: Record<string, unknown>;
}

function quoted(value: string): Scalar<string> {
  const scalar = new Scalar(value);
  // metadata.version must stay a string: an unquoted 1.30 would be read back as 1.3.
  scalar.type = Scalar.QUOTE_DOUBLE;
  return scalar;
}

function flowList(doc: Document, items: string[]) {
  const node = doc.createNode(items);
  node.flow = true;
  return node;
}

export function renderClusterConfig(templateText: string, values: ClusterValues): RenderedClusterConfig {
  const doc = parseDocument(templateText);
  if (doc.errors.length > 0) throw new Error(`cluster template is not valid YAML: ${doc.errors[0]?.message}`);

  doc.setIn(["metadata", "name"], values.name);
  doc.setIn(["metadata", "region"], values.region);
  doc.setIn(["metadata", "version"], quoted(values.kubernetesVersion));
  doc.setIn(["metadata", "tags", CLUSTER_TAG], values.name);
  doc.setIn(["availabilityZones"], flowList(doc, values.zones));

  const groups = doc.get("managedNodeGroups");
  if (!isSeq(groups) || !isMap(groups.items[0])) {
    throw new Error("cluster template: managedNodeGroups must list at least one node group");
  }
  const prototype = groups.items[0] as YAMLMap;
  groups.items = values.zones.map((zone, index) => {
    const group = prototype.clone() as YAMLMap;
    if (index > 0) {
      // The prototype's comments explain the fields once; repeating them per zone is noise.
      group.commentBefore = undefined;
      for (const pair of group.items) {
        if (pair.key && typeof pair.key === "object" && "commentBefore" in pair.key) {
          (pair.key as Scalar).commentBefore = undefined;
        }
      }
    }
    group.set("name", nodegroupName(zone));
    group.set("instanceType", values.instanceType);
    group.set("availabilityZones", flowList(doc, [zone]));
    return group;
  });

  return {
    text: doc.toString({ lineWidth: 0, flowCollectionPadding: false }),
    object: doc.toJS() as Record<string, unknown>,
  };
}
