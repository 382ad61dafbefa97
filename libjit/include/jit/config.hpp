// SPDX-License-Identifier: Apache-2.0
// jitd.conf (man/jitd.conf.5): INI with a [daemon] section of key = value lines, lists
// comma-separated, and an optional [store] section (backend, url) for a fleet.
//
//   [daemon]
//   database = /var/lib/jitd/jit.db        ; absolute paths
//   admin_groups = jit-admin, wheel        ; group names; empty value: no such group (root only)
//   min_duration = 1min                    ; durations as parse_duration() reads them
//   warn_before = 0                        ; "0" turns the expiry warning off
//
// Lines starting with # or ; are comments, and so is " ;..." after a value. Values are taken
// literally (quotes included); a line may hold at most 198 bytes (put a long notify_command in a
// script). Every key at most once; min_duration <= max_duration_limit.
#pragma once

#include <string>
#include <vector>

#include "jit/time.hpp"

namespace jit {

// Where jitd keeps its state: one SQLite file, or a fleet's shared PostgreSQL database.
enum class StoreBackend { Sqlite, Postgresql };

struct Config {
    std::string database = "/var/lib/jitd/jit.db";
    // On persistent storage: after a reboot in which jitd does not start, pam_jit still lets
    // unmanaged logins, members and unexpired grants in (docs/login-decision.md).
    std::string snapshot = "/var/lib/jitd/snapshot";
    // One authorized keys file per account sshd logins into are covered for, named after the
    // account (docs/shared-accounts-over-ssh.md).
    std::string authorized_keys_dir = "/var/lib/jitd-keys";
    std::vector<std::string> admin_groups = {"jit-admin"};
    std::vector<std::string> auditor_groups = {"jit-audit"};
    Seconds min_duration = 60;
    Seconds max_duration_limit = 30 * 86400;
    Seconds kill_grace = 10;
    Seconds warn_before = 300;    // 0: no warning
    std::string notify_command;   // empty: no notifications
    Seconds notify_timeout = 10;  // how long a notify_command may run before it is killed
    // PAM services that a resource's "*" does not cover (cron, atd, systemd-user).
    std::vector<std::string> unmanaged_services = {"cron", "atd", "systemd-user"};
    // More places a grant's review fingerprints (docs/grant-review.md): absolute paths, the last
    // component may hold wildcards.
    std::vector<std::string> review_paths;
    bool root_approves = false;    // root with no login user may approve requests
    int max_pending_per_user = 5;  // pending requests one user may hold; 0: no limit
    int requests_per_hour = 30;    // requests one user may make in an hour; 0: no limit
    // How far ahead a request may ask its grant to start (request --start).
    Seconds max_schedule_ahead = 7 * 86400;
    // The name audit events give this host (JIT_HOST). load_config fills in the machine's
    // host name when the file does not set one.
    std::string host;
    // [store]: backend and, for postgresql, the libpq connection string or URI (url). A
    // password never goes here: libpq reads it from the passfile.
    StoreBackend store_backend = StoreBackend::Sqlite;
    std::string store_url;
};

inline constexpr const char* kDefaultConfigPath = "/etc/jit/jitd.conf";

// Reads the file. A missing file yields the defaults only when allow_missing is true (the
// default path); an unreadable or invalid file throws JitError(InvalidInput) with
// "FILE:LINE: key 'KEY': what is wrong".
Config load_config(const std::string& path, bool allow_missing);

// The machine's host name (gethostname), checked like the host key; throws JitError(InvalidInput)
// when it is not a valid host name (then jitd.conf must set host).
std::string machine_host_name();

// Same rules for a string (tests, and the error text uses `origin` as the file name).
Config parse_config(const std::string& text, const std::string& origin);

}  // namespace jit
