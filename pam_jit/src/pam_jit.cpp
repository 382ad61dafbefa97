// SPDX-License-Identifier: Apache-2.0
// pam_jit.so: lets a login into a covered account proceed only while the requester is a
// standing member or holds an active grant (docs/login-decision.md, pam_jit(8)).
//
// account  -> jitd CheckLogin; its bus connection stays on the handle for the session call of
//             the same login in the same process, which closes it.
// session  -> jitd OpenSession, which also registers the session under its grant so that jitd
//             can end it when the grant ends; close_session unregisters it. In sshd the key
//             that logged in (SSH_AUTH_INFO_0) goes along: a registered key names the person.
// When jitd cannot answer: decide from jitd's snapshot (fail=closed) or allow (fail=open).
// The account and session stacks of one login share one timeout (budget.hpp).
// exempt= accounts are decided here; fallback and exempt decisions are spooled for jitd to audit.
// auth and password are not ours: PAM_IGNORE. Nor is a process that is not root.
//
// This code runs inside sshd, sudo, su and login: no exception leaves an entry point, nothing
// is cached between calls but what belongs to the handle (which may cross a fork), and every
// decision goes to pam_syslog.

#include <fcntl.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "budget.hpp"
#include "fallback.hpp"
#include "jit/access.hpp"
#include "jit/bus_contract.hpp"
#include "jit/identity.hpp"
#include "jit/os.hpp"
#include "jit/spool.hpp"
#include "jit/ssh_key.hpp"
#include "jit/text.hpp"
#include "jit/unique_fd.hpp"
#include "jitd_client.hpp"
#include "messages.hpp"
#include "options.hpp"

#define JIT_PAM_EXPORT extern "C" __attribute__((visibility("default")))

namespace {

using jit::LoginDecision;
using jit::LoginVerdict;
using jit::pam::JitdBudget;
using jit::pam::JitdReply;
using jit::pam::JitdStatus;
using jit::pam::sanitized;

// pam_set_data keys: the session jitd registered (for close_session), and the grant the user
// was already told about (sshd runs the account and session stacks on one handle).
constexpr const char* kSessionIdKey = "pam_jit_session_id";
constexpr const char* kAnnouncedGrantKey = "pam_jit_announced_grant";
// The handle's JitdBudget: a login pays the timeout once, not once in the account stack and
// again in the session stack.
constexpr const char* kBudgetKey = "pam_jit_budget";
// The bus connection CheckLogin leaves for OpenSession (jitd_client.hpp, KeptConnection).
constexpr const char* kConnectionKey = "pam_jit_connection";

// One run of an entry point.
struct Context {
    pam_handle_t* pamh = nullptr;
    int flags = 0;
    jit::pam::Options options;
    jit::LoginAttempt attempt;
    std::string requester;
    std::string described;  // the attempt as one log-safe line
    // Session stack only: what identifies the session if the snapshot lets it open.
    bool opening_session = false;
    std::string logind_session;
};

std::string item(pam_handle_t* pamh, int type) {
    const void* value = nullptr;
    if (pam_get_item(pamh, type, &value) != PAM_SUCCESS || value == nullptr) {
        return {};
    }
    return static_cast<const char*>(value);
}

std::vector<std::string> groups_of(const std::string& user) {
    return jit::NssIdentityResolver().groups_of(user);
}

void debug(const Context& ctx, const std::string& text) {
    if (ctx.options.debug) {
        pam_syslog(ctx.pamh, LOG_DEBUG, "%s", text.c_str());
    }
}

// Parses the arguments; the ignored ones are logged, never fatal.
void read_options(Context& ctx, pam_handle_t* pamh, int flags, int argc, const char** argv) {
    ctx.pamh = pamh;
    ctx.flags = flags;
    jit::pam::ParsedOptions parsed = jit::pam::parse_options(argc, argv);
    for (const std::string& problem : parsed.problems) {
        pam_syslog(pamh, LOG_WARNING, "%s", sanitized(problem).c_str());
    }
    ctx.options = std::move(parsed.options);
}

// The audit login uid of this process (the person whose login it descends from), or
// kLoginUidUnset when the kernel has none for it or it cannot be read.
uid_t own_login_uid() {
    jit::UniqueFd fd(open("/proc/self/loginuid", O_RDONLY | O_CLOEXEC));
    char text[16] = {};
    if (!fd || read(fd.get(), text, sizeof text - 1) <= 0) {
        return jit::kLoginUidUnset;
    }
    char* end = nullptr;
    errno = 0;
    const unsigned long value = std::strtoul(text, &end, 10);
    if (errno != 0 || end == text || value > jit::kLoginUidUnset) {
        return jit::kLoginUidUnset;
    }
    return static_cast<uid_t>(value);
}

// Target = PAM_USER; the requester from the application's real uid, PAM_RUSER or PAM_USER, and
// the login uid behind a root shell (docs/login-decision.md).
int read_attempt(Context& ctx) {
    jit::LoginAttempt& attempt = ctx.attempt;
    attempt.service = item(ctx.pamh, PAM_SERVICE);
    attempt.user = item(ctx.pamh, PAM_USER);
    attempt.ruser = item(ctx.pamh, PAM_RUSER);
    // rhost and tty only inform the audit: made printable and short, an odd value can neither
    // forge a log line nor make jitd refuse (and so deny) a login it does not even manage.
    attempt.rhost = sanitized(item(ctx.pamh, PAM_RHOST).substr(0, jit::pam::kMaxItemBytes));
    attempt.tty = sanitized(item(ctx.pamh, PAM_TTY).substr(0, jit::pam::kMaxItemBytes));
    if (attempt.user.empty()) {
        pam_syslog(ctx.pamh, LOG_ERR, "PAM_USER is not set, nothing to decide; failing closed");
        return PAM_USER_UNKNOWN;
    }
    attempt.app_uid = getuid();
    attempt.login_uid = own_login_uid();
    ctx.requester = jit::resolve_requester(attempt, jit::NssIdentityResolver()).name;
    ctx.described =
        "service=" + sanitized(attempt.service) + " requester=" + sanitized(ctx.requester) +
        " target=" + sanitized(attempt.user) + " rhost=" + attempt.rhost + " tty=" + attempt.tty;
    return PAM_SUCCESS;
}

void tell(const Context& ctx, int style, const std::string& text) {
    if (ctx.options.quiet || (style == PAM_TEXT_INFO && (ctx.flags & PAM_SILENT) != 0)) {
        return;
    }
    const int r = style == PAM_ERROR_MSG ? pam_error(ctx.pamh, "%s", text.c_str())
                                         : pam_info(ctx.pamh, "%s", text.c_str());
    if (r != PAM_SUCCESS) {
        debug(ctx, std::string("cannot show a message to the user: ") + pam_strerror(ctx.pamh, r));
    }
}

void free_id(pam_handle_t*, void* data, int) {
    delete static_cast<jit::Id*>(data);
}

bool keep_id(pam_handle_t* pamh, const char* key, jit::Id id) {
    auto copy = std::make_unique<jit::Id>(id);
    if (pam_set_data(pamh, key, copy.get(), free_id) != PAM_SUCCESS) {
        return false;
    }
    copy.release();
    return true;
}

std::optional<jit::Id> kept_id(pam_handle_t* pamh, const char* key) {
    const void* data = nullptr;
    if (pam_get_data(pamh, key, &data) != PAM_SUCCESS || data == nullptr) {
        return std::nullopt;
    }
    return *static_cast<const jit::Id*>(data);
}

void announce_grant(const Context& ctx, const LoginDecision& decision) {
    if (kept_id(ctx.pamh, kAnnouncedGrantKey) == decision.grant_id) {
        return;
    }
    tell(ctx, PAM_TEXT_INFO, jit::pam::grant_notice(decision));
    keep_id(ctx.pamh, kAnnouncedGrantKey, decision.grant_id);
}

// The attempt for the log; with the person a registered ssh key named, when one did.
std::string described(const Context& ctx, const LoginDecision& decision) {
    if (decision.fingerprint.empty()) {
        return ctx.described;
    }
    return ctx.described + " person=" + sanitized(decision.requester) +
           " key=" + sanitized(decision.fingerprint);
}

// Maps a verdict (from jitd or from the snapshot) to the PAM result, logs and tells the user.
int apply(const Context& ctx, const LoginDecision& decision, const char* source) {
    const std::string line = described(ctx, decision);
    const char* who = line.c_str();
    switch (decision.verdict) {
        case LoginVerdict::Unmanaged:
            pam_syslog(ctx.pamh, LOG_INFO, "not managed (%s): %s", source, who);
            return PAM_IGNORE;
        case LoginVerdict::RootAutomation:
            pam_syslog(ctx.pamh, LOG_NOTICE,
                       "allowed (%s): %s resource=%s as root's own automation (no login uid)",
                       source, who, decision.resource.c_str());
            return PAM_SUCCESS;
        case LoginVerdict::Member:
            pam_syslog(ctx.pamh, LOG_INFO, "allowed (%s): %s resource=%s as standing member",
                       source, who, decision.resource.c_str());
            return PAM_SUCCESS;
        case LoginVerdict::Grant: {
            const std::string until =
                decision.expiry ? jit::pam::format_utc(*decision.expiry) : std::string("revoked");
            pam_syslog(ctx.pamh, LOG_INFO, "allowed (%s): %s resource=%s grant=%lld until %s",
                       source, who, decision.resource.c_str(),
                       static_cast<long long>(decision.grant_id), until.c_str());
            announce_grant(ctx, decision);
            return PAM_SUCCESS;
        }
        case LoginVerdict::Deferred:
            pam_syslog(ctx.pamh, LOG_INFO,
                       "deferred to the session stack (%s): %s resources=%s: a person may enter "
                       "with a registered ssh key, known only there",
                       source, who, jit::join(decision.resources).c_str());
            return PAM_IGNORE;
        case LoginVerdict::Deny:
            pam_syslog(ctx.pamh, LOG_INFO, "denied (%s): %s resources=%s", source, who,
                       jit::join(decision.resources).c_str());
            tell(ctx, PAM_ERROR_MSG, jit::pam::denial_message(decision));
            return PAM_PERM_DENIED;
    }
    pam_syslog(ctx.pamh, LOG_ERR, "unknown verdict, failing closed: %s", who);
    return PAM_PERM_DENIED;
}

// Leaves the decision for jitd to audit once it is back (jit/spool.hpp).
void spool(const Context& ctx, jit::EpochSeconds now, const char* outcome,
           const LoginDecision* opened_under_grant = nullptr, const std::string& fingerprint = "") {
    jit::FallbackLogin login{ctx.attempt, outcome, now, 0, 0, ""};
    login.fingerprint = fingerprint;
    if (opened_under_grant) {
        login.grant_id = opened_under_grant->grant_id;
        login.pid = getpid();
        login.logind_session = ctx.logind_session;
    }
    const std::string path = jit::pam::spool_path(ctx.options.snapshot);
    const std::string error = jit::pam::append_spool(path, jit::format_fallback_line(login));
    if (!error.empty()) {
        pam_syslog(ctx.pamh, LOG_ERR, "cannot append to the fallback spool %s: %s", path.c_str(),
                   sanitized(error).c_str());
    }
}

// Decides from jitd's snapshot: when jitd cannot answer (fail=closed), and when it answered
// with an error (either mode: an error is an answer, so fail=open never applies to it).
int decide_from_snapshot(const Context& ctx) {
    const jit::EpochSeconds now = std::time(nullptr);
    const char* who = ctx.described.c_str();
    const jit::pam::SnapshotLoad snapshot = jit::pam::load_snapshot(ctx.options.snapshot);
    if (!snapshot.index) {
        pam_syslog(ctx.pamh, LOG_ERR, "no usable snapshot, denying: %s: %s", snapshot.error.c_str(),
                   who);
        spool(ctx, now, "unavailable");
        tell(ctx, PAM_ERROR_MSG, jit::pam::unavailable_message(ctx.attempt.user));
        return PAM_AUTHINFO_UNAVAIL;
    }
    const LoginDecision decision = snapshot.index->decide(ctx.attempt, now);
    const bool opened = ctx.opening_session && decision.verdict == LoginVerdict::Grant;
    // A deferred login is decided (and spooled) by the session stack.
    if (decision.verdict != LoginVerdict::Deferred) {
        spool(ctx, now, decision.verdict == LoginVerdict::Deny ? "denied" : "allowed",
              opened ? &decision : nullptr, decision.fingerprint);
    }
    return apply(ctx, decision, "snapshot");
}

// When jitd cannot answer (docs/login-decision.md, the snapshot fallback).
int fall_back(const Context& ctx, const std::string& why) {
    if (ctx.options.fail == jit::pam::FailMode::Open) {
        pam_syslog(ctx.pamh, LOG_ALERT, "jitd unreachable, allowing (fail=open): %s: %s",
                   why.c_str(), ctx.described.c_str());
        spool(ctx, std::time(nullptr), "open");
        return PAM_IGNORE;
    }
    pam_syslog(ctx.pamh, LOG_WARNING, "jitd unreachable, deciding from the snapshot: %s",
               why.c_str());
    return decide_from_snapshot(ctx);
}

int conclude(const Context& ctx, const JitdReply& reply) {
    switch (reply.status) {
        case JitdStatus::Answered:
            return apply(ctx, reply.decision, "jitd");
        case JitdStatus::Refused:
            pam_syslog(ctx.pamh, LOG_ERR,
                       "jitd answered with an error, deciding from the snapshot: %s: %s",
                       sanitized(reply.error).c_str(), ctx.described.c_str());
            return decide_from_snapshot(ctx);
        case JitdStatus::Unreachable:
            return fall_back(ctx, sanitized(reply.error));
    }
    return PAM_PERM_DENIED;
}

// A process that is not root cannot switch to another account, so it cannot use a grant, and
// jitd refuses to answer it anyway: a screen locker checking its own user's account, say, is
// none of our business (pam-auth-update puts pam_jit in common-account).
bool not_root(const Context& ctx) {
    if (geteuid() == 0) {
        return false;
    }
    debug(ctx, "not running as root (euid " + std::to_string(geteuid()) + "), nothing to decide");
    return true;
}

// Break-glass accounts are decided here, without jitd; every use is logged and spooled for jitd
// to audit.
bool exempt(const Context& ctx) {
    const auto groups = [&] { return groups_of(ctx.requester); };
    if (!jit::pam::is_exempt(ctx.options.exempt, ctx.requester, groups)) {
        return false;
    }
    pam_syslog(ctx.pamh, LOG_NOTICE, "allowed (exempt, jitd not asked): %s", ctx.described.c_str());
    spool(ctx, std::time(nullptr), "exempt");
    return true;
}

const char* status_of(const JitdReply& reply) {
    switch (reply.status) {
        case JitdStatus::Answered:
            return "answered";
        case JitdStatus::Refused:
            return "refused";
        case JitdStatus::Unreachable:
            return "unreachable";
    }
    return "?";
}

void free_budget(pam_handle_t*, void* data, int) {
    delete static_cast<JitdBudget*>(data);
}

// The handle's budget, created at its first call; null (and logged) when libpam cannot keep it.
JitdBudget* budget_of(const Context& ctx) {
    const void* data = nullptr;
    if (pam_get_data(ctx.pamh, kBudgetKey, &data) == PAM_SUCCESS && data != nullptr) {
        return static_cast<JitdBudget*>(const_cast<void*>(data));
    }
    auto budget = std::make_unique<JitdBudget>();
    if (pam_set_data(ctx.pamh, kBudgetKey, budget.get(), free_budget) != PAM_SUCCESS) {
        pam_syslog(ctx.pamh, LOG_ERR, "cannot keep the timeout budget on the handle");
        return nullptr;
    }
    return budget.release();
}

void free_connection(pam_handle_t*, void* data, int) {
    delete static_cast<jit::pam::KeptConnection*>(data);
}

// A fresh holder for CheckLogin's connection, replacing (and closing) any earlier one; null
// when libpam cannot keep it, and the login just connects again.
jit::pam::KeptConnection* new_kept_connection(pam_handle_t* pamh) {
    auto kept = std::make_unique<jit::pam::KeptConnection>();
    if (pam_set_data(pamh, kConnectionKey, kept.get(), free_connection) != PAM_SUCCESS) {
        return nullptr;
    }
    return kept.release();
}

jit::pam::KeptConnection* kept_connection(pam_handle_t* pamh) {
    const void* data = nullptr;
    if (pam_get_data(pamh, kConnectionKey, &data) != PAM_SUCCESS || data == nullptr) {
        return nullptr;
    }
    return static_cast<jit::pam::KeptConnection*>(const_cast<void*>(data));
}

// Closes the kept connection, if any: the login's set-up is over.
void drop_kept_connection(pam_handle_t* pamh) {
    if (kept_connection(pamh) != nullptr) {
        pam_set_data(pamh, kConnectionKey, nullptr, nullptr);
    }
}

// Calls jitd with what is left of this login's timeout; without asking when nothing is.
template <typename Call>
JitdReply ask_jitd(const Context& ctx, const char* method, const Call& call) {
    const std::uint64_t timeout = ctx.options.timeout_usec;
    JitdBudget* budget = budget_of(ctx);
    const std::uint64_t started = jit::monotonic_usec();
    const std::uint64_t allowance = budget ? budget->allowance_usec(started, timeout) : timeout;
    if (budget && allowance == 0) {
        JitdReply reply;
        reply.error = budget->unreachable() ? "jitd did not answer an earlier call of this login"
                                            : "this login already spent its timeout on jitd";
        return reply;
    }
    const JitdReply reply = call(allowance);
    const std::uint64_t ended = jit::monotonic_usec();
    if (budget) {
        budget->charge(started, ended, reply.status != JitdStatus::Unreachable);
    }
    debug(ctx, std::string(method) + " " + status_of(reply) + " after " +
                   std::to_string((ended - started) / 1000) + " ms (allowed " +
                   std::to_string(allowance / 1000) + " ms of timeout " +
                   std::to_string(timeout / 1000) + " ms)");
    return reply;
}

// Reads the arguments and the attempt. Returns the result when jitd need not be asked (not
// root, no PAM_USER, an exempt account), or nothing when the caller goes on to ask.
std::optional<int> prepare(Context& ctx, pam_handle_t* pamh, int flags, int argc,
                           const char** argv) {
    read_options(ctx, pamh, flags, argc, argv);
    if (not_root(ctx)) {
        return PAM_IGNORE;
    }
    const int r = read_attempt(ctx);
    if (r != PAM_SUCCESS) {
        return r;
    }
    if (exempt(ctx)) {
        return PAM_SUCCESS;
    }
    return std::nullopt;
}

// sshd's session stack: the public key that authenticated, from SSH_AUTH_INFO_0 (OpenSSH puts
// it into the PAM environment before pam_open_session). Only sshd's: no other application sets
// it, and in another stack it could be anyone's text.
void read_ssh_key(Context& ctx) {
    if (!jit::key_known_in_session_only(ctx.attempt.service)) {
        return;
    }
    const char* auth_info = pam_getenv(ctx.pamh, "SSH_AUTH_INFO_0");
    if (auth_info == nullptr) {
        return;
    }
    if (std::optional<std::string> key = jit::key_from_auth_info(auth_info)) {
        ctx.attempt.ssh_key = std::move(*key);
        debug(ctx, "logged in with an ssh key of type " +
                       sanitized(ctx.attempt.ssh_key.substr(0, ctx.attempt.ssh_key.find(' '))));
    }
}

int account(pam_handle_t* pamh, int flags, int argc, const char** argv) {
    Context ctx;
    if (const std::optional<int> done = prepare(ctx, pamh, flags, argc, argv)) {
        return *done;
    }
    // sshd tells the key only to the session stack; the snapshot fallback decides alike.
    ctx.attempt.ssh_key_pending = jit::key_known_in_session_only(ctx.attempt.service);
    jit::pam::KeptConnection* keep = new_kept_connection(pamh);
    const JitdReply reply =
        ask_jitd(ctx, jit::bus::pam::kCheckLogin.name, [&](std::uint64_t timeout_usec) {
            return jit::pam::check_login(ctx.attempt, timeout_usec, keep);
        });
    return conclude(ctx, reply);
}

int open_session(pam_handle_t* pamh, int flags, int argc, const char** argv) {
    Context ctx;
    if (const std::optional<int> done = prepare(ctx, pamh, flags, argc, argv)) {
        drop_kept_connection(pamh);
        return *done;
    }
    // pam_systemd, when it ran before us, put the logind session id in the PAM environment.
    const char* logind_session = pam_getenv(pamh, "XDG_SESSION_ID");
    ctx.opening_session = true;
    ctx.logind_session = logind_session ? logind_session : "";
    read_ssh_key(ctx);
    const JitdReply reply =
        ask_jitd(ctx, jit::bus::pam::kOpenSession.name, [&](std::uint64_t timeout_usec) {
            return jit::pam::open_session(ctx.attempt, getpid(), ctx.logind_session, timeout_usec,
                                          kept_connection(pamh));
        });
    drop_kept_connection(pamh);
    if (reply.status == JitdStatus::Answered && reply.session_id > 0) {
        if (keep_id(pamh, kSessionIdKey, reply.session_id)) {
            debug(ctx, "registered as jitd session " + std::to_string(reply.session_id));
        } else {
            pam_syslog(pamh, LOG_ERR, "cannot keep jitd session %lld for close_session",
                       static_cast<long long>(reply.session_id));
        }
    }
    return conclude(ctx, reply);
}

// A logout never fails because of jitd: an unregistered session is only logged. It is no login,
// so it has a timeout of its own: unregistering must not be skipped because the login was slow.
int close_session(pam_handle_t* pamh, int flags, int argc, const char** argv) {
    Context ctx;
    read_options(ctx, pamh, flags, argc, argv);
    const std::optional<jit::Id> session_id = kept_id(pamh, kSessionIdKey);
    if (!session_id) {
        debug(ctx, "no jitd session registered on this handle");
        return PAM_SUCCESS;
    }
    const std::uint64_t started = jit::monotonic_usec();
    const JitdReply reply = jit::pam::close_session(*session_id, ctx.options.timeout_usec);
    debug(ctx, std::string("CloseSession ") + status_of(reply) + " after " +
                   std::to_string((jit::monotonic_usec() - started) / 1000) + " ms (timeout " +
                   std::to_string(ctx.options.timeout_usec / 1000) + " ms)");
    if (reply.status == JitdStatus::Answered) {
        pam_syslog(pamh, LOG_INFO, "closed jitd session %lld", static_cast<long long>(*session_id));
    } else {
        pam_syslog(pamh, LOG_WARNING, "cannot close jitd session %lld: %s",
                   static_cast<long long>(*session_id), sanitized(reply.error).c_str());
    }
    pam_set_data(pamh, kSessionIdKey, nullptr, nullptr);
    return PAM_SUCCESS;
}

// No C++ exception may unwind into sshd or sudo: anything unexpected fails closed.
template <typename Body>
int guarded(pam_handle_t* pamh, const char* entry, const Body& body) noexcept {
    try {
        return body();
    } catch (const std::exception& e) {
        pam_syslog(pamh, LOG_ERR, "%s failed, failing closed: %s", entry, e.what());
    } catch (...) {
        pam_syslog(pamh, LOG_ERR, "%s failed, failing closed: unknown exception", entry);
    }
    return PAM_SYSTEM_ERR;
}

}  // namespace

JIT_PAM_EXPORT int pam_sm_acct_mgmt(pam_handle_t* pamh, int flags, int argc, const char** argv) {
    return guarded(pamh, "account", [&] { return account(pamh, flags, argc, argv); });
}

JIT_PAM_EXPORT int pam_sm_open_session(pam_handle_t* pamh, int flags, int argc, const char** argv) {
    return guarded(pamh, "open_session", [&] { return open_session(pamh, flags, argc, argv); });
}

JIT_PAM_EXPORT int pam_sm_close_session(pam_handle_t* pamh, int flags, int argc,
                                        const char** argv) {
    return guarded(pamh, "close_session", [&] { return close_session(pamh, flags, argc, argv); });
}

JIT_PAM_EXPORT int pam_sm_authenticate(pam_handle_t*, int, int, const char**) {
    return PAM_IGNORE;
}

JIT_PAM_EXPORT int pam_sm_setcred(pam_handle_t*, int, int, const char**) {
    return PAM_IGNORE;
}

JIT_PAM_EXPORT int pam_sm_chauthtok(pam_handle_t*, int, int, const char**) {
    return PAM_IGNORE;
}
