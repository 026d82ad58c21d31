/**
 * The password rotation's phases: at each one, the pull Secret's user is in the htpasswd file of the
 * replicas before and after that phase's rollout, with the password the pull Secret holds; and the record
 * in the cluster reads back whole.
 */
import { describe, expect, it } from "vitest";
import {
  phaseCredentials,
  ROTATION_PHASES,
  type Rotation,
  readRotation,
  remainingPhases,
  rotationSecret,
} from "../../src/core/deploy/rotation.js";

// Lines stand for bcrypt entries here: user:<the password they hash>.
const rotation: Rotation = {
  phase: "add-temporary",
  username: "clouddrove",
  oldPassword: "old",
  oldLine: "clouddrove:old",
  newPassword: "new",
  newLine: "clouddrove:new",
  temporaryLine: "clouddrove-rotating:new",
};
const accepts = (file: string, login: { username: string; password: string }) =>
  file.split("\n").includes(`${login.username}:${login.password}`);

describe("password rotation phases", () => {
  it("the pull Secret's credentials are accepted by the replicas before and after every phase", () => {
    let before = rotation.oldLine;
    for (const phase of ROTATION_PHASES) {
      const { htpasswd, username, password } = phaseCredentials(rotation, phase);
      expect(accepts(before, { username, password }), `${phase}: old replicas`).toBe(true);
      expect(accepts(htpasswd, { username, password }), `${phase}: new replicas`).toBe(true);
      before = htpasswd;
    }
    expect(before).toBe("clouddrove:new");
    // The old password works until the new-password phase's rollout.
    expect(
      accepts(phaseCredentials(rotation, "pull-temporary").htpasswd, {
        username: "clouddrove",
        password: "old",
      }),
    ).toBe(true);
    expect(
      accepts(phaseCredentials(rotation, "new-password").htpasswd, {
        username: "clouddrove",
        password: "old",
      }),
    ).toBe(false);
  });

  it("a stopped rotation goes on from its recorded phase, which runs again", () => {
    expect(remainingPhases("new-password")).toEqual(["new-password", "pull-new", "remove-temporary"]);
  });

  it("is recorded in a Secret that reads back whole, and an incomplete one is no rotation", () => {
    const secret = rotationSecret("clouddrove", { ...rotation, phase: "pull-new" });
    expect(secret.metadata).toEqual({ name: "registry-clouddrove-rotation", namespace: "clouddrove" });
    expect(readRotation(secret)).toEqual({ ...rotation, phase: "pull-new" });
    const { "new-password": _dropped, ...partial } = secret.data;
    expect(readRotation({ data: partial })).toBeUndefined();
    expect(readRotation(undefined)).toBeUndefined();
  });
});
