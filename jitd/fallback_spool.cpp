#include "fallback_spool.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <vector>

#include "jit/error.hpp"
#include "jit/validate.hpp"

namespace jitd {
namespace {

constexpr std::size_t kMaxFieldLength = 256;
// After a store failure, our own rewrite of the file must not trigger an immediate retry.
constexpr uint64_t kStoreRetryUsec = 60 * 1000 * 1000;

std::vector<std::string_view> split_tabs(std::string_view line) {
    std::vector<std::string_view> fields;
    for (std::size_t start = 0;;) {
        auto tab = line.find('\t', start);
        fields.push_back(line.substr(start, tab == std::string_view::npos ? tab : tab - start));
        if (tab == std::string_view::npos) {
            return fields;
        }
        start = tab + 1;
    }
}

std::string checked_field(std::string_view what, std::string_view value) {
    if (value.size() > kMaxFieldLength || !jit::is_printable_text(value)) {
        jit::throw_invalid(std::string(what) + " is not printable text of at most 256 bytes");
    }
    return std::string(value);
}

std::int64_t parse_number(std::string_view what, std::string_view text) {
    std::int64_t value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc() || end != text.data() + text.size() || value < 0) {
        jit::throw_invalid("bad " + std::string(what) + " '" + std::string(text) + "'");
    }
    return value;
}

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

jit::FallbackLogin parse_fallback_line(std::string_view line) {
    auto fields = split_tabs(line);
    if (fields.size() != 10) {
        jit::throw_invalid("expected 10 tab-separated fields, found " +
                           std::to_string(fields.size()));
    }
    jit::FallbackLogin entry;
    entry.when = parse_number("time", fields[0]);
    if (entry.when <= 0) {
        jit::throw_invalid("bad time '" + std::string(fields[0]) + "'");
    }
    entry.outcome = std::string(fields[1]);
    if (entry.outcome != "allowed" && entry.outcome != "denied" && entry.outcome != "open" &&
        entry.outcome != "unavailable") {
        jit::throw_invalid("bad outcome '" + checked_field("outcome", fields[1]) + "'");
    }
    jit::validate_service(fields[2]);
    entry.attempt.service = std::string(fields[2]);
    entry.attempt.user = checked_field("user", fields[3]);
    entry.attempt.ruser = checked_field("ruser", fields[4]);
    entry.attempt.rhost = checked_field("rhost", fields[5]);
    entry.attempt.tty = checked_field("tty", fields[6]);
    if (entry.attempt.user.empty()) {
        jit::throw_invalid("empty user");
    }
    entry.pid = parse_number("pid", fields[7]);
    entry.grant_id = parse_number("grant id", fields[8]);
    entry.logind_session = checked_field("logind session", fields[9]);
    return entry;
}

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

// Lines are audited in order; the file is emptied under the lock pam_jit writes under, so no
// line is lost or audited twice. If the store fails, the unaudited rest stays for next time.
void FallbackSpool::process() {
    uint64_t now = 0;
    sd_event_now(event_, CLOCK_MONOTONIC, &now);
    struct stat st {};
    if (now < retry_after_usec_ || stat(path_.c_str(), &st) < 0 || st.st_size == 0) {
        return;  // also ends the inotify echo of our own truncation
    }
    UniqueFd fd(open(path_.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW));
    if (!fd || flock(fd.get(), LOCK_EX) < 0) {
        spdlog::error("cannot read pam_jit's fallback log {}: {}", path_, std::strerror(errno));
        return;
    }
    std::string data = read_all(fd.get());
    std::size_t audited = 0, rejected = 0, line_no = 0, start = 0;
    while (start < data.size()) {
        auto end = data.find('\n', start);
        if (end == std::string::npos) {
            end = data.size();
        }
        std::string_view line(data.data() + start, end - start);
        ++line_no;
        try {
            service_.record_fallback(parse_fallback_line(line));
            ++audited;
        } catch (const jit::JitError& e) {
            if (e.code() == jit::ErrorCode::Internal) {
                spdlog::error("{}:{}: cannot audit: {}; keeping the rest for later", path_, line_no,
                              e.what());
                retry_after_usec_ = now + kStoreRetryUsec;
                break;
            }
            spdlog::warn("{}:{}: ignoring bad line: {}", path_, line_no, e.what());
            ++rejected;
        }
        start = end + 1;
    }
    std::string rest = start < data.size() ? data.substr(start) : std::string();
    if (ftruncate(fd.get(), 0) < 0 ||
        (!rest.empty() && pwrite(fd.get(), rest.data(), rest.size(), 0) < 0)) {
        spdlog::error("cannot empty {}: {}", path_, std::strerror(errno));
    }
    spdlog::info("audited {} login(s) pam_jit decided without jitd ({} bad line(s) ignored)",
                 audited, rejected);
}

}  // namespace jitd
