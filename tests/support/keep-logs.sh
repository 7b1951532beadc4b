# Sourced by the shell suites: dg_keep_logs NAME FILE... copies the files (a
# gateway's log, its key file) to $DG_TEST_LOGS/NAME.* when CTest sets
# DG_TEST_LOGS, for tests/check_secrets.sh, which runs after every suite.
dg_keep_logs() {
    local name="$1" f; shift
    [ -n "${DG_TEST_LOGS:-}" ] || return 0
    mkdir -p "$DG_TEST_LOGS"
    for f in "$@"; do
        DG_KEEP_SEQ=$((${DG_KEEP_SEQ:-0} + 1))
        [ -f "$f" ] || continue
        # key files as .json, the rest as .log: what check_secrets.sh reads as which
        if grep -q '"masterKey"\|"systemKeys"\|"readOnlyKeys"' "$f"; then
            cp "$f" "$DG_TEST_LOGS/$name.$$.$DG_KEEP_SEQ.json"
        else
            cp "$f" "$DG_TEST_LOGS/$name.$$.$DG_KEEP_SEQ.log"
        fi
    done
    return 0
}
