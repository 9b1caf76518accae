// Firewall: the egress table, applied and removed through libnftables (no nft process).
#include "network/firewall.h"

#include <nftables/libnftables.h>

#include <memory>

#include "log/log.h"

namespace sbx::network {

sys::Result<void> run_nft(const std::string& script) {
    std::unique_ptr<nft_ctx, decltype(&::nft_ctx_free)> ctx(::nft_ctx_new(NFT_CTX_DEFAULT),
                                                            ::nft_ctx_free);
    if (!ctx) return sys::SysError{sys::Step::firewall, ENOMEM, "nft_ctx_new"};
    ::nft_ctx_buffer_output(ctx.get());
    ::nft_ctx_buffer_error(ctx.get());
    if (::nft_run_cmd_from_buffer(ctx.get(), script.c_str()) != 0) {
        std::string err = ::nft_ctx_get_error_buffer(ctx.get());
        while (!err.empty() && err.back() == '\n') err.pop_back();
        return sys::SysError{sys::Step::firewall, EINVAL, err.empty() ? "nft failed" : err};
    }
    return {};
}

sys::Result<Firewall> Firewall::install(const EgressRules& rules) {
    SBX_TRY_VOID(run_nft(render_ruleset(rules)));
    Firewall fw;
    fw.table_ = rules.table;
    return fw;
}

Firewall::~Firewall() {
    if (table_.empty()) return;
    if (auto done = run_nft("delete table inet " + table_ + "\n"); !done) {
        log::warn("egress firewall table not removed", {{"table", table_}, {"error", done.error().render()}});
    }
}

}  // namespace sbx::network
