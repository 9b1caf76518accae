// EgressLinks: adapts network::SlirpLink to pool::RunNetwork.
#include "app/egress_links.h"

namespace sbx::app {
namespace {

class SlirpRunNetwork final : public pool::RunNetwork {
public:
    explicit SlirpRunNetwork(network::SlirpLink link) : link_(std::move(link)) {}
    [[nodiscard]] int ready_fd() const override { return link_.ready_fd(); }
    [[nodiscard]] std::string failure() override { return link_.failure(); }
    [[nodiscard]] bool alive() const override { return link_.alive(); }
    [[nodiscard]] pid_t pid() const override { return link_.pid(); }
    [[nodiscard]] int pidfd() const override { return link_.pidfd(); }

private:
    network::SlirpLink link_;
};

}  // namespace

sys::Result<std::unique_ptr<pool::RunNetwork>> EgressLinks::attach(
    int run_netns, std::span<const int> run_groups) {
    SBX_TRY(auto link, egress_.link(run_netns, run_groups));
    return std::unique_ptr<pool::RunNetwork>(std::make_unique<SlirpRunNetwork>(std::move(link)));
}

std::vector<pool::LayerStatus> EgressLinks::layers() const {
    return {pool::LayerStatus{"egress", true, egress_.describe()}};
}

}  // namespace sbx::app
