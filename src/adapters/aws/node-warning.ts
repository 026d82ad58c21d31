/**
 * The AWS SDK warns, on Node 20, that its releases after the first week of January 2027 will need Node 22.
 * clouddrove supports Node 20 (engines >=20.19) and pins its SDK version in package-lock.json, so the
 * eight-line warning on every S3 or AWS command is noise a user can do nothing about. The SDK's own switch
 * turns it off; it is read when a client is created. Whoever upgrades the SDK past that date must raise
 * the Node requirement, which npm's engine check then enforces.
 */
export function silenceSdkNodeVersionWarning(): void {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
}
