// SPDX-License-Identifier: Apache-2.0
// The state the benchmarks write into a fresh SQLite database before jitd starts on it: the
// policy "bench", resources res0.. covering acct0.., and approved requests with their grants.
#pragma once

#include <string>
#include <vector>

#include "jit/model.hpp"
#include "jit/store.hpp"

namespace jit::bench {

// The active policy "bench" (approver root) and `count` resources resI covering the account
// acctI through `services`, under that policy.
inline void put_bench_resources(Transaction& tx, int count,
                                const std::vector<std::string>& services) {
    Policy policy;
    policy.name = "bench";
    policy.approvers = {"root"};
    policy.active = true;
    tx.put(policy);
    for (int r = 0; r < count; ++r) {
        tx.put(Resource{
            "res" + std::to_string(r), "", services, {"acct" + std::to_string(r)}, {}, "bench"});
    }
}

// An approved request of `user` for `resource` and the grant it made, active from `now` until
// `expiry`; returns the grant with its id.
inline Grant put_active_grant(Transaction& tx, const std::string& resource, const std::string& user,
                              EpochSeconds now, EpochSeconds expiry) {
    Request request;
    request.resource = resource;
    request.requester = user;
    request.policy = "bench";
    request.reason = "benchmark";
    request.requested_duration = request.duration = expiry - now;
    request.state = RequestState::Approved;
    request.created = request.decided.emplace(now);
    request.expires = now + 3600;
    Grant grant;
    grant.request_id = request.id = tx.put(request);
    grant.user = user;
    grant.resource = resource;
    grant.start = now;
    grant.expiry = expiry;
    request.grant_id = grant.id = tx.put(grant);
    tx.put(request);
    return grant;
}

}  // namespace jit::bench
