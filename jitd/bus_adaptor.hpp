// SPDX-License-Identifier: Apache-2.0
// The io.jitd.Jit1.Manager and io.jitd.Jit1.Pam interfaces on /io/jitd/Jit1
// (dbus/io.jitd.Jit1.xml): unpacks arguments, identifies the caller from kernel-sourced bus
// credentials, calls JitService, packs the reply. Domain errors become named D-Bus errors.
#pragma once

#include <sys/types.h>
#include <systemd/sd-bus.h>

#include <functional>
#include <string>
#include <unordered_map>

#include "jit/identity.hpp"
#include "jit/model.hpp"
#include "jit/service.hpp"
#include "peer_identity.hpp"
#include "sd_handles.hpp"

namespace jitd {

class BusAdaptor {
  public:
    // before_reply runs after a method's work and before its reply is sent, so that what the
    // caller sees done is also settled outside the engine (snapshot, journal progress).
    // send_reply, when given, takes each successful reply instead of sending it at once: jitd
    // holds replies until the commits they acknowledge are on disk (group commit). Error replies
    // are sent at once: they acknowledge nothing.
    using ReplySender = std::function<void(MessagePtr reply)>;
    BusAdaptor(sd_bus* bus, jit::JitService& service, const jit::IdentityResolver& identity,
               std::function<void()> before_reply, ReplySender send_reply = {});

    // Adds both interfaces to the object. Call before requesting the bus name, so no caller
    // ever sees the name without the object.
    void add_objects();

    void emit_request_created(const jit::Request& request);
    void emit_request_decided(const jit::Request& request);
    void emit_grant_started(const jit::Grant& grant);
    void emit_grant_ended(const jit::Grant& grant);

    // Does the work and returns the reply to send.
    using Handler = MessagePtr (BusAdaptor::*)(sd_bus_message* message, const jit::Caller& caller);

  private:
    friend class BusAdaptorFuzzer;  // fuzz/bus_adaptor_fuzzer.cpp calls the handlers directly

    template <Handler handler>
    static int method(sd_bus_message* message, void* userdata, sd_bus_error* error);
    MessagePtr call_following_store(sd_bus_message* message, const jit::Caller& caller,
                                    Handler handler);
    int call(sd_bus_message* message, sd_bus_error* error, Handler handler);
    jit::Caller caller_of(sd_bus_message* message);
    static int on_name_owner_changed(sd_bus_message* message, void* userdata, sd_bus_error*);

    // io.jitd.Jit1.Manager
    // The handler of a method that is one call of jit::JitService's `method` (bus_adaptor.cpp).
    template <auto method>
    MessagePtr serve(sd_bus_message* message, const jit::Caller& caller);

    MessagePtr get_status(sd_bus_message* message, const jit::Caller& caller);
    MessagePtr add_resource(sd_bus_message* message, const jit::Caller& caller);
    MessagePtr add_policy(sd_bus_message* message, const jit::Caller& caller);
    MessagePtr create_request(sd_bus_message* message, const jit::Caller& caller);
    MessagePtr list_requests(sd_bus_message* message, const jit::Caller& caller);
    MessagePtr approve(sd_bus_message* message, const jit::Caller& caller);
    MessagePtr deny(sd_bus_message* message, const jit::Caller& caller);
    MessagePtr get_grant_review(sd_bus_message* message, const jit::Caller& caller);
    MessagePtr apply_configuration(sd_bus_message* message, const jit::Caller& caller);
    MessagePtr query_audit(sd_bus_message* message, const jit::Caller& caller);
    MessagePtr verify_audit(sd_bus_message* message, const jit::Caller& caller);
    // io.jitd.Jit1.Pam
    MessagePtr check_login(sd_bus_message* message, const jit::Caller& caller);
    MessagePtr open_session(sd_bus_message* message, const jit::Caller& caller);

    MessagePtr decide(sd_bus_message* message, const jit::Caller& caller, jit::Decision decision);

    static const sd_bus_vtable kManagerVtable[];
    static const sd_bus_vtable kPamVtable[];

    sd_bus* bus_;
    jit::JitService& service_;
    const jit::IdentityResolver& identity_;
    std::function<void()> before_reply_;
    ReplySender send_reply_;
    SlotPtr manager_slot_;
    SlotPtr pam_slot_;
    SlotPtr name_owner_match_;
    // Unique bus name -> its connection's kernel credentials. Unique names are never reused on
    // a bus and a connection's credentials never change; entries go when the name leaves the
    // bus. Names, groups and the login uid are not cached (see caller_of).
    std::unordered_map<std::string, PeerCreds> peer_by_sender_;
};

}  // namespace jitd
