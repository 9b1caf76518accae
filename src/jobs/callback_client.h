// CallbackClient: one POST of a callback body to a checked, pinned address (no DNS rebinding:
// the name is resolved once, every address checked, the connection made to a checked one),
// with a deadline over the whole exchange and no redirects followed.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <optional>
#include <string>

#include "jobs/callback_target.h"

namespace sbx::jobs {

struct DeliveryResult {
    std::optional<unsigned> status;  // the receiver's HTTP status, when it answered
    std::string error;               // why it did not (resolve, refused address, timeout, TLS)
    bool permanent = false;          // no retry can help (address refused, bad URL)
};

// Thread-safe: post() may run concurrently on any executor.
class CallbackClient {
   public:
    CallbackClient(const AddressPolicy& policy, std::chrono::seconds timeout);

    // POSTs `body` (application/json) with X-Signature: `signature` and the given job id in
    // X-Job-Id. A 3xx is a status like any other (not followed).
    [[nodiscard]] boost::asio::awaitable<DeliveryResult> post(const CallbackTarget& target,
                                                              std::string body,
                                                              std::string signature,
                                                              std::string job_id);

   private:
    const AddressPolicy& policy_;
    const std::chrono::seconds timeout_;
    boost::asio::ssl::context tls_;
};

}  // namespace sbx::jobs
