// Egress: NETWORK_MODE=egress on this host — the firewall table, the run gids, the stacks.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "config/config.h"
#include "network/egress_rules.h"
#include "network/firewall.h"
#include "network/gid_pool.h"
#include "network/slirp_link.h"

namespace sbx::network {

// Group ids of the runs' network stacks: SANDBOX_UID_BASE + 4096 onwards, one per live link.
inline constexpr std::uint32_t kGidOffset = 4096;
inline constexpr std::uint32_t kGidCount = 1024;

// The table, gid range, allow-list and limits for `cfg`; resolvers from NETWORK_DNS or else
// from `host_resolv_conf` (the host's /etc/resolv.conf). Errors: a bad NETWORK_ALLOW entry.
[[nodiscard]] sys::Result<EgressRules> rules_from_config(const config::Config& cfg,
                                                         std::string_view host_resolv_conf);

// /etc/resolv.conf inside runs: NETWORK_DNS, or slirp4netns's forwarder (10.0.2.3) that asks
// the host's resolvers; without egress, no resolver at all.
[[nodiscard]] std::string run_resolv_conf(const config::Config& cfg);

// NETWORK_MODE=none: removes an egress table a killed egress server of the same
// CGROUP_PREFIX left behind (nothing to do when there is none).
[[nodiscard]] sys::Result<void> remove_leftover_table(const config::Config& cfg);

class Egress {
public:
    // Installs the firewall table (replacing one a killed server of the same CGROUP_PREFIX
    // left) and checks slirp4netns is there. Errors: Step::firewall / network_start.
    [[nodiscard]] static sys::Result<std::unique_ptr<Egress>> start(const config::Config& cfg);

    // Starts the stack of one run, in the run's cgroups (see SlirpLink::start). Errors:
    // Step::network_start when every gid is in use; the steps of SlirpLink::start.
    [[nodiscard]] sys::Result<SlirpLink> link(int run_netns, std::span<const int> run_groups);

    [[nodiscard]] std::string describe() const;

private:
    Egress(Firewall fw, std::shared_ptr<GidPool> gids, SlirpOptions slirp, std::string limits)
        : firewall_(std::move(fw)),
          gids_(std::move(gids)),
          slirp_(std::move(slirp)),
          reaper_(std::make_shared<LinkReaper>()),
          limits_(std::move(limits)) {}

    Firewall firewall_;  // destroyed last: after every stack is gone
    std::shared_ptr<GidPool> gids_;
    SlirpOptions slirp_;
    std::shared_ptr<LinkReaper> reaper_;
    std::string limits_;  // the per-run limits, for describe()
};

}  // namespace sbx::network
