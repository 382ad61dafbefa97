#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Generates jit/bus_contract.hpp from dbus/io.jitd.Jit1.xml.

The XML is the one description of jitd's bus API; jitd, jitctl, pam_jit, the test tools, the
bench and the fuzzers take every name and signature from the header written here, so that
none of them spells one by hand. Usage: gen_bus_contract.py CONTRACT.xml OUTPUT.hpp

The header holds:
- the bus name, object path and interface names;
- each method and signal as a Member (interface, name, in and out signatures, argument names);
- the error names;
- the keys of every record kind (annotations io.jitd.Contract.Record.KIND), typed.

Any inconsistency in the XML (an unknown record type, a duplicate name, a missing annotation)
stops the build with one line saying what is wrong.
"""
import os
import re
import sys
import xml.etree.ElementTree as ET

ANNOTATION = "io.jitd.Contract."
RECORD = ANNOTATION + "Record."
# D-Bus type of a record value -> the C++ record::Type enumerator.
RECORD_TYPES = {
    "s": "String",
    "x": "Int64",
    "i": "Int32",
    "b": "Boolean",
    "as": "Strings",
    "ax": "Int64s",
    "aa{sv}": "Records",
    "a{sv}": "Record",
}
SIGNATURE = re.compile(r"^[ybnqiuxtdsogvha{}()]*$")


class ContractError(Exception):
    pass


def camel_to_snake(name):
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def constant(name):
    """request_id -> kRequestId, GetStatus -> kGetStatus."""
    return "k" + "".join(part[:1].upper() + part[1:] for part in name.split("_"))


def c_string(text):
    if not re.fullmatch(r"[A-Za-z0-9_./{}():]*", text):
        raise ContractError(f"unexpected character in {text!r}")
    return f'"{text}"'


def c_names(names):
    """The sd-bus argument-name block: every name followed by NUL."""
    if not names:
        return '""'
    return " ".join(f'"{name}\\0"' for name in names)


def annotations(element):
    return {a.get("name"): a.get("value", "") for a in element.findall("annotation")}


def args_of(member, direction):
    out = []
    for arg in member.findall("arg"):
        if (arg.get("direction") or ("out" if member.tag == "signal" else "in")) == direction:
            name, sig = arg.get("name"), arg.get("type")
            if not name or not sig or not SIGNATURE.match(sig):
                raise ContractError(f"{member.get('name')}: bad argument {name!r} {sig!r}")
            out.append((name, sig))
    return out


def parse_record(kind, value):
    keys = []
    for item in value.split():
        parts = item.split(":")
        if len(parts) not in (2, 3) or (len(parts) == 3 and parts[2] != "time"):
            raise ContractError(f"record {kind}: bad key {item!r} (NAME:TYPE[:time])")
        name, sig = parts[0], parts[1]
        if sig not in RECORD_TYPES:
            raise ContractError(f"record {kind}: key {name} has unsupported type {sig!r}")
        if len(parts) == 3 and sig != "x":
            raise ContractError(f"record {kind}: time key {name} must be x")
        if any(name == k[0] for k in keys):
            raise ContractError(f"record {kind}: key {name} twice")
        keys.append((name, sig, len(parts) == 3))
    if not keys:
        raise ContractError(f"record {kind} has no keys")
    return keys


def load(path):
    root = ET.parse(path).getroot()
    object_path = root.get("name")
    if not object_path:
        raise ContractError("the <node> has no name (the object path)")
    contract = {"path": object_path, "interfaces": [], "errors": [], "records": [], "bus": None}
    for iface in root.findall("interface"):
        iname = iface.get("name")
        notes = annotations(iface)
        if ANNOTATION + "BusName" in notes:
            contract["bus"] = notes[ANNOTATION + "BusName"]
        contract["errors"] += notes.get(ANNOTATION + "Errors", "").split()
        for note, value in notes.items():
            if note.startswith(RECORD):
                kind = note[len(RECORD):]
                contract["records"].append((kind, parse_record(kind, value)))
        members = []
        for element in iface:
            if element.tag not in ("method", "signal"):
                continue
            name = element.get("name")
            if any(name == m["name"] for m in members):
                raise ContractError(f"{iname}: {name} twice")
            members.append({"name": name, "kind": element.tag,
                            "in": args_of(element, "in"), "out": args_of(element, "out")})
        contract["interfaces"].append((iname, members))
    if not contract["bus"]:
        raise ContractError("no io.jitd.Contract.BusName annotation")
    if not contract["errors"]:
        raise ContractError("no io.jitd.Contract.Errors annotation")
    return contract


def error_prefix(errors):
    prefix = os.path.commonprefix(errors)
    return prefix[: prefix.rfind(".") + 1]


def render(contract, source):
    out = []
    emit = out.append
    emit("// SPDX-License-Identifier: Apache-2.0")
    emit(f"// Generated from {source} by dbus/gen_bus_contract.py: edit the XML, not this file.")
    emit("#pragma once")
    emit("")
    emit("namespace jit::bus {")
    emit("")
    emit(f"inline constexpr const char* kServiceName = {c_string(contract['bus'])};")
    emit(f"inline constexpr const char* kObjectPath = {c_string(contract['path'])};")
    for iname, _ in contract["interfaces"]:
        short = iname.rsplit(".", 1)[-1]
        emit(f"inline constexpr const char* {constant(short)}Interface = {c_string(iname)};")
    emit("")
    emit("// One method or signal. names: the argument names, in then out, each followed by NUL")
    emit("// (the layout of sd-bus's vtable). A signal's arguments are all out.")
    emit("struct Member {")
    emit("    const char* interface;")
    emit("    const char* name;")
    emit("    const char* in;")
    emit("    const char* out;")
    emit("    const char* names;")
    emit("};")
    for iname, members in contract["interfaces"]:
        short = iname.rsplit(".", 1)[-1]
        emit("")
        emit(f"namespace {camel_to_snake(short)} {{")
        emit("")
        for m in members:
            sig_in = "".join(s for _, s in m["in"])
            sig_out = "".join(s for _, s in m["out"])
            names = c_names([n for n, _ in m["in"]] + [n for n, _ in m["out"]])
            emit(f"inline constexpr Member {constant(m['name'])}{{{constant(short)}Interface, "
                 f"{c_string(m['name'])}, {c_string(sig_in)}, {c_string(sig_out)}, {names}}};")
        for kind in ("method", "signal"):
            listed = [constant(m["name"]) for m in members if m["kind"] == kind]
            if not listed:
                continue
            emit(f"inline constexpr Member k{kind.capitalize()}s[] = {{")
            for name in listed:
                emit(f"    {name},")
            emit("};")
        emit("")
        emit(f"}}  // namespace {camel_to_snake(short)}")
    emit("")
    emit(f"inline constexpr const char* kErrorNamePrefix = "
         f"{c_string(error_prefix(contract['errors']))};")
    for error in contract["errors"]:
        emit(f"inline constexpr const char* kError{error.rsplit('.', 1)[-1]} = {c_string(error)};")
    emit("")
    emit("// The keys of the a{sv} records, in the order jitctl prints them.")
    emit("namespace record {")
    emit("")
    emit("enum class Type { String, Int64, Int32, Boolean, Strings, Int64s, Records, Record };")
    emit("")
    emit("// A key whose C++ type says what its value must be (see DictWriter in jitd).")
    emit("template <Type T>")
    emit("struct Key {")
    emit("    const char* name;")
    emit("};")
    emit("")
    emit("struct KeyInfo {")
    emit("    const char* name;")
    emit("    Type type;")
    emit("    bool is_time;  // an instant in epoch seconds")
    emit("};")
    for kind, keys in contract["records"]:
        emit("")
        emit(f"namespace {camel_to_snake(kind)} {{")
        for name, sig, _ in keys:
            emit(f"inline constexpr Key<Type::{RECORD_TYPES[sig]}> {constant(name)}"
                 f"{{{c_string(name)}}};")
        emit("inline constexpr KeyInfo kKeys[] = {")
        for name, sig, is_time in keys:
            emit(f"    {{{c_string(name)}, Type::{RECORD_TYPES[sig]}, "
                 f"{'true' if is_time else 'false'}}},")
        emit("};")
        emit(f"}}  // namespace {camel_to_snake(kind)}")
    emit("")
    emit("}  // namespace record")
    emit("")
    emit("}  // namespace jit::bus")
    return "\n".join(out) + "\n"


def main(argv):
    if len(argv) != 3:
        print("usage: gen_bus_contract.py CONTRACT.xml OUTPUT.hpp", file=sys.stderr)
        return 2
    try:
        text = render(load(argv[1]), "dbus/" + os.path.basename(argv[1]))
    except (ContractError, ET.ParseError) as e:
        print(f"gen_bus_contract.py: {argv[1]}: {e}", file=sys.stderr)
        return 1
    # Rewrite only on change, so that a touched but equal XML rebuilds nothing.
    try:
        with open(argv[2], encoding="utf-8") as f:
            if f.read() == text:
                return 0
    except FileNotFoundError:
        pass
    with open(argv[2], "w", encoding="utf-8") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
