// SPDX-License-Identifier: Apache-2.0
// Durable audit events per second: several clients, each its own process and bus connection,
// make requests and approve them through jitd; the rate is what the database holds afterwards.
//
//   events_bench populate DB N                 N resources under one require-approval policy
//                                              whose approvers are @jit-approvers
//   events_bench run DB N REQUESTER:APPROVER...
//
// `run` forks one requester and one approver process per pair, each switched to its user. The
// requester requests access to each of the N resources once; every request's id goes through a
// pipe to its approver, which approves it. Each request makes three audit events (requested,
// approved, granted) in two transactions. Prints
//
//   events: E durable events in X.XX s from C clients: R events/s
//
// counting the audit rows the database gained. bench/run_events_bench.sh runs it against jitd.
#include <grp.h>
#include <pwd.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "bench_bus.hpp"
#include "jit/bus_contract.hpp"
#include "jit/bus_names.hpp"
#include "jit/sd_handles.hpp"
#include "jit/service.hpp"
#include "jit/store.hpp"

namespace {

constexpr std::uint64_t kCallTimeoutUsec = 30'000'000;
constexpr std::int64_t kDurationSeconds = 3600;

int populate(const std::string& path, int n) {
    auto store = jit::open_sqlite_store(path);
    auto tx = store->begin();
    jit::Policy policy;
    policy.name = "bench";
    policy.approvers = {"@jit-approvers"};
    policy.max_duration = 4 * kDurationSeconds;
    policy.active = true;
    tx->put(policy);
    for (int r = 0; r < n; ++r) {
        tx->put(jit::Resource{"bench" + std::to_string(r), "", {"sudo"}, {"root"}, {}, "bench"});
    }
    tx->commit();
    std::printf("populated %s: %d resources under a require-approval policy\n", path.c_str(), n);
    return 0;
}

std::int64_t head_seq(const std::string& path) {
    sqlite3* db = nullptr;
    std::int64_t seq = -1;
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK &&
        sqlite3_busy_timeout(db, 5000) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "SELECT coalesce(max(seq), 0) FROM audit_events", -1, &statement,
                           nullptr) == SQLITE_OK &&
        sqlite3_step(statement) == SQLITE_ROW) {
        seq = sqlite3_column_int64(statement, 0);
    }
    sqlite3_finalize(statement);
    sqlite3_close(db);
    return seq;
}

void become(const std::string& user) {
    const passwd* pw = getpwnam(user.c_str());
    if (!pw || initgroups(user.c_str(), pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
        setuid(pw->pw_uid) != 0) {
        std::fprintf(stderr, "cannot become %s\n", user.c_str());
        _exit(1);
    }
}

jit::sd::BusPtr connect() {
    jit::sd::BusPtr bus = jit::bench::open_system_bus();
    if (!bus) {
        _exit(1);
    }
    return bus;
}

// The "id" entry of an a{sv} reply.
std::int64_t read_id(sd_bus_message* reply) {
    std::int64_t id = 0;
    if (sd_bus_message_enter_container(reply, 'a', "{sv}") < 0) {
        return 0;
    }
    while (sd_bus_message_enter_container(reply, 'e', "sv") > 0) {
        const char* key = nullptr;
        sd_bus_message_read_basic(reply, 's', &key);
        if (std::strcmp(key, "id") == 0) {
            sd_bus_message_read(reply, "v", "x", &id);
        } else {
            sd_bus_message_skip(reply, "v");
        }
        sd_bus_message_exit_container(reply);
    }
    return id;
}

// One call on the manager interface; the reply's id, or 0 (and why, on stderr) on an error.
template <typename... Args>
std::int64_t call(sd_bus* bus, const jit::bus::Member& method, Args... args) {
    sd_bus_message* reply = nullptr;
    sd_bus_error error = SD_BUS_ERROR_NULL;
    const char* member = method.name;
    int r = sd_bus_call_method(bus, jit::bus::kServiceName, jit::bus::kObjectPath, method.interface,
                               member, &error, &reply, method.in, args...);
    std::int64_t id = 0;
    if (r < 0) {
        std::fprintf(stderr, "%s: %s\n", member, error.message ? error.message : strerror(-r));
    } else {
        id = read_id(reply);
    }
    sd_bus_error_free(&error);
    sd_bus_message_unref(reply);
    return id;
}

void requester(const std::string& user, int n, int ids_out) {
    become(user);
    auto bus = connect();
    sd_bus_set_method_call_timeout(bus.get(), kCallTimeoutUsec);
    for (int r = 0; r < n; ++r) {
        const std::string resource = "bench" + std::to_string(r);
        // Start 0: the grant starts when the request is approved.
        std::int64_t id = call(bus.get(), jit::bus::manager::kCreateRequest, resource.c_str(),
                               "benchmark of durable events", kDurationSeconds, std::int64_t{0});
        if (id == 0 || write(ids_out, &id, sizeof id) != sizeof id) {
            _exit(1);
        }
    }
    _exit(0);
}

void approver(const std::string& user, int ids_in) {
    become(user);
    auto bus = connect();
    sd_bus_set_method_call_timeout(bus.get(), kCallTimeoutUsec);
    std::int64_t id = 0;
    int failed = 0;
    while (read(ids_in, &id, sizeof id) == sizeof id) {
        failed += call(bus.get(), jit::bus::manager::kApprove, id, "") == 0 ? 1 : 0;
    }
    _exit(failed == 0 ? 0 : 1);
}

int run(const std::string& path, int n, const std::vector<std::string>& pairs) {
    const std::int64_t before = head_seq(path);
    const auto start = std::chrono::steady_clock::now();
    std::vector<pid_t> children;
    for (const auto& pair : pairs) {
        auto colon = pair.find(':');
        if (colon == std::string::npos) {
            std::fprintf(stderr, "not REQUESTER:APPROVER: %s\n", pair.c_str());
            return 64;
        }
        int ids[2];
        if (pipe(ids) != 0) {
            std::perror("pipe");
            return 1;
        }
        pid_t pid = fork();
        if (pid == 0) {
            close(ids[0]);
            requester(pair.substr(0, colon), n, ids[1]);
        }
        children.push_back(pid);
        pid = fork();
        if (pid == 0) {
            close(ids[1]);
            approver(pair.substr(colon + 1), ids[0]);
        }
        children.push_back(pid);
        close(ids[0]);
        close(ids[1]);
    }
    int failures = 0;
    for (pid_t pid : children) {
        int status = 0;
        if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            ++failures;
        }
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const std::int64_t events = head_seq(path) - before;
    std::printf("%zu requesters made %d requests each, approved by their approvers%s\n",
                pairs.size(), n, failures ? " (some clients failed, see above)" : "");
    std::printf("events: %lld durable events in %.2f s from %zu clients: %.0f events/s\n",
                static_cast<long long>(events), seconds, children.size(), events / seconds);
    return failures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        if (argc == 4 && std::strcmp(argv[1], "populate") == 0) {
            return populate(argv[2], std::max(1, std::atoi(argv[3])));
        }
        if (argc >= 5 && std::strcmp(argv[1], "run") == 0) {
            return run(argv[2], std::max(1, std::atoi(argv[3])),
                       std::vector<std::string>(argv + 4, argv + argc));
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "events_bench: %s\n", e.what());
        return 1;
    }
    std::fprintf(stderr, "usage: events_bench populate DB N | run DB N REQUESTER:APPROVER...\n");
    return 64;
}
