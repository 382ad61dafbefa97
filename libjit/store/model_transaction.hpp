// SPDX-License-Identifier: Apache-2.0
// The part of a store's Transaction that writes the model's tables, shared by both stores:
// each write is one step (transaction_step.hpp) through the store's table adaptor Db
// (model_tables.hpp), which also hears of each object changed (changed(kind, key): the PostgreSQL
// store's change feed, nothing for SQLite). A store adds the audit log (append) and commit().
#pragma once

#include <string>
#include <string_view>

#include "jit/store.hpp"
#include "model_tables.hpp"
#include "transaction_step.hpp"

namespace jit {

template <class Db>
class ModelTransaction : public Transaction {
  public:
    void put(const Resource& resource) override {
        write("put resource", resource);
        db_.changed("resource", resource.name);
    }
    void remove_resource(const std::string& name) override {
        remove("remove resource", db_.sql().remove_resource, name);
        db_.changed("resource", name);
    }
    void put(const Policy& policy) override {
        write("put policy", policy);
        db_.changed("policy", policy.name);
    }
    void remove_policy(const std::string& name) override {
        remove("remove policy", db_.sql().remove_policy, name);
        db_.changed("policy", name);
    }
    Id put(const Request& request) override {
        return changed("request", write("put request", request));
    }
    Id put(const Grant& grant) override { return changed("grant", write("put grant", grant)); }
    Id put(const Session& session) override {
        return changed("session", write("put session", session));
    }
    // A key keeps its owner: an existing fingerprint is refused, not overwritten (the engine
    // refuses a key someone already holds before it gets here).
    void put(const SshKey& key) override {
        write("put key", key);
        db_.changed("key", key.fingerprint);
    }
    void remove_key(const std::string& fingerprint) override {
        remove("remove key", db_.sql().remove_key, fingerprint);
        db_.changed("key", fingerprint);
    }
    void put(const StoredReview& review) override {
        write("put grant review", review);
        db_.changed("review", std::to_string(review.grant_id));
    }

  protected:
    explicit ModelTransaction(Db db) : db_(db) {}

    // Runs one step: refused once the transaction is committed or poisoned; a step left by an
    // exception poisons it.
    template <class Body>
    auto step(std::string_view what, Body body) {
        TransactionStep scope(state_, [&](const char* why) { db_.fail(what, why); });
        return body();
    }

    Db db_;
    TransactionState state_ = TransactionState::Open;

  private:
    // Tells the store's adaptor which object the step changed (a fleet's change feed).
    Id changed(const char* kind, Id id) {
        db_.changed(kind, std::to_string(id));
        return id;
    }
    template <class Model>
    auto write(std::string_view what, const Model& model) {
        return step(what, [&] { return model_tables::put(db_, model); });
    }
    void remove(std::string_view what, const std::string& sql, const std::string& key) {
        step(what, [&] { db_.run(what, sql, {key}); });
    }
};

}  // namespace jit
