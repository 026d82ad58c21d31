/**
 * The flags of `clouddrove deploy`, apart from the settings: declared in deploy.ts and read by the
 * modules it hands the work to (deploy-render.ts, deploy-run.ts), which import only this type.
 */
export interface DeployFlags extends Record<string, unknown> {
  dryRun?: boolean | string;
  showSecrets?: boolean;
  registryPasswordStdin?: boolean;
  rotateCredentials?: boolean;
  diff?: boolean;
  force?: boolean;
  forceConflicts?: boolean;
  smokeTest?: boolean;
  sandbox?: boolean;
  /** --no-retention-rule: leave the backup bucket's lifecycle configuration alone. */
  retentionRule?: boolean;
}
