#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The D-Bus contract: what the live /io/jitd/Jit1 introspects for io.jitd.Jit1.Manager and
# io.jitd.Jit1.Pam equals dbus/io.jitd.Jit1.xml (methods, argument names, types and directions,
# signals, properties). Annotations are ignored.
source "$(dirname "$0")/lib/harness.sh"

jitd_start

run xmllint --noout "$JIT_SOURCE_DIR/dbus/io.jitd.Jit1.xml"
if [[ $RC == 0 ]]; then pass "dbus/io.jitd.Jit1.xml is well-formed XML"; else fail "dbus/io.jitd.Jit1.xml is not well-formed: $ERR"; fi

run busctl --system introspect --xml-interface io.jitd.Jit1 /io/jitd/Jit1
expect_eq "busctl introspect exit" "$RC" 0
printf '%s\n' "$OUT" >"$T/live.xml"

# Prints one line per member: "interface method|signal|property name arg:dir:type,..." and
# compares the two sets.
compare() {
    python3 - "$JIT_SOURCE_DIR/dbus/io.jitd.Jit1.xml" "$T/live.xml" <<'EOF'
import re
import sys
import xml.etree.ElementTree as ET

INTERFACES = ("io.jitd.Jit1.Manager", "io.jitd.Jit1.Pam")

def members(path):
    # Comments are dropped first: well-formedness is checked separately (xmllint).
    text = re.sub(r"<!--.*?-->", "", open(path, encoding="utf-8").read(), flags=re.S)
    text = re.sub(r"<!DOCTYPE[^>]*>", "", text)
    root = ET.fromstring(text)
    out = set()
    for iface in root.findall("interface"):
        name = iface.get("name")
        if name not in INTERFACES:
            continue
        for m in iface.findall("method"):
            args = ",".join(f"{a.get('name')}:{a.get('direction', 'in')}:{a.get('type')}"
                            for a in m.findall("arg"))
            out.add(f"{name} method {m.get('name')}({args})")
        for s in iface.findall("signal"):
            args = ",".join(f"{a.get('name')}:{a.get('type')}" for a in s.findall("arg"))
            out.add(f"{name} signal {s.get('name')}({args})")
        for p in iface.findall("property"):
            out.add(f"{name} property {p.get('name')}:{p.get('type')}:{p.get('access')}")
        out.add(f"{name} interface")
    return out

contract, live = members(sys.argv[1]), members(sys.argv[2])
for line in sorted(contract - live):
    print(f"missing from jitd: {line}")
for line in sorted(live - contract):
    print(f"not in the contract: {line}")
print(f"{len(contract)} members in the contract, {len(live)} live")
sys.exit(0 if contract == live else 1)
EOF
}
run compare
if [[ $RC == 0 ]]; then
    pass "live introspection matches dbus/io.jitd.Jit1.xml ($OUT)"
else
    fail "live introspection differs from dbus/io.jitd.Jit1.xml:"$'\n'"$OUT$ERR"
fi

# The standard interfaces are reachable through the bus policy by any user.
expect_exit 0 -m "a user may Ping jitd" -- as jitmallory busctl --system call io.jitd.Jit1 /io/jitd/Jit1 org.freedesktop.DBus.Peer Ping
expect_exit 0 -m "a user may introspect jitd" -- as jitmallory busctl --system introspect io.jitd.Jit1 /io/jitd/Jit1
# Only root may own the name (dbus/io.jitd.Jit1.conf).
run as jitmallory busctl --system call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus RequestName su io.jitd.Jit1 4
expect_ne "a user may not own io.jitd.Jit1 (exit)" "$RC" 0

finish
