// JobsContext: what the jobs worker, the callback sender and the routes share.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <string>

#include "config/config.h"
#include "jobs/callback_target.h"
#include "pool/run_service.h"
#include "store/repository.h"

namespace sbx::jobs {

// Everything referred to outlives the jobs subsystem (built by serve before it, destroyed
// after it).
struct JobsContext {
    const config::Config& cfg;
    store::Repository& repository;
    pool::RunService& engine;
    boost::asio::any_io_executor io;        // the server's I/O threads
    boost::asio::any_io_executor blocking;  // store calls
    const AddressPolicy& policy;            // where callbacks may go
    std::string owner;  // lease owner: REPLICA_ID + "/" + a random boot id (a restarted
                        // replica never mistakes its predecessor's leases for its own)
};

}  // namespace sbx::jobs
