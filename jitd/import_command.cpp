// SPDX-License-Identifier: Apache-2.0
#include "import_command.hpp"

#include <sysexits.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>

#include "jit/error.hpp"
#include "jit/identity.hpp"
#include "jit/service.hpp"
#include "jit/store.hpp"
#include "jit/store_import.hpp"
#include "peer_identity.hpp"

namespace jitd {

int run_import(const std::string& file, const jit::Config& config, const std::string& config_path) {
    try {
        if (config.store_backend != jit::StoreBackend::Postgresql) {
            jit::throw_invalid("--import copies into a fleet store, but the [store] of " +
                               config_path + " is not backend = postgresql; nothing imported");
        }
        jit::NssIdentityResolver identity;
        jit::ImportOptions options;
        std::error_code no_cwd;
        const std::filesystem::path absolute = std::filesystem::absolute(file, no_cwd);
        options.file = no_cwd ? file : absolute.lexically_normal().string();
        options.host = config.host;
        options.caller =
            jit::caller_from_uid(getuid(), identity, read_login_uid(getpid(), geteuid()));
        options.now = jit::SystemClock().now();
        std::unique_ptr<jit::Store> target =
            jit::open_postgresql_store(config.store_url, config.host);
        const jit::ImportSummary summary = jit::import_sqlite_file(file, *target, options);
        const std::string events =
            summary.events == 0
                ? std::string("no audit events")
                : "its audit events as seqs " + std::to_string(summary.first_seq) + "-" +
                      std::to_string(summary.last_seq) + " of the fleet chain";
        std::printf("jitd: imported %s (audit chain %s): %s; %s, then `imported` at seq %lld\n",
                    file.c_str(), summary.source_chain.c_str(), jit::import_counts(summary).c_str(),
                    events.c_str(), static_cast<long long>(summary.imported.seq));
        return 0;
    } catch (const jit::JitError& e) {
        std::fprintf(stderr, "jitd: cannot import %s: %s\n", file.c_str(), e.what());
        return e.code() == jit::ErrorCode::Unavailable ? EX_UNAVAILABLE : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "jitd: cannot import %s: %s\n", file.c_str(), e.what());
        return 1;
    }
}

}  // namespace jitd
