// SPDX-License-Identifier: Apache-2.0
#include "jitd_client.hpp"

#include <systemd/sd-bus.h>
#include <time.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <system_error>

#include "jit/bus_names.hpp"
#include "jit/error.hpp"
#include "jit/os.hpp"
#include "jit/sd_handles.hpp"

namespace jit::pam {
namespace {

// Never flush on close: flushing waits for a stalled daemon without a timeout.
using BusPtr = jit::sd::UnflushedBusPtr;

using jit::sd::MessagePtr;

// Where sd_bus_open_system() looks when DBUS_SYSTEM_BUS_ADDRESS is unset.
constexpr const char* kDefaultSystemBusAddress = "unix:path=/run/dbus/system_bus_socket";

using AppendArgs = std::function<int(sd_bus_message*)>;
using ReadReply = std::function<int(sd_bus_message*, JitdReply&)>;

JitdReply unreachable(std::string why) {
    JitdReply reply;
    reply.status = JitdStatus::Unreachable;
    reply.error = std::move(why);
    return reply;
}

// Runs the connection's I/O until `done()` holds or the deadline passes. Signals delivered to
// the host process (sudo's SIGCHLD, sshd's SIGALRM...) interrupt waits; they are not failures.
int drive_until(sd_bus* bus, std::uint64_t deadline, const std::function<bool()>& done,
                const char* what, std::string& why) {
    for (;;) {
        int r = sd_bus_process(bus, nullptr);
        if (r < 0 && r != -EINTR) {
            why = std::string(what) + " failed: " + jit::errno_text(-r);
            return r;
        }
        if (done()) {
            return 0;
        }
        if (r > 0) {
            continue;
        }
        const std::uint64_t now = jit::monotonic_usec();
        if (now >= deadline) {
            why = std::string("timed out ") + what;
            return -ETIMEDOUT;
        }
        r = sd_bus_wait(bus, deadline - now);
        if (r < 0 && r != -EINTR) {
            why = std::string(what) + " failed: " + jit::errno_text(-r);
            return r;
        }
    }
}

// The system bus, as sd_bus_open_system() would find it, but without features pam_jit never
// uses (passing file descriptors). sd_bus_start() only begins connecting: the SASL exchange and
// Hello are queued, not waited for, so the caller's method call goes out right behind them and
// the login pays one round trip to the bus, not two (docs/pam_jit.md, what a login costs).
int connect_system_bus(BusPtr& bus, std::string& why) {
    sd_bus* raw = nullptr;
    int r = sd_bus_new(&raw);
    if (r < 0) {
        why = "cannot allocate a bus connection: " + jit::errno_text(-r);
        return r;
    }
    bus.reset(raw);
    // secure_getenv: in a set-uid program (sudo, su) the caller's environment must not choose
    // the bus, or a user could answer for jitd from a bus of their own.
    const char* address = secure_getenv("DBUS_SYSTEM_BUS_ADDRESS");
    r = sd_bus_set_address(raw, address ? address : kDefaultSystemBusAddress);
    if (r >= 0) {
        r = sd_bus_set_bus_client(raw, 1);
    }
    if (r >= 0) {
        r = sd_bus_negotiate_fds(raw, 0);
    }
    if (r >= 0) {
        r = sd_bus_start(raw);
    }
    if (r < 0) {
        why = "cannot connect to the system bus: " + jit::errno_text(-r);
    }
    return r;
}

// The errors that mean nobody answered: jitd is not on the bus, or did not reply in time. Any
// other error is jitd's (or its bus policy's) answer and is decided from the snapshot, so that
// making jitd fail can never open a login under fail=open.
bool means_no_answer(const sd_bus_error* error) {
    static constexpr std::string_view kNoAnswer[] = {
        SD_BUS_ERROR_SERVICE_UNKNOWN,
        SD_BUS_ERROR_NAME_HAS_NO_OWNER,
        SD_BUS_ERROR_NO_REPLY,
        SD_BUS_ERROR_TIMEOUT,
        "org.freedesktop.DBus.Error.TimedOut",
        SD_BUS_ERROR_DISCONNECTED,
        SD_BUS_ERROR_NO_SERVER,
        SD_BUS_ERROR_NO_NETWORK,
    };
    for (std::string_view name : kNoAnswer) {
        if (name == error->name) {
            return true;
        }
    }
    return false;
}

int keep_reply(sd_bus_message* reply, void* userdata, sd_bus_error*) {
    static_cast<MessagePtr*>(userdata)->reset(sd_bus_message_ref(reply));
    return 0;
}

using jit::sd::SlotPtr;

// One method call on io.jitd.Jit1.Pam; everything, connecting included, before the deadline.
// The call is asynchronous so that an interrupted wait resumes instead of failing the login.
// `bus` is the connection to use (connected here when empty); it stays open for the caller.
JitdReply call_on(BusPtr& bus, const bus::Member& member, const AppendArgs& append,
                  const ReadReply& read, std::uint64_t deadline) {
    const char* method = member.name;
    std::string why;
    if (!bus && connect_system_bus(bus, why) < 0) {
        return unreachable(std::move(why));
    }

    sd_bus_message* raw_call = nullptr;
    int r = sd_bus_message_new_method_call(bus.get(), &raw_call, bus::kServiceName,
                                           bus::kObjectPath, member.interface, method);
    MessagePtr call(raw_call);
    if (r >= 0) {
        r = append(call.get());
    }
    if (r < 0) {
        return unreachable(std::string("cannot build ") + method + ": " + jit::errno_text(-r));
    }

    const std::uint64_t now = jit::monotonic_usec();
    if (now >= deadline) {
        return unreachable(std::string("timed out before sending ") + method);
    }
    MessagePtr answer;
    sd_bus_slot* raw_slot = nullptr;
    r = sd_bus_call_async(bus.get(), &raw_slot, call.get(), keep_reply, &answer, deadline - now);
    SlotPtr slot(raw_slot);
    if (r < 0) {
        return unreachable(std::string(method) + " failed: " + jit::errno_text(-r));
    }
    if (drive_until(
            bus.get(), deadline, [&answer] { return answer != nullptr; }, method, why) < 0) {
        // The call went out behind Hello: when Hello itself got no answer, say so.
        if (sd_bus_is_ready(bus.get()) <= 0) {
            why = "timed out connecting to the system bus";
        }
        return unreachable(std::move(why));
    }

    const sd_bus_error* error = sd_bus_message_get_error(answer.get());
    if (sd_bus_error_is_set(error)) {
        const std::string detail =
            std::string(error->name) + ": " + (error->message ? error->message : "");
        if (!means_no_answer(error)) {
            JitdReply refused;
            refused.status = JitdStatus::Refused;
            refused.error = std::string(method) + " refused: " + detail;
            return refused;
        }
        return unreachable(std::string(method) + " failed: " + detail);
    }

    JitdReply reply;
    r = read(answer.get(), reply);
    if (r < 0) {
        return unreachable(std::string("malformed ") + method +
                           " reply from jitd: " + jit::errno_text(-r));
    }
    reply.status = JitdStatus::Answered;
    return reply;
}

JitdReply call_jitd(const bus::Member& member, const AppendArgs& append, const ReadReply& read,
                    std::uint64_t timeout_usec) {
    BusPtr bus;
    return call_on(bus, member, append, read, jit::monotonic_usec() + timeout_usec);
}

}  // namespace

struct KeptConnectionAccess {
    // Leaves `bus` in `kept` for this process.
    static void keep(KeptConnection& kept, BusPtr bus) {
        take(kept);
        kept.bus_ = bus.release();
        kept.owner_ = getpid();
    }
    // The kept connection when this process opened it; empty otherwise. `kept` is empty after.
    static BusPtr take(KeptConnection& kept) {
        BusPtr bus(kept.bus_);
        const bool ours = kept.owner_ == getpid();
        kept.bus_ = nullptr;
        kept.owner_ = 0;
        if (!ours) {
            // Another process's: drop our copy of its descriptor without a word on the wire.
            sd_bus_unref(bus.release());
        }
        return bus;
    }
};

KeptConnection::~KeptConnection() {
    KeptConnectionAccess::take(*this);
}

namespace {

int append_attempt(sd_bus_message* call, const LoginAttempt& attempt) {
    return sd_bus_message_append(call, bus::pam::kCheckLogin.in, attempt.service.c_str(),
                                 attempt.user.c_str(), attempt.ruser.c_str(), attempt.rhost.c_str(),
                                 attempt.tty.c_str(), attempt.app_uid, attempt.login_uid);
}

int read_strings(sd_bus_message* reply, std::vector<std::string>& out) {
    int r = sd_bus_message_enter_container(reply, 'a', "s");
    if (r < 0) {
        return r;
    }
    const char* item = nullptr;
    while ((r = sd_bus_message_read_basic(reply, 's', &item)) > 0) {
        out.emplace_back(item);
    }
    if (r < 0) {
        return r;
    }
    return sd_bus_message_exit_container(reply);
}

// verdict s, resource s, resources as, grant_id x, expiry x, starts x: shared by CheckLogin and
// OpenSession.
int read_decision(sd_bus_message* reply, const LoginAttempt& attempt, LoginDecision& decision) {
    const char* verdict = nullptr;
    const char* resource = nullptr;
    int r = sd_bus_message_read(reply, "ss", &verdict, &resource);
    if (r < 0) {
        return r;
    }
    try {
        decision.verdict = parse_login_verdict(verdict);
    } catch (const JitError&) {
        return -EBADMSG;
    }
    decision.resource = resource;
    r = read_strings(reply, decision.resources);
    if (r < 0) {
        return r;
    }
    std::int64_t grant_id = 0;
    std::int64_t expiry = 0;
    std::int64_t starts = 0;
    r = sd_bus_message_read(reply, "xxx", &grant_id, &expiry, &starts);
    if (r < 0) {
        return r;
    }
    decision.grant_id = grant_id;
    if (expiry != 0) {
        decision.expiry = expiry;
    }
    if (starts != 0) {
        decision.starts = starts;
    }
    decision.target = attempt.user;
    return 0;
}

}  // namespace

JitdReply check_login(const LoginAttempt& attempt, std::uint64_t timeout_usec,
                      KeptConnection* keep) {
    BusPtr bus;
    JitdReply reply = call_on(
        bus, bus::pam::kCheckLogin,
        [&](sd_bus_message* call) { return append_attempt(call, attempt); },
        [&](sd_bus_message* answer, JitdReply& out) {
            return read_decision(answer, attempt, out.decision);
        },
        jit::monotonic_usec() + timeout_usec);
    if (keep != nullptr && reply.status == JitdStatus::Answered) {
        KeptConnectionAccess::keep(*keep, std::move(bus));
    }
    return reply;
}

JitdReply open_session(const LoginAttempt& attempt, std::int64_t pid,
                       const std::string& logind_session, std::uint64_t timeout_usec,
                       KeptConnection* kept) {
    const std::uint64_t deadline = jit::monotonic_usec() + timeout_usec;
    const auto append = [&](sd_bus_message* call) {
        const int r = append_attempt(call, attempt);
        return r < 0 ? r
                     : sd_bus_message_append(call, "xss", pid, logind_session.c_str(),
                                             attempt.ssh_key.c_str());
    };
    const auto read = [&](sd_bus_message* reply, JitdReply& out) {
        const int r = read_decision(reply, attempt, out.decision);
        return r < 0 ? r : sd_bus_message_read(reply, "x", &out.session_id);
    };
    BusPtr bus = kept ? KeptConnectionAccess::take(*kept) : BusPtr();
    if (bus && sd_bus_is_open(bus.get()) <= 0) {
        bus.reset();  // closed since (the bus went away): connect afresh
    }
    // Never resent: jitd may have registered a session whose reply was lost.
    return call_on(bus, bus::pam::kOpenSession, append, read, deadline);
}

JitdReply close_session(Id session_id, std::uint64_t timeout_usec) {
    return call_jitd(
        bus::pam::kCloseSession,
        [&](sd_bus_message* call) {
            return sd_bus_message_append(call, bus::pam::kCloseSession.in, session_id);
        },
        [](sd_bus_message*, JitdReply&) { return 0; }, timeout_usec);
}

}  // namespace jit::pam
