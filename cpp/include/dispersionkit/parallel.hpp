// The one place that splits work over threads.
//
// A process-wide pool of worker threads is started lazily and kept alive: starting threads
// per call costs more than the work for inputs of ~1e4 elements. The pool never holds more
// workers than the cores in the affinity mask minus one (the calling thread is the other
// one): a call asking for more threads gets more chunks, which queue, so threads=10**6
// starts no more threads than threads=None.
//
// Work is split into contiguous chunks whose boundaries depend only on (n, chunk count). The
// calling thread and its helpers claim chunks one at a time, so which thread runs a chunk
// never matters: kernels whose per-element result does not depend on the chunk give
// identical output for any thread count. Several callers (e.g. two Python threads with the
// GIL released) may submit at once; a caller waits only for its own chunks. A parallel call
// made from inside a chunk (a kernel invoked by another kernel's chunk) runs its chunks
// inline on that thread: a thread of the pool waiting for the pool could wait forever.
//
// Cancellation (Interrupt): kernels check stop_requested() between blocks of work; the
// calling thread also polls its caller there (e.g. for Ctrl-C), and keeps polling while it
// waits for the helpers. A stopped call returns once every chunk in progress has reached a
// check, then run_chunks throws Interrupted: no thread touches the call's memory afterwards.
#pragma once

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace dk {

// The cores this process may run on: the affinity mask (taskset, cgroup cpusets in containers
// and CI runners), not the machine's total, so threads=None never oversubscribes.
inline int hardware_threads() {
#ifdef __linux__
    cpu_set_t mask;
    if (sched_getaffinity(0, sizeof(mask), &mask) == 0) {
        const int n = CPU_COUNT(&mask);
        if (n > 0) return n;
    }
#endif
    unsigned n = std::thread::hardware_concurrency();
    return n == 0 ? 1 : static_cast<int>(n);
}

// threads <= 0 means "all cores".
inline int resolve_threads(int requested) { return requested <= 0 ? hardware_threads() : requested; }

// Thrown by run_chunks when the call's Interrupt stopped it.
struct Interrupted : std::exception {
    const char* what() const noexcept override { return "dispersionkit: call interrupted"; }
};

// Cooperative cancellation of one call. `poll` runs only on the thread that created the
// Interrupt (the caller: the one thread that may talk to the caller's runtime, e.g. take
// Python's GIL) and at most once per kPollInterval; once it returns true, stop_requested()
// is true on every thread.
class Interrupt {
  public:
    using Poll = bool (*)(void* context);
    static constexpr std::chrono::milliseconds kPollInterval{25};

    Interrupt() = default;  // never polls and never stops
    Interrupt(Poll poll, void* context)
        : poll_(poll), context_(context), next_poll_(std::chrono::steady_clock::now() + kPollInterval) {}
    Interrupt(const Interrupt&) = delete;
    Interrupt& operator=(const Interrupt&) = delete;

    // Any thread working on the call; on the calling thread, polls when a poll is due.
    bool stop_requested() {
        if (poll_ != nullptr && std::this_thread::get_id() == caller_) poll_if_due();
        return stop_.load(std::memory_order_relaxed);
    }
    bool stopped() const { return stop_.load(std::memory_order_relaxed); }

  private:
    void poll_if_due() {
        if (stop_.load(std::memory_order_relaxed)) return;  // the caller was told once
        const auto now = std::chrono::steady_clock::now();
        if (now < next_poll_) return;
        next_poll_ = now + kPollInterval;
        if (poll_(context_)) stop_.store(true, std::memory_order_relaxed);
    }

    Poll poll_ = nullptr;
    void* context_ = nullptr;
    std::thread::id caller_ = std::this_thread::get_id();
    std::chrono::steady_clock::time_point next_poll_{};
    std::atomic<bool> stop_{false};
};

// For kernels: `interrupt` may be null (not interruptible).
inline bool stop_requested(Interrupt* interrupt) {
    return interrupt != nullptr && interrupt->stop_requested();
}

namespace detail {

// True on pool workers, and on a calling thread while it runs chunks.
inline thread_local bool in_parallel_region = false;

class RegionGuard {
  public:
    RegionGuard() : previous_(in_parallel_region) { in_parallel_region = true; }
    ~RegionGuard() { in_parallel_region = previous_; }
    RegionGuard(const RegionGuard&) = delete;
    RegionGuard& operator=(const RegionGuard&) = delete;

  private:
    bool previous_;
};

}  // namespace detail

class ThreadPool {
  public:
    static ThreadPool& instance() {
        static std::once_flag once;
        std::call_once(once, [] {
            current() = new ThreadPool();
            // A fork()ed child (multiprocessing's default on Linux) has none of the parent's
            // workers, and the pool's mutex may have been held by one of them: tasks queued there
            // would never run. The child starts from a fresh pool; the old one is dropped.
            pthread_atfork(nullptr, nullptr, [] { current() = new ThreadPool(); });
        });
        return *current();
    }

    // Starts workers until there are `count`; returns how many there are (fewer when the
    // system refuses to start a thread: the call then runs on fewer threads, same results).
    std::size_t ensure_workers(std::size_t count) {
        std::lock_guard<std::mutex> lock(mutex_);
        try {
            while (workers_ < count) {
                std::thread([this] { work(); }).detach();
                ++workers_;
            }
        } catch (const std::system_error&) {
        }
        return workers_;
    }

    void submit(std::function<void()> task) {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            tasks_.push_back(std::move(task));
        }
        cv_.notify_one();
    }

    std::size_t workers() {
        std::lock_guard<std::mutex> lock(mutex_);
        return workers_;
    }

  private:
    ThreadPool() = default;

    // Leaked on purpose: joining workers during interpreter teardown can deadlock.
    static ThreadPool*& current() {
        static ThreadPool* pool = nullptr;
        return pool;
    }

    void work() {
        detail::in_parallel_region = true;
        for (;;) {
            std::function<void()> task;
            {
                std::unique_lock<std::mutex> lock(mutex_);
                cv_.wait(lock, [this] { return !tasks_.empty(); });
                task = std::move(tasks_.front());
                tasks_.pop_front();
            }
            task();
        }
    }

    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<std::function<void()>> tasks_;
    std::size_t workers_ = 0;
};

// Number of chunks a range of n items is split into: at most `threads`, and no chunk smaller
// than `min_chunk` items (small inputs stay on the calling thread).
inline std::size_t chunk_count(std::size_t n, int threads, std::size_t min_chunk) {
    std::size_t t = static_cast<std::size_t>(std::max(1, threads));
    std::size_t by_size = min_chunk == 0 ? n : n / min_chunk;
    return std::max<std::size_t>(1, std::min(t, by_size));
}

namespace detail {

// The state of one call shared with its helper tasks. A helper that starts after the call
// has finished finds no chunk left and never touches `run` (which refers to the caller's
// stack); the shared_ptr keeps the rest alive for it.
struct Call {
    explicit Call(std::size_t chunk_count) : chunks(chunk_count) {}
    const std::size_t chunks;
    std::function<void(std::size_t)> run;  // runs chunk c
    std::atomic<std::size_t> next{0};
    std::atomic<bool> failed{false};
    std::mutex mutex;
    std::condition_variable all_done;
    std::size_t done = 0;
    std::exception_ptr error;

    // Claims and runs chunks until none is left.
    void work() {
        for (;;) {
            const std::size_t c = next.fetch_add(1);
            if (c >= chunks) return;
            if (!failed.load(std::memory_order_relaxed)) {
                try {
                    run(c);
                } catch (...) {
                    std::lock_guard<std::mutex> lock(mutex);
                    if (!error) error = std::current_exception();
                    failed.store(true, std::memory_order_relaxed);
                }
            }
            std::lock_guard<std::mutex> lock(mutex);
            if (++done == chunks) all_done.notify_all();
        }
    }
};

}  // namespace detail

// Calls fn(c, begin, end) for `chunks` contiguous chunks covering [0, n); chunk c covers
// [n*c/chunks, n*(c+1)/chunks). Runs on the calling thread and up to (cores - 1) pool
// workers; throws Interrupted if `interrupt` (may be null) stopped the call.
template <class Fn>
void run_chunks(std::size_t n, std::size_t chunks, Interrupt* interrupt, Fn&& fn) {
    if (n == 0) return;
    chunks = std::max<std::size_t>(1, std::min(chunks, n));
    auto bound = [n, chunks](std::size_t c) { return n / chunks * c + (n % chunks) * c / chunks; };
    const auto cores = static_cast<std::size_t>(hardware_threads());
    std::size_t helpers = detail::in_parallel_region ? 0 : std::min(chunks, cores) - 1;
    if (helpers > 0) helpers = std::min(helpers, ThreadPool::instance().ensure_workers(helpers));

    if (helpers == 0) {
        detail::RegionGuard region;
        for (std::size_t c = 0; c < chunks && !stop_requested(interrupt); ++c) fn(c, bound(c), bound(c + 1));
    } else {
        auto call = std::make_shared<detail::Call>(chunks);
        call->run = [&](std::size_t c) {
            if (interrupt == nullptr || !interrupt->stopped()) fn(c, bound(c), bound(c + 1));
        };
        ThreadPool& pool = ThreadPool::instance();
        for (std::size_t h = 0; h < helpers; ++h) pool.submit([call] { call->work(); });
        {
            detail::RegionGuard region;
            call->work();
        }
        std::unique_lock<std::mutex> lock(call->mutex);
        while (call->done < chunks) {
            if (interrupt == nullptr) {
                call->all_done.wait(lock);
                continue;
            }
            call->all_done.wait_for(lock, Interrupt::kPollInterval);
            lock.unlock();
            interrupt->stop_requested();  // the helpers see it at their next check
            lock.lock();
        }
        if (call->error) std::rethrow_exception(call->error);
    }
    if (interrupt != nullptr && interrupt->stopped()) throw Interrupted();
}

// Elementwise parallel loop: fn(begin, end) over [0, n).
template <class Fn>
void parallel_for(std::size_t n, int threads, std::size_t min_chunk, Interrupt* interrupt, Fn&& fn) {
    run_chunks(n, chunk_count(n, resolve_threads(threads), min_chunk), interrupt,
               [&](std::size_t, std::size_t begin, std::size_t end) { fn(begin, end); });
}

}  // namespace dk
