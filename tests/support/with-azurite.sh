#!/usr/bin/env bash
# usage: with-azurite.sh COMMAND [ARGS...]
# Runs COMMAND with a private in-memory Azurite on free loopback ports; its
# connection string is in AZURITE_CONNECTION_STRING. Azurite is always stopped.
set -u
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/../../scripts/lib/azurite.sh"
workdir="$(mktemp -d "${TMPDIR:-/tmp}/dg-azurite.XXXXXX")"
trap 'azurite_stop; rm -rf "$workdir"' EXIT
trap 'exit 130' INT TERM
azurite_start memory "$workdir" || exit 1
"$@"
rc=$?
if [ $rc -ne 0 ] && [ -s "$workdir/azurite.log" ]; then
    echo "--- azurite log (last 20 lines) ---" >&2
    tail -n 20 "$workdir/azurite.log" >&2
fi
exit $rc
