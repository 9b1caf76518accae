// EgressLinks: the pool's RunNetworkFactory over network::Egress (one slirp4netns per run).
#pragma once

#include <memory>

#include "network/egress.h"
#include "pool/run_network.h"

namespace sbx::app {

class EgressLinks final : public pool::RunNetworkFactory {
public:
    explicit EgressLinks(network::Egress& egress) : egress_(egress) {}
    sys::Result<std::unique_ptr<pool::RunNetwork>> attach(int run_netns,
                                                          std::span<const int> run_groups) override;
    [[nodiscard]] std::vector<pool::LayerStatus> layers() const override;

private:
    network::Egress& egress_;
};

}  // namespace sbx::app
