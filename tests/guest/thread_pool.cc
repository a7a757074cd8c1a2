// A fixed pool of 8 std::thread workers summing an 8M-element array in 64K-element chunks: a
// mutex-guarded queue with a condition_variable the workers sleep on, a second one the main
// thread waits on until the pool is idle, atomics for the sums and a thread_local count per
// worker (each thread needs its own TLS block). The pool is used twice so that workers that
// went to sleep on an empty queue must be woken again. Sums are checked against closed
// forms. Prints "thread pool ok SUM" and exits 0, or "FAILED ..." and exits 1.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <functional>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace {

constexpr uint64_t kElements = uint64_t(8) << 20;
constexpr uint64_t kChunk = 64 * 1024;
constexpr uint64_t kChunks = kElements / kChunk;
constexpr int kWorkers = 8;

void check(bool ok, const char* what) {
    if (ok) return;
    std::printf("FAILED %s\n", what);
    std::exit(1);
}

thread_local uint64_t t_tasks_run = 0;

class Pool {
public:
    explicit Pool(int workers) {
        for (int i = 0; i < workers; ++i) m_threads.emplace_back([this] { run(); });
    }
    ~Pool() {
        {
            std::lock_guard lock(m_mutex);
            m_stopping = true;
        }
        m_work.notify_all();
        for (auto& thread : m_threads) thread.join();
    }
    void submit(std::function<void()> task) {
        {
            std::lock_guard lock(m_mutex);
            m_queue.push_back(std::move(task));
        }
        m_work.notify_one();
    }
    void wait_idle() {
        std::unique_lock lock(m_mutex);
        m_idle.wait(lock, [this] { return m_queue.empty() && m_busy == 0; });
    }
    std::set<std::thread::id> ids() const {
        std::set<std::thread::id> result;
        for (auto& thread : m_threads) result.insert(thread.get_id());
        return result;
    }
    // Tasks run, as each worker's thread_local counted them (added up as the workers exit).
    static std::atomic<uint64_t> s_tasks_counted;

private:
    void run() {
        for (;;) {
            std::function<void()> task;
            {
                std::unique_lock lock(m_mutex);
                m_work.wait(lock, [this] { return m_stopping || !m_queue.empty(); });
                if (m_queue.empty()) break;
                task = std::move(m_queue.front());
                m_queue.pop_front();
                ++m_busy;
            }
            task();
            ++t_tasks_run;
            std::lock_guard lock(m_mutex);
            if (--m_busy == 0 && m_queue.empty()) m_idle.notify_all();
        }
        s_tasks_counted += t_tasks_run;
    }

    std::mutex m_mutex;
    std::condition_variable m_work, m_idle;
    std::deque<std::function<void()>> m_queue;
    int m_busy = 0;
    bool m_stopping = false;
    std::vector<std::thread> m_threads;
};

std::atomic<uint64_t> Pool::s_tasks_counted{0};

}  // namespace

int main() {
    std::vector<uint32_t> values(kElements);
    for (uint64_t i = 0; i < kElements; ++i) values[i] = uint32_t(i);

    std::atomic<uint64_t> sum{0}, squares{0};
    {
        Pool pool(kWorkers);
        auto ids = pool.ids();
        check(ids.size() == kWorkers, "8 distinct worker thread ids");
        check(!ids.count(std::this_thread::get_id()), "workers are not the main thread");

        for (uint64_t c = 0; c < kChunks; ++c) {
            pool.submit([&, c] {
                uint64_t local = 0;
                for (uint64_t i = c * kChunk; i < (c + 1) * kChunk; ++i) local += values[i];
                sum.fetch_add(local, std::memory_order_relaxed);
            });
        }
        pool.wait_idle();
        // n(n-1)/2: the sum of 0..n-1.
        check(sum.load() == kElements * (kElements - 1) / 2, "sum of 0..n-1");

        // Second round on the same (now sleeping) workers: sum of squares, modulo 2^64.
        for (uint64_t c = 0; c < kChunks; ++c) {
            pool.submit([&, c] {
                uint64_t local = 0;
                for (uint64_t i = c * kChunk; i < (c + 1) * kChunk; ++i)
                    local += uint64_t(values[i]) * values[i];
                squares.fetch_add(local, std::memory_order_relaxed);
            });
        }
        pool.wait_idle();
        unsigned __int128 n = kElements;
        check(squares.load() == uint64_t((n - 1) * n * (2 * n - 1) / 6),
              "sum of squares of 0..n-1");
    }
    check(Pool::s_tasks_counted.load() == 2 * kChunks, "thread_local task counts add up");
    std::printf("thread pool ok %llu\n", static_cast<unsigned long long>(sum.load()));
    return 0;
}
