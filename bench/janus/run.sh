#!/bin/sh
# Starts Janus (Debian package `janus`, 1.1.2) for the side-by-side benchmark of issue 9
# and prints its PID once its WebSocket port answers.
#
#   bench/janus/run.sh [<config-dir>] <event_loops> [<log-file>]
#
# <config-dir> (default: this script's folder) holds janus.jcfg,
# janus.transport.websockets.jcfg and janus.plugin.videoroom.jcfg; <event_loops> is 0
# (Janus's default: one event loop thread per handle) or the number of shared loops. The
# configuration is copied to a temporary folder with that value written in, and Janus runs
# from there in the background, logging to <log-file> (default: janus.log in that folder).
# JANUS_ICE_LITE=true|false overrides nat.ice_lite of janus.jcfg (see there).
#
# Run it only inside a network namespace the caller made, where Janus's veth `jv0`
# exists, e.g.
#   unshare -n sh -c 'ip link set lo up; ip link add jv0 type veth peer name jv1;
#     ip addr add 10.255.255.1/32 dev jv0; ip link set jv0 up; ip link set jv1 up;
#     pid=$(bench/janus/run.sh 2); ...; kill $pid'
# It refuses to run in the machine's own namespace. The caller stops Janus (kill <PID>).
set -eu

usage() {
  echo "usage: $0 [<config-dir>] <event_loops> [<log-file>]" >&2
  exit 2
}
src=$(dirname "$0")
case $# in
  1) loops=$1; log= ;;
  2) if [ -d "$1" ]; then src=$1; loops=$2; log=; else loops=$1; log=$2; fi ;;
  3) src=$1; loops=$2; log=$3 ;;
  *) usage ;;
esac
case $loops in
  '' | *[!0-9]*) echo "$0: event_loops must be a number (0: one loop per handle)" >&2; exit 2 ;;
esac
for f in janus.jcfg janus.transport.websockets.jcfg janus.plugin.videoroom.jcfg; do
  [ -f "$src/$f" ] || { echo "$0: $src/$f is missing" >&2; exit 2; }
done
command -v janus >/dev/null 2>&1 || { echo "$0: janus is not installed (apt-get install janus)" >&2; exit 1; }
if [ "$(readlink /proc/self/ns/net)" = "$(readlink /proc/1/ns/net 2>/dev/null || true)" ]; then
  echo "$0: run me inside a network namespace of your own (unshare -n)" >&2
  exit 1
fi
ip link show jv0 >/dev/null 2>&1 || { echo "$0: no interface jv0 in this namespace" >&2; exit 1; }

dir=$(mktemp -d "${TMPDIR:-/tmp}/conclave-janus.XXXXXX")
cp "$src"/janus.jcfg "$src"/janus.transport.websockets.jcfg "$src"/janus.plugin.videoroom.jcfg "$dir"/
sed -i -e "s|^\([[:space:]]*event_loops[[:space:]]*=\).*|\1 $loops|" \
  -e "s|^\([[:space:]]*configs_folder[[:space:]]*=\).*|\1 \"$dir\"|" "$dir/janus.jcfg"
case ${JANUS_ICE_LITE:-} in
  '') ;;
  true | false) sed -i "s|^\([[:space:]]*ice_lite[[:space:]]*=\).*|\1 $JANUS_ICE_LITE|" "$dir/janus.jcfg" ;;
  *) echo "$0: JANUS_ICE_LITE must be true or false" >&2; exit 2 ;;
esac
log=${log:-$dir/janus.log}
port=$(sed -n 's/^[[:space:]]*ws_port[[:space:]]*=[[:space:]]*\([0-9]*\).*/\1/p' \
  "$dir/janus.transport.websockets.jcfg" | head -n 1)
port=${port:-8188}

janus -F "$dir" -C "$dir/janus.jcfg" -o >"$log" 2>&1 </dev/null &
pid=$!

# Wait (at most 15 s) until the WebSocket port accepts connections.
i=0
while :; do
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "$0: janus exited; its log ($log):" >&2
    tail -n 30 "$log" >&2
    exit 1
  fi
  if bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null; then
    break
  fi
  i=$((i + 1))
  if [ $i -ge 150 ]; then
    echo "$0: janus did not open port $port within 15 s; its log ($log):" >&2
    tail -n 30 "$log" >&2
    kill "$pid" 2>/dev/null || true
    exit 1
  fi
  sleep 0.1
done
echo "$pid"
