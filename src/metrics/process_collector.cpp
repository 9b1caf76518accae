// ProcessCollector: /proc/self/stat (CPU ticks, start time), statm (resident pages), fd/.
#include "metrics/process_collector.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace sbx::metrics {
namespace {

prometheus::MetricFamily one(const char* name, const char* help, prometheus::MetricType type,
                             double value) {
    prometheus::MetricFamily f;
    f.name = name;
    f.help = help;
    f.type = type;
    prometheus::ClientMetric m;
    if (type == prometheus::MetricType::Counter) {
        m.counter.value = value;
    } else {
        m.gauge.value = value;
    }
    f.metric.push_back(m);
    return f;
}

struct StatFields {
    double cpu_ticks = 0;
    double start_ticks = 0;
};

StatFields read_stat() {
    std::ifstream in("/proc/self/stat");
    std::string line;
    std::getline(in, line);
    // The command name (field 2) may hold spaces: fields are counted after its closing ')'.
    auto close = line.rfind(')');
    if (close == std::string::npos) return {};
    std::istringstream rest(line.substr(close + 2));
    std::string field;
    StatFields out;
    for (int i = 3; rest >> field; ++i) {
        if (i == 14 || i == 15) out.cpu_ticks += std::stod(field);  // utime, stime
        if (i == 22) {
            out.start_ticks = std::stod(field);  // starttime, since boot
            break;
        }
    }
    return out;
}

double boot_time_s() {
    std::ifstream in("/proc/stat");
    std::string key;
    double value = 0;
    while (in >> key) {
        if (key == "btime") {
            in >> value;
            return value;
        }
        in.ignore(1 << 16, '\n');
    }
    return 0;
}

}  // namespace

std::vector<prometheus::MetricFamily> ProcessCollector::Collect() const {
    const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
    const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
    auto stat = read_stat();
    double resident_pages = 0, size_pages = 0;
    {
        std::ifstream statm("/proc/self/statm");
        statm >> size_pages >> resident_pages;
    }
    std::error_code ec;
    double fds = 0;
    for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
        ++fds;
    }
    using prometheus::MetricType;
    return {
        one("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
            MetricType::Counter, stat.cpu_ticks / ticks),
        one("process_resident_memory_bytes", "Resident memory size in bytes.", MetricType::Gauge,
            resident_pages * page),
        one("process_virtual_memory_bytes", "Virtual memory size in bytes.", MetricType::Gauge,
            size_pages * page),
        one("process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
            MetricType::Gauge, boot_time_s() + stat.start_ticks / ticks),
        one("process_open_fds", "Number of open file descriptors.", MetricType::Gauge, fds),
    };
}

}  // namespace sbx::metrics
