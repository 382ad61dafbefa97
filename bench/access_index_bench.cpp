// SPDX-License-Identifier: Apache-2.0
// How long a login decision takes from jitd's in-memory index at the sizes the jitd benchmark
// uses (10k resources, 100k active grants): the part of a check that is jitd's own work.
#include <benchmark/benchmark.h>

#include "jit/access.hpp"

namespace {

constexpr int kResources = 10'000;
constexpr int kGrants = 100'000;
constexpr jit::EpochSeconds kNow = 1'800'000'000;

const jit::AccessIndex& populated_index() {
    static const jit::AccessIndex index = [] {
        jit::AccessIndex built;
        for (int r = 0; r < kResources; ++r) {
            built.put_rule({"res" + std::to_string(r),
                            {"sshd", "sudo"},
                            {"acct" + std::to_string(r)},
                            {"member" + std::to_string(r)}});
        }
        for (int g = 0; g < kGrants; ++g) {
            built.put_grant({g + 1, "user" + std::to_string(g),
                             "res" + std::to_string(g % kResources), kNow + 3600});
        }
        return built;
    }();
    return index;
}

// One attempt decided again and again: by a user holding a grant, by a stranger to the same
// account, and for a service no resource covers.
void BM_Decide(benchmark::State& state, const jit::LoginAttempt& attempt) {
    const jit::AccessIndex& index = populated_index();
    for (auto _ : state) {
        jit::LoginDecision d = index.decide(attempt, kNow);
        benchmark::DoNotOptimize(d);
    }
}
BENCHMARK_CAPTURE(BM_Decide, Grant,
                  jit::LoginAttempt{"sudo", "acct4242", "user14242", "", "pts/1"});
BENCHMARK_CAPTURE(BM_Decide, Deny, jit::LoginAttempt{"sudo", "acct4242", "stranger", "", "pts/1"});
BENCHMARK_CAPTURE(BM_Decide, Unmanaged, jit::LoginAttempt{"login", "root", "", "", "tty1"});

void BM_SerializeSnapshot(benchmark::State& state) {
    const jit::AccessIndex& index = populated_index();
    for (auto _ : state) {
        benchmark::DoNotOptimize(jit::serialize_snapshot(index, kNow));
    }
}
BENCHMARK(BM_SerializeSnapshot)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
