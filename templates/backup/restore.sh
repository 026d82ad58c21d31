#!/bin/sh
# clouddrove registry backup -- restore.sh
#
# Puts a snapshot made by archive.sh (and the blobs it references) back under the registry's storage
# root, safely:
#
#   1. find the snapshot (a given key, or the newest one that has its .sha256 file);
#   2. stream it from S3 into a staging directory ON THE SAME VOLUME, computing its sha256 on the way;
#   3. REFUSE (staging removed, live data untouched) unless the checksum equals the .sha256 file;
#   4. download the blobs it lists (clouddrove-snapshot/blobs) from $BACKUP_PREFIX/blobs/ into staging,
#      in parallel, and REFUSE unless every one is there and its content hashes to its name;
#   5. check the registry layout: every manifest revision's blob present, and settle what was in flight
#      during the backup (a tag moved meanwhile points at its previous manifest; a push caught half-way
#      is left out -- each one is logged as a note);
#   6. swap by renaming: the current data becomes $DATA_DIR/docker.pre-restore-<UTC time>, the staged
#      data becomes $DATA_DIR/docker. The old data stays until you remove it (or RESTORE_REMOVE_OLD=true).
#
# Any retained snapshot restores, not only the latest: each one lists exactly the blobs of its time.
# A full archive of an earlier clouddrove (a tar holding blobs/ itself, no clouddrove-snapshot/blobs)
# restores too: step 4 is skipped.
#
# STOP THE REGISTRY FIRST (scale it to 0, or make it read-only): a registry writing during the swap
# loses those writes. `clouddrove backup restore` does this for you; by hand:
#
#   kubectl -n clouddrove scale deployment registry-clouddrove --replicas=0
#   BACKUP_BUCKET=my-bucket BACKUP_REGION=eu-west-1 sh restore.sh latest      # or a key / file name
#   kubectl -n clouddrove scale deployment registry-clouddrove --replicas=3
#
# Usage: restore.sh [KEY|NAME|latest]      (default: $RESTORE_KEY, else latest)
#   KEY is a snapshot's full object key ("clouddrove/20250131T030000Z.tar") or its file name under the
#   prefix ("20250131T030000Z.tar").
# Settings (environment):
#   BACKUP_BUCKET, BACKUP_PREFIX (default "clouddrove/"), BACKUP_REGION -- as in archive.sh
#   DATA_DIR              the registry's storage root, default /var/lib/clouddrove (mounted read-write)
#   RESTORE_KEY           the snapshot, when no argument is given (default: latest)
#   RESTORE_REMOVE_OLD    "true" deletes the previous data after a successful swap (default: keep it)
#   RCLONE_TRANSFERS      blobs downloaded in parallel, default 8
#
# Exit status: 0 restored; 1 refused or failed (and then the live data is exactly as it was).
# The last line on stdout is machine-readable:
#   clouddrove-restore key=<key> bytes=<n> seconds=<n> sha256=<hex> repositories=<n> tags=<n> manifests=<n>
#     notes=<n> previous=<dir|removed|none> blobs=<n>
set -eu

log() { echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) restore: $*" >&2; }
fail() {
  log "FAILED: $*"
  exit 1
}

# --- settings ---------------------------------------------------------------------------------------
BUCKET=${BACKUP_BUCKET:-}
PREFIX=${BACKUP_PREFIX-clouddrove/}
DATA_DIR=${DATA_DIR:-/var/lib/clouddrove}
WANTED=${1:-${RESTORE_KEY:-latest}}
REMOVE_OLD=${RESTORE_REMOVE_OLD:-false}
[ -n "$BUCKET" ] || fail "BACKUP_BUCKET is not set (the S3 bucket holding the archives)"
case "$PREFIX" in "" | */) ;; *) PREFIX="$PREFIX/" ;; esac

: "${RCLONE_CONFIG_BACKUP_TYPE:=s3}"
: "${RCLONE_CONFIG_BACKUP_PROVIDER:=AWS}"
: "${RCLONE_CONFIG_BACKUP_ENV_AUTH:=true}"
: "${RCLONE_CONFIG_BACKUP_REGION:=${BACKUP_REGION:-${AWS_REGION:-us-east-1}}}"
: "${RCLONE_CONFIG_BACKUP_NO_CHECK_BUCKET:=true}"
: "${RCLONE_TRANSFERS:=8}"
export RCLONE_CONFIG_BACKUP_TYPE RCLONE_CONFIG_BACKUP_PROVIDER RCLONE_CONFIG_BACKUP_ENV_AUTH \
  RCLONE_CONFIG_BACKUP_REGION RCLONE_CONFIG_BACKUP_NO_CHECK_BUCKET RCLONE_TRANSFERS

for tool in tar rclone sha256sum tee mkfifo mktemp date cut find sort grep wc tr ls awk head xargs; do
  command -v "$tool" >/dev/null 2>&1 || fail "'$tool' is not installed; this script needs: tar rclone sha256sum tee mkfifo mktemp find sort xargs"
done
[ -d "$DATA_DIR" ] || fail "$DATA_DIR does not exist (is the registry's volume mounted there?)"
[ -w "$DATA_DIR" ] || fail "$DATA_DIR is not writable by this user (uid $(id -u)); mount it read-write"

# --- 1. which archive -------------------------------------------------------------------------------
SOURCE_DIR="backup:$BUCKET/$PREFIX"
if [ "$WANTED" = latest ]; then
  LISTING=$(rclone lsf --files-only "$SOURCE_DIR") || fail "cannot list s3://$BUCKET/$PREFIX (bucket, region and credentials right?)"
  NAME=""
  # Names are UTC timestamps, so sorted order is time order. Only archives with a .sha256 are complete.
  for candidate in $(printf '%s\n' "$LISTING" | grep '\.tar$' | sort); do
    if printf '%s\n' "$LISTING" | grep -qx "$candidate.sha256"; then NAME=$candidate; fi
  done
  [ -n "$NAME" ] || fail "no complete archive (a .tar with its .tar.sha256) under s3://$BUCKET/$PREFIX"
  KEY="$PREFIX$NAME"
else
  case "$WANTED" in
    */*) KEY=$WANTED ;;
    *) KEY="$PREFIX$WANTED" ;;
  esac
fi
SOURCE="backup:$BUCKET/$KEY"
log "archive s3://$BUCKET/$KEY"

# rclone cat prints nothing and succeeds for a missing object: ask for its size first.
BYTES=$(rclone lsf --format s "$SOURCE") || fail "cannot read s3://$BUCKET/$KEY"
[ -n "$BYTES" ] || fail "s3://$BUCKET/$KEY does not exist (list the archives: rclone lsf $SOURCE_DIR)"
EXPECTED=$(rclone cat "$SOURCE.sha256" | cut -d ' ' -f 1) || fail "cannot read s3://$BUCKET/$KEY.sha256"
case "$EXPECTED" in
  *[!0-9a-f]* | "") fail "s3://$BUCKET/$KEY.sha256 is missing or malformed: the archive is incomplete or was not made by archive.sh; refusing it" ;;
esac
[ ${#EXPECTED} -eq 64 ] || fail "s3://$BUCKET/$KEY.sha256 does not hold a sha256; refusing the archive"

# --- 2. stream into staging -------------------------------------------------------------------------
STARTED=$(date +%s)
STAGING="$DATA_DIR/.clouddrove-restore-staging"
WORK=$(mktemp -d)
SUM_PID=""
cleanup() {
  [ -z "$SUM_PID" ] || kill "$SUM_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A staging directory left by an interrupted run is ours: start afresh.
rm -rf "$STAGING"
mkdir "$STAGING"

stage() {
  _name=$1
  shift
  _rc=0
  "$@" || _rc=$?
  echo "$_rc" >"$WORK/$_name.rc"
}
status() { cat "$WORK/$1.rc" 2>/dev/null || echo "never ran"; }
# tar may stop reading at the end-of-archive blocks; the rest of the stream must still reach sha256sum.
# tar's messages are kept: they are how an unsafe member name shows (see step 3).
extract() {
  _rc=0
  tar -x -o -f - -C "$STAGING" 2>"$WORK/extract.err" || _rc=$?
  cat >/dev/null
  return "$_rc"
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

log "downloading $BYTES bytes into $STAGING (live data untouched)"
stage download rclone cat "$SOURCE" |
  stage tee tee "$WORK/sum.fifo" |
  stage extract extract

wait "$SUM_PID" || true
SUM_PID=""
ACTUAL=$(cut -d ' ' -f 1 "$WORK/sum" 2>/dev/null || true)

# --- 3. the checksum decides ------------------------------------------------------------------------
refuse() {
  rm -rf "$STAGING"
  log "REFUSED: $*"
  log "nothing was changed in $DATA_DIR"
  exit 1
}
[ "$(status download)" = 0 ] || refuse "download of s3://$BUCKET/$KEY failed (rclone exit status $(status download))"
if [ "$ACTUAL" != "$EXPECTED" ]; then
  refuse "checksum mismatch for s3://$BUCKET/$KEY: the .sha256 file says $EXPECTED, the downloaded archive is ${ACTUAL:-unknown}. The archive is corrupt or incomplete; choose another one."
fi
# archive.sh writes relative paths below the storage root only. An absolute or ".." member name would
# land outside the staging directory: GNU tar refuses such members ("Member name contains '..'") and
# strips a leading "/", busybox tar strips the "../" and writes the file -- both say so on stderr.
UNSAFE=$(grep -iE "removing leading|contains '\.\.'|contains \"\.\.\"" "$WORK/extract.err" | head -n 1 || true)
[ -z "$UNSAFE" ] || refuse "the archive holds absolute or '..' paths, which would write outside $DATA_DIR (tar: ${UNSAFE#tar: }); archive.sh never writes those, so this archive was not made by it or was altered; refusing it"
if [ -s "$WORK/extract.err" ]; then cat "$WORK/extract.err" >&2; fi
[ "$(status extract)" = 0 ] || refuse "tar could not extract the archive (exit status $(status extract)); is the volume full?"

# --- 4. the blobs the snapshot references -----------------------------------------------------------
# check_blobs: every path of $WORK/blob.paths ("sha256/<2>/<hex>/data") is under $V2/blobs with that
# sha256. Hashing every blob is a good part of a restore: openssl (the CPU's SHA instructions, about five
# times sha256sum here) where the image has it, one process per CPU. The bad ones, "<path>: FAILED" or
# "<path>: missing", go to $WORK/blob.check.
check_blobs() {
  _jobs=$(nproc 2>/dev/null || echo 1)
  awk -v jobs="$_jobs" -v dir="$WORK" '{ print > (dir "/blob.part." (NR % jobs)) }' "$WORK/blob.paths"
  _pids=""
  for _part in "$WORK"/blob.part.*; do
    # A missing file is an error for both tools; it shows as missing below, so the status is ignored.
    (cd "$V2/blobs" && if command -v openssl >/dev/null 2>&1; then xargs openssl dgst -sha256 -r
    else xargs sha256sum; fi) <"$_part" >"$_part.sums" 2>/dev/null &
    _pids="$_pids $!"
  done
  for _pid in $_pids; do wait "$_pid" || true; done
  # "<hex> *<path>" (openssl -r) or "<hex>  <path>" (sha256sum); the expected hex is the path's third part.
  cat "$WORK"/blob.part.*.sums | awk -v paths="$WORK/blob.paths" '
    { path = $2; sub(/^\*/, "", path); got[path] = $1 }
    END {
      bad = 0
      while ((getline path < paths) > 0) {
        split(path, part, "/")
        if (!(path in got)) { print path ": missing"; bad = 1 }
        else if (got[path] != part[3]) { print path ": FAILED"; bad = 1 }
      }
      exit bad
    }' >"$WORK/blob.check"
}

V2="$STAGING/docker/registry/v2"
BLOB_LIST="$STAGING/clouddrove-snapshot/blobs"
BLOBS=0
if [ -f "$BLOB_LIST" ]; then
  [ -d "$V2/repositories" ] || refuse "the snapshot holds no registry metadata (docker/registry/v2/repositories expected)"
  mkdir -p "$V2/blobs"
  # "<hex> <bytes>" -> the blob's path under blobs/.
  awk '{ print "sha256/" substr($1, 1, 2) "/" $1 "/data" }' "$BLOB_LIST" >"$WORK/blob.paths"
  BLOBS=$(wc -l <"$BLOB_LIST" | tr -d ' ')
  log "downloading the $BLOBS blobs it references from s3://$BUCKET/${PREFIX}blobs/"
  if [ "$BLOBS" -gt 0 ]; then
    rclone copy --files-from-raw "$WORK/blob.paths" --no-traverse "backup:$BUCKET/${PREFIX}blobs" "$V2/blobs" ||
      log "rclone could not download every blob (checked next)"
    # Every blob must be there with the content its name promises: a blob missing from the bucket or
    # corrupted there refuses the snapshot before anything live changes.
    if ! check_blobs; then
      BAD=$(head -n 5 "$WORK/blob.check" | tr '\n' ';')
      refuse "blobs of the snapshot are missing from s3://$BUCKET/${PREFIX}blobs/ or corrupt there: $BAD choose an older snapshot, or run a backup now (a blob deleted from the bucket is uploaded again)"
    fi
  fi
  rm -rf "$STAGING/clouddrove-snapshot"
fi
[ -d "$V2/repositories" ] && [ -d "$V2/blobs" ] ||
  refuse "the archive holds no registry data (docker/registry/v2/repositories and blobs expected)"

# --- 5. the layout, and writes that were in flight during the backup --------------------------------

# link_target FILE: the hex digest a registry link file holds; nothing when it is empty or unreadable.
link_target() {
  _target=$(cat "$1" 2>/dev/null || true)
  _target=${_target#sha256:}
  if [ ${#_target} -eq 64 ]; then printf '%s' "$_target"; fi
}
NOTES=0
note() {
  log "note: $*"
  NOTES=$((NOTES + 1))
}

REPOSITORIES=$(find "$V2/repositories" -type d -name _manifests | wc -l | tr -d ' ')
# Every manifest revision needs its manifest blob. A revision link caught half-written belongs to a push
# that had not finished when the backup ran: it is left out, as if the push had come a moment later.
MANIFESTS=0
for link in $(find "$V2/repositories" -path '*/_manifests/revisions/sha256/*/link' -type f); do
  hex=$(link_target "$link")
  if [ -z "$hex" ]; then
    note "left out a manifest that was being pushed during the backup (${link#"$V2/repositories/"})"
    rm -rf "${link%/link}"
    continue
  fi
  blob="$V2/blobs/sha256/$(printf '%s' "$hex" | cut -c 1-2)/$hex/data"
  [ -f "$blob" ] || refuse "manifest sha256:$hex (${link#"$V2/repositories/"}) has no blob in the archive"
  MANIFESTS=$((MANIFESTS + 1))
done

# A tag moved while the backup ran can point past the archive (see archive.sh). Its history (the tag's
# index/ links, one per manifest it ever pointed at) names the previous target: use the newest one the
# archive holds. A tag with no usable history was being pushed for the first time: left out.
TAGS=0
for current in $(find "$V2/repositories" -path '*/_manifests/tags/*/current/link' -type f); do
  tag_dir=${current%/current/link}
  repo_dir=${tag_dir%/_manifests/tags/*}
  name="${repo_dir#"$V2/repositories/"}:${tag_dir##*/}"
  hex=$(link_target "$current")
  if [ -n "$hex" ] && [ -f "$repo_dir/_manifests/revisions/sha256/$hex/link" ]; then
    TAGS=$((TAGS + 1))
    continue
  fi
  previous=""
  for entry in $(ls -t "$tag_dir"/index/sha256/*/link 2>/dev/null); do
    candidate=$(link_target "$entry")
    if [ -n "$candidate" ] && [ -f "$repo_dir/_manifests/revisions/sha256/$candidate/link" ]; then
      previous=$candidate
      break
    fi
  done
  if [ -n "$previous" ]; then
    printf 'sha256:%s' "$previous" >"$current"
    note "$name was being moved during the backup: it points at its previous manifest sha256:$previous"
    TAGS=$((TAGS + 1))
  else
    rm -rf "$tag_dir"
    note "$name was being pushed during the backup: left out"
  fi
done
log "archive verified: sha256 $ACTUAL, $REPOSITORIES repositories, $TAGS tags, $MANIFESTS manifest revisions"

# --- 6. swap ----------------------------------------------------------------------------------------
PREVIOUS=none
if [ -e "$DATA_DIR/docker" ]; then
  BASE="$DATA_DIR/docker.pre-restore-$(date -u +%Y%m%dT%H%M%SZ)"
  PREVIOUS=$BASE
  # mv into an existing directory would nest the data inside it: pick a name that is free.
  n=1
  while [ -e "$PREVIOUS" ]; do
    n=$((n + 1))
    PREVIOUS="$BASE.$n"
  done
  mv "$DATA_DIR/docker" "$PREVIOUS" || refuse "cannot move the current data aside ($DATA_DIR/docker)"
fi
if ! mv "$STAGING/docker" "$DATA_DIR/docker"; then
  # Put the previous data back where it was before giving up.
  [ "$PREVIOUS" = none ] || mv "$PREVIOUS" "$DATA_DIR/docker" || true
  refuse "cannot move the restored data into $DATA_DIR/docker"
fi
rm -rf "$STAGING"
if [ "$PREVIOUS" != none ]; then
  if [ "$REMOVE_OLD" = true ]; then
    rm -rf "$PREVIOUS"
    log "previous data removed"
    PREVIOUS=removed
  else
    log "previous data kept in $PREVIOUS -- remove it once the registry serves what you expect"
  fi
fi

SECONDS_TAKEN=$(($(date +%s) - STARTED))
log "restored s3://$BUCKET/$KEY into $DATA_DIR/docker in ${SECONDS_TAKEN}s"
echo "clouddrove-restore key=$KEY bytes=$BYTES seconds=$SECONDS_TAKEN sha256=$ACTUAL repositories=$REPOSITORIES tags=$TAGS manifests=$MANIFESTS notes=$NOTES previous=$PREVIOUS blobs=$BLOBS"
