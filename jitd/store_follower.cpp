// SPDX-License-Identifier: Apache-2.0
#include "store_follower.hpp"

#include <spdlog/spdlog.h>

#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>

#include "jit/error.hpp"

namespace jitd {
namespace {

// The poll that bounds how late a change arrives when the doorbell is down; it also re-opens
// the doorbell.
constexpr uint64_t kPollIntervalUsec = 1000000;

}  // namespace

StoreFollower::StoreFollower(sd_event* event, jit::Store& store, std::function<void()> follow,
                             std::function<void()> back)
    : event_(event), store_(store), follow_(std::move(follow)), back_(std::move(back)) {
    sd_event_source* source = nullptr;
    if (int r = sd_event_add_time_relative(event_, &source, CLOCK_MONOTONIC, kPollIntervalUsec,
                                           kPollIntervalUsec / 10, on_poll, this);
        r < 0) {
        throw std::runtime_error(std::string("cannot create the store poll timer: ") +
                                 std::strerror(-r));
    }
    poll_timer_.reset(source);
    sd_event_source_set_enabled(source, SD_EVENT_ON);
    listen();
}

// (Re)opens the doorbell; a store that cannot be reached leaves it to the next poll.
void StoreFollower::listen() {
    doorbell_source_.reset();
    doorbell_.reset();
    try {
        doorbell_ = store_.change_doorbell();
    } catch (const std::exception& e) {
        if (!doorbell_failing_) {
            spdlog::warn("cannot listen for changes of the store: {}; polling it each second",
                         e.what());
        }
        doorbell_failing_ = true;
        return;
    }
    if (!doorbell_) {
        return;
    }
    sd_event_source* source = nullptr;
    if (int r = sd_event_add_io(event_, &source, doorbell_->fd(), EPOLLIN, on_doorbell, this);
        r < 0) {
        spdlog::warn("cannot watch the store's notifications: {}", std::strerror(-r));
        doorbell_.reset();
        return;
    }
    doorbell_source_.reset(source);
    if (doorbell_failing_) {
        spdlog::info("listening for changes of the store again");
    }
    doorbell_failing_ = false;
}

void StoreFollower::wake() {
    try {
        follow_();
    } catch (const jit::StoreBehind& e) {
        spdlog::debug("following the store: {}", e.what());  // the next wake applies it
        return;
    } catch (const std::exception& e) {
        if (!follow_failing_) {
            spdlog::error(
                "following the store failed: {}; logins are decided on what this host "
                "knows until it is back",
                e.what());
        }
        follow_failing_ = true;
        return;
    }
    if (follow_failing_) {
        spdlog::info("following the store again");
        follow_failing_ = false;
        back_();
    }
}

int StoreFollower::on_doorbell(sd_event_source*, int, uint32_t, void* userdata) {
    auto* self = static_cast<StoreFollower*>(userdata);
    try {
        self->doorbell_->drain();
    } catch (const std::exception& e) {
        spdlog::warn("the store's notifications stopped: {}", e.what());
        self->doorbell_failing_ = true;
        self->doorbell_source_.reset();
        self->doorbell_.reset();
    }
    self->wake();
    return 0;
}

int StoreFollower::on_poll(sd_event_source* source, uint64_t, void* userdata) {
    auto* self = static_cast<StoreFollower*>(userdata);
    if (!self->doorbell_) {
        self->listen();
    }
    self->wake();
    uint64_t now = 0;
    sd_event_now(sd_event_source_get_event(source), CLOCK_MONOTONIC, &now);
    sd_event_source_set_time(source, now + kPollIntervalUsec);
    sd_event_source_set_enabled(source, SD_EVENT_ON);
    return 0;
}

}  // namespace jitd
