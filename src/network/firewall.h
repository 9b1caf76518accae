// Firewall: owns the egress nftables table on the host for the server's lifetime.
#pragma once

#include <string>

#include "network/egress_rules.h"
#include "sys/error.h"

namespace sbx::network {

class Firewall {
public:
    Firewall() = default;
    Firewall(Firewall&& o) noexcept : table_(std::move(o.table_)) { o.table_.clear(); }
    Firewall& operator=(Firewall&&) = delete;
    Firewall(const Firewall&) = delete;
    Firewall& operator=(const Firewall&) = delete;
    ~Firewall();  // deletes the table

    // Replaces any table of the same name (one a killed server left) with `rules`, atomically.
    // Errors: Step::firewall with nft's own message (e.g. no nf_tables in the kernel).
    [[nodiscard]] static sys::Result<Firewall> install(const EgressRules& rules);

    [[nodiscard]] const std::string& table() const noexcept { return table_; }

private:
    std::string table_;
};

// Runs an nft script through libnftables. Errors: Step::firewall with nft's error output.
[[nodiscard]] sys::Result<void> run_nft(const std::string& script);

}  // namespace sbx::network
