# Garbage collection of clouddrove's registry store. `clouddrove gc` runs this in a Job made from
# gc-job.yaml, with the registry's own image (so `registry` is the binary of the version that runs) and
# the registry's claim, while every replica is read-only. By hand, in such a pod, with the registry
# read-only or stopped:
#   GC_CONFIG=/etc/docker/registry/config.yml DATA_DIR=/var/lib/clouddrove GC_DRY_RUN=true sh collect.sh
#
# plan   `registry garbage-collect --dry-run` lists what nothing references. The real run deletes without
#        saying how big a blob was, so each eligible blob's size is read from the store here, first.
# sweep  (unless GC_DRY_RUN=true) the same command without --dry-run deletes them.
# check  (after a sweep) a second dry run: what is still eligible, 0 when the sweep removed everything.
#
# Every phase ends with one line `clouddrove-gc <phase> exit=E blobs=N manifests=M bytes=B`, which is
# what clouddrove reads; the registry's own lines are passed through unchanged above it.
set -eu
: "${GC_CONFIG:?the path of the registry config.yml}"
: "${DATA_DIR:?where the store is mounted (storage.filesystem.rootdirectory)}"
GC_DRY_RUN="${GC_DRY_RUN:-true}"
GC_DELETE_UNTAGGED="${GC_DELETE_UNTAGGED:-false}"
# (GC_*, not REGISTRY_*: the registry reads every REGISTRY_* variable as configuration.)
# The store is where the claim is mounted, whatever path config.yml names.
export REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY="$DATA_DIR"
BLOBS="$DATA_DIR/docker/registry/v2/blobs/sha256"

# The registry's output for one pass, then a line with its exit status (a failing pass must not stop the
# script before that line is written).
collect() {
  echo "clouddrove-gc $2: registry garbage-collect --dry-run=$1 --delete-untagged=$GC_DELETE_UNTAGGED $GC_CONFIG"
  status=0
  registry garbage-collect "--dry-run=$1" "--delete-untagged=$GC_DELETE_UNTAGGED" "$GC_CONFIG" 2>&1 || status=$?
  echo "clouddrove-exit $status"
}

# Passes the output through, counts the eligible blobs and manifests and (when told) adds each blob's
# size; ends with the phase's summary line and the registry's exit status.
account() {
  phase=$1 sizes=$2 blobs=0 manifests=0 bytes=0 status=1
  while IFS= read -r line; do
    case "$line" in
      "clouddrove-exit "*)
        status=${line#clouddrove-exit }
        continue
        ;;
      "blob eligible for deletion: "*)
        blobs=$((blobs + 1))
        if [ "$sizes" = yes ]; then
          digest=${line#blob eligible for deletion: }
          hex=${digest#sha256:}
          size=$(stat -c %s "$BLOBS/${hex%"${hex#??}"}/$hex/data" 2>/dev/null || echo 0)
          bytes=$((bytes + size))
          line="$line size=$size"
        fi
        ;;
      # The registry's own count: 2.8.2 lists untagged manifests as they are found (some of which an
      # index may still reference), 3.x once more as `{repo sha256:... [tags]}`; this line is the final word.
      *" blobs marked, "*" manifests eligible for deletion")
        manifests=${line% manifests eligible for deletion}
        manifests=${manifests##* }
        ;;
    esac
    printf '%s\n' "$line"
  done
  echo "clouddrove-gc $phase exit=$status blobs=$blobs manifests=$manifests bytes=$bytes"
  return "$status"
}

collect true plan | account plan yes
if [ "$GC_DRY_RUN" = true ]; then
  echo "clouddrove-gc done dry-run=true"
  exit 0
fi
collect false sweep | account sweep no
collect true check | account check yes
echo "clouddrove-gc done dry-run=false"
