// Checks of the thread pool and run_chunks (cpp/include/dispersionkit/parallel.hpp), compiled and
// run by tests/core/test_parallel_cpp.py (also under ThreadSanitizer). Prints one line per
// check and exits non-zero on the first failure.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "dispersionkit/parallel.hpp"

namespace {

int failures = 0;

void check(bool ok, const char* what) {
    std::printf("%s %s\n", ok ? "ok  " : "FAIL", what);
    if (!ok) ++failures;
}

// Every index of [0, n) is visited exactly once, whatever the chunk count.
void covers_every_index_once() {
    for (std::size_t chunks : {1, 2, 3, 7, 64, 1000}) {
        const std::size_t n = 997;
        std::vector<std::atomic<int>> seen(n);
        dk::run_chunks(n, chunks, nullptr, [&](std::size_t, std::size_t b, std::size_t e) {
            for (std::size_t i = b; i < e; ++i) seen[i].fetch_add(1);
        });
        bool once = true;
        for (auto& s : seen) once = once && s.load() == 1;
        check(once, "run_chunks visits every index once");
    }
}

// A million requested threads start no more workers than cores - 1.
void worker_count_is_bounded() {
    dk::parallel_for(1 << 20, 1000000, 1, nullptr, [](std::size_t, std::size_t) {});
    const auto workers = dk::ThreadPool::instance().workers();
    const auto cores = static_cast<std::size_t>(dk::hardware_threads());
    check(workers + 1 <= std::max<std::size_t>(cores, 1), "at most one worker per core besides the caller");
}

// A parallel call from inside a chunk runs on that chunk's thread, in order, and returns.
void nested_call_runs_inline() {
    std::atomic<bool> inline_everywhere{true};
    std::atomic<int> inner_total{0};
    dk::run_chunks(64, 64, nullptr, [&](std::size_t, std::size_t, std::size_t) {
        const auto outer = std::this_thread::get_id();
        std::size_t expected_begin = 0;
        dk::run_chunks(100, 8, nullptr, [&](std::size_t, std::size_t b, std::size_t e) {
            if (std::this_thread::get_id() != outer || b != expected_begin) inline_everywhere = false;
            expected_begin = e;
            inner_total.fetch_add(static_cast<int>(e - b));
        });
    });
    check(inline_everywhere.load(), "nested run_chunks runs inline, chunks in order");
    check(inner_total.load() == 64 * 100, "nested run_chunks covers its range");
}

// Several callers at once (as Python threads with the GIL released) all finish correctly.
void concurrent_callers() {
    std::vector<std::thread> callers;
    std::atomic<bool> ok{true};
    for (int c = 0; c < 8; ++c) {
        callers.emplace_back([&ok, c] {
            for (int round = 0; round < 50; ++round) {
                std::vector<int> out(5000, 0);
                dk::parallel_for(out.size(), 4, 16, nullptr, [&](std::size_t b, std::size_t e) {
                    for (std::size_t i = b; i < e; ++i) out[i] = c + static_cast<int>(i);
                });
                for (std::size_t i = 0; i < out.size(); ++i)
                    if (out[i] != c + static_cast<int>(i)) ok = false;
            }
        });
    }
    for (auto& t : callers) t.join();
    check(ok.load(), "concurrent callers each get their own results");
}

// An exception in a chunk reaches the caller; the pool keeps working.
void exceptions_propagate() {
    bool caught = false;
    try {
        dk::run_chunks(100, 10, nullptr, [](std::size_t, std::size_t b, std::size_t) {
            if (b >= 50) throw std::runtime_error("chunk failed");
        });
    } catch (const std::runtime_error&) {
        caught = true;
    }
    check(caught, "an exception in a chunk is rethrown on the caller");
    std::atomic<std::size_t> sum{0};
    dk::run_chunks(100, 10, nullptr, [&](std::size_t, std::size_t b, std::size_t e) { sum += e - b; });
    check(sum.load() == 100, "the pool works after a failed call");
}

// A poll that says stop ends the call with Interrupted once every chunk has checked; chunks
// not started never run; the pool works afterwards.
void interrupt_stops_the_call() {
    int polls = 0;
    dk::Interrupt interrupt(
        [](void* count) {
            ++*static_cast<int*>(count);
            return true;
        },
        &polls);
    std::atomic<std::size_t> started{0};
    bool interrupted = false;
    try {
        dk::run_chunks(1000, 1000, &interrupt, [&](std::size_t, std::size_t, std::size_t) {
            started.fetch_add(1);
            // A long chunk that checks between blocks of work.
            for (int block = 0; block < 1000 && !interrupt.stop_requested(); ++block)
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
        });
    } catch (const dk::Interrupted&) {
        interrupted = true;
    }
    check(interrupted, "a poll returning true interrupts the call");
    check(polls == 1, "the caller is polled once, then stops polling");
    check(started.load() < 1000, "chunks not started when the call stopped never run");
    std::atomic<std::size_t> sum{0};
    dk::run_chunks(100, 10, nullptr, [&](std::size_t, std::size_t b, std::size_t e) { sum += e - b; });
    check(sum.load() == 100, "the pool works after an interrupted call");
}

// Polling happens on the calling thread only.
void polls_only_on_the_caller() {
    struct Context {
        std::thread::id caller;
        std::atomic<bool> elsewhere{false};
        std::atomic<int> polls{0};
    } context;
    context.caller = std::this_thread::get_id();
    dk::Interrupt interrupt(
        [](void* p) {
            auto* c = static_cast<Context*>(p);
            if (std::this_thread::get_id() != c->caller) c->elsewhere = true;
            ++c->polls;
            return false;
        },
        &context);
    dk::run_chunks(16, 16, &interrupt, [&](std::size_t, std::size_t, std::size_t) {
        for (int i = 0; i < 60; ++i) {
            interrupt.stop_requested();
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    });
    check(!context.elsewhere.load(), "the poll runs on the calling thread only");
    check(context.polls.load() >= 1, "a long call is polled");
}

}  // namespace

int main() {
    covers_every_index_once();
    worker_count_is_bounded();
    nested_call_runs_inline();
    concurrent_callers();
    exceptions_propagate();
    interrupt_stops_the_call();
    polls_only_on_the_caller();
    return failures == 0 ? 0 : 1;
}
