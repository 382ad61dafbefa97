// SPDX-License-Identifier: Apache-2.0
// jitd [--config FILE] [--database FILE] (jitd(8)): the JIT access daemon on the system bus.
// Runs in the foreground under systemd. Exit status: 0 after SIGTERM/SIGINT, 1 when it cannot
// start (one clear line says why) or loses the bus.
// jitd --import FILE [--config FILE]: copies a single host's database into the fleet store of
// the configuration and exits (import_command.hpp).
#include <fcntl.h>
#include <signal.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/sinks/systemd_sink.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string_view>

#include "daemon.hpp"
#include "import_command.hpp"
#include "jit/config.hpp"
#include "jit/error.hpp"
#include "jit/store.hpp"
#include "jit/unique_fd.hpp"

namespace {

// systemd connects stderr to the journal and says so in JOURNAL_STREAM ("DEV:INODE"); then log
// natively (with priorities) instead of as plain stderr lines.
bool stderr_is_journal() {
    const char* stream = std::getenv("JOURNAL_STREAM");
    unsigned long long device = 0, inode = 0;
    struct stat st {};
    return stream && std::sscanf(stream, "%llu:%llu", &device, &inode) == 2 &&
           fstat(STDERR_FILENO, &st) == 0 && st.st_dev == device && st.st_ino == inode;
}

void set_up_logging() {
    std::shared_ptr<spdlog::logger> logger;
    if (stderr_is_journal()) {
        logger = std::make_shared<spdlog::logger>(
            "jitd", std::make_shared<spdlog::sinks::systemd_sink_st>("jitd"));
    } else {
        logger = std::make_shared<spdlog::logger>(
            "jitd", std::make_shared<spdlog::sinks::stderr_sink_st>());
        logger->set_pattern("%Y-%m-%d %H:%M:%S.%e jitd[%P] %l: %v");
    }
    logger->flush_on(spdlog::level::trace);
    spdlog::set_default_logger(logger);
    if (const char* level = std::getenv("JITD_LOG_LEVEL")) {
        // from_str() answers "off" for names it does not know: never silence jitd by a typo.
        auto parsed = spdlog::level::from_str(level);
        if (parsed == spdlog::level::off && std::string_view(level) != "off") {
            spdlog::warn(
                "ignoring JITD_LOG_LEVEL={}: not one of trace, debug, info, warning, "
                "error, critical, off",
                level);
        } else {
            logger->set_level(parsed);
        }
    }
}

// sd-event needs the signals it watches blocked; SIGPIPE would kill jitd when a
// notify_command exits before reading its stdin.
void set_up_signals() {
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGCHLD);
    sigprocmask(SIG_BLOCK, &mask, nullptr);
    signal(SIGPIPE, SIG_IGN);
}

// Owned by root and writable by nobody else, or throws naming `what`.
void require_root_only(const struct stat& st, const std::string& what) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    if (st.st_uid != 0) {
        jit::throw_invalid(what + " is owned by uid " + std::to_string(st.st_uid) +
                           ", not root; jitd.conf must be changeable by root only");
    }
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
        jit::throw_invalid(what + " is writable by group or others (mode " + mode +
                           "); jitd.conf must be changeable by root only");
    }
}

void require_safe_directory(const std::string& file) {
    std::string dir = file.substr(0, file.find_last_of('/'));
    if (dir.empty()) {
        dir = "/";
    }
    struct stat st {};
    if (stat(dir.c_str(), &st) != 0) {
        jit::throw_invalid("cannot check directory " + dir + ": " + std::strerror(errno));
    }
    require_root_only(st, "directory " + dir + " of the configuration");
}

// notify_command runs as root, so whoever may change jitd.conf may run commands as root: the
// file and its directory (the named path's and, through a symlink, the target's) must be
// root's alone.
void require_safe_config(const std::string& path) {
    jit::UniqueFd file(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
    if (!file) {
        return;  // missing (the default may be) or unreadable: load_config says which
    }
    struct stat st {};
    if (fstat(file.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
        jit::throw_invalid("configuration " + path + " is not a regular file");
    }
    require_root_only(st, "configuration " + path);
    char resolved[PATH_MAX];
    if (realpath(path.c_str(), resolved) == nullptr) {
        jit::throw_invalid("cannot resolve " + path + ": " + std::strerror(errno));
    }
    if (path.find('/') != std::string::npos) {
        require_safe_directory(path);
    } else {
        require_safe_directory("./" + path);
    }
    require_safe_directory(resolved);
}

std::unique_ptr<jit::Store> open_store(const jit::Config& config) {
    if (config.store_backend == jit::StoreBackend::Postgresql) {
        return jit::open_postgresql_store(config.store_url, config.host);
    }
    return jit::open_sqlite_store(config.database);
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"jitd: Just-in-Time privileged access daemon (io.jitd.Jit1 on the system bus)"};
    std::string config_path;
    std::string database;
    app.add_option("--config", config_path,
                   std::string("configuration file (default ") + jit::kDefaultConfigPath + ")");
    std::string import_file;
    auto* database_option =
        app.add_option("--database", database, "SQLite state database (overrides the config)");
    app.add_option("--import", import_file,
                   "copy the single-host SQLite database FILE into the fleet store ([store] "
                   "backend = postgresql) of the configuration, then exit")
        ->excludes(database_option);
    app.set_version_flag("--version", JITD_VERSION);
    try {
        app.parse(argc, argv);
    } catch (const CLI::Success& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::fprintf(stderr, "jitd: %s (see jitd --help)\n", e.what());
        return 1;
    }

    umask(0077);  // database, WAL and snapshot are root's alone
    set_up_logging();
    if (import_file.empty()) {
        set_up_signals();  // an import stays interruptible: it changes nothing until it commits
    }
    try {
        const bool default_path = config_path.empty();
        if (default_path) {
            config_path = jit::kDefaultConfigPath;
        }
        require_safe_config(config_path);
        jit::Config config = jit::load_config(config_path, default_path);
        if (!import_file.empty()) {
            return jitd::run_import(import_file, config, config_path);
        }
        if (!database.empty()) {
            config.database = database;
        }
        std::unique_ptr<jit::Store> store = open_store(config);
        jitd::Daemon daemon(std::move(config), *store);
        return daemon.run();
    } catch (const jit::JitError& e) {
        spdlog::critical("cannot start: {}", e.what());
        // EX_UNAVAILABLE: the fleet's store is down; systemd tries again later.
        return e.code() == jit::ErrorCode::Unavailable ? EX_UNAVAILABLE : 1;
    } catch (const std::exception& e) {
        spdlog::critical("cannot start: {}", e.what());
        return 1;
    }
}
