#!/bin/sh
# clouddrove registry backup -- archive.sh
#
# Backs the registry's data up to S3 incrementally. Under s3://$BACKUP_BUCKET/$BACKUP_PREFIX:
#
#   blobs/sha256/<2>/<digest>/data   every blob ONCE, in the registry's own layout (its name is its
#                                    sha256). A blob whose key is already in the bucket is never read
#                                    or uploaded again: a second run costs what is new, not the store.
#   <UTC timestamp>.tar              one SNAPSHOT per run -- its key is what restore.sh and
#                                    `clouddrove backup restore --from` take, e.g. clouddrove/20250131T030000Z.tar.
#                                    A small uncompressed tar: the repository metadata
#                                    (docker/registry/v2/repositories: tags, manifest revisions, layer
#                                    links) and clouddrove-snapshot/blobs, the blobs it references, one
#                                    "<sha256> <bytes>" per line.
#   <UTC timestamp>.tar.sha256       "<sha256>  <name>.tar" (sha256sum -c format), written LAST
#   running/<UTC timestamp>-<id>     present while a run is under way (see retention below)
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
#   RCLONE_TRANSFERS  blobs uploaded in parallel, default 8 (each large one also in 4 parts at a time)
#   BACKUP_KEEP_LAST       retention: the newest N complete snapshots are always kept (default 7)
#   BACKUP_RETENTION_DAYS  retention: so is every snapshot younger than this (default 30; 0 = by count only)
#   BACKUP_PRUNE_GRACE_SECONDS  a blob uploaded less than this ago is never deleted (default 21600, the
#                          Job's deadline: a run still going may reference it without a snapshot yet)
#   BACKUP_PRUNE_ONLY      "true": only apply the retention, take no snapshot
# Credentials: whatever the AWS SDK finds (IRSA web identity, EKS Pod Identity, AWS_ACCESS_KEY_ID/...).
# The S3 remote is the rclone remote "backup", configured from RCLONE_CONFIG_BACKUP_* variables; any of
# them can be overridden (e.g. RCLONE_CONFIG_BACKUP_ENDPOINT for an S3-compatible server).
#
# Why it is built this way:
# - Content-addressed: a registry's store is mostly immutable blobs named by their checksum, plus small
#   link files. Which blobs are new is decided by comparing two listings (the volume's and the
#   bucket's), not by reading anything; only those are uploaded (rclone copy, in parallel, multipart
#   for large ones; rclone checks each upload's MD5).
# - Consistent while pushes continue, without a volume snapshot: the registry writes everything a file
#   refers to BEFORE the file that refers to it (layer blob, then the repository's _layers link, then
#   the manifest's blob, then its revision link, then the tag), and no GC or delete runs meanwhile. So
#   the metadata is copied first, in the reverse order -- tags, then manifest revisions, then layer
#   links -- each class read after the one before, and the blobs are listed after all of it: whatever a
#   copied file refers to already existed when the next list was taken. Unfinished uploads (_uploads)
#   are left out. A tag caught half-written is settled by restore.sh on its previous manifest (the
#   tag's own history), which says so.
# - The snapshot is built in a temporary directory (metadata is link files of ~71 bytes: small), so its
#   checksum is of exactly the bytes uploaded.
# - What a run costs beyond its new data is a few requests one after another, so everything else runs
#   beside them: the volume is read while the run announces itself and lists the bucket (one listing for
#   snapshots and blobs), the snapshot is unpacked, packed and uploaded while the blobs go up, and the
#   announcement, rewritten to hold the checksum line, is moved to <name>.tar.sha256 at the end.
# - Retention, after the snapshot is complete: snapshots expire by count and age (expired ones are
#   deleted .sha256 first, so a half-deleted one is merely incomplete), then mark and sweep: a blob is
#   deleted only when no remaining snapshot lists it. A run going on beside this one (a manual
#   `clouddrove backup now` next to the scheduled Job) may rely on a blob it saw in the bucket without
#   having written its snapshot yet, so: every run announces itself under running/ before it lists the
#   bucket, the sweep is skipped while another run's announcement is younger than the Job's deadline,
#   blobs uploaded within the grace period are never deleted, and a run that saw another run announced
#   re-lists the bucket before its .sha256 and uploads again any blob that went meanwhile (a sweep that
#   missed this run's announcement announced itself first, so this run's listing shows it). Retention is not an S3 lifecycle rule: S3
#   would expire a blob by ITS age, although a newer snapshot still references it.
# - Output: the last line on stdout is machine-readable:
#     clouddrove-backup key=<snapshot key> bytes=<snapshot bytes> seconds=<n> sha256=<snapshot sha256>
#       blobs=<referenced> blob_bytes=<their bytes> uploaded=<new blobs> uploaded_bytes=<their bytes>
#       expired=<snapshots deleted> swept=<blobs deleted> swept_bytes=<their bytes>
#   (with BACKUP_PRUNE_ONLY=true: clouddrove-prune expired=... swept=... swept_bytes=...)
#
# Runs under busybox sh (the job image) and dash/bash with GNU tar. Exit status 0 only when every blob,
# the snapshot AND its checksum file are in the bucket.
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
KEEP_LAST=${BACKUP_KEEP_LAST:-7}
RETENTION_DAYS=${BACKUP_RETENTION_DAYS:-30}
GRACE_SECONDS=${BACKUP_PRUNE_GRACE_SECONDS:-21600}
PRUNE_ONLY=${BACKUP_PRUNE_ONLY:-false}
[ -n "$BUCKET" ] || fail "BACKUP_BUCKET is not set (the S3 bucket to write to)"
case "$PREFIX" in "" | */) ;; *) PREFIX="$PREFIX/" ;; esac
for setting in "BACKUP_KEEP_LAST=$KEEP_LAST" "BACKUP_RETENTION_DAYS=$RETENTION_DAYS" \
  "BACKUP_PRUNE_GRACE_SECONDS=$GRACE_SECONDS"; do
  case "${setting#*=}" in "" | *[!0-9]*) fail "$setting is not a whole number" ;; esac
done
[ "$KEEP_LAST" -ge 1 ] || fail "BACKUP_KEEP_LAST=$KEEP_LAST: at least the newest snapshot is always kept (1 or more)"

# The rclone remote "backup": S3 with the SDK's own credential chain (env_auth).
: "${RCLONE_CONFIG_BACKUP_TYPE:=s3}"
: "${RCLONE_CONFIG_BACKUP_PROVIDER:=AWS}"
: "${RCLONE_CONFIG_BACKUP_ENV_AUTH:=true}"
: "${RCLONE_CONFIG_BACKUP_REGION:=${BACKUP_REGION:-${AWS_REGION:-us-east-1}}}"
# The job may write objects but need not be allowed to create or inspect buckets.
: "${RCLONE_CONFIG_BACKUP_NO_CHECK_BUCKET:=true}"
# A large blob is uploaded in parts of this size (4 at a time), at most 10,000 of them.
: "${RCLONE_CONFIG_BACKUP_CHUNK_SIZE:=64M}"
# Blobs uploaded in parallel: most are small, so the round trips, not the bandwidth, set the pace.
: "${RCLONE_TRANSFERS:=8}"
export RCLONE_CONFIG_BACKUP_TYPE RCLONE_CONFIG_BACKUP_PROVIDER RCLONE_CONFIG_BACKUP_ENV_AUTH \
  RCLONE_CONFIG_BACKUP_REGION RCLONE_CONFIG_BACKUP_NO_CHECK_BUCKET RCLONE_CONFIG_BACKUP_CHUNK_SIZE \
  RCLONE_TRANSFERS

for tool in tar rclone sha256sum mktemp date cut find stat grep awk sed sort wc tr head; do
  command -v "$tool" >/dev/null 2>&1 || fail "'$tool' is not installed; this script needs: tar rclone sha256sum mktemp find stat grep awk"
done

REGISTRY=docker/registry/v2
if [ "$PRUNE_ONLY" != true ]; then
  [ -d "$DATA_DIR/$REGISTRY/repositories" ] && [ -d "$DATA_DIR/$REGISTRY/blobs" ] ||
    fail "no registry data in $DATA_DIR/$REGISTRY (repositories/ and blobs/ expected). Is the registry's" \
      "storage rootdirectory $DATA_DIR, and has anything been pushed yet?"
fi
BLOBS_DIR="backup:$BUCKET/${PREFIX}blobs"
RUNNING_DIR="backup:$BUCKET/${PREFIX}running"
# A run older than this is over (the Job's activeDeadlineSeconds): its announcement no longer counts.
RUN_DEADLINE_SECONDS=21600

# utc_stamp SECONDS-AGO: the UTC time then, in the snapshots' name format (busybox and GNU date).
utc_stamp() { date -u -d "@$(($(date +%s) - $1))" +%Y%m%dT%H%M%SZ; }

# --- retention (section 5 of a run; the whole run with BACKUP_PRUNE_ONLY=true) -----------------------
EXPIRED=0
SWEPT=0
SWEPT_BYTES=0
# prune: expire snapshots by count and age, then delete the blobs no remaining snapshot lists.
# retention_plan: from $WORK/objects.sizes ("<name> <bytes>" of the prefix's own objects), what happens to
# each snapshot, "keep|expire|unfinished <name>", into $WORK/retention.
retention_plan() {
  cut -d ' ' -f 1 "$WORK/objects.sizes" >"$WORK/objects"
  # Newest first (names are UTC times). keep: among the newest KEEP_LAST complete ones, or younger than
  # RETENTION_DAYS (0: by count only). A snapshot without its .sha256 is a run that did not finish (or
  # one still going): it goes once no run that old can still be going, and references nothing meanwhile.
  grep -x '[0-9]\{8\}T[0-9]\{6\}Z\.tar' "$WORK/objects" | sort -r |
    awk -v objects="$WORK/objects" -v keep="$KEEP_LAST" -v days="$RETENTION_DAYS" \
      -v cutoff="$(utc_stamp $((RETENTION_DAYS * 86400)))" -v stale="$(utc_stamp $RUN_DEADLINE_SECONDS)" '
      BEGIN { while ((getline line < objects) > 0) present[line] = 1 }
      {
        stamp = substr($0, 1, 16)
        if (!(($0 ".sha256") in present)) { print (stamp < stale ? "expire" : "unfinished"), $0; next }
        complete++
        print ((complete <= keep || (days > 0 && stamp >= cutoff)) ? "keep" : "expire"), $0
      }' >"$WORK/retention"
}

# nothing_expires: the listing this run took at its start, plus its own complete snapshot, expires
# nothing. Then no snapshot is deleted and no blob can have become unreferenced, so the retention costs no
# further request. (Snapshots written meanwhile by another run are not in that listing: they could only
# keep more, never expire one more. When something does expire, prune lists the bucket afresh.)
nothing_expires() {
  { printf '%s\n' "$EXISTING" | grep -v / || true
    printf '%s %s\n%s %s\n' "$NAME" "$BYTES" "$NAME.sha256" 0; } >"$WORK/objects.sizes"
  retention_plan
  ! grep -q '^expire ' "$WORK/retention"
}

prune() {
  rclone lsf --files-only --format ps --separator ' ' "backup:$BUCKET/$PREFIX" >"$WORK/objects.sizes" ||
    { log "retention skipped: cannot list s3://$BUCKET/$PREFIX"; return 1; }
  retention_plan
  # The .sha256 goes first: a snapshot whose deletion is interrupted is merely incomplete.
  for name in $(awk '$1 == "expire" { print $2 }' "$WORK/retention"); do
    rclone deletefile "backup:$BUCKET/$PREFIX$name.sha256" 2>/dev/null || true
    rclone deletefile "backup:$BUCKET/$PREFIX$name" ||
      { log "retention stopped: cannot delete s3://$BUCKET/$PREFIX$name"; return 1; }
    EXPIRED=$((EXPIRED + 1))
    log "expired snapshot $PREFIX$name"
  done

  # A blob becomes unreferenced when a snapshot that listed it expires: with none expired, a backup run
  # skips the mark and sweep (four more requests every night for nothing). Blobs no snapshot ever
  # listed (a run that failed after uploading) go with the next sweep; BACKUP_PRUNE_ONLY=true always sweeps.
  if [ "$EXPIRED" = 0 ] && [ "$PRUNE_ONLY" != true ]; then
    log "retention: no snapshot expired, so no blob became unreferenced: nothing to sweep"
    return 0
  fi

  # Mark: the blobs every kept snapshot lists. Any snapshot that cannot be read stops the sweep: a
  # blob is deleted only when it is certain that nothing kept needs it.
  : >"$WORK/marked"
  awk '$1 == "keep" { print $2 }' "$WORK/retention" >"$WORK/keep"
  # The kept snapshots up to 256 MiB in one rclone run (a snapshot is metadata: small); a larger object
  # is most likely a full archive of an earlier clouddrove, looked at one by one below.
  awk -v sizes="$WORK/objects.sizes" '
    BEGIN { while ((getline line < sizes) > 0) { split(line, field, " "); size[field[1]] = field[2] } }
    size[$1] <= 268435456' "$WORK/keep" >"$WORK/keep.small"
  mkdir -p "$WORK/kept"
  rclone copy --files-from-raw "$WORK/keep.small" --no-traverse "backup:$BUCKET/$PREFIX" "$WORK/kept" ||
    { log "retention stopped before deleting any blob: cannot download the kept snapshots"; return 1; }
  for name in $(cat "$WORK/keep"); do
    # A full archive of an earlier clouddrove holds its blobs itself and lists none; a snapshot's first
    # member is clouddrove-snapshot/ (read from the first kilobyte of an object not downloaded).
    if [ -f "$WORK/kept/$name" ]; then
      first=$(tar -tf "$WORK/kept/$name" 2>/dev/null | head -n 1)
    else
      first=$(rclone cat --count 1024 "backup:$BUCKET/$PREFIX$name" | tar -tf - 2>/dev/null | head -n 1)
    fi
    case "$first" in clouddrove-snapshot/*) ;; *) continue ;; esac
    if [ -f "$WORK/kept/$name" ]; then
      tar -xOf "$WORK/kept/$name" clouddrove-snapshot/blobs >>"$WORK/marked"
    else
      rclone cat "backup:$BUCKET/$PREFIX$name" | tar -xOf - clouddrove-snapshot/blobs >>"$WORK/marked"
    fi || { log "retention stopped before deleting any blob: cannot read the blob list of $PREFIX$name"; return 1; }
  done

  # Sweep, unless another run is going on (it may rely on a blob it saw in the bucket).
  rclone lsf --files-only "$RUNNING_DIR/" >"$WORK/running" 2>/dev/null || : >"$WORK/running"
  OTHERS=$(awk -v self="${RUN_NAME:-none}" -v stale="$(utc_stamp $RUN_DEADLINE_SECONDS)" \
    '$0 != self && $0 >= stale' "$WORK/running")
  if [ -n "$OTHERS" ]; then
    log "blobs not swept: another backup run is going on (s3://$BUCKET/${PREFIX}running/$(echo "$OTHERS" | head -n 1))"
    return 0
  fi
  # Blobs uploaded within the grace period are left alone (a run still going may need them).
  _rc=0
  rclone lsf -R --fast-list --files-only --format ps --separator ' ' --use-server-modtime \
    --min-age "${GRACE_SECONDS}s" "$BLOBS_DIR" >"$WORK/stored" || _rc=$?
  [ "$_rc" = 0 ] || [ "$_rc" = 3 ] || { log "blobs not swept: cannot list s3://$BUCKET/${PREFIX}blobs/"; return 1; }
  awk -v marked="$WORK/marked" '
    BEGIN { while ((getline line < marked) > 0) { split(line, field, " "); keep[field[1]] = 1 } }
    { split($1, part, "/"); if (!(part[3] in keep)) print }' "$WORK/stored" >"$WORK/sweep"
  read -r SWEPT SWEPT_BYTES <<SUMS
$(awk '{ n++; b += $2 } END { printf "%d %.0f\n", n, b }' "$WORK/sweep")
SUMS
  if [ "$SWEPT" -gt 0 ]; then
    cut -d ' ' -f 1 "$WORK/sweep" >"$WORK/sweep.paths"
    rclone delete --fast-list --files-from-raw "$WORK/sweep.paths" "$BLOBS_DIR" ||
      { log "sweeping unreferenced blobs failed part-way; the next run sweeps the rest"; return 1; }
  fi
  log "retention: $EXPIRED snapshots expired, $SWEPT unreferenced blobs ($SWEPT_BYTES bytes) deleted"
}

if [ "$PRUNE_ONLY" = true ]; then
  WORK=$(mktemp -d)
  # Announced like a backup run (under a name no backup run takes): a run that starts meanwhile then
  # knows a sweep may be under way.
  RUN_NAME=$(date -u +%Y%m%dT%H%M%SZ)-prune
  trap 'rclone deletefile "$RUNNING_DIR/$RUN_NAME" 2>/dev/null || true; rm -rf "$WORK"' EXIT
  trap 'exit 130' INT TERM
  printf '%s\n' "${HOSTNAME:-archive.sh} prune" | rclone rcat "$RUNNING_DIR/$RUN_NAME" ||
    fail "cannot write s3://$BUCKET/${PREFIX}running/$RUN_NAME (bucket, region and credentials right?)"
  prune || fail "retention did not finish (see above); nothing it kept was deleted"
  echo "clouddrove-prune expired=$EXPIRED swept=$SWEPT swept_bytes=$SWEPT_BYTES"
  exit 0
fi

# --- the run's working directory; the volume is read while the bucket is asked ----------------------
STARTED=$(date +%s)
WORK=$(mktemp -d)
ANNOUNCED=""
READING_VOLUME=""
UNFINISHED_SNAPSHOT=""
cleanup() {
  [ -z "$SCRATCH" ] || rm -rf "$SCRATCH"
  [ -z "$READING_VOLUME" ] || { kill "$READING_VOLUME" 2>/dev/null; wait "$READING_VOLUME" 2>/dev/null; } || true
  # A snapshot uploaded by a run that then failed has no .sha256: remove it rather than leave it to expire.
  [ -z "$UNFINISHED_SNAPSHOT" ] || { wait 2>/dev/null; rclone deletefile "$UNFINISHED_SNAPSHOT" 2>/dev/null; } || true
  [ -z "$ANNOUNCED" ] || rclone deletefile "$ANNOUNCED" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
SCRATCH=""

# GNU tar exits 1 when a file changed while it was read (a tag moved): the order below keeps the
# snapshot consistent. Any other failure is fatal. (busybox tar has no such warning: 1 is an error there.)
TAR_TOLERATES=0
if tar --version 2>/dev/null | grep -q 'GNU tar'; then TAR_TOLERATES=1; fi

# --- 1. the metadata, in the reverse order of the registry's writes ---------------------------------
# read_metadata WHAT FIND-TESTS...: reads the files under repositories/ that match into the next
# $WORK/part-N.tar (a tar keeps modes and modification times -- restore.sh orders a tag's history by
# them). Each class is listed only after the one before was read: that is the whole consistency
# argument. Unpacking them into the snapshot does not matter to it, and happens later, beside the upload.
PARTS=0
read_metadata() {
  _what=$1
  shift
  PARTS=$((PARTS + 1))
  (cd "$DATA_DIR" && find "$REGISTRY/repositories" -name _uploads -prune -o "$@" -print) >"$WORK/list" ||
    fail "listing the $_what failed"
  _rc=0
  wc -l <"$WORK/list" >>"$WORK/entries"
  tar -c -f "$WORK/part-$PARTS.tar" -C "$DATA_DIR" --no-recursion -T "$WORK/list" || _rc=$?
  if [ "$_rc" = 1 ] && [ "$TAR_TOLERATES" = 1 ]; then
    log "note: $_what changed while they were copied (pushes in progress); the snapshot stays consistent"
  elif [ "$_rc" != 0 ]; then
    fail "tar could not read the $_what (exit status $_rc)"
  fi
}

# --- 2. the blobs it references: every blob on the volume now ---------------------------------------
# "sha256/<2>/<hex>/data <bytes>", from a listing (nothing is read); rclone lists the bucket the same way.
BLOB_LINE='^sha256/[0-9a-f][0-9a-f]/[0-9a-f]\{64\}/data [0-9][0-9]*$'

# read_volume: sections 1 and 2, into $WORK/part-*.tar and $WORK/local. Nothing in them touches the
# bucket, so they run in the background from the start, beside the naming, the announcement and the
# bucket's listing (a second run's fixed cost is mostly those round trips, one after another).
read_volume() {
  log "copying the repository metadata of $DATA_DIR/$REGISTRY"
  read_metadata directories -type d
  read_metadata tags -type f -path '*/_manifests/tags/*'
  read_metadata "manifest revisions" -type f -path '*/_manifests/revisions/*'
  read_metadata "layer links" -type f -path '*/_layers/*'
  # Anything else under repositories/ (nothing in registry 2.x; kept so a future layout is not lost).
  read_metadata "other repository files" -type f ! -path '*/_manifests/tags/*' \
    ! -path '*/_manifests/revisions/*' ! -path '*/_layers/*'
  # find and stat rather than rclone: a tenth of the time, and this listing is on every run's path.
  (cd "$DATA_DIR/$REGISTRY/blobs" && { [ ! -d sha256 ] || find sha256 -type f -name data -exec stat -c '%n %s' {} +; }) \
    >"$WORK/local.all" || fail "cannot list the blobs in $DATA_DIR/$REGISTRY/blobs"
  grep "$BLOB_LINE" "$WORK/local.all" >"$WORK/local" || true
}
read_volume &
READING_VOLUME=$!

# --- the snapshot's name, the announcement, and one listing of the bucket --------------------------
# One snapshot per run, named by its UTC start time. The run announces itself (running/<time>-<id>)
# BEFORE it lists the bucket: a retention sweep elsewhere that lists running/ after that leaves the blobs
# alone, and one that listed it before had announced itself first, so this run's listing shows it
# (OTHERS_AT_START) and the run checks its blobs again at the end. One recursive listing then answers
# everything: the snapshots (naming, retention) and the blobs (what to upload). Never overwrite a
# snapshot: a run that finds its name taken, or another run announced in the same second, tries the next
# second (after a pause that differs between runs, so two runs that see each other part).
RUN_ID=$(cut -c 1-8 /proc/sys/kernel/random/uuid 2>/dev/null || echo "$$")
case "$RUN_ID" in "" | *[!0-9a-f]*) RUN_ID=$(printf '%08x' "$$") ;; esac
while :; do
  STAMP=$(date -u +%Y%m%dT%H%M%SZ)
  NAME="$STAMP.tar"
  KEY="$PREFIX$NAME"
  TARGET="backup:$BUCKET/$KEY"
  RUN_NAME="$STAMP-$RUN_ID"
  printf '%s\n' "${HOSTNAME:-archive.sh}" | rclone rcat "$RUNNING_DIR/$RUN_NAME" ||
    fail "cannot write s3://$BUCKET/${PREFIX}running/$RUN_NAME (bucket, region and credentials right?)"
  ANNOUNCED="$RUNNING_DIR/$RUN_NAME"
  # "<key under the prefix> <bytes>"; a prefix with nothing in it yet is "directory not found" (3).
  _rc=0
  rclone lsf -R --fast-list --files-only --format ps --separator ' ' "backup:$BUCKET/$PREFIX" \
    >"$WORK/bucket" || _rc=$?
  [ "$_rc" = 0 ] || [ "$_rc" = 3 ] || fail "cannot list s3://$BUCKET/$PREFIX (rclone exit status $_rc)"
  # Snapshots and announcements ("<name> <bytes>": the retention of a run that expires nothing needs no
  # other listing), and the blobs ("sha256/<2>/<hex>/data <bytes>").
  EXISTING=$(grep -v '^blobs/' "$WORK/bucket" || true)
  sed -n 's|^blobs/||p' "$WORK/bucket" >"$WORK/remote"
  printf '%s\n' "$EXISTING" | cut -d ' ' -f 1 | grep -v -x "running/$RUN_NAME" |
    grep -q -e "^$NAME\$" -e "^running/$STAMP\$" -e "^running/$STAMP-" || break
  rclone deletefile "$ANNOUNCED" || fail "cannot delete s3://$BUCKET/${PREFIX}running/$RUN_NAME"
  ANNOUNCED=""
  sleep $((1 + 0x$(printf '%s' "$RUN_ID" | cut -c 1-2) % 3))
done
# Runs already going on (announced, younger than the deadline): only they can be sweeping meanwhile.
OTHERS_AT_START=$(printf '%s\n' "$EXISTING" | cut -d ' ' -f 1 | sed -n 's|^running/||p' |
  awk -v self="$RUN_NAME" -v stale="$(utc_stamp $RUN_DEADLINE_SECONDS)" '$0 != self && $0 >= stale')

_rc=0
wait "$READING_VOLUME" || _rc=$?
READING_VOLUME=""
[ "$_rc" = 0 ] || fail "reading $DATA_DIR/$REGISTRY did not finish (see above); nothing was uploaded"

# --- 3. upload the blobs the bucket does not have yet -----------------------------------------------
# missing_blobs: the referenced blobs ($WORK/local) whose key is not in the bucket ($WORK/remote), into
# $WORK/missing. Present = same key; the key is the digest, so a present blob is never read again.
missing_blobs() {
  # (The bucket's listing is read in BEGIN: an empty one must not be mistaken for the first of two files.)
  awk -v remote="$WORK/remote" '
    BEGIN { while ((getline line < remote) > 0) { split(line, field, " "); present[field[1]] = 1 } }
    !($1 in present)' "$WORK/local" >"$WORK/missing"
}
# list_remote_blobs: the bucket's blobs, listed again, into $WORK/remote.
list_remote_blobs() {
  _rc=0
  rclone lsf -R --fast-list --files-only --format ps --separator ' ' "$BLOBS_DIR" >"$WORK/remote" || _rc=$?
  [ "$_rc" = 0 ] || [ "$_rc" = 3 ] || fail "cannot list s3://$BUCKET/${PREFIX}blobs/ (rclone exit status $_rc)"
}
# upload_missing: uploads the blobs in $WORK/missing, RCLONE_TRANSFERS at a time.
upload_missing() {
  cut -d ' ' -f 1 "$WORK/missing" >"$WORK/missing.paths"
  # The bucket was just listed and these are not in it: rclone must neither list it again (--no-traverse)
  # nor ask for each blob before uploading it (--no-check-dest), nor after (--s3-no-head: the MD5 of a
  # single-part upload is still checked, against the ETag the PUT answers with).
  rclone copy --files-from-raw "$WORK/missing.paths" --no-traverse --no-check-dest --s3-no-head \
    "$DATA_DIR/$REGISTRY/blobs" "$BLOBS_DIR" ||
    fail "uploading the new blobs to s3://$BUCKET/${PREFIX}blobs/ failed; see the rclone messages above." \
      "No snapshot was written; blobs already uploaded are kept and not uploaded again by the next run"
}
missing_blobs
read -r BLOBS BLOB_BYTES <<SUMS
$(awk '{ n++; b += $2 } END { printf "%d %.0f\n", n, b }' "$WORK/local")
SUMS
read -r UPLOADED UPLOADED_BYTES <<SUMS
$(awk '{ n++; b += $2 } END { printf "%d %.0f\n", n, b }' "$WORK/missing")
SUMS
log "$BLOBS blobs ($BLOB_BYTES bytes) referenced; $UPLOADED of them ($UPLOADED_BYTES bytes) are new"

# --- 4. the snapshot (built and uploaded beside the blobs), then its checksum -----------------------
# The snapshot is built in $WORK (metadata is link files of ~71 bytes: small), so its checksum is of
# exactly the bytes uploaded; it goes up while the blobs do. It is complete only once its .sha256 exists,
# which is written after both. A run that fails before that deletes it (cleanup); one killed outright
# leaves an incomplete snapshot, which restore.sh refuses and retention removes.
# Where the snapshot is unpacked: one file created per entry, which a tmpfs does some twenty times faster
# than a disk-backed /tmp (measured: 493 directories in 7 ms against 159 ms). /dev/shm when it is
# writable and has room for every entry (a page each) twice over, else $WORK.
SNAPSHOT_DIR="$WORK/snapshot"
_entries=$(awk '{ n += $1 } END { print n + 0 }' "$WORK/entries")
_room=$(df -k /dev/shm 2>/dev/null | awk 'NR == 2 { print $4 }')
case "$_room" in "" | *[!0-9]*) _room=0 ;; esac
if [ $((_entries * 8)) -lt "$_room" ] && SCRATCH=$(mktemp -d -p /dev/shm 2>/dev/null); then
  SNAPSHOT_DIR="$SCRATCH/snapshot"
fi
mkdir -p "$SNAPSHOT_DIR/clouddrove-snapshot"
build_and_upload_snapshot() {
  for _part in "$WORK"/part-*.tar; do
    tar -x -f "$_part" -C "$SNAPSHOT_DIR" || fail "copying the repository metadata into $WORK failed (is /tmp full?)"
  done
  awk '{ split($1, part, "/"); print part[3], $2 }' "$WORK/local" >"$SNAPSHOT_DIR/clouddrove-snapshot/blobs"
  tar -c -f "$WORK/snapshot.tar" -C "$SNAPSHOT_DIR" clouddrove-snapshot docker ||
    fail "could not write the snapshot into $WORK (is /tmp full?)"
  _sha=$(sha256sum "$WORK/snapshot.tar" | cut -d ' ' -f 1)
  [ ${#_sha} -eq 64 ] || fail "no checksum was computed"
  wc -c <"$WORK/snapshot.tar" | tr -d ' ' >"$WORK/snapshot.bytes"
  echo "$_sha" >"$WORK/snapshot.sha256"
  rclone copyto "$WORK/snapshot.tar" "$TARGET" || fail "could not upload the snapshot to s3://$BUCKET/$KEY"
  # The announcement now holds the checksum line, ready to become the .sha256 (below).
  printf '%s  %s\n' "$_sha" "$NAME" | rclone rcat "$ANNOUNCED" ||
    fail "could not write s3://$BUCKET/${PREFIX}running/$RUN_NAME"
}
UNFINISHED_SNAPSHOT=$TARGET
build_and_upload_snapshot &
SNAPSHOT_JOB=$!
[ "$UPLOADED" = 0 ] || upload_missing
wait "$SNAPSHOT_JOB" || fail "no snapshot was written (see above); blobs already uploaded are kept"
SHA256=$(cat "$WORK/snapshot.sha256")
BYTES=$(cat "$WORK/snapshot.bytes")

# A retention sweep of a run that was going on when this one started may have deleted a blob this run
# found present: look again, and upload whatever went. (A run that starts later sees this one's
# announcement and sweeps nothing; with no run going on at the start, there is nothing to look for.)
if [ -n "$OTHERS_AT_START" ]; then
  list_remote_blobs
  missing_blobs
  if [ -s "$WORK/missing" ]; then
    log "note: $(wc -l <"$WORK/missing" | tr -d ' ') blobs left the bucket during this run (a retention sweep); uploading them again"
    upload_missing
  fi
fi

# The checksum file is written LAST: a snapshot without one is incomplete and restore.sh refuses it.
# The announcement, which holds the checksum line, becomes it: rclone moveto copies it to <name>.sha256
# (the snapshot is complete) and only then deletes it (the run is over for anyone else), in one process.
CHECKSUM_LINE=$(printf '%s  %s' "$SHA256" "$NAME")
if rclone moveto --s3-no-head "$ANNOUNCED" "$TARGET.sha256"; then
  ANNOUNCED=""
elif [ "$(rclone cat "$TARGET.sha256" 2>/dev/null)" = "$CHECKSUM_LINE" ]; then
  # Copied but not deleted: the snapshot is complete; cleanup deletes the announcement once more.
  log "note: s3://$BUCKET/${PREFIX}running/$RUN_NAME was not deleted; trying again at the end"
else
  fail "could not write s3://$BUCKET/$KEY.sha256"
fi
UNFINISHED_SNAPSHOT=""

# --- 5. retention: the snapshot is complete; a failure here is reported, not fatal ------------------
if nothing_expires; then
  log "retention: no snapshot expired, so no blob became unreferenced: nothing to sweep"
else
  prune || log "WARNING: retention did not finish (see above); nothing it kept was deleted, the next run tries again"
fi

SECONDS_TAKEN=$(($(date +%s) - STARTED))
log "done: snapshot of $BYTES bytes, $UPLOADED new blobs ($UPLOADED_BYTES bytes) in ${SECONDS_TAKEN}s"
echo "clouddrove-backup key=$KEY bytes=$BYTES seconds=$SECONDS_TAKEN sha256=$SHA256 blobs=$BLOBS blob_bytes=$BLOB_BYTES uploaded=$UPLOADED uploaded_bytes=$UPLOADED_BYTES expired=$EXPIRED swept=$SWEPT swept_bytes=$SWEPT_BYTES"
