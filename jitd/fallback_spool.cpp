// SPDX-License-Identifier: Apache-2.0
#include "fallback_spool.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "jit/error.hpp"
#include "jit/spool.hpp"

namespace jitd {
namespace {

// After a failure, our own write to the file (its inotify echo) must not retry at once.
constexpr uint64_t kRetryUsec = 60 * 1000 * 1000;
constexpr char kHandledMark = '#';

std::string read_all(int fd) {
    std::string data;
    char buffer[8192];
    for (;;) {
        ssize_t n = read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return data;
        }
        data.append(buffer, static_cast<std::size_t>(n));
    }
}

}  // namespace

FallbackSpool::FallbackSpool(sd_event* event, std::string directory, jit::JitService& service)
    : event_(event),
      directory_(std::move(directory)),
      path_(directory_ + "/fallback.log"),
      service_(service) {}

void FallbackSpool::start() {
    process();
    sd_event_source* source = nullptr;
    int r =
        sd_event_add_inotify(event_, &source, directory_.c_str(), IN_CLOSE_WRITE, on_inotify, this);
    if (r < 0) {
        spdlog::warn(
            "cannot watch {} ({}); pam_jit's fallback decisions are audited only at "
            "the next start",
            directory_, std::strerror(-r));
        return;
    }
    watch_.reset(source);
}

int FallbackSpool::on_inotify(sd_event_source*, const struct inotify_event* event, void* userdata) {
    auto* self = static_cast<FallbackSpool*>(userdata);
    if (event->len > 0 && std::strcmp(event->name, "fallback.log") == 0) {
        self->process();
    }
    return 0;
}

// The spool, opened and locked, when it is a file pam_jit made; otherwise logs why not.
UniqueFd FallbackSpool::open_locked(uint64_t now) {
    struct stat st {};
    if (lstat(path_.c_str(), &st) < 0 || st.st_size == 0) {
        return {};  // also ends the inotify echo of our own truncation
    }
    // Checked before opening (opening it for writing would echo back here) and again on the
    // opened file, which is what counts.
    std::string unsafe = jit::unsafe_spool_file(st);
    UniqueFd fd;
    if (unsafe.empty()) {
        fd = UniqueFd(open(path_.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK));
        if (!fd || fstat(fd.get(), &st) < 0 || flock(fd.get(), LOCK_EX) < 0) {
            spdlog::error("cannot read pam_jit's fallback log {}: {}", path_, std::strerror(errno));
            retry_after_usec_ = now + kRetryUsec;
            return {};
        }
        unsafe = jit::unsafe_spool_file(st);
    }
    if (!unsafe.empty()) {
        spdlog::error("not reading pam_jit's fallback log {}: {}; left as it is for an admin",
                      path_, unsafe);
        return {};
    }
    return fd;
}

// Lines are audited in order under the lock pam_jit writes under. Each handled line is marked
// at once, so a crash re-audits none; the file is emptied once all are handled. If the store
// fails, the unmarked rest stays for the next attempt.
void FallbackSpool::process() {
    uint64_t now = 0;
    sd_event_now(event_, CLOCK_MONOTONIC, &now);
    if (now < retry_after_usec_) {
        return;
    }
    UniqueFd fd = open_locked(now);
    if (!fd) {
        return;
    }
    std::string data = read_all(fd.get());
    std::size_t audited = 0, rejected = 0, line_no = 0;
    bool all_handled = true;
    for (std::size_t start = 0, end = 0; start < data.size() && all_handled; start = end + 1) {
        end = std::min(data.find('\n', start), data.size());
        std::string_view line(data.data() + start, end - start);
        ++line_no;
        if (line.empty() || line.front() == kHandledMark) {
            continue;
        }
        std::string failure;
        try {
            service_.record_fallback(jit::parse_fallback_line(line));
            ++audited;
        } catch (const jit::JitError& e) {
            // A store that failed, or a fleet's store that cannot be reached: the line is
            // audited once it can be.
            if (e.code() == jit::ErrorCode::Internal || e.code() == jit::ErrorCode::Unavailable) {
                failure = e.what();
            } else {
                spdlog::warn("{}:{}: ignoring bad line: {}", path_, line_no, e.what());
                ++rejected;
            }
        } catch (const std::exception& e) {
            failure = e.what();
        }
        if (!failure.empty()) {
            spdlog::error("{}:{}: cannot audit: {}; keeping the rest for later", path_, line_no,
                          failure);
            all_handled = false;
        } else if (pwrite(fd.get(), &kHandledMark, 1, static_cast<off_t>(start)) != 1) {
            spdlog::error("{}:{}: cannot mark the line handled ({}); it is read again next time",
                          path_, line_no, std::strerror(errno));
            all_handled = false;
        }
    }
    if (!all_handled) {
        retry_after_usec_ = now + kRetryUsec;
    } else if (ftruncate(fd.get(), 0) < 0) {
        spdlog::error("cannot empty {} (its lines are marked handled): {}", path_,
                      std::strerror(errno));
    }
    if (audited + rejected > 0) {
        spdlog::info("audited {} login(s) pam_jit decided without jitd ({} bad line(s) ignored)",
                     audited, rejected);
    }
}

}  // namespace jitd
