// SPDX-License-Identifier: Apache-2.0
// Session cgroups: the mountinfo and /proc/PID/cgroup parsers, the names jit gives its groups
// and which recorded groups it may kill; and, as root on a host with a writable cgroup2 mount,
// a real group that ends a process which left the session's process tree.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <thread>

#include "cgroup_paths.hpp"
#include "jitd_test_support.hpp"
#include "process_tree.hpp"
#include "session_cgroups.hpp"

namespace jitd {
namespace {

// This machine's layout: v1 controllers under a tmpfs, cgroup2 at .../unified.
constexpr const char* kHybrid =
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

TEST(MountInfo, FindsTheHybridUnifiedMount) {
    EXPECT_EQ(find_cgroup2_mount(kHybrid), "/sys/fs/cgroup/unified");
}

TEST(MountInfo, FindsAUnifiedHostsMountWithOptionalFields) {
    EXPECT_EQ(find_cgroup2_mount("22 1 0:21 / /proc rw shared:12 - proc proc rw\n"
                                 "30 24 0:26 / /sys/fs/cgroup rw,nosuid shared:9 master:2 - "
                                 "cgroup2 cgroup2 rw,nsdelegate\n"),
              "/sys/fs/cgroup");
}

TEST(MountInfo, IgnoresV1OnlyHostsAndBindMountsOfASubtree) {
    EXPECT_EQ(find_cgroup2_mount("32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n"),
              std::nullopt);
    // A container's view of one group is not the whole hierarchy.
    EXPECT_EQ(find_cgroup2_mount("41 31 0:38 /docker/ab /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"),
              std::nullopt);
    EXPECT_EQ(find_cgroup2_mount(""), std::nullopt);
}

TEST(MountInfo, UndoesOctalEscapesInPaths) {
    auto entry = parse_mountinfo_line("50 1 0:40 / /run/my\\040cg rw - cgroup2 none rw");
    ASSERT_TRUE(entry);
    EXPECT_EQ(entry->mount_point, "/run/my cg");
    EXPECT_EQ(entry->root, "/");
    EXPECT_EQ(entry->fs_type, "cgroup2");
    EXPECT_EQ(parse_mountinfo_line("50 1 0:40 / /x\\\\ rw - tmpfs t rw")->mount_point, "/x\\\\");
}

TEST(MountInfo, RejectsMalformedLines) {
    EXPECT_FALSE(parse_mountinfo_line(""));
    EXPECT_FALSE(parse_mountinfo_line("41 31 0:38 / /sys/fs/cgroup/unified rw"));
    EXPECT_FALSE(parse_mountinfo_line("41 31 0:38 / /sys/fs/cgroup/unified rw -"));
    EXPECT_FALSE(parse_mountinfo_line("41 31 0:38 / /a rw shared:1 master:2 no-separator x y"));
}

TEST(ProcCgroup, ReadsTheUnifiedPathFirst) {
    const char* text = "9:name=systemd:/\n4:memory:/process_api/555b\n0::/jit/session-12-34\n";
    EXPECT_EQ(unified_cgroup_path(text), "/jit/session-12-34");
    auto paths = parse_proc_cgroup(text);
    ASSERT_EQ(paths.size(), 3u);
    EXPECT_EQ(paths[0], "/jit/session-12-34");
    EXPECT_EQ(paths[1], "/");
    EXPECT_EQ(unified_cgroup_path("9:name=systemd:/user.slice\n"), std::nullopt);
    EXPECT_TRUE(parse_proc_cgroup("garbage\n0::\n:\n").empty());
}

TEST(SessionGroupNames, AreMadeOfPidAndStartTime) {
    EXPECT_EQ(direct_group_path(4242, 987654), "/jit/session-4242-987654");
    EXPECT_EQ(scope_unit_name(4242, 987654), "jit-session-4242-987654.scope");
    EXPECT_EQ(path_basename("/system.slice/jit-session-1-2.scope"), "jit-session-1-2.scope");
    EXPECT_EQ(path_basename("/"), "");
}

TEST(SessionGroupKind, KnowsOnlyTheGroupsJitMadeForThatSession) {
    EXPECT_EQ(session_group_kind("/jit/session-4242-99", 4242, 99), SessionGroupKind::Direct);
    EXPECT_EQ(session_group_kind("/system.slice/jit-session-4242-99.scope", 4242, 99),
              SessionGroupKind::Scope);
    EXPECT_EQ(session_group_kind("/jit-session-4242-99.scope", 4242, 99), SessionGroupKind::Scope);
    // Another session's group, the login around the session, anything else: never ours.
    for (const char* other :
         {"/jit/session-4242-98", "/jit/session-4243-99",
          "/user.slice/user-1000.slice/session-3.scope", "/", "", "/jit/../jit/session-4242-99",
          "jit/session-4242-99", "/jit/session-4242-99/"}) {
        EXPECT_EQ(session_group_kind(other, 4242, 99), SessionGroupKind::NotOurs) << other;
    }
    // Unknown start time or no real pid: nothing can be ours.
    EXPECT_EQ(session_group_kind("/jit/session-4242-0", 4242, 0), SessionGroupKind::NotOurs);
    EXPECT_EQ(session_group_kind("/jit/session-1-99", 1, 99), SessionGroupKind::NotOurs);
}

// --- a real group (root, a writable cgroup2 mount, no systemd) ---

// A child that waits for a byte on `go`, then starts a grandchild in a new session (setsid)
// that ignores SIGTERM and reports its pid on `report`; the child then exits.
pid_t spawn_escaper(int go, int report) {
    pid_t child = fork();
    if (child != 0) {
        return child;
    }
    char byte = 0;
    if (read(go, &byte, 1) != 1) {
        _exit(1);
    }
    if (pid_t grandchild = fork(); grandchild == 0) {
        setsid();
        signal(SIGTERM, SIG_IGN);
        pid_t self = getpid();
        (void)!write(report, &self, sizeof self);
        for (;;) {
            pause();
        }
    }
    _exit(0);
}

TEST(SessionCgroupsLive, EndsAProcessThatLeftTheSessionsTree) {
    auto mount = find_cgroup2_mount(read_file("/proc/self/mountinfo"));
    if (geteuid() != 0 || !mount || access((*mount + "/cgroup.procs").c_str(), W_OK) != 0 ||
        access("/run/systemd/system", F_OK) == 0) {
        GTEST_SKIP() << "needs root, a writable cgroup2 mount and no systemd";
    }
    int go[2];
    int report[2];
    ASSERT_EQ(pipe(go), 0);
    ASSERT_EQ(pipe(report), 0);
    pid_t child = spawn_escaper(go[0], report[1]);
    ASSERT_GT(child, 0);
    auto stat = read_proc_stat(child);
    ASSERT_TRUE(stat);

    EventPtr event = new_event_loop();
    SessionCgroups cgroups(event.get(), nullptr, 1, "/nonexistent/cgroup2");
    jit::Session session;
    session.id = 5;
    session.user = "alice";
    session.pid = child;
    session.pid_start = static_cast<std::int64_t>(stat->start_time);
    session.cgroup = cgroups.place(session);
    ASSERT_EQ(session.cgroup, direct_group_path(child, stat->start_time));
    EXPECT_EQ(unified_cgroup_path(read_file("/proc/" + std::to_string(child) + "/cgroup")),
              session.cgroup);

    ASSERT_EQ(write(go[1], "x", 1), 1);  // the child forks the escaper now, inside the group
    pid_t escaper = 0;
    ASSERT_EQ(read(report[0], &escaper, sizeof escaper), static_cast<ssize_t>(sizeof escaper));
    ASSERT_EQ(waitpid(child, nullptr, 0), child);  // the session's own process is gone
    auto escaper_stat = read_proc_stat(escaper);
    ASSERT_TRUE(escaper_stat);
    ProcessId escaped{escaper, escaper_stat->start_time};
    EXPECT_TRUE(process_and_descendants(child).empty());  // no tree walk would find it

    cgroups.remove_empty_groups();  // the group still holds the escaper: it stays
    const std::string dir = *mount + session.cgroup;
    EXPECT_EQ(access(dir.c_str(), F_OK), 0);

    session.state = jit::SessionState::Closed;  // logged out; the grant ends now
    ASSERT_TRUE(cgroups.end(session));
    EXPECT_TRUE(process_alive(escaped));  // it ignores SIGTERM: SIGKILL after kill_grace
    EXPECT_TRUE(wait_for([&] {
        sd_event_run(event.get(), 50 * 1000);
        return !process_alive(escaped);
    }));
    EXPECT_TRUE(wait_for([&] {
        cgroups.remove_empty_groups();
        return access(dir.c_str(), F_OK) != 0;
    }));
    for (int fd : {go[0], go[1], report[0], report[1]}) {
        close(fd);
    }
}

TEST(SessionCgroupsLive, NeverKillsAGroupItDidNotMakeForTheSession) {
    EventPtr event = new_event_loop();
    SessionCgroups cgroups(event.get(), nullptr, 1, "/nonexistent/cgroup2");
    jit::Session session;
    session.pid = getpid();
    session.pid_start = 1;
    session.cgroup = "/";  // everything
    EXPECT_FALSE(cgroups.end(session));
    session.cgroup = "/jit/session-1-1";
    EXPECT_FALSE(cgroups.end(session));
    EXPECT_EQ(kill(getpid(), 0), 0);
}

}  // namespace
}  // namespace jitd
