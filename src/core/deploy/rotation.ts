/**
 * Rotating the registry password without locking anyone out. The registry reads its htpasswd file once,
 * when a replica starts, and keeps one password per user (a second line for the same user replaces the
 * first), so a replica accepts the old or the new password of a user, never both, and a rollout has old
 * and new replicas side by side. The rotation therefore goes through a temporary second user
 * (`<user>-rotating`, with the new password) and three rollouts, and moves the pull Secret only when every
 * replica accepts what it will hold:
 *
 * | phase            | htpasswd file                  | pull Secret      | rollout |
 * | ---------------- | ------------------------------ | ---------------- | ------- |
 * | add-temporary    | user:old, user-rotating:new    | user / old       | yes     |
 * | pull-temporary   | user:old, user-rotating:new    | user-rotating / new | no   |
 * | new-password     | user:new, user-rotating:new    | user-rotating / new | yes  |
 * | pull-new         | user:new, user-rotating:new    | user / new       | no      |
 * | remove-temporary | user:new                       | user / new       | yes     |
 *
 * In each row the pull Secret's credentials are in the file of the replicas before and after that row's
 * rollout. The old password keeps working until the new-password rollout replaces the replicas. The
 * rotation and its phase are kept in the cluster (Secret registry-clouddrove-rotation), so a run that
 * stopped is finished by the next deploy instead of starting another rotation.
 */

export const ROTATION_SECRET = "registry-clouddrove-rotation";

export const ROTATION_PHASES = [
  "add-temporary",
  "pull-temporary",
  "new-password",
  "pull-new",
  "remove-temporary",
] as const;
export type RotationPhase = (typeof ROTATION_PHASES)[number];

/** What a rotation needs to go on from any phase (kept in the rotation Secret, never anywhere else). */
export interface Rotation {
  phase: RotationPhase;
  username: string;
  oldPassword: string;
  /** htpasswd lines (user:bcrypt). */
  oldLine: string;
  newPassword: string;
  newLine: string;
  /** The temporary user's line, with the new password. */
  temporaryLine: string;
}

export function temporaryUser(username: string): string {
  return `${username}-rotating`;
}

/** The htpasswd file and the pull Secret's user and password during `phase`. */
export function phaseCredentials(
  rotation: Rotation,
  phase: RotationPhase,
): { htpasswd: string; username: string; password: string } {
  const { username, oldLine, newLine, temporaryLine, oldPassword, newPassword } = rotation;
  const temporary = temporaryUser(username);
  switch (phase) {
    case "add-temporary":
      return { htpasswd: `${oldLine}\n${temporaryLine}`, username, password: oldPassword };
    case "pull-temporary":
      return { htpasswd: `${oldLine}\n${temporaryLine}`, username: temporary, password: newPassword };
    case "new-password":
      return { htpasswd: `${newLine}\n${temporaryLine}`, username: temporary, password: newPassword };
    case "pull-new":
      return { htpasswd: `${newLine}\n${temporaryLine}`, username, password: newPassword };
    case "remove-temporary":
      return { htpasswd: newLine, username, password: newPassword };
  }
}

/** The phases still to run, from the recorded one (which may have stopped half-way: it runs again). */
export function remainingPhases(from: RotationPhase): RotationPhase[] {
  return ROTATION_PHASES.slice(ROTATION_PHASES.indexOf(from));
}

const FIELDS = {
  phase: "phase",
  username: "username",
  oldPassword: "old-password",
  oldLine: "old-htpasswd",
  newPassword: "new-password",
  newLine: "new-htpasswd",
  temporaryLine: "temporary-htpasswd",
} as const satisfies Record<keyof Rotation, string>;

const base64 = (text: string) => Buffer.from(text, "utf8").toString("base64");
const decode = (value: unknown) =>
  typeof value === "string" ? Buffer.from(value, "base64").toString("utf8") : undefined;

/**
 * The rotation Secret. It carries no managed-by label: deploy's prune never removes it; the rotation
 * deletes it when it is over.
 */
export function rotationSecret(namespace: string, rotation: Rotation) {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: ROTATION_SECRET, namespace },
    type: "Opaque",
    data: Object.fromEntries(
      (Object.keys(FIELDS) as Array<keyof Rotation>).map((key) => [FIELDS[key], base64(rotation[key])]),
    ),
  };
}

/** The rotation a Secret records; undefined when there is none or it cannot be read whole. */
export function readRotation(secret: { data?: Record<string, string> } | undefined): Rotation | undefined {
  if (!secret?.data) return undefined;
  const values = Object.fromEntries(
    (Object.keys(FIELDS) as Array<keyof Rotation>).map((key) => [key, decode(secret.data?.[FIELDS[key]])]),
  ) as Partial<Record<keyof Rotation, string>>;
  if (Object.values(values).some((v) => v === undefined || v === "")) return undefined;
  if (!ROTATION_PHASES.includes(values.phase as RotationPhase)) return undefined;
  return values as Rotation;
}
