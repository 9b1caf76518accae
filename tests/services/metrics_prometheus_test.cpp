// GET /metrics's text scraped by a real Prometheus server started here (Debian's `prometheus`,
// config and storage in a temp dir), then queried over its HTTP API on loopback.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <boost/json.hpp>
#include <fstream>
#include <thread>

#include "metrics/metrics.h"
#include "store_fixture.h"

namespace sbx::testing {
namespace {

using namespace std::chrono_literals;

int listen_loopback(std::uint16_t& port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), len) != 0 || ::listen(fd, 16) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
        throw std::runtime_error("listen on loopback failed");
    }
    port = ntohs(a.sin_port);
    return fd;
}

// Serves `body()` to every GET until stopped (one request per connection).
class TextServer {
   public:
    explicit TextServer(std::function<std::string()> body) : body_(std::move(body)) {
        fd_ = listen_loopback(port_);
        thread_ = std::thread([this] { loop(); });
    }
    ~TextServer() {
        stop_ = true;
        thread_.join();
        ::close(fd_);
    }
    [[nodiscard]] std::uint16_t port() const { return port_; }
    std::atomic<int> scrapes{0};

   private:
    void loop() {
        while (!stop_) {
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, 100) <= 0) continue;
            int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (c < 0) continue;
            std::string req;
            char buf[4096];
            while (req.find("\r\n\r\n") == std::string::npos) {
                ssize_t n = ::read(c, buf, sizeof buf);
                if (n <= 0) break;
                req.append(buf, static_cast<std::size_t>(n));
            }
            std::string text = body_();
            std::string resp =
                "HTTP/1.1 200 OK\r\nContent-Type: " + std::string(metrics::Metrics::kContentType) +
                "\r\nConnection: close\r\nContent-Length: " + std::to_string(text.size()) +
                "\r\n\r\n" + text;
            (void)!::write(c, resp.data(), resp.size());
            ::close(c);
            ++scrapes;
        }
    }
    std::function<std::string()> body_;
    int fd_ = -1;
    std::uint16_t port_ = 0;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

std::string http_get(std::uint16_t port, const std::string& target) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        return {};
    }
    std::string req = "GET " + target + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    (void)!::write(fd, req.data(), req.size());
    std::string resp;
    char buf[8192];
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;)
        resp.append(buf, static_cast<std::size_t>(n));
    ::close(fd);
    auto body = resp.find("\r\n\r\n");
    return body == std::string::npos ? std::string() : resp.substr(body + 4);
}

// The series of an instant query; empty when none (yet).
boost::json::array query(std::uint16_t port, const std::string& promql) {
    std::string q;
    for (unsigned char c : promql) {
        char buf[4];
        std::snprintf(buf, sizeof buf, "%%%02X", c);
        q += std::isalnum(c) != 0 || c == '_' ? std::string(1, static_cast<char>(c)) : buf;
    }
    auto text = http_get(port, "/api/v1/query?query=" + q);
    boost::system::error_code ec;
    auto v = boost::json::parse(text, ec);
    if (ec || !v.is_object()) return {};
    const auto* data = v.as_object().if_contains("data");
    if (data == nullptr) return {};
    return data->as_object().at("result").as_array();
}

class PrometheusProcess {
   public:
    explicit PrometheusProcess(std::uint16_t target_port) {
        std::uint16_t port = 0;
        ::close(listen_loopback(port));  // a free port for its web API
        port_ = port;
        const auto config = dir_.path() / "prometheus.yml";
        std::ofstream(config) << "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                                 "scrape_configs:\n  - job_name: pysandbox\n    static_configs:\n"
                                 "      - targets: ['127.0.0.1:"
                              << target_port << "']\n";
        const std::string cfg = "--config.file=" + config.string();
        const std::string tsdb = "--storage.tsdb.path=" + (dir_.path() / "data").string();
        const std::string web = "--web.listen-address=127.0.0.1:" + std::to_string(port_);
        const std::string log = (dir_.path() / "prometheus.log").string();
        pid_ = ::fork();
        if (pid_ == 0) {
            int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
            ::dup2(out, 1);
            ::dup2(out, 2);
            ::execl("/usr/bin/prometheus", "prometheus", cfg.c_str(), tsdb.c_str(), web.c_str(),
                    "--log.level=warn", static_cast<char*>(nullptr));
            ::_exit(127);
        }
        if (pid_ < 0) throw std::runtime_error("fork failed");
    }
    ~PrometheusProcess() {
        ::kill(pid_, SIGTERM);
        int status = 0;
        ::waitpid(pid_, &status, 0);
    }
    [[nodiscard]] std::uint16_t port() const { return port_; }
    [[nodiscard]] std::string log() const {
        std::ifstream in(dir_.path() / "prometheus.log");
        return std::string(std::istreambuf_iterator<char>(in), {});
    }

   private:
    TempDir dir_;
    pid_t pid_ = -1;
    std::uint16_t port_ = 0;
};

TEST(MetricsScrape, ARealPrometheusScrapesEveryFamily) {
    metrics::Metrics m;
    m.run_finished("success", "python", 0.004, 0.0001);
    m.run_finished("timeout", "python", 30, 2);
    m.http_request("/execute", "POST", 200);
    m.http_request("/runs/{id}", "GET", 404);
    m.rate_limited("rate");
    m.zygote_restarted("full");
    m.set_live_source([] {
        metrics::LiveState s;
        s.runs_running = 3;
        s.runs_prepared = 2;
        s.sessions_live = 1;
        s.history_written_total = 10;
        s.history_dropped_total = 4;
        return s;
    });
    TextServer target([&] { return m.render(); });
    PrometheusProcess prom(target.port());

    const auto deadline = std::chrono::steady_clock::now() + 60s;
    boost::json::array up;
    while ((up = query(prom.port(), "up{job=\"pysandbox\"} == 1")).empty()) {
        ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "no successful scrape\n"
                                                              << prom.log();
        std::this_thread::sleep_for(200ms);
    }
    EXPECT_GT(target.scrapes.load(), 0);
    auto value_of = [&](const std::string& q) -> std::string {
        auto r = query(prom.port(), q);
        if (r.size() != 1) return "series: " + std::to_string(r.size());
        return std::string(r[0].as_object().at("value").as_array()[1].as_string());
    };
    EXPECT_EQ(value_of("pysandbox_runs_total{status=\"timeout\",language=\"python\"}"), "1");
    EXPECT_EQ(value_of("pysandbox_run_duration_seconds_count{language=\"python\"}"), "2");
    EXPECT_EQ(value_of("pysandbox_run_duration_seconds_bucket{le=\"0.005\"}"), "1");
    EXPECT_EQ(value_of("pysandbox_queue_wait_seconds_count"), "2");
    EXPECT_EQ(value_of("pysandbox_runs{state=\"running\"}"), "3");
    EXPECT_EQ(value_of("pysandbox_runs{state=\"prepared\"}"), "2");
    EXPECT_EQ(value_of("pysandbox_sessions_live"), "1");
    EXPECT_EQ(value_of("pysandbox_http_requests_total{route=\"/runs/{id}\",code=\"404\"}"), "1");
    EXPECT_EQ(value_of("pysandbox_rate_limited_total{limit=\"rate\"}"), "1");
    EXPECT_EQ(value_of("pysandbox_zygote_restarts_total{kind=\"full\"}"), "1");
    EXPECT_EQ(value_of("pysandbox_history_records_total{outcome=\"dropped\"}"), "4");
    EXPECT_EQ(value_of("count(process_resident_memory_bytes > 1000000)"), "1");
    EXPECT_EQ(value_of("count(process_cpu_seconds_total >= 0)"), "1");
}

}  // namespace
}  // namespace sbx::testing
