/**
 * `deploy --rotate-credentials`, and any deploy while a rotation is under way: the rotation's phases
 * (core/deploy/rotation.ts), each a deploy pass with that phase's htpasswd file and pull Secret, each
 * waiting for its rollout before the next. The phase is recorded before each pass, so that a rotation
 * stopped by a failure or Ctrl-C is finished by the next deploy, which never starts a second one.
 */
import type { Config } from "../config/schema.js";
import type { Rotation } from "../core/deploy/rotation.js";
import type { ClusterTarget } from "./cluster-target.js";
import type { CommandContext } from "./context.js";
import type { DeployFlags } from "./deploy-flags.js";

type ApplyAction = import("../core/deploy/objects.js").ApplyAction;
type RegistryCredentials = import("../core/render/types.js").RegistryCredentials;

/** One pass of a password rotation: its credentials, and whether it is the last (which reports). */
export interface RotationPass {
  credentials: RegistryCredentials;
  final: boolean;
  /** What the passes so far did to each object (kind/namespace/name -> action), for the last one's report. */
  changed: Map<string, ApplyAction>;
}

/** A deploy with the settings resolved: plain (no pass), or one pass of a rotation. */
type DeployPass = (pass?: RotationPass) => Promise<void>;

/** Runs the rotation under way or asked for; a plain deploy otherwise. Called with the lock held. */
export async function rotateOrDeploy(
  ctx: CommandContext,
  flags: DeployFlags,
  target: ClusterTarget,
  config: Config,
  deploy: DeployPass,
): Promise<void> {
  const { readRotationRecord } = await import("../steps/deploy/rotation.js");
  const recorded = await readRotationRecord(target.kube, config.namespace);
  if (recorded) {
    ctx.out.info(
      `A password rotation is under way (phase ${recorded.phase}): finishing it${flags.rotateCredentials ? " instead of starting another" : ""}.`,
    );
    return runRotation(ctx, target, config, recorded, deploy);
  }
  if (!flags.rotateCredentials) return deploy();
  const started = await startRotation(ctx, flags, target, config);
  // Nothing deployed yet to rotate from: the deploy writes the new password as a first deploy does.
  if (!started) return deploy();
  return runRotation(ctx, target, config, started, deploy);
}

/** The rotation from the stored credentials to a new password; undefined when none are stored. */
async function startRotation(
  ctx: CommandContext,
  flags: DeployFlags,
  target: ClusterTarget,
  config: Config,
): Promise<Rotation | undefined> {
  const { isComplete } = await import("../core/deploy/credentials.js");
  const { temporaryUser } = await import("../core/deploy/rotation.js");
  const { htpasswdLine, passwordInputs, resolveRegistryPassword } = await import("../config/secrets.js");
  const { readClusterCredentials } = await import("../steps/deploy/credentials.js");
  const { UsageError } = await import("../errors.js");
  const stored = await readClusterCredentials(target.kube, config.namespace);
  if (!isComplete(stored)) return undefined;
  const username = config.registry.username;
  if (stored.username !== username) {
    throw new UsageError(
      `The registry's user is ${stored.username} in the cluster and ${username} in the settings; a rotation changes the password only. Nothing was changed.`,
      { hint: `Set registry.username to ${stored.username} (--registry-username) to rotate its password.` },
    );
  }
  const password = await resolveRegistryPassword(passwordInputs(ctx, Boolean(flags.registryPasswordStdin)));
  if (password.value === stored.password) {
    throw new UsageError(
      "--rotate-credentials was given the password the registry has now. Nothing was changed.",
      {
        hint: "Give a new one (CLOUDDROVE_REGISTRY_PASSWORD, --registry-password-stdin), or unset it to have one generated.",
      },
    );
  }
  return {
    phase: "add-temporary",
    username,
    oldPassword: stored.password,
    oldLine: stored.htpasswd,
    newPassword: password.value,
    newLine: await htpasswdLine(username, password.value),
    temporaryLine: await htpasswdLine(temporaryUser(username), password.value),
  };
}

async function runRotation(
  ctx: CommandContext,
  target: ClusterTarget,
  config: Config,
  rotation: Rotation,
  deploy: DeployPass,
): Promise<void> {
  const { phaseCredentials, remainingPhases, ROTATION_PHASES } = await import("../core/deploy/rotation.js");
  const { deleteRotationRecord, readRotationRecord, saveRotationRecord } = await import(
    "../steps/deploy/rotation.js"
  );
  const { readClusterCredentials } = await import("../steps/deploy/credentials.js");
  const { ClouddroveError } = await import("../errors.js");
  const kube = target.kube;
  // http.secret stays: replicas of old and new generations serve side by side during each rollout.
  const { httpSecret } = await readClusterCredentials(kube, config.namespace);
  const changed = new Map<string, ApplyAction>();
  for (const phase of remainingPhases(rotation.phase)) {
    const current = { ...rotation, phase };
    const step = `${ROTATION_PHASES.indexOf(phase) + 1}/${ROTATION_PHASES.length}`;
    try {
      await saveRotationRecord(kube, config.namespace, current);
      ctx.out.info(`Password rotation, phase ${step}: ${phase}`);
      const { htpasswd, username, password } = phaseCredentials(current, phase);
      await deploy({
        credentials: { username, password, htpasswd, httpSecret: httpSecret ?? "" },
        final: phase === "remove-temporary",
        changed,
      });
    } catch (error) {
      const where = `The password rotation stopped in phase ${step} (${phase}); the registry accepts the credentials in Secret ${config.namespace}/registry-clouddrove-pull.`;
      const finish =
        "Run `clouddrove deploy` again (with or without --rotate-credentials): it finishes this rotation and starts no other.";
      if (error instanceof ClouddroveError) {
        error.details.push(where);
        Object.defineProperty(error, "hint", {
          value: error.hint ? `${error.hint}\n      ${finish}` : finish,
        });
      }
      throw error;
    }
  }
  // Deleted only if it is still this rotation's record (a second rotation never runs meanwhile: the lock).
  if (await readRotationRecord(kube, config.namespace)) await deleteRotationRecord(kube, config.namespace);
}
