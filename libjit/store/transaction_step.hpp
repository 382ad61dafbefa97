// SPDX-License-Identifier: Apache-2.0
// What both stores' transactions share: one transaction at a time per Store, consistent reads
// of several statements, and the rule for steps: once committed, or once a step threw halfway
// through its writes (the transaction is poisoned), no further step runs, so a caller that
// caught the error cannot commit half a change.
#pragma once

#include <exception>
#include <memory>
#include <optional>
#include <string>

namespace jit {

enum class TransactionState { Open, Failed, Committed };

// Scopes one step (put, remove, append, commit) of a transaction in `state`.
class TransactionStep {
  public:
    // Calls `refuse(why)`, which throws, when no step may run now.
    template <class Refuse>
    TransactionStep(TransactionState& state, Refuse&& refuse)
        : state_(state), exceptions_(std::uncaught_exceptions()) {
        if (state_ == TransactionState::Committed) {
            refuse("transaction already committed");
        }
        if (state_ == TransactionState::Failed) {
            refuse("an earlier step of this transaction failed");
        }
    }
    // A step left by an exception poisons the transaction.
    ~TransactionStep() {
        if (std::uncaught_exceptions() > exceptions_) {
            state_ = TransactionState::Failed;
        }
    }
    TransactionStep(const TransactionStep&) = delete;
    TransactionStep& operator=(const TransactionStep&) = delete;

  private:
    TransactionState& state_;
    int exceptions_;
};

// A store's connection, shared by the Store and its open Transaction (which may outlive the
// Store), with the flag that keeps to one transaction at a time.
template <class Connection>
struct SharedConnection {
    explicit SharedConnection(const std::string& target) : connection(target) {}
    Connection connection;
    bool transaction_open = false;
};

// Store::begin(): refused while another transaction of the Store is open.
template <class StoreTransaction, class Connection>
std::unique_ptr<StoreTransaction> begin_one(
    const std::shared_ptr<SharedConnection<Connection>>& shared) {
    if (shared->transaction_open) {
        shared->connection.fail("begin transaction",
                                "another transaction is still open (one at a time)");
    }
    return std::make_unique<StoreTransaction>(shared);
}

// A consistent read of several statements: its own read transaction (begun with begin_sql),
// unless the connection is already inside the Store's open Transaction, whose changes the read
// then sees.
template <class Guard>
class ReadSnapshot {
  public:
    template <class Connection>
    ReadSnapshot(Connection& connection, const char* begin_sql) {
        if (!connection.in_transaction()) {
            transaction_.emplace(connection, begin_sql);
        }
    }
    void end() {
        if (transaction_) {
            transaction_->commit();
        }
    }

  private:
    std::optional<Guard> transaction_;
};

}  // namespace jit
