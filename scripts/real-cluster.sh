#!/usr/bin/env bash
# A real Kubernetes control plane on this machine, with fake (kwok) EKS-like worker nodes:
#
#   scripts/real-cluster.sh up DIR     start etcd, kube-apiserver, kube-controller-manager,
#                                      kube-scheduler and kwok; create 3 nodes in 3 zones;
#                                      write DIR/kubeconfig (context "real"); return once
#                                      the 3 nodes are Ready
#   scripts/real-cluster.sh down DIR   stop every process `up` started (by the pids it recorded)
#   scripts/real-cluster.sh status DIR which of those processes still run
#
# There is no cloud provider, so nothing would ever give a LoadBalancer Service an address. The
# harness runs a stand-in for the cloud's service controller ("lb-status", this script's
# internal `lb-status DIR` command): it writes status.loadBalancer.ingress of each LoadBalancer
# Service that has none, with a made-up NLB host name, as the AWS Load Balancer Controller
# would once its NLB exists. No load balancer exists and nothing listens at that name.
#
# It also runs the real registry binary for each registry pod ("registries",
# scripts/real-cluster-registries.mjs) and points the pod's port-forwards at it through kwok's
# ClusterPortForward objects, so port-forwards through the API server reach real registries.
#
# Everything listens on 127.0.0.1 on ports picked free at start. DIR holds the certificates
# (DIR/pki), etcd's data (DIR/etcd), the pids (DIR/pids/NAME.pid, with each process's start
# time, so that `down` never signals a recycled pid), the ports (DIR/ports) and the logs
# (DIR/logs/NAME.log). The binaries come from scripts/components.sh (built on first use).
# There is no cloud provider and no kubelet: see docs/real-cluster.md for what that means.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# Stop order: the reverse of the start order.
COMPONENTS=(registries lb-status kwok kube-scheduler kube-controller-manager kube-apiserver etcd)
REGION=eu-west-1
ZONES=(eu-west-1a eu-west-1b eu-west-1c)
# Node names and private IPs as an EKS node in each zone's subnet registers with.
NODE_IPS=(10.0.10.11 10.0.42.12 10.0.74.13)
ZONE_IDS=(euw1-az1 euw1-az2 euw1-az3)
INSTANCE_TYPE=m5.large
READY_TIMEOUT=${REAL_CLUSTER_READY_TIMEOUT:-120}

usage() { echo "usage: $0 up|down|status DIR" >&2; exit 2; }
log() { echo "real-cluster: $*" >&2; }
die() { log "$*"; exit 1; }

# free_ports N: N distinct ports free on 127.0.0.1 now (all held open at once while picked).
free_ports() {
  python3 -c '
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))' "$1"
}

# start_time PID: the process's start time in clock ticks since boot (field 22 of /proc/PID/stat);
# fails when there is no such process or it is a zombie (it exited; its parent has not reaped it).
start_time() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }                     # drop "pid (comm) ", comm may hold spaces
  # shellcheck disable=SC2086
  set -- $stat
  [[ $# -ge 20 ]] || return 1
  [[ $1 != Z && $1 != X ]] || return 1
  echo "${20}"
}

# group_alive PGID: some process of that process group still runs (zombies aside: an exited
# process stays a zombie until its parent, here often pid 1, reaps it).
group_alive() {
  local pgid=$1 f stat
  for f in /proc/[0-9]*/stat; do
    # `read`, not `$(<"$f")`: under set -e, a $(<file) whose file vanished (a process that exited
    # since the glob) ends the whole script silently, even with `|| continue` (seen as a `down` that
    # exited 1 halfway, leaving the rest running).
    { read -r stat <"$f"; } 2>/dev/null || continue
    stat=${stat##*) }                   # fields from 3 on: state ppid pgrp ...
    # shellcheck disable=SC2086
    set -- $stat
    [[ $# -ge 3 ]] || continue
    [[ $3 == "$pgid" && $1 != Z && $1 != X ]] && return 0
  done
  return 1
}

# alive NAME: the recorded process still runs (same pid and same start time).
alive() {
  local file=$DIR/pids/$1.pid pid recorded now
  [[ -f $file ]] || return 1
  read -r pid recorded <"$file"
  now=$(start_time "$pid") || return 1
  [[ $now == "$recorded" ]]
}

# spawn NAME CMD...: runs CMD in its own session, output to DIR/logs/NAME.log, records its pid.
spawn() {
  local name=$1; shift
  setsid "$@" </dev/null >>"$DIR/logs/$name.log" 2>&1 &
  local pid=$!
  local st; st=$(start_time "$pid") || die "$name exited at once; see $DIR/logs/$name.log"
  echo "$pid $st" >"$DIR/pids/$name.pid"
  log "$name started (pid $pid), log $DIR/logs/$name.log"
}

# wait_for NAME SECONDS CMD...: until CMD succeeds; fails when NAME died or time ran out.
wait_for() {
  local name=$1 timeout=$2; shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    alive "$name" || { tail -n 20 "$DIR/logs/$name.log" >&2; die "$name exited; see $DIR/logs/$name.log"; }
    ((SECONDS < deadline)) || { tail -n 20 "$DIR/logs/$name.log" >&2; die "$name not ready after ${timeout}s"; }
    sleep 0.5
  done
}

# Each component runs in its own session and process group (spawn uses setsid), so stopping one
# signals its group: lb-status's kubectl children go with it.
stop_all() {
  local name pid recorded i t0
  for name in "${COMPONENTS[@]}"; do
    [[ -f $DIR/pids/$name.pid ]] || continue
    read -r pid recorded <"$DIR/pids/$name.pid"
    if alive "$name"; then
      t0=$(date +%s%N)
      kill -TERM -- "-$pid" 2>/dev/null || true
      for ((i = 0; i < 100; i++)); do alive "$name" || break; sleep 0.1; done
      if alive "$name"; then
        log "$name (pid $pid) ignored SIGTERM for 10s: SIGKILL"
        kill -KILL -- "-$pid" 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do alive "$name" || break; sleep 0.1; done
      fi
      if alive "$name"; then die "$name (pid $pid) still runs"; fi
      # Members of its group that outlived it (a pid is not reused while a group of that id has
      # members, so this group is still the one we started).
      for ((i = 0; i < 50; i++)); do group_alive "$pid" || break; sleep 0.1; done
      if group_alive "$pid"; then kill -KILL -- "-$pid" 2>/dev/null || true; sleep 0.2; fi
      if group_alive "$pid"; then die "processes of $name's group $pid still run"; fi
      log "$name (pid $pid) stopped in $((($(date +%s%N) - t0) / 1000000)) ms"
    fi
    rm -f "$DIR/pids/$name.pid"
  done
}

# --- certificates --------------------------------------------------------------------------

# client_cert NAME CN [O]: an ECDSA client certificate signed by the cluster CA.
client_cert() {
  local name=$1 cn=$2 org=${3:-} subj
  subj="/CN=$cn"; [[ -n $org ]] && subj="/O=$org$subj"
  openssl ecparam -name prime256v1 -genkey -noout -out "$PKI/$name.key" 2>/dev/null
  openssl req -new -key "$PKI/$name.key" -subj "$subj" -out "$PKI/$name.csr" 2>/dev/null
  printf 'keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n' >"$PKI/$name.ext"
  openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
    -days 30 -sha256 -extfile "$PKI/$name.ext" -out "$PKI/$name.crt" 2>/dev/null
}

make_pki() {
  mkdir -p "$PKI"
  openssl ecparam -name prime256v1 -genkey -noout -out "$PKI/ca.key" 2>/dev/null
  openssl req -x509 -new -key "$PKI/ca.key" -subj "/CN=clouddrove-real-cluster-ca" -days 30 -sha256 \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
    -out "$PKI/ca.crt" 2>/dev/null
  # The API server's serving certificate: loopback, and the names and ClusterIP of the
  # `kubernetes` Service (first address of --service-cluster-ip-range).
  openssl ecparam -name prime256v1 -genkey -noout -out "$PKI/apiserver.key" 2>/dev/null
  openssl req -new -key "$PKI/apiserver.key" -subj "/CN=kube-apiserver" -out "$PKI/apiserver.csr" 2>/dev/null
  cat >"$PKI/apiserver.ext" <<EOF
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,IP:10.100.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local
EOF
  openssl x509 -req -in "$PKI/apiserver.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
    -days 30 -sha256 -extfile "$PKI/apiserver.ext" -out "$PKI/apiserver.crt" 2>/dev/null
  # Identities the default RBAC roles know; the admin and kwok are cluster admins.
  client_cert admin admin system:masters
  client_cert kube-controller-manager system:kube-controller-manager
  client_cert kube-scheduler system:kube-scheduler
  client_cert kwok kwok system:masters
  client_cert lb-status clouddrove-real-cluster-lb-status system:masters
  client_cert registries clouddrove-real-cluster-registries system:masters
  # The API server's client certificate towards the kubelets (here kwok's server), as kubeadm's
  # apiserver-kubelet-client; and kwok's serving certificate, for the address the nodes publish.
  client_cert apiserver-kubelet-client kube-apiserver-kubelet-client system:masters
  openssl ecparam -name prime256v1 -genkey -noout -out "$PKI/kubelet.key" 2>/dev/null
  openssl req -new -key "$PKI/kubelet.key" -subj "/CN=kwok-kubelet" -out "$PKI/kubelet.csr" 2>/dev/null
  printf 'keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\n' \
    >"$PKI/kubelet.ext"
  openssl x509 -req -in "$PKI/kubelet.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
    -days 30 -sha256 -extfile "$PKI/kubelet.ext" -out "$PKI/kubelet.crt" 2>/dev/null
  # The aggregation layer's front proxy: its own CA, and the client certificate the API server
  # presents to extension API servers (as kubeadm sets it up). With it, the API server publishes
  # the requestheader CA that the controller manager's and scheduler's delegated authentication read.
  openssl ecparam -name prime256v1 -genkey -noout -out "$PKI/front-proxy-ca.key" 2>/dev/null
  openssl req -x509 -new -key "$PKI/front-proxy-ca.key" -subj "/CN=clouddrove-real-cluster-front-proxy-ca" \
    -days 30 -sha256 -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" -out "$PKI/front-proxy-ca.crt" 2>/dev/null
  openssl ecparam -name prime256v1 -genkey -noout -out "$PKI/front-proxy-client.key" 2>/dev/null
  openssl req -new -key "$PKI/front-proxy-client.key" -subj "/CN=front-proxy-client" \
    -out "$PKI/front-proxy-client.csr" 2>/dev/null
  printf 'keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n' \
    >"$PKI/front-proxy-client.ext"
  openssl x509 -req -in "$PKI/front-proxy-client.csr" -CA "$PKI/front-proxy-ca.crt" \
    -CAkey "$PKI/front-proxy-ca.key" -CAcreateserial -days 30 -sha256 -extfile "$PKI/front-proxy-client.ext" \
    -out "$PKI/front-proxy-client.crt" 2>/dev/null
  # The key pair that signs and verifies service account tokens.
  openssl ecparam -name prime256v1 -genkey -noout -out "$PKI/sa.key" 2>/dev/null
  openssl ec -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
  rm -f "$PKI"/*.csr "$PKI"/*.ext
  chmod 600 "$PKI"/*.key
}

# kubeconfig FILE USER CONTEXT: a kubeconfig for USER's client certificate, certificates embedded.
kubeconfig() {
  local file=$1 user=$2 context=$3
  rm -f "$file"
  kubectl config --kubeconfig "$file" set-cluster real --server "https://127.0.0.1:$APISERVER_PORT" \
    --certificate-authority "$PKI/ca.crt" --embed-certs >/dev/null
  kubectl config --kubeconfig "$file" set-credentials "$user" --client-certificate "$PKI/$user.crt" \
    --client-key "$PKI/$user.key" --embed-certs >/dev/null
  kubectl config --kubeconfig "$file" set-context "$context" --cluster real --user "$user" >/dev/null
  kubectl config --kubeconfig "$file" use-context "$context" >/dev/null
  chmod 600 "$file"
}

# kwok_module_dir: where the Go module cache holds kwok's module (scripts/components.sh downloaded it to
# build kwok; `go mod download` only reads the cache then).
kwok_module_dir() {
  local version; version=$(basename "$(dirname "$KWOK_BIN_DIR")"); version=${version#kwok-}
  local go; go=$(command -v go || echo /usr/local/go/bin/go)
  GOFLAGS=-mod=mod GOTOOLCHAIN=local "$go" mod download -json "sigs.k8s.io/kwok@$version" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p'
}

# --- up ------------------------------------------------------------------------------------

nodes_manifest() {
  local i zone ip name zone_id
  for i in 0 1 2; do
    zone=${ZONES[$i]} ip=${NODE_IPS[$i]} zone_id=${ZONE_IDS[$i]}
    name="ip-${ip//./-}.$REGION.compute.internal"
    cat <<EOF
---
apiVersion: v1
kind: Node
metadata:
  name: $name
  annotations:
    node.alpha.kubernetes.io/ttl: "0"
    # kwok plays the kubelet of the nodes carrying this (as kwokctl marks its nodes); remove it and
    # the node's heartbeats stop, as when a kubelet dies: the node controller then marks it NotReady.
    kwok.x-k8s.io/node: fake
  labels:
    kubernetes.io/hostname: $name
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    beta.kubernetes.io/os: linux
    beta.kubernetes.io/arch: amd64
    topology.kubernetes.io/region: $REGION
    topology.kubernetes.io/zone: $zone
    topology.k8s.aws/zone-id: $zone_id
    failure-domain.beta.kubernetes.io/region: $REGION
    failure-domain.beta.kubernetes.io/zone: $zone
    node.kubernetes.io/instance-type: $INSTANCE_TYPE
    beta.kubernetes.io/instance-type: $INSTANCE_TYPE
    eks.amazonaws.com/nodegroup: ng-$zone
    alpha.eksctl.io/nodegroup-name: ng-$zone
    eks.amazonaws.com/capacityType: ON_DEMAND
spec:
  providerID: aws:///$zone/i-0c1d2e3f4a5b6c7d$i
status:
  addresses:
  - type: InternalIP
    address: $ip
  - type: Hostname
    address: $name
  - type: InternalDNS
    address: $name
  # Where the API server reaches this node's kubelet API (kwok's server, one for all three nodes):
  # kube-apiserver runs with --kubelet-preferred-address-types ExternalIP (see up).
  - type: ExternalIP
    address: 127.0.0.1
  allocatable: {cpu: 1930m, memory: 7220172Ki, pods: "29", ephemeral-storage: "18242267924"}
  capacity: {cpu: "2", memory: 7910348Ki, pods: "29", ephemeral-storage: 20959212Ki}
  nodeInfo:
    architecture: amd64
    operatingSystem: linux
    kubeletVersion: $K8S_VERSION
    kubeProxyVersion: $K8S_VERSION
    containerRuntimeVersion: kwok
    osImage: "kwok fake node (no kubelet)"
EOF
  done
}

ready_nodes() {
  kubectl --kubeconfig "$DIR/kubeconfig" get nodes --no-headers 2>/dev/null | awk '$2 == "Ready"' | wc -l
}

up() {
  [[ -d $DIR/pids ]] && for name in "${COMPONENTS[@]}"; do
    alive "$name" && die "$name already runs from $DIR (pid file $DIR/pids/$name.pid); run down first"
  done
  command -v kubectl >/dev/null || die "kubectl is not on PATH"
  command -v openssl >/dev/null || die "openssl is not on PATH"
  local envs; envs=$("$here/components.sh" --print-env etcd kwok kubernetes) || die "components.sh failed"
  local KUBE_BIN_DIR ETCD_BIN_DIR KWOK_BIN_DIR KWOK_STAGES_DIR K8S_VERSION
  eval "$envs"
  local start=$SECONDS
  mkdir -p "$DIR/logs" "$DIR/pids"
  rm -rf "$DIR/etcd" "$DIR/pki"
  PKI=$DIR/pki
  UP_DONE=false
  trap '$UP_DONE || { log "up failed: stopping what it started"; stop_all; }' EXIT
  make_pki

  local ETCD_PORT ETCD_PEER_PORT KCM_PORT SCHED_PORT KWOK_PORT
  read -r ETCD_PORT ETCD_PEER_PORT APISERVER_PORT KCM_PORT SCHED_PORT KWOK_PORT <<<"$(free_ports 6)"
  printf 'etcd=%s\netcd-peer=%s\nkube-apiserver=%s\nkube-controller-manager=%s\nkube-scheduler=%s\nkwok=%s\n' \
    "$ETCD_PORT" "$ETCD_PEER_PORT" "$APISERVER_PORT" "$KCM_PORT" "$SCHED_PORT" "$KWOK_PORT" >"$DIR/ports"

  # etcd: one member, plain HTTP on loopback, no fsync (a throwaway test store).
  spawn etcd "$ETCD_BIN_DIR/etcd" --name real --data-dir "$DIR/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "real=http://127.0.0.1:$ETCD_PEER_PORT" --initial-cluster-state new \
    --unsafe-no-fsync --quota-backend-bytes 1073741824 --log-level warn
  wait_for etcd 30 curl -fsS "http://127.0.0.1:$ETCD_PORT/health"

  # --endpoint-reconciler-type none: it serves on loopback only, and an Endpoints object may not
  # hold a loopback address, so the `kubernetes` Service has no endpoints (no pod could use
  # them anyway: kwok runs none).
  spawn kube-apiserver "$KUBE_BIN_DIR/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$APISERVER_PORT" \
    --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" \
    --client-ca-file "$PKI/ca.crt" \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$PKI/sa.pub" --service-account-signing-key-file "$PKI/sa.key" \
    --service-cluster-ip-range 10.100.0.0/16 \
    --requestheader-client-ca-file "$PKI/front-proxy-ca.crt" --requestheader-allowed-names front-proxy-client \
    --requestheader-username-headers X-Remote-User --requestheader-group-headers X-Remote-Group \
    --requestheader-extra-headers-prefix X-Remote-Extra- \
    --proxy-client-cert-file "$PKI/front-proxy-client.crt" --proxy-client-key-file "$PKI/front-proxy-client.key" \
    --endpoint-reconciler-type none \
    --kubelet-preferred-address-types ExternalIP \
    --kubelet-certificate-authority "$PKI/ca.crt" \
    --kubelet-client-certificate "$PKI/apiserver-kubelet-client.crt" \
    --kubelet-client-key "$PKI/apiserver-kubelet-client.key" \
    --authorization-mode Node,RBAC \
    --allow-privileged=true \
    --profiling=false
  wait_for kube-apiserver 90 curl -fsS --cacert "$PKI/ca.crt" "https://127.0.0.1:$APISERVER_PORT/readyz"

  kubeconfig "$DIR/kubeconfig" admin real
  kubeconfig "$DIR/kube-controller-manager.kubeconfig" kube-controller-manager default
  kubeconfig "$DIR/kube-scheduler.kubeconfig" kube-scheduler default
  kubeconfig "$DIR/kwok.kubeconfig" kwok default
  kubeconfig "$DIR/lb-status.kubeconfig" lb-status default

  # kwok's ClusterPortForward type (its CRD as published in its module), so that port-forwards can be
  # pointed at the registry processes while the cluster runs (the registries process creates them).
  kubectl --kubeconfig "$DIR/kubeconfig" apply -f "$(kwok_module_dir)/kustomize/crd/bases/kwok.x-k8s.io_clusterportforwards.yaml" >/dev/null
  kubectl --kubeconfig "$DIR/kubeconfig" wait --for condition=Established --timeout 30s \
    crd/clusterportforwards.kwok.x-k8s.io >/dev/null

  spawn kube-controller-manager "$KUBE_BIN_DIR/kube-controller-manager" \
    --kubeconfig "$DIR/kube-controller-manager.kubeconfig" \
    --authentication-kubeconfig "$DIR/kube-controller-manager.kubeconfig" \
    --authorization-kubeconfig "$DIR/kube-controller-manager.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$KCM_PORT" \
    --service-account-private-key-file "$PKI/sa.key" --root-ca-file "$PKI/ca.crt" \
    --use-service-account-credentials \
    --cluster-signing-cert-file "$PKI/ca.crt" --cluster-signing-key-file "$PKI/ca.key" \
    --service-cluster-ip-range 10.100.0.0/16 \
    --leader-elect=false --profiling=false
  spawn kube-scheduler "$KUBE_BIN_DIR/kube-scheduler" \
    --kubeconfig "$DIR/kube-scheduler.kubeconfig" \
    --authentication-kubeconfig "$DIR/kube-scheduler.kubeconfig" \
    --authorization-kubeconfig "$DIR/kube-scheduler.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$SCHED_PORT" \
    --leader-elect=false --profiling=false

  # kwok plays the kubelet of every node annotated kwok.x-k8s.io/node=fake, with kwok's own "fast" Stages:
  # nodes become Ready and keep a lease; pods get an IP and become Running and Ready at once.
  # The file holds only Stages: a KwokConfiguration document there is taken without kwok's
  # defaults (v0.8.0 then fails: "node leases parallelism must be greater than 0"), so the options
  # are flags.
  # One change to kwok's pod-ready: a pod becomes Running and Ready only once it has the condition
  # PodReadyToStartContainers, which the registries process writes (as a kubelet does once the pod's
  # sandbox exists) when the pod's registry processes listen and their port-forward exists.
  local f
  for f in node-initialize node-heartbeat-with-lease pod-ready pod-complete pod-delete; do
    echo "---"
    if [[ $f == pod-ready ]]; then
      awk '{ print } /^    matchExpressions:$/ && !done {
        print "    - key: '"'"'.status.conditions.[] | select( .type == \"PodReadyToStartContainers\" ) | .status'"'"'"
        print "      operator: '"'"'In'"'"'"
        print "      values:"
        print "      - '"'"'True'"'"'"
        done = 1 }' "$KWOK_STAGES_DIR/$f.yaml"
    else
      cat "$KWOK_STAGES_DIR/$f.yaml"
    fi
  done >"$DIR/kwok.yaml"
  grep -q PodReadyToStartContainers "$DIR/kwok.yaml" || die "could not add the PodReadyToStartContainers rule to kwok's pod-ready Stage"
  # Its server (the kubelet API of every node: port-forward, logs, exec) on a loopback port, with a
  # certificate from the cluster CA; --node-port makes each node publish that port as its kubelet
  # endpoint. Port-forwards follow the ClusterPortForward objects.
  spawn kwok "$KWOK_BIN_DIR/kwok" --kubeconfig "$DIR/kwok.kubeconfig" --config "$DIR/kwok.yaml" \
    --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake --cidr 10.244.0.0/16 --node-lease-duration-seconds 40 \
    --server-address "127.0.0.1:$KWOK_PORT" --node-port "$KWOK_PORT" \
    --tls-cert-file "$PKI/kubelet.crt" --tls-private-key-file "$PKI/kubelet.key" \
    --enable-crds ClusterPortForward

  spawn lb-status "$here/real-cluster.sh" lb-status "$DIR"
  # The registry containers' processes and their port-forwards (scripts/real-cluster-registries.mjs,
  # which loads the sandbox's container runtime from sandbox/dist: npm run build first).
  [[ -f $here/../sandbox/dist/runtime/registry-launch.js ]] || die "sandbox/dist is not built: run npm run build"
  spawn registries node "$here/real-cluster-registries.mjs" "$DIR"

  wait_for kube-controller-manager 60 curl -fsSk "https://127.0.0.1:$KCM_PORT/healthz"
  wait_for kube-scheduler 60 curl -fsSk "https://127.0.0.1:$SCHED_PORT/healthz"

  nodes_manifest | kubectl --kubeconfig "$DIR/kubeconfig" apply -f - >/dev/null
  local deadline=$((SECONDS + READY_TIMEOUT))
  until [[ $(ready_nodes) -eq 3 ]]; do
    alive kwok || { tail -n 20 "$DIR/logs/kwok.log" >&2; die "kwok exited"; }
    ((SECONDS < deadline)) || die "the nodes are not Ready after ${READY_TIMEOUT}s"
    sleep 0.5
  done
  # Nodes are created before kube-system's service account controller is done; wait for the
  # default service account, as pods need it.
  wait_for kube-controller-manager 60 kubectl --kubeconfig "$DIR/kubeconfig" -n default get serviceaccount default
  UP_DONE=true
  log "up in $((SECONDS - start))s: kubeconfig $DIR/kubeconfig (context real), API https://127.0.0.1:$APISERVER_PORT"
}

# lb-status: every 2s, give each LoadBalancer Service without an address one (see the header).
lb_status() {
  local kc=$DIR/lb-status.kubeconfig ns name ingress host
  while true; do
    while read -r ns name ingress; do
      [[ -n $name && -z $ingress ]] || continue
      host="k8s-${ns:0:8}-${name:0:8}-$(printf '%s/%s' "$ns" "$name" | sha256sum | cut -c1-10).elb.$REGION.amazonaws.com"
      if kubectl --kubeconfig "$kc" -n "$ns" patch service "$name" --subresource status --type merge \
        -p "{\"status\":{\"loadBalancer\":{\"ingress\":[{\"hostname\":\"$host\"}]}}}" >/dev/null; then
        echo "$(date -u +%FT%TZ) $ns/$name: status.loadBalancer.ingress[0].hostname=$host"
      fi
    done < <(kubectl --kubeconfig "$kc" get services -A -o \
      jsonpath='{range .items[?(@.spec.type=="LoadBalancer")]}{.metadata.namespace} {.metadata.name} {.status.loadBalancer.ingress[0].hostname}{.status.loadBalancer.ingress[0].ip}{"\n"}{end}' 2>/dev/null)
    sleep 2
  done
}

status() {
  local name pid recorded
  for name in "${COMPONENTS[@]}"; do
    if alive "$name"; then
      read -r pid recorded <"$DIR/pids/$name.pid"
      echo "$name running (pid $pid)"
    else
      echo "$name not running"
    fi
  done
}

[[ $# -eq 2 ]] || usage
DIR=$2
case "$1" in
  up) mkdir -p "$DIR"; DIR=$(cd "$DIR" && pwd); up ;;
  down) [[ -d $DIR ]] || die "no such directory: $DIR"; DIR=$(cd "$DIR" && pwd); stop_all ;;
  lb-status) DIR=$(cd "$DIR" && pwd); lb_status ;;
  status) [[ -d $DIR ]] || die "no such directory: $DIR"; DIR=$(cd "$DIR" && pwd); status ;;
  *) usage ;;
esac
