#!/bin/sh
# Makes containerd on this node trust the registry's private CA: for each registry address in REGISTRIES
# (HOST:PORT, space-separated) it writes CERTS_DIR/HOST:PORT/ca.crt and hosts.toml, where CERTS_DIR is
# the node's /etc/containerd/certs.d (the CRI plugin's registry config_path on EKS nodes). containerd
# reads that directory at each pull, so nothing is restarted. Then it checks again every RECHECK_SECONDS,
# so a file someone removed, or a CA that changed in the mounted ConfigMap, is written again.
#
# Runs with busybox sh and its tools only (the pinned Alpine image). Files are replaced through a
# temporary file and a rename, so containerd never reads half a CA, and only when their content changes.
set -eu

: "${REGISTRIES:?REGISTRIES (HOST:PORT ...) is not set}"
: "${CERTS_DIR:?CERTS_DIR (the node's containerd certs.d, mounted) is not set}"
CA_FILE=${CA_FILE:-/trust/ca.crt}
RECHECK_SECONDS=${RECHECK_SECONDS:-300}

# The same hosts.toml `clouddrove trust` writes on a workstation: the registry is its own server (no
# mirror), may pull, resolve and push, and is trusted through ca.crt beside this file (paths in hosts.toml
# are relative to it).
hosts_toml() {
  printf '%s\n' \
    "# Written by clouddrove: the registry's private CA, for containerd and nerdctl." \
    "server = \"https://$1\"" \
    "" \
    "[host.\"https://$1\"]" \
    '  capabilities = ["pull", "resolve", "push"]' \
    '  ca = "ca.crt"'
}

# Reads the new content on stdin; replaces $1 only when it differs.
replace_if_changed() {
  tmp="$1.clouddrove.tmp"
  cat >"$tmp"
  if cmp -s "$tmp" "$1"; then
    rm -f "$tmp"
  else
    chmod 0644 "$tmp"
    mv -f "$tmp" "$1"
    echo "wrote $1"
  fi
}

install_all() {
  [ -s "$CA_FILE" ] || { echo "no CA certificate at $CA_FILE" >&2; return 1; }
  for registry in $REGISTRIES; do
    case "$registry" in
      */* | .* | *..*) echo "refusing registry address '$registry': not HOST:PORT" >&2; return 1 ;;
    esac
    mkdir -p "$CERTS_DIR/$registry"
    replace_if_changed "$CERTS_DIR/$registry/ca.crt" <"$CA_FILE"
    hosts_toml "$registry" | replace_if_changed "$CERTS_DIR/$registry/hosts.toml"
  done
}

# The container's PID 1: without a trap SIGTERM is ignored, and every stop would wait out the grace period.
# The sleep runs in the background so that the trap runs at once, not when the sleep ends.
trap 'exit 0' TERM INT

install_all
echo "containerd on this node trusts the registry's CA for: $REGISTRIES"
while :; do
  sleep "$RECHECK_SECONDS" &
  wait $!
  install_all
done
