// Forwards committed audit events (docs/audit-events.md) to the journal. The database is the
// source of truth: an event that cannot be sent stays pending and is retried, and the store
// remembers the highest seq known to be in the journal so that a restart resends exactly the
// events that never made it. None is lost; none is sent twice unless jitd dies between sending
// and recording progress (at most the events of one loop iteration).
#pragma once

#include <deque>
#include <string>

#include "jit/model.hpp"
#include "jit/store.hpp"
#include "sd_handles.hpp"

namespace jitd {

// The human MESSAGE of an audit event's journal entry.
std::string audit_journal_message(const jit::AuditEvent& event);

class JournalForwarder {
  public:
    JournalForwarder(sd_event* event, jit::Store& store);

    // Queues every stored event the journal has not acknowledged yet and sends them.
    void start();
    // A newly committed event; events at or below what is already queued are ignored.
    void add(const jit::AuditEvent& event);
    // Records the send progress in the store (batched: once per loop iteration and at exit).
    void save_progress();

  private:
    void flush();
    void arm_retry();
    static int on_retry(sd_event_source* source, uint64_t usec, void* userdata);

    sd_event* event_;
    jit::Store& store_;
    std::deque<jit::AuditEvent> pending_;
    jit::Id queued_seq_ = 0;  // highest seq queued or sent
    jit::Id sent_seq_ = 0;    // highest seq the journal accepted
    jit::Id saved_seq_ = 0;   // highest seq recorded in the store
    bool journal_down_ = false;
    EventSourcePtr retry_;
};

}  // namespace jitd
