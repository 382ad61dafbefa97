// SPDX-License-Identifier: Apache-2.0
// Login check latency and throughput through the bus against a live jitd holding 10k resources
// and 100k active grants, compared with a bare org.freedesktop.DBus.Peer.Ping to the same jitd
// over the same connection in the same run. The ratio says what jitd's decision adds on top of
// the bus round trip it cannot avoid.
//
//   jitd_check_bench populate DB [EVENTS]
//                                     write the state into a fresh SQLite database, with
//                                     EVENTS audit events of history (default 1,000,000)
//   jitd_check_bench measure [N]      measure against io.jitd.Jit1 on the system bus
//                                     (DBUS_SYSTEM_BUS_ADDRESS is honoured), N calls per kind
//
// bench/run_jitd_check_bench.sh runs both around a private dbus-daemon and jitd.
#include <systemd/sd-bus.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bench_bus.hpp"
#include "bench_state.hpp"
#include "jit/access.hpp"
#include "jit/bus_names.hpp"
#include "jit/service.hpp"
#include "jit/store.hpp"

namespace {

constexpr int kResources = 10'000;
constexpr int kGrants = 100'000;
constexpr int kDefaultAuditEvents = 1'000'000;
constexpr std::uint64_t kCallTimeoutUsec = 5'000'000;

using Clock = std::chrono::steady_clock;

// A year's worth of history: `count` events, spread over the past, of the kinds and fields
// a request, its approval and its grant write. They are marked as already in the journal, as
// on a host that has been running, so jitd's start does not copy them there again.
void append_history(jit::Store& store, jit::EpochSeconds now, int count) {
    constexpr int kPerTransaction = 10'000;
    const char* const kinds[] = {"requested", "approved", "granted", "session_opened"};
    for (int done = 0; done < count;) {
        auto tx = store.begin();
        for (int i = 0; i < kPerTransaction && done < count; ++i, ++done) {
            const std::string user = "user" + std::to_string(done % kGrants);
            tx->append({0,
                        now - 365 * 86400 + done * 30,
                        kinds[done % 4],
                        {{"JIT_USER", user},
                         {"JIT_RESOURCE", "res" + std::to_string(done % kResources)},
                         {"JIT_REQUEST_ID", std::to_string(done / 4 + 1)},
                         {"JIT_ACTOR", user},
                         {"JIT_HOST", "bench"}},
                        "",
                        ""});
        }
        tx->commit();
    }
    store.set_journal_sent_seq(store.audit_head_seq());
}

int populate(const std::string& path, int events) {
    auto store = jit::open_sqlite_store(path);
    const jit::EpochSeconds now = jit::SystemClock().now();
    auto tx = store->begin();
    jit::bench::put_bench_resources(*tx, kResources, {"sshd", "sudo"});
    for (int g = 0; g < kGrants; ++g) {
        jit::bench::put_active_grant(*tx, "res" + std::to_string(g % kResources),
                                     "user" + std::to_string(g), now, now + 30 * 86400);
    }
    tx->commit();
    append_history(*store, now, events);
    std::printf("populated %s: %d resources, %d active grants, %d audit events\n", path.c_str(),
                kResources, kGrants, events);
    return 0;
}

// One call, reply parsed and dropped; returns false (and prints why) on any error.
bool call(sd_bus* bus, const char* interface, const char* member,
          const std::function<int(sd_bus_message*)>& append) {
    return jit::bench::call_jitd(bus, interface, member, append, kCallTimeoutUsec);
}

struct Stats {
    double median_us = 0, p99_us = 0, per_second = 0;
};

Stats measure_calls(int n, const std::function<bool()>& one) {
    std::vector<double> us;
    us.reserve(n);
    const auto start = Clock::now();
    for (int i = 0; i < n; ++i) {
        const auto t0 = Clock::now();
        if (!one()) {
            std::exit(1);
        }
        us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    }
    const double total_s = std::chrono::duration<double>(Clock::now() - start).count();
    std::sort(us.begin(), us.end());
    return {us[us.size() / 2], us[std::min(us.size() - 1, us.size() * 99 / 100)], n / total_s};
}

int measure(int n) {
    const jit::sd::BusPtr bus = jit::bench::open_system_bus();
    if (!bus) {
        return 1;
    }
    int i = 0;
    auto ping = [&] { return call(bus.get(), "org.freedesktop.DBus.Peer", "Ping", nullptr); };
    // Alternate between a user holding a grant (sudo to the covered account) and a stranger
    // (denied: jitd also writes a login_denied audit row, so measure the allow path).
    auto check = [&] {
        const int g = (i++ * 7919) % kGrants;
        const std::string user = "user" + std::to_string(g);
        const std::string account = "acct" + std::to_string(g % kResources);
        const jit::bus::Member& check_login = jit::bus::pam::kCheckLogin;
        return call(bus.get(), check_login.interface, check_login.name, [&](sd_bus_message* m) {
            // Root running sudo for a named user with no login uid: requester = PAM_RUSER.
            return sd_bus_message_append(m, check_login.in, "sudo", account.c_str(), user.c_str(),
                                         "", "pts/0", 0u, jit::kLoginUidUnset);
        });
    };
    measure_calls(std::max(100, n / 10), check);  // warm up both paths
    measure_calls(std::max(100, n / 10), ping);
    Stats p = measure_calls(n, ping);
    Stats c = measure_calls(n, check);
    std::printf("%d resources, %d active grants, %d calls each over one connection\n", kResources,
                kGrants, n);
    std::printf("%-28s median %8.1f us   p99 %8.1f us   %9.0f calls/s\n", "Peer.Ping", p.median_us,
                p.p99_us, p.per_second);
    std::printf("%-28s median %8.1f us   p99 %8.1f us   %9.0f calls/s\n", "Pam.CheckLogin (grant)",
                c.median_us, c.p99_us, c.per_second);
    std::printf("ratio CheckLogin/Ping: median %.2fx, p99 %.2fx, throughput %.2fx\n",
                c.median_us / p.median_us, c.p99_us / p.p99_us, p.per_second / c.per_second);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        if ((argc == 3 || argc == 4) && std::strcmp(argv[1], "populate") == 0) {
            return populate(argv[2],
                            argc == 4 ? std::max(0, std::atoi(argv[3])) : kDefaultAuditEvents);
        }
        if (argc >= 2 && std::strcmp(argv[1], "measure") == 0) {
            return measure(argc >= 3 ? std::max(100, std::atoi(argv[2])) : 20'000);
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "jitd_check_bench: %s\n", e.what());
        return 1;
    }
    std::fprintf(stderr, "usage: jitd_check_bench populate DB [EVENTS] | measure [N]\n");
    return 64;
}
