// SPDX-License-Identifier: Apache-2.0
// Forwards committed audit events (docs/audit-events.md) to the journal. The database is the
// source of truth: an event that cannot be sent stays pending and is retried, and the store
// remembers the highest seq known to be in the journal so that a restart resends exactly the
// events that never made it. None is lost. Each entry carries JIT_HASH, JIT_CHAIN and JIT_HOST
// (see docs/DESIGN.md, tamper evidence). At start the forwarder reads back the newest entries
// of its chain: an event the journal already holds is not sent again (also after a crash
// between sending and recording progress), and a journal that holds seqs beyond the database's
// newest row means the database was rolled back: jitd says so loudly.
#pragma once

#include <deque>
#include <set>
#include <string>
#include <vector>

#include "jit/model.hpp"
#include "jit/store.hpp"
#include "jit/unique_fd.hpp"
#include "journal_reader.hpp"
#include "sd_handles.hpp"

namespace jitd {

// The human MESSAGE of an audit event's journal entry.
std::string audit_journal_message(const jit::AuditEvent& event);

class JournalForwarder {
  public:
    // host: JIT_HOST for events that do not name their host (written before jit did).
    JournalForwarder(sd_event* event, jit::Store& store, std::string host);

    // Queues every stored event the journal has not acknowledged yet and sends them.
    void start();
    // A newly committed event; events at or below what is already queued are ignored.
    void add(const jit::AuditEvent& event);
    // Records the send progress in the store (jitd does it with each group's sync and at exit).
    void save_progress();

  private:
    void skip_events_in_journal(const std::vector<jit::AuditEvent>& unsent, jit::Id head);
    int send(const jit::AuditEvent& event);
    void wait_until_writable();
    static int on_writable(sd_event_source* source, int fd, uint32_t revents, void* userdata);
    void flush();
    void arm_retry();
    static int on_retry(sd_event_source* source, uint64_t usec, void* userdata);

    sd_event* event_;
    jit::Store& store_;
    std::string host_;
    std::string chain_;
    JournalAuditReader reader_;
    std::deque<jit::AuditEvent> pending_;
    std::set<jit::Id> in_journal_;  // pending seqs the journal already holds: not sent again
    jit::Id queued_seq_ = 0;        // highest seq queued or sent
    jit::Id sent_seq_ = 0;          // highest seq the journal accepted
    jit::Id saved_seq_ = 0;         // highest seq recorded in the store
    bool journal_down_ = false;
    EventSourcePtr retry_;
    jit::UniqueFd socket_;           // non-blocking, connected to journald's native socket
    EventSourcePtr writable_;        // while a burst waits for room in the socket's queue
    bool waiting_for_room_ = false;  // writable_ is armed: new events only queue
};

}  // namespace jitd
