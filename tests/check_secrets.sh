#!/usr/bin/env bash
# tests/check_secrets.sh DIR...: no key, signature or account key in any log
# under the DIRs (*.log, *.out, *.txt; the suites keep theirs with
# tests/support/keep-logs.sh when DG_TEST_LOGS is set, at DG_LOG_LEVEL=debug).
#
# Looked for: every key of every key file found there (*.json: masterKey,
# systemKeys, readOnlyKeys, functionKeys values of 8 characters or more) and
# Azurite's account key, verbatim; and by form, whatever the key: SharedKey
# authorizations, SAS signatures (sig=), AccountKey= values, code= (under any
# case or percent-encoding of its name) and x-functions-key values other than
# REDACTED. Prints each hit as FILE:LINE with the secret masked; exit 1 on any.
set -u
[ $# -ge 1 ] || { echo "usage: check_secrets.sh DIR..." >&2; exit 2; }
azurite_key='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
secrets=$(mktemp)
trap 'rm -f "$secrets"' EXIT
echo "$azurite_key" > "$secrets"
mapfile -t logs < <(find "$@" -type f \( -name '*.log' -o -name '*.out' -o -name '*.txt' \) 2>/dev/null | sort)
while IFS= read -r f; do
    # every string value of a key file (keys are opaque strings; short ones would match anything)
    grep -oE '"[^"]{8,}"' "$f" | tr -d '"' | grep -vE '^(masterKey|systemKeys|readOnlyKeys|functionKeys|durabletask_extension)$' >> "$secrets"
done < <(find "$@" -type f -name '*.json' -exec grep -l -E 'masterKey|systemKeys|readOnlyKeys' {} + 2>/dev/null)
sort -u -o "$secrets" "$secrets"
forms=(
    'SharedKey(Lite)? [A-Za-z0-9]+:[A-Za-z0-9+/=]{16,}'
    '[?&;]sig=[A-Za-z0-9%+/=]{8,}'
    'AccountKey=[A-Za-z0-9+/=]{8,}'
    '(?i)(^|[?&;\s])(c|%63)(o|%6f)(d|%64)(e|%65)=(?!REDACTED)[^&\s"]'
    '(?i)x-functions-key["]?\s*[:=]\s*"?(?!REDACTED)[^\s"]'
)
hits=0
for log in "${logs[@]}"; do
    while IFS= read -r hit; do
        hits=$((hits + 1)); echo "key in a log: $log:${hit%%:*}"
    done < <(grep -nF -f "$secrets" "$log" | cut -d: -f1)
    for re in "${forms[@]}"; do
        while IFS= read -r ln; do
            hits=$((hits + 1)); echo "secret-shaped text in a log: $log:$ln ($re)"
        done < <(grep -nP -- "$re" "$log" | cut -d: -f1)
    done
done
echo "check_secrets: ${#logs[@]} log files, $(wc -l < "$secrets") known keys, $hits hits"
[ $hits -eq 0 ]
