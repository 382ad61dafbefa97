// RAII owners for the sd-bus / sd-event objects and file descriptors jitd holds, so every
// handle is released exactly once on every path.
#pragma once

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include <memory>
#include <utility>

namespace jitd {

template <auto Release>
struct Releaser {
    template <typename T>
    void operator()(T* handle) const {
        Release(handle);
    }
};

// flush_close_unref: queued signals and replies still go out when the daemon stops.
using BusPtr = std::unique_ptr<sd_bus, Releaser<sd_bus_flush_close_unref>>;
using MessagePtr = std::unique_ptr<sd_bus_message, Releaser<sd_bus_message_unref>>;
using SlotPtr = std::unique_ptr<sd_bus_slot, Releaser<sd_bus_slot_unref>>;
using CredsPtr = std::unique_ptr<sd_bus_creds, Releaser<sd_bus_creds_unref>>;
using EventPtr = std::unique_ptr<sd_event, Releaser<sd_event_unref>>;
// disable_unref: a source released while its callback may still be pending never fires.
using EventSourcePtr = std::unique_ptr<sd_event_source, Releaser<sd_event_source_disable_unref>>;

// An sd_bus_error that frees its strings.
class BusError {
  public:
    BusError() = default;
    BusError(const BusError&) = delete;
    BusError& operator=(const BusError&) = delete;
    ~BusError() { sd_bus_error_free(&error_); }

    sd_bus_error* get() { return &error_; }
    const char* name() const { return error_.name; }
    const char* message() const { return error_.message ? error_.message : error_.name; }

  private:
    sd_bus_error error_ = SD_BUS_ERROR_NULL;
};

class UniqueFd {
  public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) : fd_(fd) {}
    UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    UniqueFd& operator=(UniqueFd&& other) noexcept {
        reset(std::exchange(other.fd_, -1));
        return *this;
    }
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    ~UniqueFd() { reset(); }

    int get() const { return fd_; }
    explicit operator bool() const { return fd_ >= 0; }
    int release() { return std::exchange(fd_, -1); }
    void reset(int fd = -1) {
        if (fd_ >= 0) {
            ::close(fd_);
        }
        fd_ = fd;
    }

  private:
    int fd_ = -1;
};

}  // namespace jitd
