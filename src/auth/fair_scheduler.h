// FairScheduler: who gets the next free run slot — round-robin among the subjects (keys,
// client addresses) that have requests waiting, FIFO within a subject — so that one subject
// flooding cannot starve another's runs. Pure state, no I/O, no locking (FairAdmission wraps it).
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>

namespace sbx::auth {

using Ticket = std::uint64_t;

class FairScheduler {
   public:
    // capacity: runs at once (MAX_CONCURRENT_RUNS); queue_capacity: requests waiting in all
    // (MAX_QUEUED_RUNS).
    FairScheduler(unsigned capacity, unsigned queue_capacity);

    enum class Outcome : std::uint8_t {
        granted,     // a slot now
        queued,      // wait for release() to name this ticket
        key_busy,    // the subject has `limit` requests in flight (running + waiting)
        queue_full,  // queue_capacity requests wait already
    };
    struct Entered {
        Outcome outcome;
        Ticket ticket = 0;  // set when queued
    };
    // subject_limit: the subject's concurrency limit; 0 = none.
    Entered enter(const std::string& subject, unsigned subject_limit);

    // A waiting ticket leaves (timed out, cancelled). False when it is not waiting (granted).
    bool cancel(Ticket ticket);

    // A granted slot of `subject` is given back. Returns the ticket that now holds it, if one
    // waits: the first ticket of the next subject in the round.
    std::optional<Ticket> release(const std::string& subject);

    [[nodiscard]] unsigned running() const { return running_; }
    [[nodiscard]] unsigned queued() const { return queued_; }
    [[nodiscard]] unsigned in_flight(const std::string& subject) const;
    [[nodiscard]] std::size_t subjects() const { return subjects_.size(); }  // tests: no leaks

   private:
    struct Subject {
        unsigned running = 0;
        std::deque<Ticket> waiting;
    };
    void forget_if_idle(const std::string& subject);

    const unsigned capacity_;
    const unsigned queue_capacity_;
    unsigned running_ = 0;
    unsigned queued_ = 0;
    Ticket next_ticket_ = 1;
    std::unordered_map<std::string, Subject> subjects_;
    std::deque<std::string> round_;  // subjects with waiting tickets, next to serve first
    std::unordered_map<Ticket, std::string> owners_;  // waiting ticket -> subject
};

}  // namespace sbx::auth
