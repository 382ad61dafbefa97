// SPDX-License-Identifier: Apache-2.0
#include "journal_forwarder.hpp"

#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
// The audit entry is about the event, not about jitd's source code: no CODE_FILE/CODE_LINE.
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <vector>

#include "jit/audit_events.hpp"
#include "jit/time.hpp"

namespace jitd {
namespace {

using E = jit::audit::Event;
using F = jit::audit::Field;
using jit::audit::field_name;

constexpr uint64_t kRetryIntervalUsec = 5 * 1000 * 1000;
constexpr int64_t kDrainPriority = SD_EVENT_PRIORITY_NORMAL + 1;
constexpr const char* kJournalSocket = "/run/systemd/journal/socket";

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
    const std::string* rhost = event.field(field_name(F::Rhost));
    return rhost && !rhost->empty() ? " from " + *rhost : "";
}

std::string login_text(const jit::AuditEvent& event) {
    return field_or(event, field_name(F::User)) + " via " +
           field_or(event, field_name(F::Service)) + " as " +
           field_or(event, field_name(F::Target)) + from_rhost(event);
}

}  // namespace

std::string audit_journal_message(const jit::AuditEvent& e) {
    const E type = jit::audit::event_type(e.event).event;
    auto user = field_or(e, field_name(F::User));
    auto resource = field_or(e, field_name(F::Resource));
    auto actor = field_or(e, field_name(F::Actor));
    auto request = "request " + field_or(e, field_name(F::RequestId));
    auto grant = "grant " + field_or(e, field_name(F::GrantId));

    if (type == E::Requested) {
        std::string capped =
            is_true(e.field(field_name(F::Capped)))
                ? " (capped from " + duration_text(e, field_name(F::RequestedDuration)) + ")"
                : "";
        return user + " requested access to " + resource + " for " +
               duration_text(e, field_name(F::Duration)) + capped +
               suffix(e, field_name(F::Reason));
    }
    if (type == E::Approved || type == E::Denied) {
        return actor + " " + e.event + " " + request + " of " + user + " for " + resource +
               suffix(e, field_name(F::Comment));
    }
    if (type == E::Granted) {
        return user + " was granted access to " + resource + " until " +
               field_or(e, field_name(F::Expiry), "revoked") + " (" + grant + ", " + request + ")";
    }
    if (type == E::Extended) {
        return grant + " of " + user + " on " + resource + " extended from " +
               field_or(e, field_name(F::PreviousExpiry)) + " to " +
               field_or(e, field_name(F::Expiry)) + " (" + request + ")";
    }
    if (type == E::Expired) {
        return grant + " of " + user + " on " + resource + " expired";
    }
    if (type == E::Revoked) {
        return actor + " revoked " + grant + " of " + user + " on " + resource +
               suffix(e, field_name(F::Reason));
    }
    if (type == E::Cancelled) {
        return actor + " cancelled " + request + " of " + user + " for " + resource;
    }
    if (type == E::RequestExpired) {
        return request + " of " + user + " for " + resource + " expired undecided";
    }
    if (type == E::SessionOpened) {
        return login_text(e) + " opened a session under " + grant + " on " + resource;
    }
    if (type == E::SessionClosed) {
        return login_text(e) + " closed the session under " + grant + " on " + resource;
    }
    if (type == E::SessionTerminated) {
        return "terminated the session of " + login_text(e) + " (pid " +
               field_or(e, field_name(F::SessionPid)) + "): " + grant + " on " + resource +
               " ended";
    }
    if (type == E::LoginDenied) {
        return "denied login of " + login_text(e) + ": no access to " + resource;
    }
    if (type == E::ResourceChanged || type == E::PolicyChanged) {
        std::string what = type == E::ResourceChanged ? "resource " : "policy ";
        return actor + " changed " + what + field_or(e, field_name(F::Object)) +
               suffix(e, field_name(F::Change));
    }
    if (type == E::LoginFallback) {
        return "pam_jit decided the login of " + login_text(e) + " without jitd" +
               suffix(e, field_name(F::Outcome));
    }
    if (type == E::GrantReview) {
        const std::string changed = field_or(e, field_name(F::Changed), "");
        const auto paths = std::count(changed.begin(), changed.end(), '\n') +
                           (changed.empty() || changed.back() == '\n' ? 0 : 1);
        std::string text =
            "review of " + grant + " of " + user + " on " + resource + ": " +
            (paths == 0 ? std::string("no changes") : std::to_string(paths) + " changed path(s)");
        const std::string* incomplete = e.field(field_name(F::ReviewIncomplete));
        if (incomplete && !incomplete->empty()) {
            text += " (incomplete: " + *incomplete + ")";
        }
        return text;
    }
    if (type == E::Imported) {
        return actor + " imported " + field_or(e, field_name(F::ImportedFile)) + " (audit chain " +
               field_or(e, field_name(F::ImportedFrom)) + ", events " +
               field_or(e, field_name(F::ImportedSeq), "none") + ")" +
               suffix(e, field_name(F::Change));
    }
    std::string text = "audit event " + e.event;
    for (const auto& [name, value] : e.fields) {
        text += " " + name + "=" + value;
    }
    return text;
}

namespace {

// One journal entry: SYSLOG_IDENTIFIER, MESSAGE, MESSAGE_ID, PRIORITY, JIT_EVENT, JIT_SEQ,
// JIT_HASH, JIT_CHAIN, every JIT_* field of the event, and JIT_HOST when the event has none.
std::vector<std::string> journal_fields(const jit::AuditEvent& event, const std::string& chain,
                                        const std::string& host) {
    const jit::audit::EventType& type = jit::audit::event_type(event.event);
    std::vector<std::string> lines = {
        "SYSLOG_IDENTIFIER=jitd",
        "MESSAGE=" + audit_journal_message(event),
        "MESSAGE_ID=" + std::string(type.message_id),
        "PRIORITY=" + std::to_string(type.priority),
        "JIT_EVENT=" + event.event,
        "JIT_SEQ=" + std::to_string(event.seq),
        "JIT_HASH=" + event.hash,
        "JIT_CHAIN=" + chain,
    };
    for (const auto& [name, value] : event.fields) {
        lines.push_back(name + "=" + value);
    }
    if (event.field(field_name(F::Host)) == nullptr) {
        lines.push_back(std::string(field_name(F::Host)) + "=" + host);
    }
    return lines;
}

// journald's native protocol: "NAME=value\n", or, for a value with a newline,
// "NAME\n" + its length as 64-bit little endian + the value + "\n".
std::string native_datagram(const std::vector<std::string>& fields) {
    std::string datagram;
    for (const auto& field : fields) {
        auto equals = field.find('=');
        if (field.find('\n') == std::string::npos) {
            datagram += field;
            datagram += '\n';
            continue;
        }
        std::string_view value = std::string_view(field).substr(equals + 1);
        datagram.append(field, 0, equals);
        datagram += '\n';
        std::uint64_t length = value.size();
        for (int byte = 0; byte < 8; ++byte) {
            datagram += static_cast<char>((length >> (8 * byte)) & 0xff);
        }
        datagram += value;
        datagram += '\n';
    }
    return datagram;
}

// The blocking way, for an entry too large for one datagram (libsystemd passes it in a memfd).
int send_blocking(const std::vector<std::string>& fields) {
    std::vector<std::string> lines = fields;
    std::vector<iovec> iov;
    iov.reserve(lines.size());
    for (auto& line : lines) {
        iov.push_back({line.data(), line.size()});
    }
    return sd_journal_sendv(iov.data(), static_cast<int>(iov.size()));
}

jit::UniqueFd connect_journal() {
    jit::UniqueFd fd(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd) {
        return fd;
    }
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, kJournalSocket, sizeof address.sun_path - 1);
    if (connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) < 0) {
        return jit::UniqueFd();
    }
    return fd;
}

}  // namespace

JournalForwarder::JournalForwarder(sd_event* event, jit::Store& store, std::string host)
    : event_(event), store_(store), host_(std::move(host)) {}

void JournalForwarder::start() {
    chain_ = store_.audit_chain();
    const jit::Id head = store_.audit_head_seq();
    // Progress beyond the newest row means rows were deleted: new events reuse those seqs and
    // must still be sent.
    saved_seq_ = sent_seq_ = queued_seq_ = std::min(store_.journal_sent_seq(), head);
    jit::AuditFilter unsent_filter;
    unsent_filter.after_seq = sent_seq_;
    std::vector<jit::AuditEvent> unsent = store_.audit_events(unsent_filter);
    skip_events_in_journal(unsent, head);
    if (!in_journal_.empty()) {
        spdlog::info("{} audit event(s) after seq {} are in the journal already; not sent again",
                     in_journal_.size(), sent_seq_);
    }
    if (unsent.size() > in_journal_.size()) {
        spdlog::info("sending {} audit event(s) not yet in the journal (after seq {})",
                     unsent.size() - in_journal_.size(), sent_seq_);
    }
    for (auto& event : unsent) {
        add(event);
    }
    flush();
}

// The database's journal_sent_seq may be behind the journal: jitd died between sending and
// recording progress, or the database was replaced by an older copy of itself (the progress
// rolls back with it). The journal's own copy decides what is sent again.
void JournalForwarder::skip_events_in_journal(const std::vector<jit::AuditEvent>& unsent,
                                              jit::Id head) {
    jit::JournalCopy newest = reader_.read_newest(chain_, sent_seq_);
    if (!newest.read) {
        spdlog::warn("{}; sending every event after seq {} again", newest.error, sent_seq_);
        return;
    }
    std::multimap<jit::Id, jit::AuditHash> journal_hashes;
    jit::Id journal_head = 0;
    for (const auto& entry : newest.entries) {
        journal_hashes.emplace(entry.seq, entry.hash);
        journal_head = std::max(journal_head, entry.seq);
    }
    if (journal_head > head) {
        spdlog::critical(
            "the journal holds audit events of this database's chain {} up to seq {}, but the "
            "database ends at seq {}: it was replaced by an older copy or its newest events were "
            "deleted. New events continue at seq {} and differ from the journal's copies; "
            "`jitctl audit verify` reports it",
            chain_, journal_head, head, head + 1);
    }
    for (const auto& event : unsent) {
        auto [first, last] = journal_hashes.equal_range(event.seq);
        if (first == last) {
            continue;
        }
        std::optional<jit::AuditHash> hash = jit::parse_audit_hash(event.hash);
        if (std::none_of(first, last, [&](const auto& entry) { return entry.second == hash; })) {
            spdlog::critical(
                "audit event {} in the database differs from the journal's copy of it; not "
                "sent again (`jitctl audit verify` reports it)",
                event.seq);
        }
        in_journal_.insert(event.seq);
    }
}

void JournalForwarder::add(const jit::AuditEvent& event) {
    if (event.seq <= queued_seq_) {
        return;
    }
    queued_seq_ = event.seq;
    pending_.push_back(event);
    // While the socket is full or the journal is down, the event only queues: trying it now
    // would build its entry and fail again, thousands of times in a burst of expiries.
    if (!journal_down_ && !waiting_for_room_) {
        flush();
    }
}

// Never blocks: a full socket queue (journald busy with a burst) gives -EAGAIN, and the rest
// waits until the socket is writable again. Other errors close the socket; the next send
// connects again (journald restarted).
int JournalForwarder::send(const jit::AuditEvent& event) {
    const auto fields = journal_fields(event, chain_, host_);
    const std::string datagram = native_datagram(fields);
    if (!socket_) {
        socket_ = connect_journal();
        if (!socket_) {
            return -errno;
        }
    }
    if (::send(socket_.get(), datagram.data(), datagram.size(), MSG_NOSIGNAL) >= 0) {
        return 0;
    }
    const int error = errno;
    if (error == EAGAIN) {
        return -EAGAIN;
    }
    if (error == EMSGSIZE || error == ENOBUFS) {
        return send_blocking(fields);
    }
    writable_.reset();  // it watches this socket
    waiting_for_room_ = false;
    socket_.reset();
    return -error;
}

void JournalForwarder::wait_until_writable() {
    waiting_for_room_ = true;
    if (writable_) {
        sd_event_source_set_enabled(writable_.get(), SD_EVENT_ONESHOT);
        return;
    }
    sd_event_source* source = nullptr;
    int r = sd_event_add_io(event_, &source, socket_.get(), EPOLLOUT, on_writable, this);
    if (r < 0) {
        spdlog::error("cannot watch the journal socket: {}; retrying in {}s", std::strerror(-r),
                      kRetryIntervalUsec / 1000000);
        arm_retry();
        return;
    }
    writable_.reset(source);
    // Below the deadline timer and the bus: a burst of expiries is ended and the callers are
    // answered first, the journal copies follow (the database holds the events meanwhile).
    sd_event_source_set_priority(source, kDrainPriority);
    sd_event_source_set_enabled(source, SD_EVENT_ONESHOT);
}

int JournalForwarder::on_writable(sd_event_source*, int, uint32_t, void* userdata) {
    auto* self = static_cast<JournalForwarder*>(userdata);
    self->waiting_for_room_ = false;
    self->flush();
    return 0;
}

void JournalForwarder::flush() {
    while (!pending_.empty()) {
        if (in_journal_.erase(pending_.front().seq) > 0) {
            sent_seq_ = pending_.front().seq;
            pending_.pop_front();
            continue;
        }
        int r = send(pending_.front());
        if (r == -EAGAIN) {
            wait_until_writable();
            return;
        }
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
    self->waiting_for_room_ = false;
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
