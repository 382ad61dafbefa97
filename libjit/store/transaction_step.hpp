// SPDX-License-Identifier: Apache-2.0
// What both stores' transactions share about their steps: once committed, or once a step threw
// halfway through its writes (the transaction is poisoned), no further step runs, so a caller
// that caught the error cannot commit half a change.
#pragma once

#include <exception>

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

}  // namespace jit
