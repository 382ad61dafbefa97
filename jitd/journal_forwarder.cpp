#include "journal_forwarder.hpp"

#include <spdlog/spdlog.h>
#include <sys/uio.h>
// The audit entry is about the event, not about jitd's source code: no CODE_FILE/CODE_LINE.
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <vector>

#include "audit_message_ids.hpp"
#include "jit/time.hpp"

namespace jitd {
namespace {

constexpr uint64_t kRetryIntervalUsec = 5 * 1000 * 1000;

std::string field_or(const jit::AuditEvent& event, std::string_view name,
                     std::string_view fallback = "?") {
    const std::string* value = event.field(name);
    return value && !value->empty() ? *value : std::string(fallback);
}

// Durations are stored as seconds; show them the way users typed them ("2h").
std::string duration_text(const jit::AuditEvent& event, std::string_view name) {
    std::string value = field_or(event, name);
    bool digits = !value.empty() && std::all_of(value.begin(), value.end(), [](unsigned char c) {
        return std::isdigit(c) != 0;
    });
    if (!digits || value.size() > 18) {
        return value;
    }
    return jit::format_duration(std::stoll(value));
}

bool is_true(const std::string* value) {
    return value && (*value == "true" || *value == "1" || *value == "yes");
}

std::string suffix(const jit::AuditEvent& event, std::string_view name) {
    const std::string* value = event.field(name);
    return value && !value->empty() ? ": " + *value : "";
}

std::string from_rhost(const jit::AuditEvent& event) {
    const std::string* rhost = event.field("JIT_RHOST");
    return rhost && !rhost->empty() ? " from " + *rhost : "";
}

std::string login_text(const jit::AuditEvent& event) {
    return field_or(event, "JIT_USER") + " via " + field_or(event, "JIT_SERVICE") + " as " +
           field_or(event, "JIT_TARGET") + from_rhost(event);
}

}  // namespace

std::string audit_journal_message(const jit::AuditEvent& e) {
    const std::string& type = e.event;
    auto user = field_or(e, "JIT_USER");
    auto resource = field_or(e, "JIT_RESOURCE");
    auto actor = field_or(e, "JIT_ACTOR");
    auto request = "request " + field_or(e, "JIT_REQUEST_ID");
    auto grant = "grant " + field_or(e, "JIT_GRANT_ID");

    if (type == "requested") {
        std::string capped =
            is_true(e.field("JIT_CAPPED"))
                ? " (capped from " + duration_text(e, "JIT_REQUESTED_DURATION") + ")"
                : "";
        return user + " requested access to " + resource + " for " +
               duration_text(e, "JIT_DURATION") + capped + suffix(e, "JIT_REASON");
    }
    if (type == "approved" || type == "denied") {
        return actor + " " + type + " " + request + " of " + user + " for " + resource +
               suffix(e, "JIT_COMMENT");
    }
    if (type == "granted") {
        return user + " was granted access to " + resource + " until " +
               field_or(e, "JIT_EXPIRY", "revoked") + " (" + grant + ", " + request + ")";
    }
    if (type == "expired") {
        return grant + " of " + user + " on " + resource + " expired";
    }
    if (type == "revoked") {
        return actor + " revoked " + grant + " of " + user + " on " + resource +
               suffix(e, "JIT_REASON");
    }
    if (type == "cancelled") {
        return actor + " cancelled " + request + " of " + user + " for " + resource;
    }
    if (type == "request_expired") {
        return request + " of " + user + " for " + resource + " expired undecided";
    }
    if (type == "session_opened") {
        return login_text(e) + " opened a session under " + grant + " on " + resource;
    }
    if (type == "session_closed") {
        return login_text(e) + " closed the session under " + grant + " on " + resource;
    }
    if (type == "session_terminated") {
        return "terminated the session of " + login_text(e) + " (pid " +
               field_or(e, "JIT_SESSION_PID") + "): " + grant + " on " + resource + " ended";
    }
    if (type == "login_denied") {
        return "denied login of " + login_text(e) + ": no access to " + resource;
    }
    if (type == "resource_changed" || type == "policy_changed") {
        std::string what = type == "resource_changed" ? "resource " : "policy ";
        return actor + " changed " + what + field_or(e, "JIT_OBJECT") + suffix(e, "JIT_CHANGE");
    }
    if (type == "login_fallback") {
        return "pam_jit decided the login of " + login_text(e) + " without jitd" +
               suffix(e, "JIT_OUTCOME");
    }
    std::string text = "audit event " + type;
    for (const auto& [name, value] : e.fields) {
        text += " " + name + "=" + value;
    }
    return text;
}

namespace {

// One journal entry: SYSLOG_IDENTIFIER, MESSAGE, MESSAGE_ID, PRIORITY, JIT_EVENT, JIT_SEQ and
// every JIT_* field of the event. Returns 0 or a negative errno (the journal socket is missing
// or refuses the datagram).
int send_to_journal(const jit::AuditEvent& event) {
    const AuditMessageType& type = audit_message_type(event.event);
    std::vector<std::string> lines = {
        "SYSLOG_IDENTIFIER=jitd",
        "MESSAGE=" + audit_journal_message(event),
        "MESSAGE_ID=" + std::string(type.message_id),
        "PRIORITY=" + std::to_string(type.priority),
        "JIT_EVENT=" + event.event,
        "JIT_SEQ=" + std::to_string(event.seq),
    };
    for (const auto& [name, value] : event.fields) {
        lines.push_back(name + "=" + value);
    }
    std::vector<iovec> iov;
    iov.reserve(lines.size());
    for (auto& line : lines) {
        iov.push_back({line.data(), line.size()});
    }
    return sd_journal_sendv(iov.data(), static_cast<int>(iov.size()));
}

}  // namespace

JournalForwarder::JournalForwarder(sd_event* event, jit::Store& store)
    : event_(event), store_(store) {}

void JournalForwarder::start() {
    saved_seq_ = sent_seq_ = queued_seq_ = store_.journal_sent_seq();
    jit::AuditFilter unsent;
    unsent.after_seq = sent_seq_;
    for (auto& event : store_.audit_events(unsent)) {
        add(event);
    }
    if (!pending_.empty()) {
        spdlog::info("sending {} audit event(s) not yet in the journal (after seq {})",
                     pending_.size(), sent_seq_);
    }
    flush();
}

void JournalForwarder::add(const jit::AuditEvent& event) {
    if (event.seq <= queued_seq_) {
        return;
    }
    queued_seq_ = event.seq;
    pending_.push_back(event);
    if (!journal_down_) {
        flush();
    }
}

void JournalForwarder::flush() {
    while (!pending_.empty()) {
        int r = send_to_journal(pending_.front());
        if (r < 0) {
            if (!journal_down_) {
                spdlog::warn(
                    "journal unavailable ({}); audit event {} and later wait in the "
                    "database, retrying every {}s",
                    std::strerror(-r), pending_.front().seq, kRetryIntervalUsec / 1000000);
            }
            journal_down_ = true;
            arm_retry();
            return;
        }
        sent_seq_ = pending_.front().seq;
        pending_.pop_front();
    }
    if (journal_down_) {
        spdlog::info("journal is back; audit events up to seq {} sent", sent_seq_);
        journal_down_ = false;
    }
}

void JournalForwarder::arm_retry() {
    uint64_t now = 0;
    sd_event_now(event_, CLOCK_MONOTONIC, &now);
    if (!retry_) {
        sd_event_source* source = nullptr;
        int r = sd_event_add_time(event_, &source, CLOCK_MONOTONIC, now + kRetryIntervalUsec, 0,
                                  on_retry, this);
        if (r < 0) {
            spdlog::error("cannot arm the journal retry timer: {}", std::strerror(-r));
            return;
        }
        retry_.reset(source);
        return;
    }
    sd_event_source_set_time(retry_.get(), now + kRetryIntervalUsec);
    sd_event_source_set_enabled(retry_.get(), SD_EVENT_ONESHOT);
}

int JournalForwarder::on_retry(sd_event_source*, uint64_t, void* userdata) {
    auto* self = static_cast<JournalForwarder*>(userdata);
    self->flush();
    return 0;
}

void JournalForwarder::save_progress() {
    if (sent_seq_ == saved_seq_) {
        return;
    }
    try {
        store_.set_journal_sent_seq(sent_seq_);
        saved_seq_ = sent_seq_;
    } catch (const std::exception& e) {
        spdlog::error("cannot record journal progress (seq {}): {}", sent_seq_, e.what());
    }
}

}  // namespace jitd
