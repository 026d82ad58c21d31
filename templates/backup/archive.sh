#!/bin/sh
# clouddrove registry backup -- archive.sh
#
# Streams the registry's data into ONE uncompressed tar archive in S3, plus its checksum:
#
#   s3://$BACKUP_BUCKET/$BACKUP_PREFIX<UTC timestamp>.tar          e.g. clouddrove/20250131T030000Z.tar
#   s3://$BACKUP_BUCKET/$BACKUP_PREFIX<UTC timestamp>.tar.sha256   "<sha256>  <name>.tar" (sha256sum -c format)
#
# The backup CronJob runs exactly this file (mounted from a ConfigMap). To run it by hand:
#
#   BACKUP_BUCKET=my-bucket BACKUP_REGION=eu-west-1 sh archive.sh
#
# Settings (environment):
#   BACKUP_BUCKET   bucket name (required)
#   BACKUP_PREFIX   key prefix, default "clouddrove/" (a missing trailing "/" is added)
#   BACKUP_REGION   bucket region (default: $AWS_REGION, then us-east-1)
#   DATA_DIR        the registry's storage root, default /var/lib/clouddrove (mounted read-only in the job)
# Credentials: whatever the AWS SDK finds (IRSA web identity, EKS Pod Identity, AWS_ACCESS_KEY_ID/...).
# The S3 remote is the rclone remote "backup", configured from RCLONE_CONFIG_BACKUP_* variables; any of
# them can be overridden (e.g. RCLONE_CONFIG_BACKUP_ENDPOINT for an S3-compatible server).
#
# Why it is built this way:
# - Streamed: tar | tee | rclone rcat. The data is never copied to local disk; the checksum is computed
#   from the same bytes as they pass (tee into a FIFO read by sha256sum or openssl). rclone's own hash
#   check of the whole stream is skipped (--ignore-checksum): it would cost as much CPU again, S3 checks
#   each part's MD5 (rclone sends it) on upload, and the sha256 written beside the archive is what
#   restore.sh verifies end to end.
# - Not compressed: registry layers are already gzip-compressed; gzip would burn CPU for almost nothing.
# - Consistent while pushes continue, without a snapshot: the registry writes everything that a file
#   refers to BEFORE the file that refers to it (layer blob, then the repository's _layers link, then the
#   manifest's blob, then its revision link, then the tag), and no GC or delete runs meanwhile. So the
#   archive lists the files in the REVERSE order -- tags, then manifest revisions, then layer links, then
#   blobs/ -- and each list is taken after the one before: whatever a listed file refers to already
#   existed when the next list was taken. (In short: repositories/ before blobs/.) Unfinished
#   uploads (_uploads) are left out. One race remains: a tag moved to a brand-new manifest while this
#   runs may point past the archive; restore.sh then points it at its previous manifest (the tag's own
#   history), and says so.
# - Output: the last line on stdout is machine-readable:
#     clouddrove-backup key=<key> bytes=<n> seconds=<n> sha256=<hex>
#
# Runs under busybox sh (the job image) and dash/bash with GNU tar. Exit status 0 only when the archive
# AND its checksum file are in the bucket.
set -eu

log() { echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) archive: $*" >&2; }
fail() {
  log "FAILED: $*"
  exit 1
}

# --- settings ---------------------------------------------------------------------------------------
BUCKET=${BACKUP_BUCKET:-}
PREFIX=${BACKUP_PREFIX-clouddrove/}
DATA_DIR=${DATA_DIR:-/var/lib/clouddrove}
[ -n "$BUCKET" ] || fail "BACKUP_BUCKET is not set (the S3 bucket to write to)"
case "$PREFIX" in "" | */) ;; *) PREFIX="$PREFIX/" ;; esac

# The rclone remote "backup": S3 with the SDK's own credential chain (env_auth).
: "${RCLONE_CONFIG_BACKUP_TYPE:=s3}"
: "${RCLONE_CONFIG_BACKUP_PROVIDER:=AWS}"
: "${RCLONE_CONFIG_BACKUP_ENV_AUTH:=true}"
: "${RCLONE_CONFIG_BACKUP_REGION:=${BACKUP_REGION:-${AWS_REGION:-us-east-1}}}"
# The job may write objects but need not be allowed to create or inspect buckets.
: "${RCLONE_CONFIG_BACKUP_NO_CHECK_BUCKET:=true}"
# A stream of unknown size is uploaded in parts of this size, at most 10,000 of them: 64M allows
# archives up to 625 GiB, using 4 x 64M of memory (upload concurrency 4).
: "${RCLONE_CONFIG_BACKUP_CHUNK_SIZE:=64M}"
export RCLONE_CONFIG_BACKUP_TYPE RCLONE_CONFIG_BACKUP_PROVIDER RCLONE_CONFIG_BACKUP_ENV_AUTH \
  RCLONE_CONFIG_BACKUP_REGION RCLONE_CONFIG_BACKUP_NO_CHECK_BUCKET RCLONE_CONFIG_BACKUP_CHUNK_SIZE

for tool in tar rclone sha256sum tee mkfifo mktemp date cut find grep; do
  command -v "$tool" >/dev/null 2>&1 || fail "'$tool' is not installed; this script needs: tar rclone sha256sum tee mkfifo mktemp find"
done

REGISTRY=docker/registry/v2
[ -d "$DATA_DIR/$REGISTRY/repositories" ] && [ -d "$DATA_DIR/$REGISTRY/blobs" ] ||
  fail "no registry data in $DATA_DIR/$REGISTRY (repositories/ and blobs/ expected). Is the registry's" \
    "storage rootdirectory $DATA_DIR, and has anything been pushed yet?"

# --- the archive ------------------------------------------------------------------------------------
# One archive per run, named by its UTC start time. Never overwrite one: two runs within the same second
# (a manual run beside the scheduled one) get the next second.
while :; do
  STAMP=$(date -u +%Y%m%dT%H%M%SZ)
  NAME="$STAMP.tar"
  KEY="$PREFIX$NAME"
  TARGET="backup:$BUCKET/$KEY"
  EXISTING=$(rclone lsf --files-only "backup:$BUCKET/$PREFIX") ||
    fail "cannot list s3://$BUCKET/$PREFIX (bucket, region and credentials right?)"
  printf '%s\n' "$EXISTING" | grep -qx "$NAME" || break
  sleep 1
done
STARTED=$(date +%s)

WORK=$(mktemp -d)
SUM_PID=""
cleanup() {
  [ -z "$SUM_PID" ] || kill "$SUM_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# stage NAME COMMAND...: runs one stage of the pipeline and records its exit status in $WORK/NAME.rc.
# (dash has no pipefail; this checks every stage, not only the last.)
stage() {
  _name=$1
  shift
  _rc=0
  "$@" || _rc=$?
  echo "$_rc" >"$WORK/$_name.rc"
}
status() { cat "$WORK/$1.rc" 2>/dev/null || echo "never ran"; }

# GNU tar exits 1 when a file changed while it was read (a tag moved, a directory gained a blob): the
# archive is still consistent thanks to the order below. Any other failure is fatal. (busybox tar has no
# such warning: 1 is an error there.)
TAR_TOLERATES=0
if tar --version 2>/dev/null | grep -q 'GNU tar'; then TAR_TOLERATES=1; fi

# members: every path to archive, one per line, in the order explained in the header. Directories come
# first so that the archive keeps their modes; _uploads (unfinished uploads) is pruned everywhere.
members() {
  repos="$REGISTRY/repositories"
  # Chained with &&: set -e does not apply inside a function called from `stage`, and a listing that
  # failed half-way must fail the run.
  cd "$DATA_DIR" &&
    find "$repos" -name _uploads -prune -o -type d -print &&
    find "$repos" -name _uploads -prune -o -type f -path '*/_manifests/tags/*' -print &&
    find "$repos" -name _uploads -prune -o -type f -path '*/_manifests/revisions/*' -print &&
    find "$repos" -name _uploads -prune -o -type f -path '*/_layers/*' -print &&
    # Anything else under repositories/ (nothing in registry 2.x; kept so a future layout is not lost).
    find "$repos" -name _uploads -prune -o -type f ! -path '*/_manifests/tags/*' \
      ! -path '*/_manifests/revisions/*' ! -path '*/_layers/*' -print &&
    find "$REGISTRY/blobs" -print
}

# sha256 of stdin, printed as "<hex> ...". openssl, where the image has it, uses the CPU's SHA
# instructions (~1 GB/s, four times coreutils' sha256sum); sha256sum (coreutils or busybox) is the
# fallback every image has.
sha256_stdin() {
  if command -v openssl >/dev/null 2>&1; then openssl dgst -sha256 -r; else sha256sum; fi
}
mkfifo "$WORK/sum.fifo"
sha256_stdin <"$WORK/sum.fifo" >"$WORK/sum" &
SUM_PID=$!

log "streaming $DATA_DIR/$REGISTRY to s3://$BUCKET/$KEY"
# tar archives exactly the listed paths (--no-recursion), in the listed order.
stage list members |
  stage tar tar -c -f - -C "$DATA_DIR" --no-recursion -T - |
  stage tee tee "$WORK/sum.fifo" |
  stage upload rclone rcat --ignore-checksum "$TARGET"

wait "$SUM_PID" || fail "computing the sha256 failed"
SUM_PID=""

[ "$(status upload)" = 0 ] || fail "upload to s3://$BUCKET/$KEY failed (rclone exit status $(status upload)); see the rclone messages above"
PROBLEM=""
TAR_RC=$(status tar)
if [ "$TAR_RC" = 1 ] && [ "$TAR_TOLERATES" = 1 ]; then
  log "note: files changed while they were archived (pushes in progress); the archive stays consistent"
elif [ "$TAR_RC" != 0 ]; then
  PROBLEM="tar failed (exit status $TAR_RC)"
fi
[ "$(status list)" = 0 ] || PROBLEM="listing the files failed (find exit status $(status list))"
[ "$(status tee)" = 0 ] || PROBLEM="tee failed (exit status $(status tee))"
if [ -n "$PROBLEM" ]; then
  # rclone uploaded whatever came through before the failure. Without a .sha256 nothing restores it,
  # but remove it if the credentials allow, so that nobody mistakes it for a backup.
  rclone deletefile "$TARGET" 2>/dev/null || log "could not delete the incomplete s3://$BUCKET/$KEY"
  fail "$PROBLEM; s3://$BUCKET/$KEY is NOT a valid backup"
fi

SHA256=$(cut -d ' ' -f 1 "$WORK/sum")
[ ${#SHA256} -eq 64 ] || fail "no checksum was computed"

# The object's size as S3 reports it (busybox wc cannot count past 4 GiB, S3 can).
BYTES=$(rclone lsf --format s "$TARGET") || fail "cannot read back the size of s3://$BUCKET/$KEY"
[ -n "$BYTES" ] || fail "s3://$BUCKET/$KEY is not in the bucket after the upload"

# The checksum file is written LAST: an archive without one is incomplete and restore.sh refuses it.
printf '%s  %s\n' "$SHA256" "$NAME" | rclone rcat "$TARGET.sha256" ||
  fail "could not write s3://$BUCKET/$KEY.sha256"

SECONDS_TAKEN=$(($(date +%s) - STARTED))
log "done: $BYTES bytes in ${SECONDS_TAKEN}s"
echo "clouddrove-backup key=$KEY bytes=$BYTES seconds=$SECONDS_TAKEN sha256=$SHA256"
