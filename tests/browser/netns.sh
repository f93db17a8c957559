#!/bin/sh
# Runs a command inside a fresh network namespace whose only interface is loopback, so
# that nothing the command starts (the server, Chromium and whatever Chromium decides to
# fetch on its own) can reach any other machine. Used by CTest for the browser tests:
#
#   tests/browser/netns.sh node --test tests/browser/landing.test.mjs
#
# As root this is `unshare -n`; otherwise it tries a user namespace as well
# (`unshare -r -n`), which works where unprivileged user namespaces are enabled. If
# neither is permitted it fails with exit code 1 rather than run the test without the
# namespace. The command sees TEST_NETNS=loopback-only, so a test can check where it runs.
set -eu

if [ "$#" -eq 0 ]; then
  echo "usage: $0 COMMAND [ARG...]" >&2
  exit 2
fi

if ! command -v unshare >/dev/null 2>&1 || ! command -v ip >/dev/null 2>&1; then
  echo "netns.sh: needs unshare (util-linux) and ip (iproute2) to build a loopback-only network namespace" >&2
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

TEST_NETNS=loopback-only
export TEST_NETNS
# shellcheck disable=SC2086 # $opts is a list of options on purpose
exec unshare $opts sh -c '
  if ! ip link set lo up; then
    echo "netns.sh: cannot bring up the loopback interface in the new namespace" >&2
    exit 1
  fi
  exec "$@"' netns.sh "$@"
