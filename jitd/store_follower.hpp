// SPDX-License-Identifier: Apache-2.0
// Follows a fleet's shared store (docs/fleet.md): wakes on the store's doorbell (LISTEN/NOTIFY
// on a connection of its own) and once a second without it, and then has the engine apply the
// change feed. The feed, not the doorbell, says what changed, so a lost notification or a
// reconnect misses nothing. A single host's store has no feed and no follower.
#pragma once

#include <functional>
#include <memory>

#include "jit/store.hpp"
#include "sd_handles.hpp"

namespace jitd {

class StoreFollower {
  public:
    // follow() applies the feed, from the event loop; its failures are logged here, once until
    // it works again.
    // back() runs once the store can be read again after it could not.
    StoreFollower(sd_event* event, jit::Store& store, std::function<void()> follow,
                  std::function<void()> back);
    StoreFollower(const StoreFollower&) = delete;
    StoreFollower& operator=(const StoreFollower&) = delete;

  private:
    void listen();
    void wake();
    static int on_doorbell(sd_event_source*, int, uint32_t, void* userdata);
    static int on_poll(sd_event_source* source, uint64_t, void* userdata);

    sd_event* event_;
    jit::Store& store_;
    std::function<void()> follow_;
    std::function<void()> back_;
    std::unique_ptr<jit::ChangeDoorbell> doorbell_;
    EventSourcePtr doorbell_source_;
    EventSourcePtr poll_timer_;
    bool doorbell_failing_ = false;  // logged once until it works again
    bool follow_failing_ = false;
};

}  // namespace jitd
