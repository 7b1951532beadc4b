#!/usr/bin/env bash
# Regenerates the History fixtures of tests/integration/routes/test_history.c from a
# real DurableTask.AzureStorage worker (tests/interop/worker) on a private Azurite:
#
#   ID.rows.jsonl     the instance's {hub}History rows, one JSON line each ("rows History ID")
#   ID.instance.json  its {hub}Instances row ("rows Instances ID")
#   ID.history.json   the framework's own reading of that history, TaskHubClient's
#                     GetOrchestrationHistoryAsync ("history ID"): what hub_history_get
#                     must reproduce byte for byte (gzipped, .json.gz, past 32 KiB)
#   blobs/NAME        every blob of {hub}-largemessages, as the worker gzipped it
#
# Usage: tests/integration/routes/history/regen.sh   (needs dotnet and node; ~1 minute)
set -u
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../../.." && pwd)"
. "$root/scripts/lib/azurite.sh"
. "$root/scripts/lib/worker.sh"
work="$(mktemp -d "${TMPDIR:-/tmp}/dg-history.XXXXXX")"
trap 'worker_stop; azurite_stop; rm -rf "$work"' EXIT
azurite_start memory "$work" || exit 1
worker_build || exit 1
worker_start DurableFunctionsHub 4 "$work/worker.log" || exit 1

big=$(printf '"%*s"' 31000 '' | tr ' ' y)   # past 30,720 UTF-16 units: a blob
worker_cli start E1_HelloSequence e1 >/dev/null
worker_cli start FailOnce f1 >/dev/null
worker_cli start FailOnce rw1 >/dev/null
worker_cli start ParentOrchestration p1 >/dev/null
worker_cli start LargePayload lp2 "$big" >/dev/null
worker_cli start AlwaysFail af1 >/dev/null
worker_cli start CustomStatusTimer t1 '{"seconds":1}' >/dev/null
worker_cli start CustomStatusTimer t2 '{"seconds":600}' >/dev/null
worker_cli start WaitForEvent w2 >/dev/null
worker_cli start WaitForEvent w3 >/dev/null
worker_cli start ContinueAsNewCounter c1 0 >/dev/null
worker_cli start E1_HelloSequence re1 >/dev/null
sleep 3
worker_cli suspend w2 "for a while"; sleep 1
worker_cli resume w2 "back again"; sleep 1
worker_cli raise w2 Approval '"yes"'
worker_cli terminate w3 "no longer needed"
worker_cli wait re1 60 >/dev/null
worker_cli start AlwaysFail re1 >/dev/null   # a shorter execution over a longer one
for id in e1 f1 rw1 p1 lp2 af1 t1 w2 w3 c1 re1; do worker_cli wait "$id" 60 >/dev/null || exit 1; done
worker_cli rewind rw1 "try again"
sleep 3
worker_cli wait rw1 60 >/dev/null || exit 1

ids="e1 f1 rw1 p1 lp2 af1 t1 t2 w2 w3 c1 re1"
rm -rf "$here/blobs" "$here"/*.jsonl "$here"/*.json "$here"/*.json.gz
for id in $ids; do
    worker_cli rows History "$id" > "$here/$id.rows.jsonl"
    worker_cli rows Instances "$id" > "$here/$id.instance.json"
    worker_cli history "$id" > "$here/$id.history.json"
    if [ "$(wc -c < "$here/$id.history.json")" -gt 32768 ]; then gzip -9n "$here/$id.history.json"; fi
done

# The blobs, fetched with a SharedKey-signed GET (Azurite's well-known account).
account=devstoreaccount1
key="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
hexkey=$(printf '%s' "$key" | base64 -d | od -An -tx1 | tr -d ' \n')
blob_get() { # CONTAINER NAME OUTFILE
    local date sts sig
    date=$(LC_ALL=C TZ=GMT date '+%a, %d %b %Y %H:%M:%S GMT')
    sts=$(printf 'GET\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:%s\nx-ms-version:2021-08-06\n/%s/%s/%s/%s' \
          "$date" "$account" "$account" "$1" "$2")
    sig=$(printf '%s' "$sts" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$hexkey" -binary | base64)
    curl -sf -o "$3" -H "x-ms-date: $date" -H "x-ms-version: 2021-08-06" \
         -H "Authorization: SharedKey $account:$sig" \
         "http://127.0.0.1:$AZURITE_BLOB_PORT/$account/$1/$2"
}
worker_cli artefacts | node -e '
    const a = JSON.parse(require("fs").readFileSync(0, "utf8"));
    for (const b of a.blobs) {
        const m = /^durablefunctionshub-largemessages\/(\S+\/history-\S+) \(/.exec(b);
        if (m) console.log(m[1]);
    }' | while read -r name; do
    mkdir -p "$here/blobs/$(dirname "$name")"
    blob_get durablefunctionshub-largemessages "$name" "$here/blobs/$name" || exit 1
done
echo "regen: $(ls "$here"/*.rows.jsonl | wc -l) instances, $(find "$here/blobs" -type f | wc -l) blobs"
