// Spawner wire protocol: length-prefixed fields, SCM_RIGHTS fd passing, strict decoding.
#include "sandbox/spawner_protocol.h"

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>

#include "sys/eintr.h"

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
    iovec iov{const_cast<char*>(bytes.data()), bytes.size()};  // NOLINT: sendmsg does not write
    alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(int) * kMaxFds)> control{};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (!fds.empty()) {
        msg.msg_control = control.data();
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
        cmsghdr* c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
        std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
    }
    if (sys::retry_eintr([&] { return ::sendmsg(sock, &msg, MSG_NOSIGNAL); }) < 0) {
        return sys::errno_error(sys::Step::sendmsg, "spawner socket");
    }
    return {};
}

sys::Result<Packet> recv_packet(int sock, std::size_t max_fds) {
    Packet p;
    p.bytes.resize(kMaxPacket);
    iovec iov{p.bytes.data(), p.bytes.size()};
    alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(int) * kMaxFds)> control{};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.data();
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * std::min(max_fds, kMaxFds));
    const auto n = sys::retry_eintr([&] { return ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC); });
    if (n < 0) return sys::errno_error(sys::Step::recvmsg, "spawner socket");
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        const std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (std::size_t i = 0; i < count; ++i) {
            int fd = -1;
            std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
            p.fds.emplace_back(fd);
        }
    }
    if ((msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0) return malformed("truncated packet");
    p.eof = n == 0;
    p.bytes.resize(static_cast<std::size_t>(n));
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
    put_u64(out, spec.tmp_bytes);
    put_list(out, spec.extra_env);
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
    spec.tmp_bytes = r.u64();
    spec.extra_env = r.list();
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
