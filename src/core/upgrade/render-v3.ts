// Moved to core/render/at-version.ts (deploy's renderer applies the 3.x layout too, and core/render does not
// import core/upgrade); re-exported for steps/upgrade/bump.ts until it imports it there.
export { htpasswdLineOf, registryObjectsAt } from "../render/at-version.js";
