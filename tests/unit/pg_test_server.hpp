// SPDX-License-Identifier: Apache-2.0
// Real PostgreSQL 15 servers for tests, run by tests/integration/lib/postgres.sh: data, unix
// socket and log in one directory, no TCP. ctest starts one shared server for the whole run
// (fixture pg_server, directory in JIT_TEST_PG_DIR); a test binary run by hand starts its own
// on first use. Tests that stop a server start a private one.
#pragma once

#include <string>

namespace jit::testing_pg {

// PostgreSQL tests need root (the server runs as the postgres user).
bool available();

class TestServer {
  public:
    TestServer();                          // a private server in a new temporary directory
    explicit TestServer(std::string dir);  // a server someone else runs in dir
    ~TestServer();
    TestServer(const TestServer&) = delete;
    TestServer& operator=(const TestServer&) = delete;

    std::string conninfo(const std::string& database) const;
    // conninfo of a new, empty database.
    std::string new_database();
    void stop(const std::string& mode = "fast");  // fast, or immediate (a crash)
    void start();

  private:
    std::string dir_;
    bool owned_ = false;
    bool running_ = false;
};

// The shared server of this test run.
TestServer& shared_server();

// Runs constant SQL on a connection of its own (tampering, inspection).
void exec(const std::string& conninfo, const std::string& sql);
// The first column of the first row, "" when there is none or it is NULL.
std::string query_text(const std::string& conninfo, const std::string& sql);

}  // namespace jit::testing_pg
