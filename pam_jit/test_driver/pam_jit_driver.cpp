// SPDX-License-Identifier: Apache-2.0
// Test tool for pam_jit (not installed).
//
//   pam_jit_driver run --confdir DIR --service S --user U [--ruser R] [--rhost H] [--tty T]
//                      [--env NAME=VALUE]... STEP...
//     Runs a PAM transaction from the private config directory DIR (pam_start_confdir), so the
//     machine's /etc/pam.d is never used. STEP is account, open, close, user=NAME (sets
//     PAM_USER, as sudo does before its session stack) or wait (holds the session until stdin
//     reaches end of file). Prints every conversation message as
//     "MSG error|info TEXT" and every step as "STEP PAM_CODE MILLISECONDS". pam_syslog lines go
//     to stderr as well (openlog LOG_PERROR).
//
//   pam_jit_driver snapshot FILE [--resource NAME:SERVICES:ACCOUNTS:MEMBERS]...
//                                [--grant ID:USER:RESOURCE:EXPIRY]...
//     Writes a snapshot with jit::serialize_snapshot (mode 0600). Lists are comma-separated;
//     EXPIRY is epoch seconds, +N/-N seconds from now, or "none".

#include <fcntl.h>
#include <security/pam_appl.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "jit/access.hpp"

namespace {

int usage() {
    std::fputs(
        "usage: pam_jit_driver run --confdir DIR --service S --user U [--ruser R] [--rhost H]\n"
        "                          [--tty T] [--env NAME=VALUE]... STEP...\n"
        "       pam_jit_driver snapshot FILE [--resource NAME:SERVICES:ACCOUNTS:MEMBERS]...\n"
        "                                    [--grant ID:USER:RESOURCE:EXPIRY]...\n",
        stderr);
    return 2;
}

std::vector<std::string> split(std::string_view text, char separator) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    for (;;) {
        const std::size_t end = text.find(separator, start);
        parts.emplace_back(text.substr(start, end - start));
        if (end == std::string_view::npos) {
            return parts;
        }
        start = end + 1;
    }
}

std::vector<std::string> list(std::string_view text) {
    return text.empty() ? std::vector<std::string>{} : split(text, ',');
}

const char* code_name(int code) {
    switch (code) {
        case PAM_SUCCESS:
            return "PAM_SUCCESS";
        case PAM_IGNORE:
            return "PAM_IGNORE";
        case PAM_PERM_DENIED:
            return "PAM_PERM_DENIED";
        case PAM_AUTHINFO_UNAVAIL:
            return "PAM_AUTHINFO_UNAVAIL";
        case PAM_SYSTEM_ERR:
            return "PAM_SYSTEM_ERR";
        case PAM_USER_UNKNOWN:
            return "PAM_USER_UNKNOWN";
        case PAM_SESSION_ERR:
            return "PAM_SESSION_ERR";
        case PAM_ACCT_EXPIRED:
            return "PAM_ACCT_EXPIRED";
        case PAM_AUTH_ERR:
            return "PAM_AUTH_ERR";
        case PAM_MODULE_UNKNOWN:
            return "PAM_MODULE_UNKNOWN";
        default:
            return "PAM_OTHER";
    }
}

// Prints messages; answers no prompts (pam_jit never asks anything).
int conversation(int count, const pam_message** messages, pam_response** responses, void*) {
    auto* answers = static_cast<pam_response*>(std::calloc(count, sizeof(pam_response)));
    if (answers == nullptr) {
        return PAM_BUF_ERR;
    }
    for (int i = 0; i < count; ++i) {
        const int style = messages[i]->msg_style;
        if (style != PAM_ERROR_MSG && style != PAM_TEXT_INFO) {
            std::free(answers);
            return PAM_CONV_ERR;
        }
        std::printf("MSG %s %s\n", style == PAM_ERROR_MSG ? "error" : "info", messages[i]->msg);
    }
    *responses = answers;
    return PAM_SUCCESS;
}

std::uint64_t monotonic_msec() {
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    return static_cast<std::uint64_t>(now.tv_sec) * 1000 +
           static_cast<std::uint64_t>(now.tv_nsec) / 1'000'000;
}

int wait_for_eof() {
    char buffer[256];
    ssize_t n;
    while ((n = read(STDIN_FILENO, buffer, sizeof buffer)) > 0 || (n < 0 && errno == EINTR)) {
    }
    return n == 0 ? PAM_SUCCESS : PAM_SYSTEM_ERR;
}

int run(int argc, char** argv) {
    std::string confdir, service, user, ruser, rhost, tty;
    std::vector<std::string> env, steps;
    const std::pair<std::string_view, std::string*> options[] = {
        {"--confdir", &confdir}, {"--service", &service}, {"--user", &user},
        {"--ruser", &ruser},     {"--rhost", &rhost},     {"--tty", &tty}};
    for (int i = 0; i < argc; ++i) {
        const std::string_view arg = argv[i];
        const bool has_value = i + 1 < argc;
        const auto option = std::find_if(std::begin(options), std::end(options),
                                         [&](const auto& known) { return known.first == arg; });
        if (option != std::end(options) && has_value) {
            *option->second = argv[++i];
        } else if (arg == "--env" && has_value) {
            env.emplace_back(argv[++i]);
        } else if (arg.starts_with("--")) {
            return usage();
        } else {
            steps.emplace_back(arg);
        }
    }
    if (confdir.empty() || service.empty() || steps.empty()) {
        return usage();
    }

    openlog("pam_jit_driver", LOG_PERROR, LOG_AUTHPRIV);
    const pam_conv conv{conversation, nullptr};
    pam_handle_t* pamh = nullptr;
    int r = pam_start_confdir(service.c_str(), user.empty() ? nullptr : user.c_str(), &conv,
                              confdir.c_str(), &pamh);
    if (r != PAM_SUCCESS) {
        std::fprintf(stderr, "pam_start_confdir: %s\n", code_name(r));
        return 1;
    }
    if (!ruser.empty()) {
        pam_set_item(pamh, PAM_RUSER, ruser.c_str());
    }
    if (!rhost.empty()) {
        pam_set_item(pamh, PAM_RHOST, rhost.c_str());
    }
    if (!tty.empty()) {
        pam_set_item(pamh, PAM_TTY, tty.c_str());
    }
    for (const std::string& variable : env) {
        pam_putenv(pamh, variable.c_str());
    }
    for (const std::string& step : steps) {
        const std::uint64_t started = monotonic_msec();
        if (step == "account") {
            r = pam_acct_mgmt(pamh, 0);
        } else if (step == "open") {
            r = pam_open_session(pamh, 0);
        } else if (step == "close") {
            r = pam_close_session(pamh, 0);
        } else if (step == "wait") {
            r = wait_for_eof();
        } else if (step.starts_with("user=")) {
            r = pam_set_item(pamh, PAM_USER, step.c_str() + 5);
        } else {
            pam_end(pamh, PAM_SUCCESS);
            return usage();
        }
        std::printf("%s %s %llu\n", step.c_str(), code_name(r),
                    static_cast<unsigned long long>(monotonic_msec() - started));
        std::fflush(stdout);
    }
    pam_end(pamh, r);
    return 0;
}

std::optional<jit::EpochSeconds> parse_expiry(const std::string& text) {
    if (text == "none") {
        return std::nullopt;
    }
    const jit::EpochSeconds value = std::stoll(text);
    return text[0] == '+' || text[0] == '-' ? std::time(nullptr) + value : value;
}

int snapshot(int argc, char** argv) {
    if (argc < 1) {
        return usage();
    }
    const std::string path = argv[0];
    jit::AccessIndex index;
    for (int i = 1; i < argc; i += 2) {
        if (i + 1 >= argc) {
            return usage();
        }
        const std::string_view arg = argv[i];
        const std::vector<std::string> fields = split(argv[i + 1], ':');
        if (arg == "--resource" && fields.size() == 4) {
            index.put_rule(
                jit::AccessRule{fields[0], list(fields[1]), list(fields[2]), list(fields[3])});
        } else if (arg == "--grant" && fields.size() == 4) {
            index.put_grant(jit::ActiveGrant{std::stoll(fields[0]), fields[1], fields[2],
                                             parse_expiry(fields[3])});
        } else {
            return usage();
        }
    }
    const std::string text = jit::serialize_snapshot(index, std::time(nullptr));
    const std::string temporary = path + ".tmp";
    const int fd = open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size()) ||
        fchmod(fd, 0600) < 0 || close(fd) < 0 || rename(temporary.c_str(), path.c_str()) < 0) {
        std::perror(path.c_str());
        return 1;
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        return usage();
    }
    const std::string_view command = argv[1];
    try {
        if (command == "run") {
            return run(argc - 2, argv + 2);
        }
        if (command == "snapshot") {
            return snapshot(argc - 2, argv + 2);
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "pam_jit_driver: %s\n", e.what());
        return 1;
    }
    return usage();
}
