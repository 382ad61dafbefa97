#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The bus contract has one source, dbus/io.jitd.Jit1.xml:
# - the built jit/bus_contract.hpp is what dbus/gen_bus_contract.py makes of the XML now;
# - the generator notices a changed signature and refuses a malformed record annotation
#   (so the comparison above can fail);
# - no C++ source spells a method or signal name, or a whole multi-argument signature, of the
#   contract as a string literal: they all come from the generated header.
# Usage: bus_contract_test.sh SOURCE_DIR GENERATED_HEADER
set -uo pipefail

source_dir=$1
built=$2
xml="$source_dir/dbus/io.jitd.Jit1.xml"
gen="$source_dir/dbus/gen_bus_contract.py"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
pass() { echo "PASS: $*"; }
fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

if python3 "$gen" "$xml" "$tmp/fresh.hpp" && cmp -s "$tmp/fresh.hpp" "$built"; then
    pass "the built header matches dbus/io.jitd.Jit1.xml"
else
    fail "the built header differs from what the XML gives:"
    diff -u "$built" "$tmp/fresh.hpp"
fi

sed 's/name="until" type="x"/name="until" type="t"/' "$xml" >"$tmp/changed.xml"
if python3 "$gen" "$tmp/changed.xml" "$tmp/changed.hpp" && ! cmp -s "$tmp/changed.hpp" "$built"; then
    pass "a changed signature changes the header"
else
    fail "a changed signature in the XML left the header as it was"
fi

sed 's/auto_expiry:b/auto_expiry:q/' "$xml" >"$tmp/bad.xml"
if python3 "$gen" "$tmp/bad.xml" "$tmp/bad.hpp" 2>"$tmp/bad.err"; then
    fail "the generator accepted a record key of an unsupported type"
elif grep -q "auto_expiry" "$tmp/bad.err"; then
    pass "the generator refuses a bad record key: $(cat "$tmp/bad.err")"
else
    fail "the generator failed without naming the bad key: $(cat "$tmp/bad.err")"
fi

# Method and signal names, and the signatures of more than three characters that are not plain
# record containers.
mapfile -t literals < <(python3 - "$xml" <<'EOF'
import sys
import xml.etree.ElementTree as ET

root = ET.parse(sys.argv[1]).getroot()
seen = set()
for iface in root.findall("interface"):
    for member in list(iface.findall("method")) + list(iface.findall("signal")):
        seen.add(member.get("name"))
        for direction in ("in", "out"):
            sig = "".join(a.get("type") for a in member.findall("arg")
                          if (a.get("direction") or "out" if member.tag == "signal"
                              else a.get("direction") or "in") == direction)
            if len(sig) > 3 and "{" not in sig:
                seen.add(sig)
for literal in sorted(seen):
    print(literal)
EOF
)
if ((${#literals[@]} < 30)); then
    fail "read only ${#literals[@]} names and signatures from the XML"
fi
if git -C "$source_dir" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    mapfile -t sources < <(git -C "$source_dir" ls-files '*.cpp' '*.hpp')
else
    mapfile -t sources < <(cd "$source_dir" && find . -path ./build\* -prune -o \
        \( -name '*.cpp' -o -name '*.hpp' \) -print)
fi
patterns=()
for literal in "${literals[@]}"; do
    patterns+=(-e "\"$literal\"")
done
hits=$(cd "$source_dir" && grep -n -F "${patterns[@]}" -- "${sources[@]}")
if [[ -z $hits ]]; then
    pass "no C++ source spells one of the contract's ${#literals[@]} names or signatures"
else
    fail "names or signatures of the contract spelled by hand (use jit/bus_contract.hpp):"
    printf '%s\n' "$hits"
fi

if ((failures > 0)); then
    echo "$failures check(s) failed"
    exit 1
fi
