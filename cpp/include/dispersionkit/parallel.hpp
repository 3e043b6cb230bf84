// The one place that splits work over threads.
//
// A process-wide pool of worker threads is started lazily and kept alive: starting threads
// per call costs more than the work for inputs of ~1e4 elements. Work is split into
// contiguous chunks whose boundaries depend only on (n, chunk count), so kernels whose
// per-element result does not depend on the chunk give identical output for any thread count.
// Several callers (e.g. two Python threads with the GIL released) may submit at once.
#pragma once

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
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

    void ensure_workers(std::size_t count) {
        std::lock_guard<std::mutex> lock(mutex_);
        while (workers_.size() < count) {
            workers_.emplace_back([this] { work(); });
            workers_.back().detach();
        }
    }

    void submit(std::function<void()> task) {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            tasks_.push_back(std::move(task));
        }
        cv_.notify_one();
    }

  private:
    ThreadPool() = default;

    // Leaked on purpose: joining workers during interpreter teardown can deadlock.
    static ThreadPool*& current() {
        static ThreadPool* pool = nullptr;
        return pool;
    }

    void work() {
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
    std::vector<std::thread> workers_;
};

// Number of chunks a range of n items is split into: at most `threads`, and no chunk smaller
// than `min_chunk` items (small inputs stay on the calling thread).
inline std::size_t chunk_count(std::size_t n, int threads, std::size_t min_chunk) {
    std::size_t t = static_cast<std::size_t>(std::max(1, threads));
    std::size_t by_size = min_chunk == 0 ? n : n / min_chunk;
    return std::max<std::size_t>(1, std::min(t, by_size));
}

// Calls fn(chunk_index, begin, end) for `chunks` contiguous chunks covering [0, n).
// Chunk c covers [n*c/chunks, n*(c+1)/chunks). The calling thread runs chunk 0.
template <class Fn>
void run_chunks(std::size_t n, std::size_t chunks, Fn&& fn) {
    if (n == 0) return;
    if (chunks <= 1) {
        fn(std::size_t{0}, std::size_t{0}, n);
        return;
    }
    auto bound = [n, chunks](std::size_t c) { return n / chunks * c + (n % chunks) * c / chunks; };

    std::mutex done_mutex;
    std::condition_variable done_cv;
    std::size_t remaining = chunks - 1;
    std::exception_ptr error;

    ThreadPool& pool = ThreadPool::instance();
    pool.ensure_workers(chunks - 1);
    for (std::size_t c = 1; c < chunks; ++c) {
        pool.submit([&, c] {
            try {
                fn(c, bound(c), bound(c + 1));
            } catch (...) {
                std::lock_guard<std::mutex> lock(done_mutex);
                if (!error) error = std::current_exception();
            }
            std::lock_guard<std::mutex> lock(done_mutex);
            if (--remaining == 0) done_cv.notify_one();
        });
    }
    try {
        fn(std::size_t{0}, bound(0), bound(1));
    } catch (...) {
        std::lock_guard<std::mutex> lock(done_mutex);
        if (!error) error = std::current_exception();
    }
    std::unique_lock<std::mutex> lock(done_mutex);
    done_cv.wait(lock, [&] { return remaining == 0; });
    if (error) std::rethrow_exception(error);
}

// Elementwise parallel loop: fn(begin, end) over [0, n).
template <class Fn>
void parallel_for(std::size_t n, int threads, std::size_t min_chunk, Fn&& fn) {
    run_chunks(n, chunk_count(n, resolve_threads(threads), min_chunk),
               [&](std::size_t, std::size_t b, std::size_t e) { fn(b, e); });
}

}  // namespace dk
