// SPDX-License-Identifier: Apache-2.0
#include "pg_test_server.hpp"

#include <libpq-fe.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <vector>

#include "jit/c_handle.hpp"

namespace jit::testing_pg {
namespace {

std::string script() {
    return std::string(JIT_SOURCE_DIR) + "/tests/integration/lib/postgres.sh";
}

// Runs the helper without a shell: the arguments reach it as they are.
void run_script(std::vector<std::string> arguments) {
    const std::string action = arguments.front();
    arguments.insert(arguments.begin(), {"bash", script()});
    std::vector<char*> argv;
    for (std::string& argument : arguments) {
        argv.push_back(argument.data());
    }
    argv.push_back(nullptr);
    pid_t pid = 0;
    if (posix_spawnp(&pid, "bash", nullptr, nullptr, argv.data(), environ) != 0) {
        throw std::runtime_error("cannot run " + script());
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        throw std::runtime_error(script() + " " + action + " failed");
    }
}

using ResultPtr = CHandle<PGresult, PQclear>;

ResultPtr run(const std::string& conninfo, const std::string& sql) {
    CHandle<PGconn, PQfinish> connection(PQconnectdb(conninfo.c_str()));
    if (PQstatus(connection.get()) != CONNECTION_OK) {
        throw std::runtime_error("connect " + conninfo + ": " + PQerrorMessage(connection.get()));
    }
    ResultPtr result(PQexec(connection.get(), sql.c_str()));
    const ExecStatusType status = PQresultStatus(result.get());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        throw std::runtime_error(sql + ": " + PQresultErrorMessage(result.get()));
    }
    return result;
}

std::string temporary_directory() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base && *base ? base : "/tmp") + "/jit-pg-XXXXXX";
    if (!mkdtemp(pattern.data())) {
        throw std::runtime_error("mkdtemp " + pattern + " failed");
    }
    return pattern;
}

}  // namespace

bool available() {
    return geteuid() == 0;
}

TestServer::TestServer() : dir_(temporary_directory()), owned_(true) {
    start();
}

TestServer::TestServer(std::string dir) : dir_(std::move(dir)) {}

TestServer::~TestServer() {
    if (!owned_) {
        return;
    }
    try {
        if (running_) {
            stop("immediate");
        }
    } catch (const std::exception&) {
        // The directory goes anyway.
    }
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
}

std::string TestServer::conninfo(const std::string& database) const {
    return "host=" + dir_ + "/socket dbname=" + database + " user=postgres";
}

std::string TestServer::new_database() {
    static int counter = 0;
    const std::string name = "t" + std::to_string(getpid()) + "_" + std::to_string(++counter);
    exec(conninfo("postgres"), "CREATE DATABASE " + name);
    return conninfo(name);
}

void TestServer::stop(const std::string& mode) {
    run_script({"stop", dir_, mode});
    running_ = false;
}

void TestServer::start() {
    run_script({"start", dir_});
    running_ = true;
}

TestServer& shared_server() {
    static std::unique_ptr<TestServer> server = [] {
        const char* dir = std::getenv("JIT_TEST_PG_DIR");
        if (dir != nullptr && *dir != '\0' &&
            std::filesystem::exists(std::string(dir) + "/data/postmaster.pid")) {
            return std::make_unique<TestServer>(std::string(dir));
        }
        return std::make_unique<TestServer>();
    }();
    return *server;
}

void exec(const std::string& conninfo, const std::string& sql) {
    run(conninfo, sql);
}

std::string query_text(const std::string& conninfo, const std::string& sql) {
    ResultPtr result = run(conninfo, sql);
    if (PQntuples(result.get()) == 0 || PQgetisnull(result.get(), 0, 0)) {
        return "";
    }
    return PQgetvalue(result.get(), 0, 0);
}

}  // namespace jit::testing_pg
