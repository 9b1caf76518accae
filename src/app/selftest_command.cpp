// selftest: probes every isolation layer of this host, says how to fix what is missing, then
// runs one program through the real sandbox.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <cstdio>

#include "app/commands.h"
#include "app/services.h"
#include "pool/engine.h"
#include "sandbox/selftest.h"

namespace sbx::app {
namespace asio = boost::asio;

namespace {

// One short program in a cold sandbox: proves the whole chain (spawner, zygote, run set-up).
bool trial_run(const config::Config& base, Services& services) {
    config::Config cfg = base;
    cfg.run_mode = config::RunMode::cold;
    asio::io_context io(1);
    pool::Engine engine(io.get_executor(), cfg, services.quotas, *services.launcher, *services.groups, isolation_layers(services),
                        services.networks());
    sandbox::RunRequest request{"selftest", "import os\nprint(os.getuid(), os.getcwd())",
                                std::chrono::seconds(30), {}, std::nullopt, {}, 0};
    auto fut = asio::co_spawn(io, engine.run(std::move(request)), asio::use_future);
    io.run();
    const auto reply = fut.get();
    const auto& o = reply.outcome;
    const bool ok = o.verdict == sandbox::Verdict::ok && o.stdout_text == "1000 /work\n";
    std::printf("%s  %-16s %s\n", ok ? "ok  " : "FAIL", "trial run",
                ok ? "print() ran as uid 1000 in /work"
                   : (std::string(sandbox::to_string(o.verdict)) + " " +
                      (o.failure ? o.failure->render() : o.stdout_text + o.stderr_text)).c_str());
    return ok;
}

}  // namespace

int selftest_command(const config::Config& cfg) {
    auto services = build_services(cfg);
    const sandbox::CgroupManager* cgroups = services ? &services.value().groups->manager() : nullptr;
    int failures = 0;
    for (const auto& check : sandbox::run_selftest(cgroups)) {
        std::printf("%s  %-16s %s\n", check.active ? "ok  " : "FAIL", check.name.c_str(), check.detail.c_str());
        if (!check.active) {
            ++failures;
            if (!check.fix.empty()) std::printf("      fix: %s\n", check.fix.c_str());
        }
    }
    if (!services) {
        std::printf("FAIL  %-16s %s\n", "sandbox start", services.error().render().c_str());
        return 1;
    }
    if (failures == 0 && !trial_run(cfg, *services)) ++failures;
    if (failures != 0) std::printf("skip  %-16s %s\n", "trial run", "not tried: a layer is missing");
    std::printf("%s\n", failures == 0 ? "all isolation layers active" : "some layers are missing");
    return failures == 0 ? 0 : 1;
}

}  // namespace sbx::app
