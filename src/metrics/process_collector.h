// The standard process_* metrics of this process (CPU, resident memory, start time, open fds),
// read from /proc at each scrape.
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <vector>

namespace sbx::metrics {

class ProcessCollector final : public prometheus::Collectable {
   public:
    [[nodiscard]] std::vector<prometheus::MetricFamily> Collect() const override;
};

}  // namespace sbx::metrics
