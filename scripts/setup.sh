#!/usr/bin/env bash
# Sets up a fresh Debian machine for clouddrove: the system packages its sandbox and tests use, then the
# npm dependencies (which also build the CLI). Safe to run again. Used by the README and by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

export DEBIAN_FRONTEND=noninteractive
as_root apt-get update
# docker-registry: the real registry 2.8.2 the sandbox runs and the tests use; rclone + tar + coreutils: the
# backup job's tools; busybox: the backup scripts also run under busybox sh (the job image is Alpine);
# restic: compared in benchmarks; tmux: the pseudo-terminal end-to-end tests; python3-venv: the venv
# scripts/components.sh installs moto (the AWS emulator of the tests) into.
as_root apt-get install -y --no-install-recommends \
  docker-registry rclone restic tmux tar coreutils busybox ca-certificates python3 python3-venv
# kubectl is preinstalled on these machines; install a client where it is missing.
if ! command -v kubectl >/dev/null 2>&1; then
  as_root apt-get install -y --no-install-recommends kubectl ||
    as_root apt-get install -y --no-install-recommends kubernetes-client
fi
# Debian's package starts its own registry service on :5000 where systemd runs. The sandbox and the tests start
# their own registries, so that one service is stopped and kept from starting at boot; any other registry
# process on the machine (one of the user's own) is left alone.
if [ -d /run/systemd/system ] && systemctl is-enabled --quiet docker-registry 2>/dev/null; then
  as_root systemctl disable --now docker-registry
fi

npm ci
