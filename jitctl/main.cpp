// SPDX-License-Identifier: Apache-2.0
// jitctl: the command line of jit (docs/jitctl.md). This file only wires CLI11 to the commands and
// turns every failure into one "jitctl: ..." line on stderr and a documented exit status.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "commands.hpp"
#include "exit_status.hpp"
#include "jit/error.hpp"

namespace {

using jitctl::kExitFailed;
using jitctl::kExitUsage;

void print_error(const std::string& message) {
    std::string line = message;
    std::replace(line.begin(), line.end(), '\n', ' ');
    std::cerr << "jitctl: " << line << '\n';
}

// "jitctl resource add": the command the user got as far as, for pointing at its --help.
std::string command_path(const CLI::App& app) {
    std::string path = app.get_name();
    const CLI::App* current = &app;
    for (;;) {
        const auto selected = current->get_subcommands();
        if (selected.empty()) {
            return path;
        }
        current = selected.front();
        path += " " + current->get_name();
    }
}

int usage_error(const CLI::App& app, const std::string& message) {
    print_error(message + " (see '" + command_path(app) + " --help')");
    return kExitUsage;
}

// A command group given without its subcommand, e.g. "jitctl policy".
std::string missing_subcommand(const CLI::App& app) {
    const CLI::App* group = &app;
    while (!group->get_subcommands().empty()) {
        group = group->get_subcommands().front();
    }
    std::string names;
    for (const CLI::App* sub : group->get_subcommands({})) {
        names += (names.empty() ? "" : ", ") + sub->get_name();
    }
    return (group == &app ? "missing command: " : "missing subcommand: ") + names;
}

// CLI11 shows a flag with an optional value as "--wait{}"; show it the way jitctl(1) writes it.
class HelpFormatter : public CLI::Formatter {
  public:
    std::string make_option_name(const CLI::Option* option, bool positional) const override {
        std::string name = CLI::Formatter::make_option_name(option, positional);
        if (const auto at = name.find("{}"); at != std::string::npos) {
            name.replace(at, 2, "[=DUR]");
        }
        return name;
    }
};

// CLI11 takes "--duration=" (an explicitly empty value) for a missing one, a usage error;
// passing it as "--duration" "" lets validation reject the empty value as invalid input.
// Returned in the reverse order CLI11's parse(std::vector&) expects.
std::vector<std::string> parse_arguments(int argc, char** argv) {
    std::vector<std::string> args;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--") {
            args.insert(args.end(), argv + i, argv + argc);
            break;
        }
        if (arg.starts_with("--") && arg.size() > 3 && arg.find('=') == arg.size() - 1) {
            args.emplace_back(arg.substr(0, arg.size() - 1));
            args.emplace_back();
            continue;
        }
        args.emplace_back(arg);
    }
    std::reverse(args.begin(), args.end());
    return args;
}

int run_command(const std::function<int()>& action) {
    try {
        const int status = action();
        std::cout.flush();
        if (!std::cout) {
            print_error("cannot write to standard output");
            return kExitFailed;
        }
        return status;
    } catch (const jitctl::CommandError& error) {
        print_error(error.what());
        return error.status();
    } catch (const jit::JitError& error) {
        print_error(error.what());
        return jitctl::exit_status_for(error.code());
    } catch (const std::exception& error) {
        print_error(error.what());
        return kExitFailed;
    }
}

// The CLI11 tree of docs/jitctl.md, the values it fills in, and the command it selects. Callbacks
// point into this object, so it stays where it was built.
class CommandLine {
  public:
    CommandLine();
    CommandLine(const CommandLine&) = delete;
    CommandLine& operator=(const CommandLine&) = delete;

    // Parses the arguments and runs the selected command; returns the exit status.
    int run(int argc, char** argv);

  private:
    // Selects command when sub appears on the command line.
    void on(CLI::App* sub, std::function<int()> command);
    // The same for a command with --wait[=DUR] (the limit goes to wait_limit): command learns
    // whether --wait was given. `outcome`: what exit status 0 then means.
    void on_waitable(CLI::App* sub, std::string& wait_limit, const char* outcome,
                     std::function<int(bool wait)> command);
    CLI::App* add_name(CLI::App* sub, const char* name, std::string& target, const char* what);
    void add_resource_commands();
    void add_policy_commands();
    void add_request_commands();
    void add_grant_commands();
    void add_audit_commands();
    void add_key_commands();
    void add_apply_commands();

    CLI::App app_{"Request and manage just-in-time privileged access on this host (talks to jitd).",
                  "jitctl"};
    jitctl::Globals globals_;
    std::function<int()> action_;

    jitctl::ResourceAddArgs resource_add_;
    jitctl::PolicyAddArgs policy_add_;
    jitctl::RequestArgs request_;
    jitctl::ExtendArgs extend_;
    jitctl::GrantFilter grant_filter_;
    jitctl::AuditArgs audit_;
    jitctl::ApplyArgs apply_;
    std::string name_;    // the resource or policy a command is about
    std::string target_;  // its second positional: a member, or the resource of policy assign
    std::string id_;      // request or grant id, checked by the command (65, not 64)
    std::string text_;    // --comment or --reason of approve, deny, revoke
    std::string state_;
    bool all_ = false;
};

CommandLine::CommandLine() {
    app_.set_version_flag("--version", JIT_VERSION);
    app_.formatter(std::make_shared<HelpFormatter>());
    // Subcommands pass options they do not know (--json) up to here, so --json works anywhere.
    app_.fallthrough();
    app_.add_flag("--json", globals_.json, "Print one JSON value on stdout (RFC 3339 UTC times)");
    on(app_.add_subcommand("status", "Show jitd's status and your roles"),
       [this] { return jitctl::cmd_status(globals_); });
    add_resource_commands();
    add_policy_commands();
    add_request_commands();
    add_grant_commands();
    add_audit_commands();
    add_key_commands();
    add_apply_commands();
}

void CommandLine::on(CLI::App* sub, std::function<int()> command) {
    sub->callback([this, command = std::move(command)] { action_ = command; });
}

void CommandLine::on_waitable(CLI::App* sub, std::string& wait_limit, const char* outcome,
                              std::function<int(bool wait)> command) {
    // A flag, not an option, so "--wait" never swallows the next word; "--wait=DUR" limits it.
    auto* wait = sub->add_flag(
        "--wait{}", wait_limit,
        std::string("Wait until decided, at most DUR with --wait=DUR; exit 0 only when ") +
            outcome);
    on(sub, [wait, command = std::move(command)] { return command(wait->count() > 0); });
}

CLI::App* CommandLine::add_name(CLI::App* sub, const char* name, std::string& target,
                                const char* what) {
    sub->add_option(name, target, what)->required();
    return sub;
}

void CommandLine::add_resource_commands() {
    using namespace jitctl;
    auto* resource = app_.add_subcommand("resource", "Manage resources (access targets)");

    auto* add = add_name(resource->add_subcommand("add", "Add a resource"), "NAME",
                         resource_add_.name, "Resource name");
    add->add_option("--description", resource_add_.description, "What it is");
    add->add_option("--service", resource_add_.services,
                    "PAM service it covers (sshd, sudo; * for every route)")
        ->type_name("S");
    add->add_option("--account", resource_add_.accounts,
                    "Target account it covers (no default: name them, or *)")
        ->type_name("A")
        ->required();
    add->add_option("--member", resource_add_.members, "Standing member")->type_name("U|@G");
    add->add_option("--host", resource_add_.hosts,
                    "Glob pattern of the hosts it applies on (default *: every host)")
        ->type_name("PATTERN");
    on(add, [this] { return cmd_resource_add(globals_, resource_add_); });

    on(resource->add_subcommand("list", "List resources and your access"),
       [this] { return cmd_list(globals_, Named::Resource); });
    on(add_name(resource->add_subcommand("show", "Show a resource"), "NAME", name_,
                "Resource name"),
       [this] { return cmd_show(globals_, Named::Resource, name_); });
    on(add_name(resource->add_subcommand("remove", "Remove a resource"), "NAME", name_,
                "Resource name"),
       [this] { return cmd_remove(globals_, Named::Resource, name_); });
    auto* add_member = add_name(resource->add_subcommand("add-member", "Add a standing member"),
                                "NAME", name_, "Resource name");
    add_name(add_member, "MEMBER", target_, "User or @group");
    on(add_member, [this] { return cmd_resource_add_member(globals_, name_, target_); });
    auto* remove_member =
        add_name(resource->add_subcommand("remove-member", "Remove a standing member"), "NAME",
                 name_, "Resource name");
    add_name(remove_member, "MEMBER", target_, "User or @group");
    on(remove_member, [this] { return cmd_resource_remove_member(globals_, name_, target_); });
}

void CommandLine::add_policy_commands() {
    using namespace jitctl;
    auto* policy = app_.add_subcommand("policy", "Manage access policies");

    auto* add = add_name(policy->add_subcommand("add", "Add a policy (inactive until activated)"),
                         "NAME", policy_add_.name, "Policy name");
    add->add_option("--description", policy_add_.description, "What it is for");
    add->add_option("--action", policy_add_.action, "require-approval (default) or auto-approve")
        ->type_name("ACTION");
    add->add_option("--approver", policy_add_.approvers, "Designated approver")->type_name("U|@G");
    add->add_option("--approvals", policy_add_.approvals, "Approvals required (1)")->type_name("N");
    add->add_option("--max-duration", policy_add_.max_duration, "Longest grant")->type_name("DUR");
    add->add_option("--preset", policy_add_.preset,
                    "routine-ops (4h), incident-response (8h), maintenance-window (12h), "
                    "audit-review (24h)")
        ->type_name("P");
    add->add_flag("--no-auto-expiry", policy_add_.no_auto_expiry, "Grants last until revoked");
    add->add_option("--reason-pattern", policy_add_.reason_pattern,
                    "POSIX extended regex every reason must contain a match of")
        ->type_name("REGEX");
    add->add_option("--reason-min-length", policy_add_.reason_min_length,
                    "Shortest reason, in characters (0)")
        ->type_name("N");
    add->add_option("--request-ttl", policy_add_.request_ttl, "How long a request may wait (1h)")
        ->type_name("DUR");
    on(add, [this] { return cmd_policy_add(globals_, policy_add_); });

    auto* assign = add_name(policy->add_subcommand("assign", "Assign a policy to a resource"),
                            "POLICY", name_, "Policy name");
    add_name(assign, "RESOURCE", target_, "Resource name");
    on(assign, [this] { return cmd_policy_assign(globals_, name_, target_); });
    on(add_name(policy->add_subcommand("activate", "Activate a policy"), "POLICY", name_,
                "Policy name"),
       [this] { return cmd_policy_set_active(globals_, name_, true); });
    on(add_name(policy->add_subcommand("deactivate", "Deactivate a policy"), "POLICY", name_,
                "Policy name"),
       [this] { return cmd_policy_set_active(globals_, name_, false); });
    on(policy->add_subcommand("list", "List policies"),
       [this] { return cmd_list(globals_, Named::Policy); });
    on(add_name(policy->add_subcommand("show", "Show a policy"), "NAME", name_, "Policy name"),
       [this] { return cmd_show(globals_, Named::Policy, name_); });
    on(add_name(policy->add_subcommand("remove", "Remove a policy"), "NAME", name_, "Policy name"),
       [this] { return cmd_remove(globals_, Named::Policy, name_); });
}

void CommandLine::add_request_commands() {
    using namespace jitctl;
    auto* request = add_name(app_.add_subcommand("request", "Request temporary access"), "RESOURCE",
                             request_.resource, "Resource name");
    request->add_option("--reason", request_.reason, "Why you need access")->required();
    request
        ->add_option("--start", request_.start,
                     "When the grant starts: RFC 3339 time or +DUR from now (default: when "
                     "approved)")
        ->type_name("TIME");
    request->add_option("--duration", request_.duration, "How long, e.g. 2h")
        ->required()
        ->type_name("DUR");
    on_waitable(request, request_.wait_limit, "granted", [this](bool wait) {
        request_.wait = wait;
        return cmd_request(globals_, request_);
    });

    auto* extend = add_name(app_.add_subcommand("extend", "Ask for more time on your active grant"),
                            "GRANT_ID", id_, "Grant id");
    extend->add_option("--reason", extend_.reason, "Why you need more time")->required();
    extend->add_option("--duration", extend_.duration, "How much more, e.g. 1h")
        ->required()
        ->type_name("DUR");
    on_waitable(extend, extend_.wait_limit, "extended", [this](bool wait) {
        extend_.grant_id = id_;
        extend_.wait = wait;
        return cmd_extend(globals_, extend_);
    });

    auto* requests = app_.add_subcommand("requests", "List your pending requests");
    requests->add_flag("--all", all_, "Include decided ones and, for admins, everyone's");
    requests->add_option("--state", state_, "pending, approved, denied, cancelled or expired")
        ->type_name("STATE");
    on(requests, [this] { return cmd_requests(globals_, all_, state_); });
    on(app_.add_subcommand("approvals", "List the requests you may decide"),
       [this] { return cmd_approvals(globals_); });

    auto* approve =
        add_name(app_.add_subcommand("approve", "Approve a request"), "ID", id_, "Request id");
    approve->add_option("--comment", text_, "Note for the audit trail");
    on(approve, [this] { return cmd_approve(globals_, id_, text_); });
    auto* deny = add_name(app_.add_subcommand("deny", "Deny a request"), "ID", id_, "Request id");
    deny->add_option("--comment", text_, "Note for the requester and the audit trail");
    on(deny, [this] { return cmd_deny(globals_, id_, text_); });
    on(add_name(app_.add_subcommand("cancel", "Cancel your pending request"), "ID", id_,
                "Request id"),
       [this] { return cmd_cancel(globals_, id_); });
}

void CommandLine::add_grant_commands() {
    using namespace jitctl;
    auto* grants = app_.add_subcommand("grants", "List your active grants");
    grants->add_flag("--all", grant_filter_.all, "Include ended ones and, for admins, everyone's");
    grants->add_option("--user", grant_filter_.user, "Only this user's")->type_name("U");
    grants->add_option("--resource", grant_filter_.resource, "Only on this resource")
        ->type_name("R");
    on(grants, [this] { return cmd_grants(globals_, grant_filter_); });

    auto* revoke =
        add_name(app_.add_subcommand("revoke", "End a grant now"), "GRANT_ID", id_, "Grant id");
    revoke->add_option("--reason", text_, "Why, for the audit trail");
    on(revoke, [this] { return cmd_revoke(globals_, id_, text_); });

    on(add_name(app_.add_subcommand("review", "Show what changed during an ended grant"),
                "GRANT_ID", id_, "Grant id"),
       [this] { return cmd_review(globals_, id_); });

    auto* sessions =
        app_.add_subcommand("sessions", "List your open sessions under grants on this host");
    sessions->add_flag("--all", all_, "Every host's, ended ones too and, for admins, everyone's");
    on(sessions, [this] { return cmd_sessions(globals_, all_); });
}

void CommandLine::add_key_commands() {
    using namespace jitctl;
    auto* key =
        app_.add_subcommand("key", "Register the ssh keys that log you into shared accounts");
    auto* add = key->add_subcommand("add", "Register a public key (FILE, or - / none for stdin)");
    add->add_option("FILE", name_, "The public key file (e.g. ~/.ssh/id_ed25519.pub)");
    add->add_option("--user", target_, "Whose key (admins only; default: yours)")->type_name("U");
    on(add, [this] { return cmd_key_add(globals_, name_, target_); });
    auto* list = key->add_subcommand("list", "List your registered keys (admins: everyone's)");
    list->add_option("--user", target_, "Only this user's")->type_name("U");
    on(list, [this] { return cmd_key_list(globals_, target_); });
    on(add_name(key->add_subcommand("remove", "Remove a registered key"), "FINGERPRINT", id_,
                "SHA256:... as jitctl key list and ssh-keygen -lf show it"),
       [this] { return cmd_key_remove(globals_, id_); });
}

void CommandLine::add_apply_commands() {
    using namespace jitctl;
    auto* apply = add_name(
        app_.add_subcommand("apply", "Make resources and policies match TOML files (admins)"),
        "FILE", apply_.target, "A policy file, or a directory of *.toml files (DIR)");
    apply->add_flag("--dry-run", apply_.dry_run, "Print the plan, change nothing");
    apply->add_flag("--prune", apply_.prune,
                    "Also remove the resources and policies the files do not declare");
    on(apply, [this] { return cmd_apply(globals_, apply_); });
    on(app_.add_subcommand("export", "Print resources and policies as a TOML policy file"),
       [this] { return cmd_export(globals_); });
}

void CommandLine::add_audit_commands() {
    using namespace jitctl;
    auto* audit = app_.add_subcommand("audit", "Search the audit log (admins, auditors)");
    const std::vector<CLI::Option*> filters = {
        audit->add_option("--since", audit_.since, "From T: RFC 3339, YYYY-MM-DD, @EPOCH, -DUR")
            ->type_name("T"),
        audit->add_option("--until", audit_.until, "Up to T")->type_name("T"),
        audit->add_option("--user", audit_.user, "Only events about this user")->type_name("U"),
        audit->add_option("--resource", audit_.resource, "Only events on this resource")
            ->type_name("R"),
        audit->add_option("--event", audit_.event, "Only this event type")->type_name("E"),
        audit->add_option("--output", audit_.output, "table (default), json or csv")
            ->check(CLI::IsMember({"table", "json", "csv"}))
            ->type_name("FORMAT"),
        audit->add_option("--limit", audit_.limit, "At most N events, oldest first (default 1000)")
            ->check(CLI::Range(std::int64_t{1}, std::int64_t{1000000000}))
            ->type_name("N"),
    };
    auto* verify = audit->add_subcommand("verify", "Check the audit log's hash chain");
    // CLI11 runs audit's callback after verify's, so audit decides between the two.
    audit->callback([this, verify, filters] {
        if (!verify->parsed()) {
            action_ = [this] { return cmd_audit(globals_, audit_); };
            return;
        }
        if (std::any_of(filters.begin(), filters.end(),
                        [](const CLI::Option* filter) { return filter->count() > 0; })) {
            throw CLI::ValidationError("audit verify checks the whole log and takes no filters");
        }
        action_ = [this] { return cmd_audit_verify(globals_); };
    });
}

int CommandLine::run(int argc, char** argv) {
    try {
        std::vector<std::string> args = parse_arguments(argc, argv);
        app_.parse(args);
    } catch (const CLI::CallForHelp& e) {
        return app_.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app_.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app_.exit(e);
    } catch (const CLI::ParseError& e) {
        return usage_error(app_, e.what());
    }
    if (!action_) {
        return usage_error(app_, missing_subcommand(app_));
    }
    return run_command(action_);
}

}  // namespace

int main(int argc, char** argv) {
    CommandLine command_line;
    return command_line.run(argc, argv);
}
