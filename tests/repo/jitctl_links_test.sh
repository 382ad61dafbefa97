#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# jitctl is a bus client: it links the core (validation, time, presets, bus names) and none of
# the engine, SQLite or OpenSSL. Usage: jitctl_links_test.sh PATH-TO-JITCTL
set -uo pipefail
jitctl=${1:?usage: $0 PATH-TO-JITCTL}
failed=0
check() { # DESCRIPTION COUNT: passes when COUNT is 0
    if [[ $2 == 0 ]]; then
        echo "ok   $1"
    else
        echo "FAIL $1 ($2 found)"
        failed=$((failed + 1))
    fi
}
check "no engine symbols (JitService) in jitctl" "$(nm -C "$jitctl" | grep -c 'JitService')"
check "no SQLite in jitctl" "$( (nm "$jitctl"; ldd "$jitctl") | grep -ci sqlite)"
check "no libcrypto in jitctl" "$(ldd "$jitctl" | grep -c 'libcrypto')"
echo "$((3 - failed)) passed, $failed failed"
((failed == 0))
