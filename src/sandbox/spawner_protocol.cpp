// Spawner wire protocol: length-prefixed fields, SCM_RIGHTS fd passing, strict decoding.
#include "sandbox/spawner_protocol.h"

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>

#include "sys/eintr.h"
#include "sys/fd_passing.h"

namespace sbx::sandbox::proto {
namespace {

constexpr std::size_t kMaxFds = 8;

void put_u64(std::string& out, std::uint64_t v) {
    std::array<char, sizeof v> raw{};
    std::memcpy(raw.data(), &v, sizeof v);
    out.append(raw.data(), raw.size());
}
void put_str(std::string& out, std::string_view s) {
    put_u64(out, s.size());
    out.append(s);
}
void put_list(std::string& out, const std::vector<std::string>& items) {
    put_u64(out, items.size());
    for (const auto& s : items) put_str(out, s);
}

// Reads fields in order; any overrun marks the reader failed (checked once at the end).
class Reader {
public:
    explicit Reader(std::string_view in) : in_(in) {}
    std::uint64_t u64() {
        std::uint64_t v = 0;
        if (in_.size() < sizeof v) return fail();
        std::memcpy(&v, in_.data(), sizeof v);
        in_.remove_prefix(sizeof v);
        return v;
    }
    std::string str() {
        const auto n = u64();
        if (n > in_.size()) return (void)fail(), std::string{};
        std::string s{in_.substr(0, n)};
        in_.remove_prefix(n);
        return s;
    }
    std::vector<std::string> list() {
        const auto n = u64();
        std::vector<std::string> out;
        for (std::uint64_t i = 0; i < n && ok_; ++i) out.push_back(str());
        return out;
    }
    [[nodiscard]] bool done() const { return ok_ && in_.empty(); }

private:
    std::uint64_t fail() {
        ok_ = false;
        in_ = {};
        return 0;
    }
    std::string_view in_;
    bool ok_ = true;
};

sys::SysError malformed(const char* what) {
    return sys::SysError{sys::Step::spawner_protocol, EPROTO, what};
}

}  // namespace

sys::Result<void> send_packet(int sock, std::string_view bytes, std::span<const int> fds) {
    if (fds.size() > kMaxFds) return sys::SysError{sys::Step::sendmsg, E2BIG, "too many fds"};
    auto sent = sys::send_datagram(sock, bytes, fds);
    if (!sent) return sys::SysError{sent.error().step, sent.error().err, "spawner socket"};
    return {};
}

sys::Result<Packet> recv_packet(int sock, std::size_t max_fds) {
    auto got = sys::recv_datagram(sock, kMaxPacket, std::min(max_fds, kMaxFds));
    if (!got) return sys::SysError{got.error().step, got.error().err, "spawner socket"};
    if (!*got) return sys::SysError{sys::Step::recvmsg, EAGAIN, "spawner socket"};
    if ((*got)->truncated) return malformed("truncated packet");
    Packet p;
    p.eof = (*got)->bytes.empty();
    p.bytes = std::move((*got)->bytes);
    p.fds = std::move((*got)->fds);
    return p;
}

std::string encode_request(const ZygoteSpec& spec) {
    std::string out;
    put_str(out, spec.mode);
    put_list(out, spec.preload);
    put_str(out, spec.python.string());
    put_str(out, spec.runtime_dir.string());
    put_str(out, spec.script);
    put_u64(out, spec.uid_base);
    put_u64(out, spec.uid_count);
    put_list(out, spec.user_limits);
    put_u64(out, spec.tmp_bytes);
    put_list(out, spec.extra_env);
    put_str(out, spec.resolv_conf);
    put_u64(out, static_cast<std::uint64_t>(static_cast<std::int64_t>(spec.fault_injection)));
    return out;
}

sys::Result<ZygoteSpec> decode_request(std::string_view bytes) {
    Reader r{bytes};
    ZygoteSpec spec;
    spec.mode = r.str();
    spec.preload = r.list();
    spec.python = r.str();
    spec.runtime_dir = r.str();
    spec.script = r.str();
    spec.uid_base = static_cast<std::uint32_t>(r.u64());
    spec.uid_count = static_cast<std::uint32_t>(r.u64());
    spec.user_limits = r.list();
    spec.tmp_bytes = r.u64();
    spec.extra_env = r.list();
    spec.resolv_conf = r.str();
    spec.fault_injection = static_cast<int>(static_cast<std::int64_t>(r.u64()));
    if (!r.done()) return malformed("bad spawn request");
    return spec;
}

std::string encode_reply(const Reply& reply) {
    std::string out;
    put_u64(out, static_cast<std::uint64_t>(reply.pid));
    put_u64(out, reply.failure ? 1 : 0);
    if (reply.failure) {
        put_u64(out, static_cast<std::uint64_t>(reply.failure->step));
        put_u64(out, static_cast<std::uint64_t>(reply.failure->err));
        put_str(out, reply.failure->detail);
    }
    return out;
}

sys::Result<Reply> decode_reply(std::string_view bytes) {
    Reader r{bytes};
    Reply reply;
    reply.pid = static_cast<pid_t>(r.u64());
    if (r.u64() != 0) {
        const auto step = static_cast<sys::Step>(r.u64());
        const auto err = static_cast<int>(r.u64());
        reply.failure = sys::SysError{step, err, r.str()};
    }
    if (!r.done()) return malformed("bad spawn reply");
    return reply;
}

}  // namespace sbx::sandbox::proto
