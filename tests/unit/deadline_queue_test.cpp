// SPDX-License-Identifier: Apache-2.0
// DeadlineQueue: one deadline per key, earliest first, moved by scheduling again.
#include "jit/deadline_queue.hpp"

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <utility>

namespace jit {
namespace {

using Queue = DeadlineQueue<std::string>;

// A queue with `deadlines` (key and deadline) scheduled in this order.
Queue queue_of(std::initializer_list<std::pair<std::string, EpochSeconds>> deadlines) {
    Queue queue;
    for (const auto& [key, when] : deadlines) {
        queue.schedule(key, when);
    }
    return queue;
}

TEST(DeadlineQueue, StartsEmptyAndHasNothingDue) {
    Queue queue;
    EXPECT_TRUE(queue.empty());
    EXPECT_FALSE(queue.next());
    EXPECT_FALSE(queue.pop_due(1'000'000));
}

TEST(DeadlineQueue, NextIsTheEarliestDeadline) {
    const Queue queue = queue_of({{"late", 300}, {"early", 100}, {"middle", 200}});
    EXPECT_EQ(queue.size(), 3u);
    EXPECT_EQ(queue.next(), 100);
}

TEST(DeadlineQueue, PopsOnlyWhatIsDueInDeadlineOrder) {
    Queue queue = queue_of({{"b", 200}, {"a", 100}, {"c", 300}});
    EXPECT_FALSE(queue.pop_due(99));
    EXPECT_EQ(queue.pop_due(200), "a");
    EXPECT_EQ(queue.pop_due(200), "b");
    EXPECT_FALSE(queue.pop_due(200));  // c is not due yet
    EXPECT_EQ(queue.next(), 300);
    EXPECT_EQ(queue.pop_due(300), "c");
    EXPECT_TRUE(queue.empty());
}

TEST(DeadlineQueue, EqualDeadlinesComeOutInKeyOrder) {
    Queue queue = queue_of({{"y", 50}, {"x", 50}});
    EXPECT_EQ(queue.pop_due(50), "x");
    EXPECT_EQ(queue.pop_due(50), "y");
}

TEST(DeadlineQueue, SchedulingAKeyAgainMovesItsDeadline) {
    Queue queue = queue_of({{"grant", 100}, {"other", 150}, {"grant", 400}});
    EXPECT_EQ(queue.size(), 2u);
    EXPECT_EQ(queue.when("grant"), 400);
    EXPECT_EQ(queue.next(), 150);
    EXPECT_EQ(queue.pop_due(399), "other");
    EXPECT_FALSE(queue.pop_due(399));  // the old deadline of grant is gone

    queue.schedule("grant", 10);  // earlier works too
    EXPECT_EQ(queue.next(), 10);
}

TEST(DeadlineQueue, CancelRemovesOnlyThatKey) {
    Queue queue = queue_of({{"a", 100}, {"b", 200}});
    EXPECT_TRUE(queue.cancel("a"));
    EXPECT_FALSE(queue.cancel("a"));
    EXPECT_FALSE(queue.cancel("never scheduled"));
    EXPECT_FALSE(queue.when("a"));
    EXPECT_EQ(queue.next(), 200);
    EXPECT_FALSE(queue.pop_due(199));
    EXPECT_EQ(queue.pop_due(1000), "b");
}

TEST(DeadlineQueue, ClearForgetsEveryDeadline) {
    Queue queue = queue_of({{"a", 1}, {"b", 2}});
    queue.clear();
    EXPECT_TRUE(queue.empty());
    EXPECT_FALSE(queue.pop_due(10));
    queue.schedule("a", 5);  // usable again, no stale entry of a
    EXPECT_EQ(queue.size(), 1u);
    EXPECT_EQ(queue.pop_due(5), "a");
}

}  // namespace
}  // namespace jit
