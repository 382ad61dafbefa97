// SPDX-License-Identifier: Apache-2.0
// Mass expiry: N grants that all expire in the same second, each with an open session whose
// process is real (a sleeping child of this program), measured from the outside.
//
//   expiry_bench run DB N LEAD READY_FILE
//
// forks N children, writes a fresh database holding N active grants that expire LEAD seconds
// from now and one open session per grant registered to a child (pid, start time and boot id
// as pam_jit registers them), creates READY_FILE, then waits. The caller starts jitd on DB
// before the expiry second. Each child's end is taken from waitpid() as it happens; the audit
// rows (`expired`, `session_terminated`) are counted in the database. Prints
//
//   expiry: N grants, M sessions ended and audited in X.XX s (p99 lateness Y.YY s)
//
// X: from the expiry second until the last session's process is gone and every grant's and
// session's audit row is committed. Lateness: from the expiry second to one session's end.
// bench/run_expiry_bench.sh runs it around a private dbus-daemon, journald and jitd.
#include <sched.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench_state.hpp"
#include "jit/service.hpp"
#include "jit/store.hpp"

namespace {

constexpr int kResources = 100;
constexpr double kGiveUpSeconds = 60;

double now_seconds() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string read_boot_id() {
    std::ifstream file("/proc/sys/kernel/random/boot_id");
    std::string id;
    std::getline(file, id);
    return id;
}

// Field 22 of /proc/PID/stat: what pam_jit registers as the session process's start time.
std::int64_t start_time_of(pid_t pid) {
    std::ifstream file("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    auto comm_end = text.rfind(')');
    if (comm_end == std::string::npos) {
        return 0;
    }
    std::istringstream rest(text.substr(comm_end + 1));
    std::string field;
    for (int i = 3; i <= 22 && rest >> field; ++i) {
    }
    return std::stoll(field);
}

// A session process that does nothing until it is signalled; it also ends with this program.
// clone() with CLONE_VM: a process of its own (pid, /proc entry, start time, signals) without a
// copy of this program's page tables, so ten thousand of them start in seconds. It runs only
// system calls on a stack of its own.
constexpr std::size_t kSleeperStack = 64 * 1024;

int sleeper(void* parent) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != *static_cast<pid_t*>(parent)) {
        _exit(0);
    }
    for (;;) {
        pause();
    }
}

pid_t spawn_sleeper(pid_t& parent) {
    void* stack =
        mmap(nullptr, kSleeperStack, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (stack == MAP_FAILED) {
        return -1;
    }
    return clone(sleeper, static_cast<char*>(stack) + kSleeperStack, CLONE_VM | SIGCHLD, &parent);
}

void populate(const std::string& path, const std::vector<pid_t>& pids, jit::EpochSeconds expiry) {
    auto store = jit::open_sqlite_store(path);
    const jit::EpochSeconds now = jit::SystemClock().now();
    const std::string boot_id = read_boot_id();
    auto tx = store->begin();
    jit::bench::put_bench_resources(*tx, kResources, {"sudo"});
    for (std::size_t i = 0; i < pids.size(); ++i) {
        const jit::Grant grant = jit::bench::put_active_grant(
            *tx, "res" + std::to_string(i % kResources), "user" + std::to_string(i), now, expiry);
        jit::Session session;
        session.grant_id = grant.id;
        session.user = grant.user;
        session.target = "acct" + std::to_string(i % kResources);
        session.service = "sudo";
        session.pid = pids[i];
        session.pid_start = start_time_of(pids[i]);
        session.boot_id = boot_id;
        session.opened = now;
        tx->put(session);
    }
    tx->commit();
}

// Audit rows of one event type, read as any auditor would: a read-only connection.
long count_events(sqlite3* db, const char* event) {
    sqlite3_stmt* statement = nullptr;
    long count = -1;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM audit_events WHERE event = ?", -1, &statement,
                           nullptr) == SQLITE_OK &&
        sqlite3_bind_text(statement, 1, event, -1, SQLITE_STATIC) == SQLITE_OK &&
        sqlite3_step(statement) == SQLITE_ROW) {
        count = sqlite3_column_int64(statement, 0);
    }
    sqlite3_finalize(statement);
    return count;
}

struct Outcome {
    std::vector<double> ends;  // seconds after the expiry second, one per ended session
    double audited_at = -1;    // when every audit row was seen, after the expiry second
};

// Reaps the children as they end (a thread, so each end is timed when it happens) while the
// main thread watches the audit rows. Children still running at the give-up time are killed.
Outcome watch(const std::string& path, const std::vector<pid_t>& pids, double expiry) {
    const std::size_t n = pids.size();
    Outcome outcome;
    outcome.ends.reserve(n);
    std::atomic<std::size_t> ended{0};
    std::thread reaper([&] {
        while (ended.load() < n) {
            if (waitpid(-1, nullptr, 0) < 0) {
                break;  // ECHILD: no child left
            }
            outcome.ends.push_back(now_seconds() - expiry);
            ended.store(outcome.ends.size());
        }
    });
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
        std::fprintf(stderr, "cannot open %s: %s\n", path.c_str(), sqlite3_errmsg(db));
    }
    sqlite3_busy_timeout(db, 1000);
    const double give_up = expiry + kGiveUpSeconds;
    while (now_seconds() < give_up) {
        const long expired = count_events(db, "expired");
        const long terminated = count_events(db, "session_terminated");
        if (expired >= static_cast<long>(n) && terminated >= static_cast<long>(n)) {
            outcome.audited_at = now_seconds() - expiry;
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    sqlite3_close(db);
    while (ended.load() < n && now_seconds() < give_up) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    const std::size_t ended_in_time = ended.load();
    if (ended_in_time < n || outcome.audited_at < 0) {
        std::fprintf(stderr, "%zu of %zu sessions ended, audit rows %s, within %.0f s\n",
                     ended_in_time, n, outcome.audited_at < 0 ? "incomplete" : "complete",
                     kGiveUpSeconds);
    }
    for (pid_t pid : pids) {
        kill(pid, SIGKILL);  // the survivors, if any; the reaper then finishes
    }
    reaper.join();
    outcome.ends.resize(ended_in_time);
    return outcome;
}

int run(const std::string& path, int n, int lead, const std::string& ready_file) {
    pid_t self = getpid();
    std::vector<pid_t> pids;
    pids.reserve(n);
    for (int i = 0; i < n; ++i) {
        pid_t pid = spawn_sleeper(self);
        if (pid < 0) {
            std::fprintf(stderr, "fork: %s after %d children\n", std::strerror(errno), i);
            return 1;
        }
        pids.push_back(pid);
    }
    const double forked = now_seconds();
    const jit::EpochSeconds expiry = jit::SystemClock().now() + lead;
    populate(path, pids, expiry);
    std::fprintf(stderr, "database written in %.2f s\n", now_seconds() - forked);
    std::ofstream(ready_file) << expiry << "\n";
    std::printf("%d grants expire at %lld, each with a session of a sleeping process\n", n,
                static_cast<long long>(expiry));
    std::fflush(stdout);

    Outcome outcome = watch(path, pids, static_cast<double>(expiry));
    std::sort(outcome.ends.begin(), outcome.ends.end());
    if (outcome.ends.empty()) {
        std::fprintf(stderr, "no session ended\n");
        return 1;
    }
    const double last_end = outcome.ends.back();
    const double p99 =
        outcome.ends[std::min(outcome.ends.size() - 1, outcome.ends.size() * 99 / 100)];
    std::printf(
        "sessions: first ended %.2f s, median %.2f s, last %.2f s after the expiry second\n",
        outcome.ends.front(), outcome.ends[outcome.ends.size() / 2], last_end);
    const double all_done =
        outcome.audited_at < 0 ? kGiveUpSeconds : std::max(last_end, outcome.audited_at);
    std::printf("audit rows all committed %.2f s after the expiry second\n", outcome.audited_at);
    std::printf(
        "expiry: %d grants, %zu sessions ended and audited in %.2f s (p99 lateness %.2f s)\n", n,
        outcome.ends.size(), all_done, p99);
    return outcome.ends.size() == pids.size() && outcome.audited_at >= 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        if (argc == 6 && std::strcmp(argv[1], "run") == 0) {
            return run(argv[2], std::max(1, std::atoi(argv[3])), std::max(1, std::atoi(argv[4])),
                       argv[5]);
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "expiry_bench: %s\n", e.what());
        return 1;
    }
    std::fprintf(stderr, "usage: expiry_bench run DB N LEAD READY_FILE\n");
    return 64;
}
