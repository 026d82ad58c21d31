// Moved to core/registry/v3.ts (deploy's renderer applies the 3.x layout too, and core/render does not
// import core/upgrade); re-exported for steps/upgrade/run.ts and bump.ts until they import it there.
export { hasV3Layout, registryContainer, v3ConfigProblems } from "../registry/v3.js";
