// SPDX-License-Identifier: Apache-2.0
// Deadlines by key, earliest first: what the engine must do at a given second (end a grant,
// warn before its end, expire a pending request). Each key has at most one deadline, so
// scheduling a key again moves it; jitd arms one timer for next().
#pragma once

#include <map>
#include <optional>
#include <set>
#include <utility>

#include "jit/time.hpp"

namespace jit {

template <class Key>
class DeadlineQueue {
  public:
    // Sets the deadline of key to when, replacing the one it had.
    void schedule(const Key& key, EpochSeconds when) {
        cancel(key);
        ordered_.emplace(when, key);
        when_of_.emplace(key, when);
    }

    // Removes key's deadline; false when it had none.
    bool cancel(const Key& key) {
        auto found = when_of_.find(key);
        if (found == when_of_.end()) {
            return false;
        }
        ordered_.erase({found->second, key});
        when_of_.erase(found);
        return true;
    }

    // The earliest deadline, if any.
    std::optional<EpochSeconds> next() const {
        if (ordered_.empty()) {
            return std::nullopt;
        }
        return ordered_.begin()->first;
    }

    // Removes and returns the key with the earliest deadline at or before now (ties in key
    // order), or nothing when no deadline is due.
    std::optional<Key> pop_due(EpochSeconds now) {
        if (ordered_.empty() || ordered_.begin()->first > now) {
            return std::nullopt;
        }
        Key key = ordered_.begin()->second;
        cancel(key);
        return key;
    }

    // Calls visit(key) for every key due at or before now, earliest first, leaving them queued.
    template <class Visit>
    void for_each_due(EpochSeconds now, Visit visit) const {
        for (auto it = ordered_.begin(); it != ordered_.end() && it->first <= now; ++it) {
            visit(it->second);
        }
    }

    std::optional<EpochSeconds> when(const Key& key) const {
        auto found = when_of_.find(key);
        if (found == when_of_.end()) {
            return std::nullopt;
        }
        return found->second;
    }

    std::size_t size() const { return when_of_.size(); }
    bool empty() const { return when_of_.empty(); }
    void clear() {
        ordered_.clear();
        when_of_.clear();
    }

  private:
    std::set<std::pair<EpochSeconds, Key>> ordered_;
    std::map<Key, EpochSeconds> when_of_;
};

}  // namespace jit
