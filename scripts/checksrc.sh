#!/usr/bin/env bash
# Source checks run by the tests: banned functions, and clang-format conformance.
set -u
root="${1:-$(cd "$(dirname "$0")/.." && pwd)}"
cd "$root" || exit 2
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find base storage gateway auth routes taskhub cli tests bench -name '*.[ch]' 2>/dev/null)
[ -n "$files" ] || files=$(find . -path ./build -prune -o -path ./node_modules -prune -o -name '*.[ch]' -print)
bad=0
# Unbounded string functions: use snprintf, dg_buf and memcpy with a known length.
if grep -nE '\b(sprintf|vsprintf|strcpy|strcat|gets)\s*\(' $files; then
    echo "checksrc: banned function above (sprintf, vsprintf, strcpy, strcat, gets)"
    bad=1
fi
if command -v clang-format >/dev/null; then
    if ! clang-format --dry-run -Werror $files 2>/tmp/checksrc-format.$$; then
        head -n 40 /tmp/checksrc-format.$$
        echo "checksrc: formatting differs from .clang-format (run: clang-format -i \$(git ls-files '*.[ch]'))"
        bad=1
    fi
    rm -f /tmp/checksrc-format.$$
else
    echo "checksrc: clang-format not installed"
    bad=1
fi
[ $bad -eq 0 ] && echo "checksrc: 1 passed, 0 failed" || echo "checksrc: 0 passed, 1 failed"
exit $bad
