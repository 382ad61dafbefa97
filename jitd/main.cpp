// jitd [--config FILE] [--database FILE] (jitd(8)): the JIT access daemon on the system bus.
// Runs in the foreground under systemd. Exit status: 0 after SIGTERM/SIGINT, 1 when it cannot
// start (one clear line says why) or loses the bus.
#include <signal.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/sinks/systemd_sink.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string_view>

#include "daemon.hpp"
#include "jit/config.hpp"
#include "jit/store.hpp"

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

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"jitd: Just-in-Time privileged access daemon (io.jitd.Jit1 on the system bus)"};
    std::string config_path;
    std::string database;
    app.add_option("--config", config_path,
                   std::string("configuration file (default ") + jit::kDefaultConfigPath + ")");
    app.add_option("--database", database, "SQLite state database (overrides the config)");
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
    set_up_signals();
    try {
        jit::Config config = config_path.empty() ? jit::load_config(jit::kDefaultConfigPath, true)
                                                 : jit::load_config(config_path, false);
        if (!database.empty()) {
            config.database = database;
        }
        std::unique_ptr<jit::Store> store = jit::open_sqlite_store(config.database);
        jitd::Daemon daemon(std::move(config), *store);
        return daemon.run();
    } catch (const std::exception& e) {
        spdlog::critical("cannot start: {}", e.what());
        return 1;
    }
}
