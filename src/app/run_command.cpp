// run: one program through the same validation and engine as the service, from the shell.
#include <fcntl.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/json.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "api/base64.h"
#include "api/execute_request.h"
#include "api/filename.h"
#include "app/commands.h"
#include "app/log_setup.h"
#include "app/startup.h"
#include "config/load.h"
#include "config/parse.h"
#include "log/log.h"
#include "pool/engine.h"
#include "pool/workdir_io.h"

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
    std::optional<std::string> out_dir;  // --out DIR: where the run's output files go
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
        } else if (a == "--out" || a.starts_with("--out=")) {
            auto v = value("--out");
            if (!v || v->empty()) return r.error = "--out needs a directory", r;
            r.out_dir = *v;
        } else if (a.starts_with("--file")) {
            auto v = value("--file");
            auto eq = v ? v->find('=') : std::string::npos;
            if (eq == std::string::npos) return r.error = "--file needs NAME=PATH", r;
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
    if (r.program.empty()) {
        r.error = "usage: pysandbox run FILE.py [--timeout S] [--file NAME=PATH ...] [--out DIR]";
    }
    return r;
}

// The request as POST /execute would build it from the same program, files and timeout: the
// API's model validation and service checks (names, sizes, what fits the work dir, conflicts).
api::ApiResult<sandbox::RunRequest> build_request(RunArgs& ra, std::string code,
                                                  const config::Config& cfg) {
    boost::json::object body{{"code", std::move(code)}};
    if (ra.timeout) body["timeout"] = *ra.timeout;
    boost::json::object files;
    for (const auto& f : ra.files) files[f.name] = api::base64_encode(f.content);
    if (!ra.files.empty()) body["files"] = std::move(files);
    ra.files.clear();
    auto request = api::validate_execute_request(body, cfg);
    if (!request) return request.error();
    return api::to_run_request(std::move(*request), cfg, "cli");
}

void print_refusal(const api::ApiError& e) {
    if (e.errors.empty()) {
        std::fprintf(stderr, "pysandbox: %s\n", e.detail.c_str());
        return;
    }
    for (const auto& f : e.errors) {
        std::fprintf(stderr, "pysandbox: %s: %s\n", boost::json::serialize(f.loc).c_str(),
                     f.msg.c_str());
    }
}

// Writes the run's output files beneath `dir` (created if missing). Names are checked like
// input names; nothing is written through a symlink or outside `dir`.
bool write_outputs(const std::string& dir, const std::vector<sandbox::OutputFile>& files) {
    if (files.empty()) return true;
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    sys::UniqueFd dirfd{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
    if (!dirfd) return std::fprintf(stderr, "pysandbox: cannot open --out %s\n", dir.c_str()), false;
    std::vector<sandbox::InputFile> out;
    for (const auto& f : files) {
        if (auto why = api::filename_problem(f.name)) {
            std::fprintf(stderr, "pysandbox: output file %s not written: %s\n", f.name.c_str(),
                         why->c_str());
            return false;
        }
        out.push_back(sandbox::InputFile{f.name, f.content});
    }
    auto written = pool::write_inputs(dirfd.get(), out, pool::Owner{::getuid(), ::getgid()});
    if (!written) {
        std::fprintf(stderr, "pysandbox: writing to --out %s: %s\n", dir.c_str(),
                     written.error().render().c_str());
    }
    return static_cast<bool>(written);
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
    auto request = build_request(ra, std::move(*code), cfg);
    if (!request) return print_refusal(request.error()), 2;
    asio::io_context io(1);
    auto runtime = start_runtime(cfg, io.get_executor());
    if (!runtime) {
        for (const auto& m : runtime.error().missing) {
            std::fprintf(stderr, "pysandbox: isolation layer missing: %s\n", m.c_str());
        }
        return std::fprintf(stderr, "pysandbox: %s\n", runtime.error().message.c_str()), 1;
    }
    auto fut = asio::co_spawn(io, runtime->engine->run(std::move(*request)), asio::use_future);
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
    if (ra.out_dir && !write_outputs(*ra.out_dir, o.files)) return 1;
    if (o.exit_code) return *o.exit_code;
    return o.signal ? 128 + *o.signal : 1;  // also a policy violation: the program never ran
}

}  // namespace sbx::app
