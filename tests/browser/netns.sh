#!/bin/sh
# Runs a command inside a fresh network namespace, so that nothing the command starts (the
# server, the browsers and whatever a browser decides to fetch on its own) can reach any
# other machine. Used by CTest for the browser tests:
#
#   tests/browser/netns.sh node --test tests/browser/landing.test.mjs
#   tests/browser/netns.sh --veth node --test tests/browser/firefox.test.mjs
#
# By default the namespace has loopback only (TEST_NETNS=loopback-only). With --veth it
# also has one private veth pair (tv0 10.255.255.1/24 <-> tv1, unaddressed) and a default
# route through tv0 (TEST_NETNS=veth, TEST_NETNS_ADDRESS=10.255.255.1, the address a
# server under test should announce): Firefox gathers no loopback ICE candidates, and none
# at all without a default route (/work/shared/TESTING.md). The pair's far end lives in
# the same namespace and leads nowhere.
#
# As root this is `unshare -n`; otherwise it tries a user namespace as well
# (`unshare -r -n`), which works where unprivileged user namespaces are enabled. If
# neither is permitted it fails with exit code 1 rather than run the test without the
# namespace.
set -eu

veth=0
if [ "${1:-}" = "--veth" ]; then
  veth=1
  shift
fi
if [ "$#" -eq 0 ]; then
  echo "usage: $0 [--veth] COMMAND [ARG...]" >&2
  exit 2
fi

if ! command -v unshare >/dev/null 2>&1 || ! command -v ip >/dev/null 2>&1; then
  echo "netns.sh: needs unshare (util-linux) and ip (iproute2) to build a private network namespace" >&2
  exit 1
fi

if unshare -n true 2>/dev/null; then
  opts="-n"
elif unshare -r -n true 2>/dev/null; then
  opts="-r -n"
else
  echo "netns.sh: cannot create a network namespace: 'unshare -n' is not permitted here" >&2
  echo "netns.sh: (run as root, grant CAP_SYS_ADMIN, or enable unprivileged user namespaces;" >&2
  echo "netns.sh:  the browser tests refuse to run with the machine's real network)" >&2
  exit 1
fi

if [ "$veth" = 1 ]; then
  TEST_NETNS=veth
  TEST_NETNS_ADDRESS=10.255.255.1
  export TEST_NETNS_ADDRESS
else
  TEST_NETNS=loopback-only
fi
export TEST_NETNS
# shellcheck disable=SC2086 # $opts is a list of options on purpose
exec unshare $opts sh -c '
  fail() { echo "netns.sh: cannot set up the namespace: $1" >&2; exit 1; }
  ip link set lo up || fail "loopback interface"
  if [ "$TEST_NETNS" = veth ]; then
    ip link add tv0 type veth peer name tv1 || fail "veth pair (needs the veth kernel module)"
    ip addr add "$TEST_NETNS_ADDRESS/24" dev tv0 || fail "address on tv0"
    ip link set tv1 up || fail "tv1 up"
    ip link set tv0 up || fail "tv0 up"
    ip route add default dev tv0 || fail "default route"
  fi
  exec "$@"' netns.sh "$@"
