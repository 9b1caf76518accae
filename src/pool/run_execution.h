// RunExecution: one program in a prepared run — start (inputs, stdin, go), await its end
// (end record, exit report, deadline, flood, CPU limit, cancel), outcome (output, files,
// verdict). The seams a long-lived run reuses once per program: output sink, stdin,
// interrupt, kill.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <optional>
#include <string_view>
#include <vector>

#include "pool/end_pipe.h"
#include "pool/output_capture.h"
#include "pool/output_sink.h"
#include "pool/run_prepare.h"
#include "pool/run_verdict.h"
#include "pool/workdir_io.h"
#include "sandbox/run_types.h"

namespace sbx::pool {

struct ExecutionLimits {
    std::chrono::steady_clock::duration timeout = std::chrono::seconds(30);  // wall clock
    std::uint64_t max_output_bytes = 1U << 20;  // kept per stream for the outcome
    std::uint64_t flood_after = 5U << 20;       // per stream: past it the run is killed
    // CPU seconds of the run's group (user + system); checked every cpu_check_interval while
    // the program runs; past it the run is killed (verdict timeout). Needs a group.
    std::optional<double> cpu_seconds;
    std::chrono::milliseconds cpu_check_interval{100};
};

// What outcome() needs beyond the facts: collection limits and the figures warnings quote.
struct OutcomeLimits {
    CollectLimits collect;
    VerdictLimits verdict;
};

class RunExecution {
   public:
    // `run` must outlive the execution; the execution borrows its fds. `sink` (may be null)
    // gets the output as it is read; the outcome still keeps up to max_output_bytes per stream.
    RunExecution(const boost::asio::any_io_executor& ex, PreparedRun& run,
                 const DriverSettings& settings, const ExecutionLimits& limits,
                 OutputSink* sink = nullptr);
    ~RunExecution();  // kills the run's processes, unless its end is known
    RunExecution(const RunExecution&) = delete;
    RunExecution& operator=(const RunExecution&) = delete;

    // Writes the inputs (main.py among them) through the work-dir fd, closes the run's stdin
    // unless `keep_stdin` (a program reading it gets EOF, as from /dev/null), sends `go`; the
    // clock starts. Errors: the failing step (the run has not started then).
    [[nodiscard]] sys::Result<void> start(const std::vector<sandbox::InputFile>& inputs,
                                          bool keep_stdin = false);
    // Until the program's end is known: its end record (answered early when nothing else of
    // the run is left), the zygote's exit report, the deadline, an output flood, the CPU
    // limit, or cancellation of the awaiting coroutine (client gone). On return nothing of
    // the run runs any more (G may still be exiting).
    boost::asio::awaitable<void> await_end();
    // The program's outcome: output, changed files, figures and the verdict (apply_verdict).
    // `unchanged`: the inputs as written (not returned unless changed); main.py is never.
    sandbox::RunOutcome outcome(const std::vector<sandbox::InputFile>& unchanged,
                                const OutcomeLimits& limits);

    // Writes to the program's stdin (start with keep_stdin), awaiting room in the pipe: a
    // program that does not read holds the writer back. EPIPE once the program closed it.
    boost::asio::awaitable<sys::Result<void>> write_stdin(std::string_view bytes);
    void close_stdin();
    // SIGINT to G: KeyboardInterrupt in the program (it may catch it); the run goes on.
    void interrupt();
    // Ends the run now: SIGKILL to G (its whole pid namespace) and to the group.
    void kill();

    [[nodiscard]] const RunFacts& facts() const { return facts_; }

   private:
    boost::asio::awaitable<void> await_exit_report();
    boost::asio::awaitable<void> read_end_pipe();
    boost::asio::awaitable<void> watchdog(bool flush_first);
    boost::asio::awaitable<void> watch_cpu();
    boost::asio::awaitable<void> until_exit_or_deadline(bool flush_first);
    boost::asio::awaitable<void> first_end();
    boost::asio::awaitable<void> after_end_record();
    void on_flood();

    boost::asio::any_io_executor ex_;
    PreparedRun& run_;
    const DriverSettings& settings_;
    ExecutionLimits limits_;
    RunFacts facts_;
    bool killed_ = false;  // kill() done, or the run ended by itself: no more signals
    OutputCapture out_, err_;
    boost::asio::posix::stream_descriptor end_pipe_;
    EndPipeDecoder end_decoder_;
    boost::asio::steady_timer flush_wait_;
    std::optional<boost::asio::posix::stream_descriptor> stdin_;
    std::chrono::steady_clock::time_point started_{};
    std::chrono::steady_clock::time_point deadline_{};
};

}  // namespace sbx::pool
