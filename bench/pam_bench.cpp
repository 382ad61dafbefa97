// SPDX-License-Identifier: Apache-2.0
// What pam_jit adds to a login: a loop of full PAM account checks through pam_jit.so (libpam
// loads the module, pam_jit opens its own system bus connection, asks jitd CheckLogin and
// closes it, as every real login pays) against a loop of the least a bus client can do: open
// a system bus connection, Peer.Ping jitd, close. Both run in the same process, interleaved
// call by call, so that both see the same machine. A third loop, libpam with pam_permit only,
// shows what libpam itself costs.
//
//   pam_bench MODULE SERVICE USER [N [MODULE-ARGS...]]
//
// SERVICE and USER make an attempt that jitd allows (e.g. sshd and a user holding a grant on
// a resource covering sshd logins into their own account); every check must return
// PAM_SUCCESS, or the run stops. Needs root (only root may call io.jitd.Jit1.Pam) and honours
// DBUS_SYSTEM_BUS_ADDRESS. bench/run_pam_bench.sh sets up a private bus, jitd and the grant.
#include <security/pam_appl.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "bench_bus.hpp"
#include "temp_dir.hpp"

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::uint64_t kPingTimeoutUsec = 5'000'000;

// Answers every message with an empty response (pam_jit only informs; it never prompts).
int silent_conversation(int count, const pam_message**, pam_response** responses, void*) {
    auto* answer = static_cast<pam_response*>(std::calloc(count, sizeof(pam_response)));
    if (answer == nullptr) {
        return PAM_BUF_ERR;
    }
    *responses = answer;
    return PAM_SUCCESS;
}

// A private PAM configuration directory holding one service file; removed on destruction.
class PamConfDir {
  public:
    PamConfDir(const std::string& service, const std::string& account_line) {
        std::ofstream(path() + "/" + service) << account_line << '\n';
    }
    const std::string& path() const { return dir_.path(); }

  private:
    jit::testing::TempDir dir_{"pam_bench"};
};

struct Attempt {
    std::string service;
    std::string user;
    std::string confdir;
};

// One login's account phase: pam_start_confdir, PAM_RHOST, pam_acct_mgmt, pam_end.
bool pam_account(const Attempt& attempt) {
    const pam_conv conversation{silent_conversation, nullptr};
    pam_handle_t* pamh = nullptr;
    int r = pam_start_confdir(attempt.service.c_str(), attempt.user.c_str(), &conversation,
                              attempt.confdir.c_str(), &pamh);
    if (r != PAM_SUCCESS) {
        std::fprintf(stderr, "pam_start_confdir: %s\n", pam_strerror(pamh, r));
        return false;
    }
    r = pam_set_item(pamh, PAM_RHOST, "127.0.0.1");
    if (r == PAM_SUCCESS) {
        r = pam_acct_mgmt(pamh, 0);
    }
    if (r != PAM_SUCCESS) {
        std::fprintf(stderr, "pam_acct_mgmt for %s via %s (%s): %s\n", attempt.user.c_str(),
                     attempt.service.c_str(), attempt.confdir.c_str(), pam_strerror(pamh, r));
    }
    pam_end(pamh, r);
    return r == PAM_SUCCESS;
}

// A fresh system bus connection, Peer.Ping to jitd, close.
bool connect_and_ping() {
    const jit::sd::BusPtr bus = jit::bench::open_system_bus();
    return bus && jit::bench::call_jitd(bus.get(), "org.freedesktop.DBus.Peer", "Ping", nullptr,
                                        kPingTimeoutUsec);
}

struct Series {
    const char* name;
    std::function<bool()> run;
    std::vector<double> micros;
};

double percentile(const std::vector<double>& sorted, double p) {
    const auto index = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
    return sorted[std::min(index, sorted.size() - 1)];
}

// Runs every series once per round, `rounds` times; false when a call failed.
bool measure(std::vector<Series>& series, int rounds, bool keep) {
    for (int i = 0; i < rounds; ++i) {
        for (Series& s : series) {
            const auto start = Clock::now();
            if (!s.run()) {
                return false;
            }
            if (keep) {
                s.micros.push_back(
                    std::chrono::duration<double, std::micro>(Clock::now() - start).count());
            }
        }
    }
    return true;
}

int run(const std::string& module, const std::string& service, const std::string& user, int n,
        const std::string& module_args) {
    const PamConfDir with_jit(service, "account required " + module + module_args);
    const PamConfDir permit_only(service, "account required pam_permit.so");
    const Attempt jit_attempt{service, user, with_jit.path()};
    const Attempt permit_attempt{service, user, permit_only.path()};
    std::vector<Series> series{
        {"pam_acct_mgmt with pam_jit", [&] { return pam_account(jit_attempt); }, {}},
        {"connect + Peer.Ping + close", connect_and_ping, {}},
        {"pam_acct_mgmt, pam_permit", [&] { return pam_account(permit_attempt); }, {}},
    };
    if (!measure(series, std::max(10, n / 10), false) || !measure(series, n, true)) {
        return 1;
    }
    std::printf("%d rounds, interleaved; %s for %s via %s\n", n, module.c_str(), user.c_str(),
                service.c_str());
    for (Series& s : series) {
        std::sort(s.micros.begin(), s.micros.end());
        std::printf("%-30s median %8.1f us   p99 %8.1f us\n", s.name, percentile(s.micros, 0.5),
                    percentile(s.micros, 0.99));
    }
    const std::vector<double>& jit = series[0].micros;
    const std::vector<double>& ping = series[1].micros;
    const std::vector<double>& permit = series[2].micros;
    std::printf("ratio pam_jit / (connect + Ping): median %.2fx, p99 %.2fx\n",
                percentile(jit, 0.5) / percentile(ping, 0.5),
                percentile(jit, 0.99) / percentile(ping, 0.99));
    std::printf("pam_jit's own cost over libpam + connect + Ping: median %.1f us\n",
                percentile(jit, 0.5) - percentile(permit, 0.5) - percentile(ping, 0.5));
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 4) {
        std::fprintf(stderr, "usage: pam_bench MODULE SERVICE USER [N [MODULE-ARGS...]]\n");
        return 64;
    }
    const int n = argc >= 5 ? std::max(10, std::atoi(argv[4])) : 2000;
    std::string module_args;
    for (int i = 5; i < argc; ++i) {
        module_args += std::string(" ") + argv[i];
    }
    try {
        return run(argv[1], argv[2], argv[3], n, module_args);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "pam_bench: %s\n", e.what());
        return 1;
    }
}
