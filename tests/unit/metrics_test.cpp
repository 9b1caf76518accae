// Metrics text: every family present, and `promtool check metrics` (Debian's prometheus
// package) accepts it without a lint problem.
#include "metrics/metrics.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <thread>

namespace sbx::metrics {
namespace {

std::string render_sample() {
    Metrics m;
    m.run_finished("success", "python", 0.003, 0.0002);
    m.run_finished("memory_limit", "python", 1.5, 0.1);
    m.http_request("/execute", "POST", 200);
    m.http_request("/sessions/{id}/execute", "POST", 429);
    m.rate_limited("cpu_quota");
    m.zygote_restarted("lean");
    m.set_live_source([] {
        LiveState s;
        s.runs_running = 2;
        s.runs_queued = 1;
        s.history_written_total = 7;
        return s;
    });
    return m.render();
}

TEST(Metrics, EveryFamilyIsRendered) {
    auto text = render_sample();
    for (const char* needle :
         {"# TYPE pysandbox_runs_total counter",
          "pysandbox_runs_total{language=\"python\",status=\"memory_limit\"} 1",
          "# TYPE pysandbox_run_duration_seconds histogram",
          "pysandbox_run_duration_seconds_bucket{language=\"python\",le=\"0.005\"} 1",
          "pysandbox_queue_wait_seconds_count 2", "pysandbox_runs{state=\"running\"} 2",
          "pysandbox_runs{state=\"queued\"} 1", "pysandbox_runs{state=\"prepared\"} 0",
          "pysandbox_sessions_live 0",
          "pysandbox_http_requests_total{code=\"429\",method=\"POST\",route=\"/sessions/{id}/"
          "execute\"} 1",
          "pysandbox_rate_limited_total{limit=\"cpu_quota\"} 1",
          "pysandbox_zygote_restarts_total{kind=\"lean\"} 1",
          "pysandbox_history_records_total{outcome=\"written\"} 7",
          "pysandbox_history_records_total{outcome=\"dropped\"} 0",
          "# TYPE process_cpu_seconds_total counter", "process_resident_memory_bytes ",
          "process_open_fds ", "process_start_time_seconds "}) {
        EXPECT_NE(text.find(needle), std::string::npos) << needle << "\n" << text;
    }
}

TEST(Metrics, HistoryTotalsBecomeCountersThatNeverGoBack) {
    Metrics m;
    std::uint64_t written = 5;
    m.set_live_source([&] {
        LiveState s;
        s.history_written_total = written;
        return s;
    });
    EXPECT_NE(m.render().find("outcome=\"written\"} 5"), std::string::npos);
    written = 9;
    EXPECT_NE(m.render().find("outcome=\"written\"} 9"), std::string::npos);
    written = 2;  // a recorder that was replaced starts again: the counter does not go back
    EXPECT_NE(m.render().find("outcome=\"written\"} 9"), std::string::npos);
}

TEST(Metrics, UpdatesFromManyThreadsWhileRendering) {
    Metrics m;
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 5000; ++i) {
                m.run_finished("success", "python", 0.001, 0);
                m.http_request("/execute", "POST", 200);
            }
        });
    }
    for (int i = 0; i < 20; ++i) (void)m.render();
    for (auto& t : threads) t.join();
    auto text = m.render();
    EXPECT_NE(text.find("pysandbox_runs_total{language=\"python\",status=\"success\"} 20000"),
              std::string::npos);
}

TEST(Metrics, PromtoolAcceptsTheText) {
    char path[] = "/tmp/sbx-metrics-XXXXXX";
    int fd = ::mkstemp(path);
    ASSERT_GE(fd, 0);
    auto text = render_sample();
    ASSERT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
    ::close(fd);
    const std::string out = std::string(path) + ".out";
    const std::string cmd = "promtool check metrics < " + std::string(path) + " > " + out + " 2>&1";
    int status = std::system(cmd.c_str());
    std::ifstream in(out);
    std::string report((std::istreambuf_iterator<char>(in)), {});
    ::unlink(path);
    ::unlink(out.c_str());
    ASSERT_TRUE(WIFEXITED(status));
    ASSERT_NE(WEXITSTATUS(status), 127) << "promtool missing: scripts/setup.sh installs prometheus";
    EXPECT_EQ(WEXITSTATUS(status), 0) << report;
    EXPECT_EQ(report, "") << "lint problems:\n" << report;
}

}  // namespace
}  // namespace sbx::metrics
