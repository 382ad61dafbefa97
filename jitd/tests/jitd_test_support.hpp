// SPDX-License-Identifier: Apache-2.0
// What jitd's unit tests share: bounded polling, child process trees, captured log lines, a
// private D-Bus connection pair, temporary directories and audit events.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>
#include <systemd/sd-id128.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "jit/model.hpp"
#include "process_tree.hpp"
#include "sd_handles.hpp"
#include "temp_dir.hpp"

namespace jitd {

inline std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

// A new sd-event loop for a test; aborts the test run if there is none (no test makes sense).
inline EventPtr new_event_loop() {
    sd_event* raw = nullptr;
    if (sd_event_new(&raw) < 0) {
        std::abort();
    }
    return EventPtr(raw);
}

// Runs the loop until `done` holds or 10 s have passed.
inline bool run_loop_until(sd_event* event, const std::function<bool()>& done) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline) {
            return false;
        }
        sd_event_run(event, 50 * 1000);
    }
    return true;
}

// A child that sleeps until killed.
inline pid_t spawn_sleeper() {
    pid_t child = fork();
    if (child == 0) {
        pause();
        _exit(0);
    }
    return child;
}

// A child that forks a grandchild; both sleep until killed.
inline pid_t spawn_tree() {
    pid_t child = fork();
    if (child == 0) {
        spawn_sleeper();
        pause();
        _exit(0);
    }
    return child;
}

// Polls `condition` until it holds or 10 s have passed.
inline bool wait_for(const std::function<bool()>& condition) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!condition()) {
        if (std::chrono::steady_clock::now() > deadline) {
            return false;
        }
        usleep(10 * 1000);
    }
    return true;
}

// spawn_tree() once both of its processes run: {child, grandchild} as jitd sees them, or fewer
// when they did not come up (the caller asserts the size).
inline std::vector<ProcessId> running_tree() {
    const pid_t child = spawn_tree();
    std::vector<ProcessId> tree;
    if (child > 0) {
        wait_for([&] {
            tree = process_and_descendants(child);
            return tree.size() == 2;
        });
    }
    return tree;
}

// Ends what a test left running under `child` and reaps the child.
inline void end_tree(pid_t child) {
    for (const auto& process : process_and_descendants(child)) {
        kill(process.pid, SIGKILL);
    }
    waitpid(child, nullptr, 0);
}

// Routes jitd's spdlog lines into a string for the test's lifetime.
class CapturedLog {
  public:
    CapturedLog() : previous_(spdlog::default_logger()) {
        auto logger = std::make_shared<spdlog::logger>(
            "test", std::make_shared<spdlog::sinks::ostream_sink_mt>(lines_));
        logger->set_level(spdlog::level::debug);
        logger->set_pattern("%v");
        spdlog::set_default_logger(logger);
    }
    ~CapturedLog() { spdlog::set_default_logger(previous_); }
    std::string text() const { return lines_.str(); }

  private:
    std::ostringstream lines_;
    std::shared_ptr<spdlog::logger> previous_;
};

// Two ends of a private D-Bus connection on one event loop: `client` for the code under test,
// `server` for the fake peer.
class PeerBuses {
  public:
    // `server_event` (default: `event`) lets a fake peer answer from a thread of its own.
    explicit PeerBuses(sd_event* event, sd_event* server_event = nullptr) {
        int fds[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds) < 0) {
            throw std::runtime_error("socketpair failed");
        }
        client = open_end(fds[0], event, false);
        server = open_end(fds[1], server_event ? server_event : event, true);
    }
    BusPtr client;
    BusPtr server;

  private:
    static BusPtr open_end(int fd, sd_event* event, bool is_server) {
        sd_bus* raw = nullptr;
        if (sd_bus_new(&raw) < 0) {
            throw std::runtime_error("sd_bus_new failed");
        }
        BusPtr bus(raw);
        sd_id128_t id{};
        if (is_server && (sd_id128_randomize(&id) < 0 || sd_bus_set_server(raw, 1, id) < 0)) {
            throw std::runtime_error("cannot make a server end");
        }
        if (sd_bus_set_fd(raw, fd, fd) < 0 || sd_bus_start(raw) < 0 ||
            sd_bus_attach_event(raw, event, 0) < 0) {
            throw std::runtime_error("cannot start a bus end");
        }
        return bus;
    }
};

class TempDir : public ::testing::Test {
  protected:
    static std::string read(const std::filesystem::path& path) { return read_file(path); }
    jit::testing::TempDir temp_{"jitd-unit"};
    std::filesystem::path dir_ = temp_.path();
};

inline jit::AuditEvent event_of(std::string type,
                                std::vector<std::pair<std::string, std::string>> fields) {
    jit::AuditEvent e;
    e.seq = 7;
    e.event = std::move(type);
    e.fields = std::move(fields);
    return e;
}

}  // namespace jitd
