#!/usr/bin/env bash
# Fails the build if the two kernel links placed any function differently: the embedded
# symbol table would then lie.
set -euo pipefail
text_symbols() { nm -n --defined-only "$1" | awk '$2 ~ /^[tTwW]$/ { print $1, $3 }'; }
if ! diff <(text_symbols "$1") <(text_symbols "$2") >/dev/null; then
    echo "check-ksyms: functions moved between the two kernel links" >&2
    exit 1
fi
