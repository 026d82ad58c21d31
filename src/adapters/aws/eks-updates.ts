/**
 * EKS updates: the control plane's version (UpdateClusterVersion, what `eksctl upgrade cluster` asks
 * for), an add-on's version (UpdateAddon, what `eksctl update addon` asks for), and waiting for any EKS
 * update to finish (DescribeUpdate). Node groups' version updates are in eks.ts and wait here too.
 */
import {
  DescribeAddonCommand,
  DescribeAddonVersionsCommand,
  DescribeUpdateCommand,
  type EKSClient,
  ListAddonsCommand,
  UpdateAddonCommand,
  UpdateClusterVersionCommand,
} from "@aws-sdk/client-eks";
import { OperationError } from "../../errors.js";
import { aws, isAwsError } from "./errors.js";
import { type PollOptions, pollUntil } from "./poll.js";

/** What an update is of: the cluster itself, one of its node groups or one of its add-ons. */
export interface UpdateSubject {
  clusterName: string;
  nodegroupName?: string;
  addonName?: string;
}

function subjectText(subject: UpdateSubject): string {
  if (subject.nodegroupName) return `nodegroup ${subject.nodegroupName}`;
  if (subject.addonName) return `add-on ${subject.addonName}`;
  return `the control plane of ${subject.clusterName}`;
}

function describeUpdateCommand(subject: UpdateSubject, updateId: string): string {
  const extra = subject.nodegroupName
    ? ` --nodegroup-name ${subject.nodegroupName}`
    : subject.addonName
      ? ` --addon-name ${subject.addonName}`
      : "";
  return `aws eks describe-update --name ${subject.clusterName}${extra} --update-id ${updateId}`;
}

/** Waits until EKS update `updateId` is no longer InProgress; anything but Successful throws with EKS's errors. */
export async function waitForUpdate(
  eks: EKSClient,
  subject: UpdateSubject,
  updateId: string,
  change: string,
  poll: Omit<PollOptions, "what">,
  onStatus?: (status: string) => void,
  hint = "fix the cause, then run the command again.",
): Promise<void> {
  const final = await pollUntil(
    async () => {
      const answer = await aws(`reading EKS update ${updateId}`, () =>
        eks.send(
          new DescribeUpdateCommand({
            name: subject.clusterName,
            updateId,
            nodegroupName: subject.nodegroupName,
            addonName: subject.addonName,
          }),
        ),
      );
      const status = answer.update?.status ?? "InProgress";
      onStatus?.(`EKS update ${updateId}: ${status}`);
      return status === "InProgress" ? undefined : answer.update;
    },
    { ...poll, what: `EKS update ${updateId} of ${subjectText(subject)} to finish` },
  );
  if (final.status !== "Successful") {
    throw new OperationError(
      `EKS update ${updateId} of ${subjectText(subject)} to ${change}: ${final.status}.`,
      {
        details: (final.errors ?? []).map((e) => `${e.errorCode}: ${e.errorMessage}`),
        hint: `See \`${describeUpdateCommand(subject, updateId)}\`; ${hint}`,
      },
    );
  }
}

/** Asks EKS to move the control plane to `version` (one minor up) and waits until it has. */
export async function updateClusterVersion(
  eks: EKSClient,
  clusterName: string,
  version: string,
  poll: Omit<PollOptions, "what">,
  onStatus?: (status: string) => void,
): Promise<string> {
  const started = await eks
    .send(new UpdateClusterVersionCommand({ name: clusterName, version }))
    .catch((error) => {
      if (isAwsError(error, "ResourceInUseException")) {
        throw new OperationError(`EKS is already updating cluster ${clusterName}.`, {
          cause: error,
          hint: `Wait until \`aws eks list-updates --name ${clusterName}\` shows it finished, then run the command again.`,
        });
      }
      return aws(`asking EKS to upgrade cluster ${clusterName} to Kubernetes ${version}`, () =>
        Promise.reject(error),
      );
    });
  const updateId = started.update?.id as string;
  onStatus?.(`EKS update ${updateId}: ${started.update?.status ?? "InProgress"}`);
  await waitForUpdate(eks, { clusterName }, updateId, `Kubernetes ${version}`, poll, onStatus);
  return updateId;
}

export interface AddonState {
  name: string;
  version?: string;
}

/** The add-ons EKS manages on the cluster, with their versions. */
export async function listAddons(eks: EKSClient, clusterName: string): Promise<AddonState[]> {
  const names: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await aws(`listing the add-ons of EKS cluster ${clusterName}`, () =>
      eks.send(new ListAddonsCommand({ clusterName, nextToken })),
    );
    names.push(...(page.addons ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return Promise.all(
    names.map(async (name) => {
      const answer = await aws(`describing add-on ${name}`, () =>
        eks.send(new DescribeAddonCommand({ clusterName, addonName: name })),
      );
      return { name, version: answer.addon?.addonVersion };
    }),
  );
}

/** The version of an add-on EKS names as the default for a Kubernetes minor (undefined: none). */
export async function defaultAddonVersion(
  eks: EKSClient,
  addonName: string,
  kubernetesVersion: string,
): Promise<string | undefined> {
  const answer = await aws(
    `listing the versions of add-on ${addonName} for Kubernetes ${kubernetesVersion}`,
    () => eks.send(new DescribeAddonVersionsCommand({ addonName, kubernetesVersion })),
  );
  const versions = answer.addons?.find((a) => a.addonName === addonName)?.addonVersions ?? [];
  const isDefault = versions.find((v) =>
    (v.compatibilities ?? []).some((c) => c.clusterVersion === kubernetesVersion && c.defaultVersion),
  );
  return isDefault?.addonVersion ?? versions[0]?.addonVersion;
}

/** Moves an add-on to `version` (keeping the cluster's own changes to its settings) and waits. */
export async function updateAddon(
  eks: EKSClient,
  clusterName: string,
  addonName: string,
  version: string,
  poll: Omit<PollOptions, "what">,
  onStatus?: (status: string) => void,
): Promise<void> {
  const started = await aws(`asking EKS to update add-on ${addonName} to ${version}`, () =>
    eks.send(
      new UpdateAddonCommand({ clusterName, addonName, addonVersion: version, resolveConflicts: "PRESERVE" }),
    ),
  );
  const updateId = started.update?.id as string;
  await waitForUpdate(eks, { clusterName, addonName }, updateId, version, poll, onStatus);
}
