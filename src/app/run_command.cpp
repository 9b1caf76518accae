// run: one program through the same engine as the service, from the shell.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "api/filename.h"
#include "app/commands.h"
#include "app/log_setup.h"
#include "app/services.h"
#include "config/load.h"
#include "config/parse.h"
#include "log/log.h"
#include "pool/engine.h"

namespace sbx::app {
namespace asio = boost::asio;

namespace {

std::optional<std::string> read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream buf;
    buf << in.rdbuf();
    return buf.str();
}

struct RunArgs {
    std::string program;
    std::optional<long> timeout;
    std::vector<sandbox::InputFile> files;
    std::vector<std::string> config_flags;
    std::string error;
};

RunArgs parse_run_args(const std::vector<std::string>& args) {
    RunArgs r;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        auto value = [&](std::string_view flag) -> std::optional<std::string> {
            if (a.starts_with(std::string(flag) + "=")) return a.substr(flag.size() + 1);
            if (a == flag && i + 1 < args.size()) return args[++i];
            return std::nullopt;
        };
        if (a.starts_with("--timeout")) {
            auto v = value("--timeout");
            auto n = v ? config::parse_int(*v) : std::nullopt;
            if (!n || *n < 1) return r.error = "--timeout needs whole seconds >= 1", r;
            r.timeout = static_cast<long>(*n);
        } else if (a.starts_with("--file")) {
            auto v = value("--file");
            auto eq = v ? v->find('=') : std::string::npos;
            if (eq == std::string::npos) return r.error = "--file needs NAME=PATH", r;
            // The same rules as the HTTP API's "files" names.
            if (auto why = api::filename_problem(v->substr(0, eq))) {
                return r.error = "--file " + v->substr(0, eq) + ": " + *why, r;
            }
            auto content = read_file(v->substr(eq + 1));
            if (!content) return r.error = "cannot read " + v->substr(eq + 1), r;
            r.files.push_back(sandbox::InputFile{v->substr(0, eq), std::move(*content)});
        } else if (a.starts_with("--")) {
            r.config_flags.push_back(a);
            if (a.find('=') == std::string::npos && i + 1 < args.size()) r.config_flags.push_back(args[++i]);
        } else if (r.program.empty()) {
            r.program = a;
        } else {
            return r.error = "unexpected argument '" + a + "'", r;
        }
    }
    if (r.program.empty()) r.error = "usage: pysandbox run FILE.py [--timeout S] [--file NAME=PATH ...]";
    return r;
}

}  // namespace

int run_command(const std::vector<std::string>& args) {
    auto ra = parse_run_args(args);
    if (!ra.error.empty()) return std::fprintf(stderr, "pysandbox: %s\n", ra.error.c_str()), 2;
    auto loaded = config::load(config::Sources{ra.config_flags, {}, std::filesystem::path(".env")});
    for (const auto& e : loaded.errors) std::fprintf(stderr, "pysandbox: invalid setting: %s\n", e.c_str());
    if (!loaded.errors.empty()) return 2;
    auto cfg = loaded.config;
    cfg.run_mode = config::RunMode::cold;  // one run: a warm zygote would only cost start-up time
    configure_log(cfg, /*quiet=*/true);
    auto code = read_file(ra.program);
    if (!code) return std::fprintf(stderr, "pysandbox: cannot read %s\n", ra.program.c_str()), 2;
    auto services = build_services(cfg);
    if (!services) return std::fprintf(stderr, "pysandbox: %s\n", services.error().render().c_str()), 1;
    if (auto missing = missing_layers(*services); !missing.empty() && !cfg.allow_degraded) {
        for (const auto& m : missing) std::fprintf(stderr, "pysandbox: isolation layer missing: %s\n", m.c_str());
        return 1;
    }
    asio::io_context io(1);
    pool::Engine engine(io.get_executor(), cfg, services->quotas, *services->launcher, *services->groups, services->layers,
                        services->networks());
    sandbox::RunRequest request{"cli", std::move(*code), std::chrono::seconds(ra.timeout.value_or(cfg.sandbox_timeout_s)),
                                std::move(ra.files), std::nullopt, {}, 0};
    auto fut = asio::co_spawn(io, engine.run(std::move(request)), asio::use_future);
    io.run();
    auto reply = fut.get();
    const auto& o = reply.outcome;
    std::fwrite(o.stdout_text.data(), 1, o.stdout_text.size(), stdout);
    std::fwrite(o.stderr_text.data(), 1, o.stderr_text.size(), stderr);
    if (o.verdict == sandbox::Verdict::policy_violation) std::fprintf(stderr, "%s\n", o.policy_message.c_str());
    if (o.verdict != sandbox::Verdict::ok && o.verdict != sandbox::Verdict::nonzero_exit &&
        o.verdict != sandbox::Verdict::policy_violation) {
        std::fprintf(stderr, "pysandbox: %s%s%s\n", std::string(sandbox::to_string(o.verdict)).c_str(),
                     o.failure ? ": " : "", o.failure ? o.failure->render().c_str() : "");
    }
    if (o.exit_code) return *o.exit_code;
    return o.signal ? 128 + *o.signal : 1;  // also a policy violation: the program never ran
}

}  // namespace sbx::app
