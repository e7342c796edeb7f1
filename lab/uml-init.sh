#!/bin/sh
# PID 1 of the user-mode Linux guest that lab/uml-kernel.ts boots (the kernel runs it as init=, from a copy
# in the run's exchange folder).
#
# The guest's root is the host's own filesystem, read-only over hostfs. This script gives the guest a
# private /run and /tmp (tmpfs: `ip netns add` writes /run/netns, the lab writes /run/tcpudplab.pid and
# its data folders under /tmp, none of which may reach the host's) and its own /dev, mounts one host folder
# read-write (the run's exchange folder, `lab_exchange=` on the kernel command line), shows the host
# folders the job reads at their own paths where those private mounts hid them (a checkout under /tmp),
# loads the modules the lab needs from the kernel's own module tree, runs the job the host wrote into the
# exchange folder, writes its exit status next to it (nothing else carries it out of the guest) and
# powers off.
#
# The exchange folder is mounted at /run/lab-exchange, not at its host path: that path may lie under the
# host's /tmp, /run or /dev, which the guest's own mounts hide.
#
# The job, in the exchange folder: `argv` (one argument per line), `env` (KEY=VALUE per line), `cwd` (one
# line), `mounts` (host folders the job reads, one per line, parents first): no path the user chose goes
# on the kernel's command line, which splits at spaces. The job's stdout and stderr go to `stdout` and
# `stderr` there, its status to `status`; `started` is made just before it starts, and what kept it from
# starting (a folder that cannot be shown or entered, a program that is not there) goes to `start.log`;
# this script's own messages go to `init.log`.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
source=${lab_exchange:-}
exchange=/run/lab-exchange

halt_guest() {
  # -f: no init system to ask; -d: no record in wtmp (which is the host's, read-only here anyway).
  sync
  poweroff -f -d 2>/dev/null || halt -f -d 2>/dev/null
  echo o >/proc/sysrq-trigger
  sleep 10
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t tmpfs -o mode=0755 tmpfs /run
mount -t tmpfs -o mode=1777 tmpfs /tmp
mountpoint -q /dev || mount -t devtmpfs devtmpfs /dev

mkdir -p "$exchange"
if [ -z "$source" ] || ! mount -t hostfs -o "$source" hostfs "$exchange"; then
  echo "uml-init: cannot mount the exchange folder '$source' from the host" >&2
  halt_guest
fi
log="$exchange/init.log"
: >"$log"

# modprobe -d ROOT looks for ROOT/lib/modules/$(uname -r): the user-mode kernel's modules live under
# /usr/lib/uml/modules (Debian's user-mode-linux package), not where the host's are.
mkdir -p /run/uml-modules/lib
ln -s "${lab_modules:-/usr/lib/uml/modules}" /run/uml-modules/lib/modules
for module in $(echo "${lab_load:-}" | tr , " "); do
  modprobe -d /run/uml-modules "$module" >>"$log" 2>&1 || echo "uml-init: modprobe $module failed" >>"$log"
done
ip link set lo up >>"$log" 2>&1

# Host folders the job reads (the checkout, Node's own folder) that the guest's /tmp, /run or /dev hide:
# each is mounted read-only from the host at its own path. One that is already there is the host's, seen
# through the read-only root.
start_log="$exchange/start.log"
: >"$start_log"
while IFS= read -r folder; do
  [ -d "$folder" ] && continue
  if ! { mkdir -p "$folder" && mount -r -t hostfs -o "$folder" hostfs "$folder"; } 2>>"$start_log"; then
    echo "uml-init: cannot show the host's folder '$folder' inside the guest" >>"$start_log"
  fi
done <"$exchange/mounts"

set --
while IFS= read -r arg; do set -- "$@" "$arg"; done <"$exchange/argv"
IFS= read -r cwd <"$exchange/cwd"
if [ ! -s "$start_log" ]; then
  (
    exec 2>>"$start_log"
    cd "$cwd" || exit 127
    [ -f "$1" ] && [ -x "$1" ] || { echo "uml-init: '$1' is not a program the guest can run (no such file, or not executable)" >&2; exit 127; }
    # The job's environment: only what the host wrote, plus PATH and a HOME inside the guest.
    while IFS= read -r pair; do export "$pair"; done <"$exchange/env"
    export HOME=/tmp
    : >"$exchange/started"
    exec "$@" >"$exchange/stdout" 2>"$exchange/stderr" </dev/null
  )
  echo "$?" >"$exchange/status.tmp" && mv "$exchange/status.tmp" "$exchange/status"
fi
halt_guest
