// SPDX-License-Identifier: Apache-2.0
// jitctl key add|list|remove: the ssh keys that make a person the one behind a shared account's
// ssh login (docs/shared-accounts-over-ssh.md). The key line is checked here first, so a
// malformed one is refused before jitd is asked; jitd checks it again.

#include <fstream>
#include <iostream>
#include <sstream>

#include "bus_client.hpp"
#include "command_output.hpp"
#include "commands.hpp"
#include "exit_status.hpp"
#include "jit/ssh_key.hpp"
#include "jit/validate.hpp"
#include "output.hpp"
#include "record.hpp"

namespace jitctl {
namespace {

// A public key file is small; anything much larger is not one.
constexpr std::size_t kMaxKeyFileBytes = 64 * 1024;

std::string read_input(const std::string& file) {
    std::ostringstream text;
    if (file.empty() || file == "-") {
        text << std::cin.rdbuf();
    } else {
        std::ifstream in(file, std::ios::binary);
        if (!in) {
            throw CommandError(kExitInvalidInput,
                               "cannot read " + printable(file) + ": no such readable file");
        }
        text << in.rdbuf();
    }
    std::string contents = text.str();
    if (contents.size() > kMaxKeyFileBytes) {
        throw CommandError(kExitInvalidInput, "the input is too large for an ssh public key");
    }
    return contents;
}

// The one key line of a .pub file: blank lines and # comments aside, exactly one line.
std::string only_key_line(const std::string& contents) {
    std::istringstream lines(contents);
    std::string line;
    std::string key;
    while (std::getline(lines, line)) {
        if (!line.empty() && line.back() == '\r') {
            line.pop_back();
        }
        const auto start = line.find_first_not_of(" \t");
        if (start == std::string::npos || line[start] == '#') {
            continue;
        }
        if (!key.empty()) {
            throw CommandError(kExitInvalidInput, "give one public key at a time (found several)");
        }
        key = line.substr(start);
    }
    if (key.empty()) {
        throw CommandError(kExitInvalidInput, "no public key given");
    }
    return key;
}

}  // namespace

int cmd_key_add(const Globals& globals, const std::string& file, const std::string& user) {
    if (!user.empty()) {
        jit::validate_user_name(user);
    }
    const std::string line = only_key_line(read_input(file));
    jit::parse_public_key(line);
    auto bus = BusClient::connect();
    const Json key = fetch(bus, bus.method(api::kAddKey).add_string(line).add_string(user));
    return print_record(globals, key, RecordKind::Key, [](const Json& added) {
        std::cout << "Key " << show_field(added, "fingerprint") << " (" << show_field(added, "type")
                  << ") registered to " << show_field(added, "user") << ".\n";
    });
}

int cmd_key_list(const Globals& globals, const std::string& user) {
    if (!user.empty()) {
        jit::validate_user_name(user);
    }
    auto bus = BusClient::connect();
    return print_list(globals, fetch(bus, bus.method(api::kListKeys).add_string(user)),
                      RecordKind::Key, print_keys);
}

int cmd_key_remove(const Globals& globals, const std::string& fingerprint) {
    jit::validate_text("fingerprint", fingerprint, jit::kMaxDescriptionLength);
    auto bus = BusClient::connect();
    const Json key = fetch(bus, bus.method(api::kRemoveKey).add_string(fingerprint));
    return print_record(globals, key, RecordKind::Key, [](const Json& removed) {
        std::cout << "Key " << show_field(removed, "fingerprint") << " of "
                  << show_field(removed, "user") << " removed.\n";
    });
}

}  // namespace jitctl
