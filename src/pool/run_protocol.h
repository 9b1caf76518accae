// The run wire protocol's messages (server <-> zygote and G, docs/ARCHITECTURE.md "Wire
// protocol"), typed, with their JSON encoding in one place. Mirrored in
// runtime/pysandbox_runtime/protocol.py; tests/runtime/test_protocol_cross.py checks both ways.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "pool/channel.h"
#include "sys/error.h"

namespace sbx::pool {

// zygote -> server on the control socket, once its imports are done.
struct ZygoteReadyMessage {
    std::string python;                           // "3.11.2"
    std::vector<std::string> preloaded;           // modules imported
    std::map<std::string, std::string> failed;    // module -> error
    std::map<std::string, std::string> packages;  // importable package -> version
    std::uint32_t seccomp_instructions = 0;       // the runs' filter, as the zygote loaded it
};

// server -> zygote on the control socket: fork one run. The fds travel attached, in the order
// `fds` names them (run, stdout, stderr, end, stdin, then one "cgroup" per hierarchy).
struct RunMessage {
    std::string id;
    std::uint32_t uid = 0, gid = 0;              // the program's ids in its own user ns
    std::uint32_t outer_uid = 0, outer_gid = 0;  // the run's ids in the zygote's user ns
    std::uint64_t nproc = 0, sigpending = 0, msgqueue = 0, memlock = 0;
    std::uint64_t socket_buffer_max = 0;
    std::uint64_t workdir_bytes = 0, workdir_inodes = 0, tmp_bytes = 0;
    std::uint64_t nofile = 0, fsize = 0, as_bytes = 0;
    std::string policy;  // "standard" | "strict" | "off"
    std::vector<std::string> fds;
};

struct RunReadyMessage {};  // G -> server: set up; fds [G's pidfd, /work, its net ns]
struct GoMessage {};        // server -> G: the program is in /work, run it
struct PolicyMessage {      // G -> server: the code policy refused main.py
    std::string message;
};
struct ExitMessage {  // zygote -> server: G has been reaped
    std::optional<int> exit_code;
    std::optional<int> signal;
    std::optional<double> cpu_time_s;  // G and its reaped children, as the zygote measured
};
// G or zygote -> server: a set-up step failed ({"type":"error","step","errno","detail"}).
struct ErrorMessage {
    std::string step;
    int err = 0;
    std::string detail;
};

boost::json::object encode(const ZygoteReadyMessage& m);
boost::json::object encode(const RunMessage& m);
boost::json::object encode(const RunReadyMessage& m);
boost::json::object encode(const GoMessage& m);
boost::json::object encode(const PolicyMessage& m);
boost::json::object encode(const ExitMessage& m);
boost::json::object encode(const ErrorMessage& m);

// Decoders: a message of the wrong type or shape is an EPROTO error of `step`. Fields unknown
// to the decoder are ignored.
sys::Result<ZygoteReadyMessage> decode_zygote_ready(const boost::json::object& body);
sys::Result<RunMessage> decode_run(const boost::json::object& body);
sys::Result<ErrorMessage> decode_error(const boost::json::object& body);

// What arrives on a run socket once the program is under way, decoded; monostate for a type
// the run socket does not carry then (ignored, as before).
using RunEvent = std::variant<std::monostate, ExitMessage, PolicyMessage, sys::SysError>;
RunEvent decode_run_event(const Message& msg);

}  // namespace sbx::pool
