// SPDX-License-Identifier: Apache-2.0
// jitd's event loop: one sd-event loop holding the system bus connection, the engine, and the
// OS side of the engine's effects (journal, signals, notify_command, session termination, the
// PAM snapshot). Everything runs on this one thread.
#pragma once

#include <memory>
#include <unordered_set>
#include <vector>

#include "authorized_keys_writer.hpp"
#include "bus_adaptor.hpp"
#include "fallback_spool.hpp"
#include "jit/config.hpp"
#include "jit/identity.hpp"
#include "jit/service.hpp"
#include "jit/store.hpp"
#include "journal_forwarder.hpp"
#include "notifier.hpp"
#include "sd_handles.hpp"
#include "session_cgroups.hpp"
#include "session_terminator.hpp"
#include "session_watch.hpp"
#include "snapshot_writer.hpp"
#include "store_follower.hpp"

namespace jitd {

class Daemon final : public jit::Effects {
  public:
    // Connects to the system bus; throws std::runtime_error with one clear line on failure.
    Daemon(jit::Config config, jit::Store& store);

    // Starts the engine, takes the bus name, and serves until SIGTERM/SIGINT (returns 0) or
    // until the bus connection is lost (returns 1). Start-up failures throw.
    int run();

    // jit::Effects
    void audit_committed(const jit::AuditEvent& event) override;
    void request_created(const jit::Request& request) override;
    void request_decided(const jit::Request& request) override;
    void grant_started(const jit::Grant& grant) override;
    void grant_ended(const jit::Grant& grant) override;
    void terminate_session(const jit::Session& session) override;
    void terminate_sessions(const std::vector<jit::Session>& sessions) override;
    std::string place_session(const jit::Session& session) override;
    void session_opened(const jit::Session& session) override;
    void warn_session(const jit::Session& session, const jit::Grant& grant) override;
    void access_changed() override;

  private:
    void start();
    void refuse_if_name_owned();
    void take_bus_name();
    void add_event_sources();
    void settle();
    void after_dispatch();
    void arm_deadline_timer();
    void acknowledge(MessagePtr reply);
    void send_reply(sd_bus_message* reply);
    void arm_group_commit();
    void commit_group();
    static int on_commit_group(sd_event_source*, uint64_t, void* userdata);
    static int on_commit_group(sd_event_source*, void* userdata);
    void reap_gone_sessions();
    void watch_open_sessions();
    void session_process_ended(jit::Id session_id);
    void end_held_sessions();
    void end_sessions_of_due_expiries();
    void notify_request(const std::string& event, const jit::Request& request);
    static int on_deadline(sd_event_source*, uint64_t, void* userdata);
    static int on_reap_timer(sd_event_source* source, uint64_t, void* userdata);
    static int on_after_dispatch(sd_event_source*, void* userdata);
    static int on_stop_signal(sd_event_source*, const struct signalfd_siginfo* info,
                              void* userdata);

    jit::Config config_;
    jit::Store& store_;
    jit::NssIdentityResolver identity_;
    jit::SystemClock clock_;
    EventPtr event_;
    BusPtr bus_;
    JournalForwarder journal_;
    Notifier notifier_;
    SnapshotWriter snapshot_;
    SessionCgroups cgroups_;
    SessionTerminator terminator_;
    AuthorizedKeysWriter authorized_keys_;
    // Grant review reads the real files (docs/grant-review.md), in the loop: each fingerprint
    // is bounded by its limits (2 s).
    jit::PosixReviewFileSystem review_fs_;
    jit::JitService service_;
    BusAdaptor adaptor_;
    FallbackSpool fallback_;
    SessionWatch session_watch_;
    std::unique_ptr<StoreFollower> follower_;  // a fleet's shared store only
    EventSourcePtr deadline_timer_;
    EventSourcePtr reap_timer_;
    EventSourcePtr group_idle_;   // on while a sync is due: runs when nothing else is ready
    EventSourcePtr group_timer_;  // on while a sync is due: the end of the window
    std::vector<MessagePtr> waiting_replies_;  // in order, until the sync of their commits
    bool sync_failing_ = false;
    EventSourcePtr after_dispatch_;
    EventSourcePtr sigterm_;
    EventSourcePtr sigint_;
    uint64_t deadline_armed_usec_ = 0;  // 0: timer off
    // While expiries are handled in batches, the sessions they end wait here to be signalled
    // together (on_deadline).
    bool hold_terminations_ = false;
    std::vector<jit::Session> held_sessions_;
    // The sessions of due expiries, ended before the batches that record their end committed.
    // Until no expiry is due any more, the engine's report of their end is not acted on again,
    // and their processes' end is not recorded as a close of its own: their batch records it.
    std::unordered_set<jit::Id> ended_early_;
};

}  // namespace jitd
