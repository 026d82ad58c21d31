#!/usr/bin/env bash
# Builds the components of a real Kubernetes control plane from Go modules, at pinned versions,
# into a cache outside the work tree keyed by version:
#
#   $CACHE/kubernetes-<v>/bin/{kube-apiserver,kube-controller-manager,kube-scheduler}
#   $CACHE/etcd-<v>/bin/etcd
#   $CACHE/kwok-<v>/bin/kwok
#   $CACHE/kwok-<v>/stages/*.yaml   kwok's own "fast" node and pod Stages, taken from its module
#   $CACHE/distribution-<v>/bin/registry   Distribution v3's registry, which the sandbox runs for registry:3.x
#   $CACHE/s3server-<v>/bin/versitygw      versitygw, an S3 server over a directory: the sink of the
#                                          backup benchmark (npm run bench), fast enough not to be measured
#   $CACHE/moto-<v>/venv/bin/python        a Python venv with moto[server] (the AWS emulator the AWS
#                                          adapters' tests run against: python -m moto.server)
#   $CACHE/eksctl-<v>/bin/eksctl           eksctl, which checks every ClusterConfig clouddrove renders
#                                          (create cluster --dry-run against moto)
#
# CACHE defaults to ${XDG_CACHE_HOME:-$HOME/.cache}/clouddrove/components
# (override with CLOUDDROVE_COMPONENTS_CACHE). A component whose binaries all exist is not
# rebuilt (moto is installed from PyPI by pip, its dependencies pinned by scripts/moto-constraints.txt). Builds run niced, with GOMAXPROCS and -p limited (CLOUDDROVE_BUILD_JOBS, default 2),
# so that other work on the machine is not starved.
#
# Usage: scripts/components.sh [--print-env] [COMPONENT...]
#   COMPONENT    etcd, kwok, kubernetes, distribution, moto, s3server, eksctl (default: all of them); .ci/run
#                builds those the tests run against
#   --print-env  print only the chosen components' KUBE_BIN_DIR=... ETCD_BIN_DIR=... KWOK_BIN_DIR=...
#                DISTRIBUTION_BIN_DIR=... MOTO_PYTHON=... S3SERVER_BIN_DIR=... EKSCTL_BIN_DIR=... lines (for eval)
# See docs/real-cluster.md for why these versions.
set -euo pipefail

K8S_VERSION=v1.35.4   # newest 1.35 patch served; EKS supports 1.35; builds with Go 1.26
ETCD_VERSION=v3.6.17  # newest 3.6 patch; Kubernetes 1.35 is tested against etcd 3.6
KWOK_VERSION=v0.8.0   # newest release; its go.mod needs go >= 1.26.0
DISTRIBUTION_VERSION=v3.0.0  # the registry:3.0.0 image's version; the target of upgrade --registry-version
S3SERVER_VERSION=v1.8.0  # versitygw (github.com/versity/versitygw), newest release served; go.mod: go 1.25.0
MOTO_VERSION=5.2.6    # newest moto on PyPI; its server mode serves STS, EC2, EKS, EFS and S3 on one port
EKSCTL_VERSION=v0.215.0  # newest eksctl the module proxy serves (as github.com/weaveworks/eksctl); go 1.25.1

CACHE=${CLOUDDROVE_COMPONENTS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/clouddrove/components}
JOBS=${CLOUDDROVE_BUILD_JOBS:-2}

ALL_COMPONENTS=(etcd kwok kubernetes distribution moto s3server eksctl)
usage() { echo "usage: $0 [--print-env] [$(IFS='|'; echo "${ALL_COMPONENTS[*]}")]..." >&2; exit 2; }

print_env=false
if [[ ${1:-} == --print-env ]]; then print_env=true; shift; fi
chosen=("$@")
[[ ${#chosen[@]} -gt 0 ]] || chosen=("${ALL_COMPONENTS[@]}")
for c in "${chosen[@]}"; do
  [[ " ${ALL_COMPONENTS[*]} " == *" $c "* ]] || { echo "components.sh: no component called '$c'" >&2; usage; }
done
wanted() { [[ " ${chosen[*]} " == *" $1 "* ]]; }

log() { if $print_env; then echo "$@" >&2; else echo "$@"; fi; }

GO=${GO:-}
if [[ -z $GO ]] && [[ ${chosen[*]} != moto ]]; then
  if command -v go >/dev/null 2>&1; then GO=$(command -v go)
  elif [[ -x /usr/local/go/bin/go ]]; then GO=/usr/local/go/bin/go
  else echo "components.sh: no Go toolchain (set GO=/path/to/go)" >&2; exit 1; fi
fi
# Never let a go.mod's toolchain line download another Go.
export GOTOOLCHAIN=local
# The builds are dependency builds in generated modules: no VCS stamping, and never a vendor dir.
export GOFLAGS="-buildvcs=false -mod=mod"

gobuild() { nice -n 19 env GOMAXPROCS="$JOBS" "$GO" build -p "$JOBS" -trimpath "$@"; }

have_all() { # dir file... (relative to dir)
  local dir=$1; shift
  local f
  for f in "$@"; do [[ -s $dir/$f ]] || return 1; done
}

# new_module DIR NAME GO_LINE: an empty module to build dependencies in.
new_module() {
  local dir=$1 name=$2 goline=$3
  rm -rf "$dir"; mkdir -p "$dir"
  printf 'module clouddrove.invalid/components/%s\n\ngo %s\n' "$name" "$goline" >"$dir/go.mod"
}

# gomod_of MODULE@VERSION: path of that module's go.mod in the module cache (downloads it).
gomod_of() { "$GO" mod download -json "$1" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p'; }
# moddir_of MODULE@VERSION: the directory of that module's files in the module cache (downloads it).
moddir_of() { "$GO" mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p'; }

go_line() { sed -n 's/^go \([0-9.]*\)$/\1/p' "$1" | head -n1; }

# build COMPONENT VERSION FILE...: unless every FILE (relative to the component's cache dir)
# exists, runs build_COMPONENT DIR VERSION OUT (OUT gets bin/ and whatever else), then moves
# OUT's contents in place, so an interrupted build never looks finished.
build() {
  local name=$1 version=$2; shift 2
  local dir=$CACHE/$name-$version
  if have_all "$dir" "$@"; then
    log "$name $version: cached in $dir"
    return
  fi
  log "$name $version: building into $dir ..."
  mkdir -p "$dir"
  local start=$SECONDS out=$dir/out.tmp
  rm -rf "$out"; mkdir -p "$out/bin"
  "build_$name" "$dir" "$version" "$out" >"$dir/build.log" 2>&1 || {
    echo "$name $version: build failed; the last lines of $dir/build.log:" >&2
    tail -n 30 "$dir/build.log" >&2
    exit 1
  }
  local d
  for d in "$out"/*; do rm -rf "${dir:?}/$(basename "$d")"; mv "$d" "$dir/"; done
  rm -rf "$out" "$dir/src"
  log "$name $version: built in $((SECONDS - start))s"
}

build_kubernetes() {
  local dir=$1 version=$2 out=$3
  local minor=${version#v1.}; minor=${minor%%.*}
  local staging=v0.${version#v1.}
  local modfile; modfile=$(gomod_of "k8s.io/kubernetes@$version")
  new_module "$dir/src" kubernetes "$(go_line "$modfile")"
  # k8s.io/kubernetes points its staging modules at ./staging/...; as a dependency those replace
  # lines are ignored, so point each one at its published v0.<minor>.<patch>.
  {
    echo
    echo "replace ("
    sed -n 's#^[[:space:]]*\(k8s\.io/[a-z0-9.-]*\) => \./staging/src/.*$#\t\1 => \1 '"$staging"'#p' "$modfile"
    echo ")"
  } >>"$dir/src/go.mod"
  local pkgs=(k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager
    k8s.io/kubernetes/cmd/kube-scheduler)
  (
    cd "$dir/src"
    "$GO" get "${pkgs[@]/%/@$version}"
    local ld="-s -w" p
    for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
      ld+=" -X $p.gitVersion=$version -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
    done
    gobuild -ldflags "$ld" -o "$out/bin/" "${pkgs[@]}"
  )
}

# build_main DIR MODULE VERSION PACKAGE OUTPUT [LDFLAGS]: one main package of MODULE@VERSION, built
# as a dependency of a generated module in DIR/src.
build_main() {
  local dir=$1 module=$2 version=$3 package=$4 output=$5 ldflags=${6:-}
  new_module "$dir/src" "$(basename "$dir")" "$(go_line "$(gomod_of "$module@$version")")"
  (
    cd "$dir/src"
    "$GO" get "$package@$version"
    gobuild -ldflags "-s -w $ldflags" -o "$output" "$package"
  )
}

build_etcd() {
  # The module root of go.etcd.io/etcd/server/v3 is the etcd server's main package.
  build_main "$1" go.etcd.io/etcd/server/v3 "$2" go.etcd.io/etcd/server/v3 "$3/bin/etcd"
}

build_kwok() {
  local dir=$1 version=$2 out=$3
  build_main "$dir" sigs.k8s.io/kwok "$version" sigs.k8s.io/kwok/cmd/kwok "$out/bin/kwok"
  # The kwok binary has no built-in Stages: kwokctl hands it kwok's "fast" set (kustomize/stage/fast:
  # node-initialize, node-heartbeat-with-lease, pod-ready, pod-complete, pod-delete). Take those
  # files from the module as published, for real-cluster.sh to pass to kwok.
  local src
  src=$(moddir_of "sigs.k8s.io/kwok@$version")
  mkdir -p "$out/stages"
  cp "$src/kustomize/stage/node/fast/node-initialize.yaml" \
    "$src/kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml" \
    "$src/kustomize/stage/pod/fast/pod-ready.yaml" \
    "$src/kustomize/stage/pod/fast/pod-complete.yaml" \
    "$src/kustomize/stage/pod/fast/pod-delete.yaml" "$out/stages/"
  chmod u+w "$out/stages"/*
}

build_distribution() {
  local dir=$1 version=$2 out=$3
  # As Distribution's own release build (its Dockerfile) does: the version the binary reports and
  # logs is "3.0.0", not the "v3.0.0+unknown" a plain module build carries.
  build_main "$dir" github.com/distribution/distribution/v3 "$version" \
    github.com/distribution/distribution/v3/cmd/registry "$out/bin/registry" \
    "-X github.com/distribution/distribution/v3/version.version=${version#v}"
}

build_s3server() {
  local dir=$1 version=$2 out=$3
  # As its Makefile does, so that `versitygw --version` names the release.
  build_main "$dir" github.com/versity/versitygw "$version" github.com/versity/versitygw/cmd/versitygw \
    "$out/bin/versitygw" "-X main.Version=$version"
}

build_eksctl() {
  local dir=$1 version=$2 out=$3
  # Not as a dependency: eksctl's go.mod pins its Kubernetes and AWS libraries with replace lines, which
  # only its own module honours. So build inside a copy of the module as published, as its Makefile does
  # (CGO off); PreReleaseID emptied as its release build does, so `eksctl version` prints the release.
  local src
  src=$(moddir_of "github.com/weaveworks/eksctl@$version")
  [[ -n $src ]] || { echo "github.com/weaveworks/eksctl@$version could not be downloaded"; return 1; }
  rm -rf "$dir/src"
  cp -R "$src" "$dir/src"
  chmod -R u+w "$dir/src"
  (
    cd "$dir/src"
    CGO_ENABLED=0 gobuild -ldflags "-s -w -X github.com/weaveworks/eksctl/pkg/version.PreReleaseID=" \
      -o "$out/bin/eksctl" ./cmd/eksctl
  )
}

here=$(cd "$(dirname "$0")" && pwd)
build_moto() {
  local dir=$1 version=$2 out=$3
  local python=${PYTHON:-python3}
  command -v "$python" >/dev/null || { echo "no $python (set PYTHON=/path/to/python3)"; return 1; }
  # The venv is built in out/ and then moved: its python finds its packages from where it is (pyvenv.cfg
  # beside bin/), but the console scripts pip writes name the old path, so run moto as python -m moto.server.
  "$python" -m venv "$out/venv"
  nice -n 19 "$out/venv/bin/python" -m pip install --disable-pip-version-check --no-input \
    -c "$here/moto-constraints.txt" "moto[server]==$version"
}

total=$SECONDS
wanted etcd && build etcd "$ETCD_VERSION" bin/etcd
wanted kwok && build kwok "$KWOK_VERSION" bin/kwok stages/node-initialize.yaml \
  stages/node-heartbeat-with-lease.yaml stages/pod-ready.yaml stages/pod-complete.yaml stages/pod-delete.yaml
wanted kubernetes && build kubernetes "$K8S_VERSION" bin/kube-apiserver bin/kube-controller-manager \
  bin/kube-scheduler
wanted distribution && build distribution "$DISTRIBUTION_VERSION" bin/registry
wanted moto && build moto "$MOTO_VERSION" venv/bin/python
wanted s3server && build s3server "$S3SERVER_VERSION" bin/versitygw
wanted eksctl && build eksctl "$EKSCTL_VERSION" bin/eksctl
log "components ready in $((SECONDS - total))s"

if $print_env; then
  wanted kubernetes && echo "KUBE_BIN_DIR=$CACHE/kubernetes-$K8S_VERSION/bin" && echo "K8S_VERSION=$K8S_VERSION"
  wanted etcd && echo "ETCD_BIN_DIR=$CACHE/etcd-$ETCD_VERSION/bin"
  wanted kwok && echo "KWOK_BIN_DIR=$CACHE/kwok-$KWOK_VERSION/bin" &&
    echo "KWOK_STAGES_DIR=$CACHE/kwok-$KWOK_VERSION/stages"
  wanted distribution && echo "DISTRIBUTION_BIN_DIR=$CACHE/distribution-$DISTRIBUTION_VERSION/bin"
  wanted moto && echo "MOTO_PYTHON=$CACHE/moto-$MOTO_VERSION/venv/bin/python"
  wanted s3server && echo "S3SERVER_BIN_DIR=$CACHE/s3server-$S3SERVER_VERSION/bin"
  wanted eksctl && echo "EKSCTL_BIN_DIR=$CACHE/eksctl-$EKSCTL_VERSION/bin"
else
  wanted kubernetes &&
    log "kube-apiserver, kube-controller-manager, kube-scheduler: $CACHE/kubernetes-$K8S_VERSION/bin"
  wanted etcd && log "etcd: $CACHE/etcd-$ETCD_VERSION/bin"
  wanted kwok && log "kwok: $CACHE/kwok-$KWOK_VERSION/bin (stages: $CACHE/kwok-$KWOK_VERSION/stages)"
  wanted distribution && log "registry (Distribution): $CACHE/distribution-$DISTRIBUTION_VERSION/bin"
  wanted moto && log "moto: $CACHE/moto-$MOTO_VERSION/venv/bin/python -m moto.server"
  wanted s3server && log "versitygw (S3 server): $CACHE/s3server-$S3SERVER_VERSION/bin"
  wanted eksctl && log "eksctl: $CACHE/eksctl-$EKSCTL_VERSION/bin"
fi
exit 0
