// Egress: the set-up of NETWORK_MODE=egress from the configuration.
#include "network/egress.h"

#include <unistd.h>

#include <cctype>
#include <fstream>
#include <sstream>

#include "log/log.h"

namespace sbx::network {
namespace {

std::string table_name(std::string_view prefix) {
    std::string name = "pysandbox_egress_";
    for (char c : prefix) name += std::isalnum(static_cast<unsigned char>(c)) != 0 ? c : '_';
    return name;
}

std::string read_file(const char* path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// The per-run limits as /health and the log show them; warns when concurrent runs could fill
// half of the host's conntrack table (then the host drops new connections, its own included).
std::string limits_of(const EgressRules& r, unsigned concurrent_runs) {
    const std::uint64_t per_run = conntrack_entries_per_run(r);
    std::uint64_t table = 0;
    std::istringstream(read_file("/proc/sys/net/netfilter/nf_conntrack_max")) >> table;
    if (table > 0 && per_run * concurrent_runs > table / 2) {
        log::warn("egress: runs could fill half of the host's conntrack table",
                  {{"conntrack_per_run", per_run}, {"runs", concurrent_runs},
                   {"nf_conntrack_max", table}});
    }
    return "per run: " + std::to_string(r.max_connections) + " open connections, " +
           std::to_string(r.new_connections_rate) + " new/s (burst " +
           std::to_string(r.new_connections_burst) + "), at most " + std::to_string(per_run) +
           " conntrack entries";
}

}  // namespace

sys::Result<EgressRules> rules_from_config(const config::Config& cfg, std::string_view host_resolv_conf) {
    EgressRules r;
    r.table = table_name(cfg.cgroup_prefix);
    r.gid_first = cfg.sandbox_uid_base + kGidOffset;
    r.gid_last = r.gid_first + kGidCount - 1;
    for (const auto& text : cfg.network_allow) {
        SBX_TRY(auto entries, resolve_allow_entry(text));
        r.allow.insert(r.allow.end(), entries.begin(), entries.end());
    }
    r.dns = cfg.network_dns.empty() ? resolv_conf_nameservers(host_resolv_conf) : cfg.network_dns;
    for (const auto& ns : r.dns) {
        if (!parse_allow_entry(ns)) {
            return sys::SysError{sys::Step::firewall, EINVAL, "NETWORK_DNS entry '" + ns + "' is not an IP address"};
        }
    }
    r.bandwidth_bytes = cfg.network_bandwidth_bytes;
    r.max_connections = cfg.network_max_connections;
    r.new_connections_rate = cfg.network_new_connections_rate;
    r.new_connections_burst = cfg.network_new_connections_burst;
    return r;
}

std::string run_resolv_conf(const config::Config& cfg) {
    if (cfg.network_mode != config::NetworkMode::egress) return "# no network for runs (NETWORK_MODE=none)\n";
    if (cfg.network_dns.empty()) return "nameserver 10.0.2.3\n";
    std::string out;
    for (const auto& ns : cfg.network_dns) out += "nameserver " + ns + "\n";
    return out;
}

sys::Result<void> remove_leftover_table(const config::Config& cfg) {
    const std::string table = "inet " + table_name(cfg.cgroup_prefix);
    return run_nft("add table " + table + "\ndelete table " + table + "\n");
}

sys::Result<std::unique_ptr<Egress>> Egress::start(const config::Config& cfg) {
    SlirpOptions slirp;
    if (::access(slirp.program.c_str(), X_OK) != 0) {
        return sys::errno_error(sys::Step::network_start,
                                slirp.program.string() + " (install Debian's slirp4netns package)");
    }
    SBX_TRY(auto rules, rules_from_config(cfg, read_file("/etc/resolv.conf")));
    SBX_TRY(auto fw, Firewall::install(rules));
    auto gids = std::make_shared<GidPool>(rules.gid_first, kGidCount);
    auto limits = limits_of(rules, cfg.effective_max_concurrent_runs());
    return std::unique_ptr<Egress>(
        new Egress(std::move(fw), std::move(gids), std::move(slirp), std::move(limits)));
}

sys::Result<SlirpLink> Egress::link(int run_netns, std::span<const int> run_groups) {
    auto gid = gids_->acquire();
    if (!gid) return sys::SysError{sys::Step::network_start, EAGAIN, "every egress gid is in use"};
    return SlirpLink::start(slirp_, run_netns, std::move(*gid), reaper_, run_groups);
}

std::string Egress::describe() const {
    return "egress through slirp4netns per run; firewall table inet " + firewall_.table() + "; " +
           limits_;
}

}  // namespace sbx::network
