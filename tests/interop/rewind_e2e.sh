#!/usr/bin/env bash
# End-to-end rewind with the real Durable Task worker (tests/interop/worker), a driver of
# run-suite.sh (CTest: interop_rewind, in the sanitized build):
#
#   tests/interop/run-suite.sh rewind path/to/durable-gateway
#
# run-suite.sh starts Azurite, the worker (hub $DG_HUB) and the gateway with keys ($DG_URL,
# $DG_KEY). For FailOnce (an activity that fails the first time) and FailOnceTree (the same
# at the leaves of a tree of sub-orchestrations) this starts an instance, waits for Failed,
# rewinds it through the gateway, waits for Completed with output "recovered"; and does the
# same with the framework's own rewind (the worker's "rewind" subcommand) on a twin
# instance. The History rows each rewind changed must be the same, column for column, and
# so must the whole final histories. Also the route's refusals: 404, 412, 400.
#
# Exit 0: all passed; 1: a check failed. The counts go to $DG_COUNTS_FILE ("PASSED FAILED").
# REWIND_E2E_KEEP=1 keeps the rows it compared.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
: "${DG_URL:?run by run-suite.sh}" "${DG_KEY:?run by run-suite.sh}"
. "$root/scripts/lib/worker.sh"

tmp=$(mktemp -d)
cleanup() {
    if [ -n "${REWIND_E2E_KEEP:-}" ]; then echo "rows kept in $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

pass=0 fail=0
ok() { pass=$((pass + 1)); echo "PASS $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; [ $# -gt 1 ] && printf '%s\n' "$2" | sed 's/^/    /'; }
rows_js() { node "$here/rewind_rows.js" "$@"; }
api="$DG_URL/runtime/webhooks/durabletask"
K=(-H "x-functions-key: $DG_KEY")

# post PATH: prints "CODE BODY".
post() {
    curl -s "${K[@]}" -X POST -o "$tmp/body" -w '%{http_code}' "$api/$1" > "$tmp/code"
    echo "$(cat "$tmp/code") $(cat "$tmp/body")"
}

# status ID FIELD: one field of the gateway's status object ("" when absent).
status() {
    curl -s "${K[@]}" "$api/instances/$1" | node -e '
        let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
            try { const v = JSON.parse(s)[process.argv[1]]; console.log(v == null ? "" : typeof v === "string" ? v : JSON.stringify(v)); }
            catch { console.log(""); } });' "$2"
}

# wait_status ID STATUS SECONDS: polls the gateway until runtimeStatus is STATUS.
wait_status() {
    local i s=
    for i in $(seq 1 $(($3 * 5))); do
        s=$(status "$1" runtimeStatus)
        [ "$s" = "$2" ] && return 0
        sleep 0.2
    done
    echo "    $1 is '$s' after $3 s, not $2" >&2
    return 1
}

# snapshot TAG ID...: History and Instances rows of each instance into $tmp/TAG.ID.{h,i}.
snapshot() {
    local tag="$1" id
    shift
    for id in "$@"; do
        worker_cli rows History "$id" > "$tmp/$tag.$id.h"
        worker_cli rows Instances "$id" > "$tmp/$tag.$id.i"
    done
}

# tree_ids ROOT DEPTH CHILDREN: ROOT and the ids of its FailOnceTree descendants.
tree_ids() {
    local ids=("$1") level=("$1") next d c p
    for d in $(seq 1 "$2"); do
        next=()
        for p in "${level[@]}"; do
            for c in $(seq 0 $(($3 - 1))); do next+=("$p-$c"); done
        done
        ids+=("${next[@]}")
        level=("${next[@]}")
    done
    echo "${ids[@]}"
}

# compare NAME MODE GROOT WROOT DEPTH CHILDREN
# MODE "exact": the changed rows by RowKey and the whole final histories must match;
# "changes": the changed rows as a multiset (episodes may batch differently in a tree).
compare() {
    local name="$1" mode="$2" g="$3" w="$4" gids wids i gi wi out=
    read -r -a gids <<< "$(tree_ids "$g" "$5" "$6")"
    read -r -a wids <<< "$(tree_ids "$w" "$5" "$6")"
    for i in "${!gids[@]}"; do
        gi=${gids[$i]} wi=${wids[$i]}
        if [ "$mode" = exact ]; then
            out+=$(diff <(rows_js diff "$tmp/before.$gi.h" "$tmp/after.$gi.h" "$g") \
                        <(rows_js diff "$tmp/before.$wi.h" "$tmp/after.$wi.h" "$w") | sed "s/^/$gi vs $wi: /")
            out+=$(diff <(rows_js norm "$tmp/after.$gi.h" "$g") <(rows_js norm "$tmp/after.$wi.h" "$w") |
                   sed "s/^/$gi vs $wi final: /")
        else
            out+=$(diff <(rows_js changes "$tmp/before.$gi.h" "$tmp/after.$gi.h" "$g") \
                        <(rows_js changes "$tmp/before.$wi.h" "$tmp/after.$wi.h" "$w") | sed "s/^/$gi vs $wi: /")
        fi
        out+=$(diff <(rows_js diff "$tmp/before.$gi.i" "$tmp/after.$gi.i" "$g" | grep -v Timestamp) \
                    <(rows_js diff "$tmp/before.$wi.i" "$tmp/after.$wi.i" "$w" | grep -v Timestamp) |
               sed "s/^/$gi vs $wi Instances: /")
    done
    if [ -z "$out" ]; then ok "$name: the gateway's rewind changed the rows the framework's did"; else bad "$name: rows differ from the framework's rewind" "$out"; fi
}

# messages ROOT DEPTH CHILDREN REASON: the rewind's GenericEvent (Data = REASON) reached the
# leaves, and only them.
messages() {
    local ids id n leaves=0 wrong=
    read -r -a ids <<< "$(tree_ids "$1" "$2" "$3")"
    for id in "${ids[@]}"; do
        n=$(grep -c "\"EventType\":\"GenericEvent\".*\"Data\":\"$4\"\|\"Data\":\"$4\".*\"EventType\":\"GenericEvent\"" \
            "$tmp/after.$id.h")
        if [ "$2" -eq 0 ] || [[ "$id" =~ (-[0-9]+){$2}$ ]]; then
            [ "$n" -eq 1 ] && leaves=$((leaves + 1)) || wrong+=" $id($n)"
        else
            [ "$n" -eq 0 ] || wrong+=" $id($n)"
        fi
    done
    if [ -z "$wrong" ]; then ok "$1: one GenericEvent message to each of $leaves leaf/leaves, none elsewhere"; else bad "$1: GenericEvent messages wrong at:$wrong"; fi
}

# run_case NAME ORCHESTRATION INPUT DEPTH CHILDREN MODE
run_case() {
    local name="$1" orch="$2" input="$3" depth="$4" children="$5" mode="$6"
    local g="g-$name" w="w-$name" reason="rewind e2e $name" r
    r=$(curl -s "${K[@]}" -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
        ${input:+--data "$input"} "$api/orchestrators/$orch/$g")
    [ "$r" = 202 ] || { bad "$name: start through the gateway answered $r"; return; }
    worker_cli start "$orch" "$w" ${input:+"$input"} > /dev/null || { bad "$name: worker start"; return; }
    if wait_status "$g" Failed 60 && wait_status "$w" Failed 60; then
        ok "$name: both instances Failed"
    else
        bad "$name: instances did not fail"
        return
    fi
    read -r -a ids <<< "$(tree_ids "$g" "$depth" "$children") $(tree_ids "$w" "$depth" "$children")"
    snapshot before "${ids[@]}"
    r=$(post "instances/$g/rewind?reason=$(node -p 'encodeURIComponent(process.argv[1])' "$reason")")
    [ "$r" = "202 " ] && ok "$name: rewind through the gateway is 202 with no body" || bad "$name: rewind answered '$r'"
    worker_cli rewind "$w" "$reason" || bad "$name: the framework's rewind failed"
    if wait_status "$g" Completed 60 && wait_status "$w" Completed 60; then
        ok "$name: both instances Completed after the rewind"
    else
        bad "$name: not Completed after the rewind"
        return
    fi
    local out
    out=$(status "$g" output)
    [ "$out" = recovered ] && ok "$name: output \"recovered\"" || bad "$name: output is '$out'"
    snapshot after "${ids[@]}"
    compare "$name" "$mode" "$g" "$w" "$depth" "$children"
    messages "$g" "$depth" "$children" "$reason"
    messages "$w" "$depth" "$children" "$reason"
}

# The route's refusals.
r=$(post "instances/nope/rewind")
[ "$r" = '404 "No orchestration with instance ID \"$nope\" found."' ] && ok "unknown instance: 404, EXTNEW's text" || bad "unknown instance answered '$r'"
r=$(post "instances/@counter@k/rewind")
[ "${r%% *}" = 400 ] && grep -q '"Message"' <<< "$r" && ok "entity id: 400 form A" || bad "entity id answered '$r'"
curl -s "${K[@]}" -o /dev/null -X POST -H 'Content-Type: application/json' "$api/orchestrators/WaitForEvent/g-running"
wait_status g-running Running 30
r=$(post "instances/g-running/rewind")
[ "$r" = '412 "This orchestration has status Running, but only orchestrations in the \"Failed\" state can be rewound."' ] &&
    ok "Running: 412, EXTNEW's text" || bad "Running answered '$r'"
curl -s "${K[@]}" -o /dev/null -X POST -H 'Content-Type: application/json' --data '"x"' "$api/orchestrators/Echo/g-done"
wait_status g-done Completed 30
r=$(post "instances/g-done/rewind")
[ "${r%% *}" = 412 ] && grep -q 'status Completed' <<< "$r" && ok "Completed: 412" || bad "Completed answered '$r'"

# FailOnce started by the framework and rewound by the gateway, against the same rewound
# by the framework: nothing else differs, so the final histories must match exactly.
x=x-once
worker_cli start FailOnce $x > /dev/null && worker_cli start FailOnce w-xonce > /dev/null
if wait_status $x Failed 60 && wait_status w-xonce Failed 60; then
    snapshot before $x w-xonce
    r=$(post "instances/$x/rewind?reason=same")
    worker_cli rewind w-xonce same
    if [ "$r" = "202 " ] && wait_status $x Completed 60 && wait_status w-xonce Completed 60; then
        snapshot after $x w-xonce
        out=$(diff <(rows_js diff "$tmp/before.$x.h" "$tmp/after.$x.h" $x) \
                   <(rows_js diff "$tmp/before.w-xonce.h" "$tmp/after.w-xonce.h" w-xonce))
        out+=$(diff <(rows_js norm "$tmp/after.$x.h" $x) <(rows_js norm "$tmp/after.w-xonce.h" w-xonce))
        out+=$(diff <(rows_js norm "$tmp/after.$x.i" $x) <(rows_js norm "$tmp/after.w-xonce.i" w-xonce))
        [ -z "$out" ] && ok "framework-started FailOnce: History and Instances rows match the framework's rewind" ||
            bad "framework-started FailOnce: rows differ" "$out"
    else
        bad "framework-started FailOnce: rewind answered '$r' or did not complete"
    fi
else
    bad "framework-started FailOnce did not fail"
fi

run_case once FailOnce "" 0 1 exact
run_case tree FailOnceTree "" 1 1 exact
run_case tree2 FailOnceTree '{"depth":2,"children":2}' 2 2 changes

# After the rewind has been picked up, a second rewind is refused: the instance is done.
r=$(post "instances/g-once/rewind")
[ "${r%% *}" = 412 ] && ok "rewinding a recovered instance again: 412" || bad "second rewind answered '$r'"

echo "$pass passed, $fail failed"
[ -n "${DG_COUNTS_FILE:-}" ] && echo "$pass $fail" > "$DG_COUNTS_FILE"
[ $fail -eq 0 ]
