#include "vmm/supervisor.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <thread>

#include "vmm/boot/kernel_image.h"
#include "vmm/crash_log.h"
#include "vmm/helper_thread.h"
#include "vmm/kvm/unique_fd.h"
#include "vmm/machine.h"
#include "vmm/net/make_backend.h"

namespace vmm {

namespace {

std::atomic<bool> g_interrupted{false};
std::atomic<int> g_signal{0};

void on_stop_signal(int signal) {
    g_signal.store(signal);
    g_interrupted.store(true);
    kick_active_run();
}

// SIGINT and SIGTERM end the run; the previous handlers come back afterwards.
class StopSignals {
public:
    StopSignals() {
        g_interrupted = false;
        g_signal = 0;
        struct sigaction action{};
        action.sa_handler = on_stop_signal;
        sigemptyset(&action.sa_mask);
        action.sa_flags = 0;  // no SA_RESTART: KVM_RUN must return EINTR
        sigaction(SIGINT, &action, &m_old_int);
        sigaction(SIGTERM, &action, &m_old_term);
    }
    ~StopSignals() {
        sigaction(SIGINT, &m_old_int, nullptr);
        sigaction(SIGTERM, &m_old_term, nullptr);
    }

private:
    struct sigaction m_old_int{}, m_old_term{};
};

// Reads the host's input into SerialInput on its own thread (with the stop signals blocked,
// so they always reach the vCPU thread) until EOF or the end of the run.
class InputPump {
public:
    InputPump(int fd, SerialInput& input) {
        if (fd < 0) return;
        m_wake = eventfd(0, EFD_CLOEXEC);
        if (m_wake < 0) return;
        m_thread = start_helper_thread([this, fd, &input] { pump(fd, input); });
    }
    ~InputPump() {
        if (m_thread.joinable()) {
            uint64_t one = 1;
            (void)!write(m_wake, &one, sizeof(one));
            m_thread.join();
        }
        if (m_wake >= 0) close(m_wake);
    }

private:
    void pump(int fd, SerialInput& input) {
        char buffer[512];
        for (;;) {
            pollfd fds[2] = {{fd, POLLIN, 0}, {m_wake, POLLIN, 0}};
            if (poll(fds, 2, -1) < 0) {
                if (errno == EINTR) continue;
                return;
            }
            if (fds[1].revents) return;
            if (fds[0].revents & (POLLIN | POLLHUP)) {
                ssize_t n = read(fd, buffer, sizeof(buffer));
                if (n < 0 && errno == EINTR) continue;
                if (n <= 0) return;  // EOF: the guest sees no more input
                input.push(buffer, size_t(n));
            } else if (fds[0].revents) {
                return;  // POLLERR/POLLNVAL
            }
        }
    }

    int m_wake = -1;
    std::thread m_thread;
};

void write_all(int fd, const char* data, size_t length) {
    while (length > 0) {
        ssize_t n = write(fd, data, length);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;  // the console went away; the guest keeps running
        data += n;
        length -= size_t(n);
    }
}

uint64_t now_ms() {
    return uint64_t(std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now().time_since_epoch())
                        .count());
}

double ms_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

std::string format_ms(double ms) {
    char text[32];
    std::snprintf(text, sizeof(text), ms < 10 ? "%.2f ms" : "%.0f ms", ms);
    return text;
}

long count_entries(const char* path) {
    DIR* dir = opendir(path);
    if (!dir) return -1;
    long count = 0;
    while (dirent* entry = readdir(dir))
        if (entry->d_name[0] != '.') ++count;
    closedir(dir);
    return count - (std::string(path) == "/proc/self/fd" ? 1 : 0);  // opendir's own fd
}

// One thread for the pipeline's background work, started with the stop signals (and the
// profiler's) blocked so that they always reach the vCPU thread, whose KVM_RUN they must
// interrupt. Jobs run in order; one thread for the whole run keeps the thread count flat.
class BackgroundWorker {
public:
    BackgroundWorker() {
        m_thread = start_helper_thread([this] { work(); });
    }
    ~BackgroundWorker() {
        {
            std::lock_guard lock(m_lock);
            m_stopping = true;
        }
        m_wake.notify_one();
        m_thread.join();  // after the jobs already queued
    }

    template <typename Fn>
    auto submit(Fn fn) {
        std::packaged_task<decltype(fn())()> task(std::move(fn));
        auto future = task.get_future();
        {
            std::lock_guard lock(m_lock);
            m_jobs.emplace_back([task = std::make_shared<decltype(task)>(std::move(task))] { (*task)(); });
        }
        m_wake.notify_one();
        return future;
    }

private:
    void work() {
        for (;;) {
            std::function<void()> job;
            {
                std::unique_lock lock(m_lock);
                m_wake.wait(lock, [this] { return m_stopping || !m_jobs.empty(); });
                if (m_jobs.empty()) return;
                job = std::move(m_jobs.front());
                m_jobs.pop_front();
            }
            job();
        }
    }

    std::mutex m_lock;
    std::condition_variable m_wake;
    std::deque<std::function<void()>> m_jobs;
    bool m_stopping = false;
    std::thread m_thread;
};

// VMs built ahead of need and torn down off the vCPU thread. While one VM runs, the next is
// already built from scratch (fresh memory, kernel and boot data copied in, never run), so a
// reset costs a swap instead of a build, and the old VM's teardown overlaps the next boot.
// At most one VM is being built and one torn down at any time (the worker runs jobs in
// order and take() waits for the standby), so nothing piles up however fast the guest resets.
class MachinePipeline {
public:
    MachinePipeline(const BootInputs& inputs, bool standby) : m_inputs(inputs), m_standby(standby) {}
    ~MachinePipeline() { settle(); }

    // The next VM to run: the standby when there is one (waiting for it if it is still being
    // built), else one built now. From the first reboot on, starts building the one after: a
    // guest that reset once will likely do it again, and one that never resets should not
    // pay for a VM it never uses.
    Expected<std::unique_ptr<Machine>> take() {
        Expected<std::unique_ptr<Machine>> machine =
            m_next.valid() ? m_next.get() : Machine::create(inputs_for(m_taken + 1));
        if (m_standby && m_taken++ > 0)
            m_next = m_worker.submit([inputs = inputs_for(m_taken + 1)] { return Machine::create(inputs); });
        return machine;
    }

    void retire(std::unique_ptr<Machine> machine) {
        m_worker.submit([old = std::shared_ptr<Machine>(std::move(machine))]() mutable { old.reset(); });
    }

    // Waits until the background work queued so far is done (for stable host statistics).
    void settle() { m_worker.submit([] {}).wait(); }

private:
    BootInputs inputs_for(uint64_t boot) const {
        BootInputs inputs = m_inputs;
        inputs.boot_number = uint32_t(boot);
        return inputs;
    }

    BootInputs m_inputs;
    bool m_standby;
    uint64_t m_taken = 0;
    BackgroundWorker m_worker;
    std::future<Expected<std::unique_ptr<Machine>>> m_next;
};

}  // namespace

HostStats host_stats() {
    HostStats stats;
    stats.open_fds = count_entries("/proc/self/fd");
    stats.threads = count_entries("/proc/self/task");
    if (FILE* statm = std::fopen("/proc/self/statm", "r")) {
        long size = 0, resident = 0;
        if (std::fscanf(statm, "%ld %ld", &size, &resident) == 2)
            stats.rss_kib = resident * (sysconf(_SC_PAGESIZE) / 1024);
        std::fclose(statm);
    }
    return stats;
}

Expected<RunOutcome> run_vm(const RunRequest& request) {
    // First: a forwarded port already in use is the user's error, reported before any VM.
    std::unique_ptr<net::NetBackend> network = TRY(net::make_backend(request.net));
    auto kvm = TRY(Kvm::open());
    auto kernel = request.kernel_bytes.empty()
                      ? TRY(KernelImage::load(request.kernel_path))
                      : TRY(KernelImage::parse(request.kernel_bytes, request.kernel_path));
    UniqueFd disk;
    uint64_t disk_bytes = 0;
    if (!request.disk_path.empty()) {
        disk.reset(open(request.disk_path.c_str(), O_RDONLY | O_CLOEXEC));
        struct stat st;
        if (!disk.valid() || fstat(disk.get(), &st) != 0)
            return system_error(ErrorKind::Usage, "cannot open the disk image " + request.disk_path);
        disk_bytes = uint64_t(st.st_size);
    }
    SerialInput input;
    BootInputs inputs;
    inputs.kvm = kvm.get();
    inputs.kernel = &kernel;
    inputs.manifest = request.manifest;
    inputs.cmdline = request.cmdline;
    inputs.shape = {request.memory_bytes, request.huge_pages};
    int console_fd = request.console_fd;
    CrashLog crash_log(request.crash_log_dir, request.keep_crash_reports, request.log);
    inputs.console = [console_fd, &crash_log](const char* data, size_t length) {
        write_all(console_fd, data, length);
        crash_log.feed({data, length});
    };
    inputs.input = &input;
    inputs.disk_fd = disk.valid() ? disk.get() : -1;
    inputs.disk_bytes = disk_bytes;
    inputs.net = network.get();
    inputs.mac = request.mac == net::MacAddress{} ? net::random_mac() : request.mac;
    auto log = [&](const std::string& line) {
        if (request.log) request.log(line);
    };

    StopSignals signals;
    InputPump pump(request.input_fd, input);
    RestartTracker tracker(request.policy);
    MachinePipeline pipeline(inputs, request.policy.restart_on_reset && request.policy.max_restarts != 0);
    RunOutcome outcome;
    auto last_reset = std::chrono::steady_clock::now();
    for (;;) {
        auto build_start = std::chrono::steady_clock::now();
        uint64_t boot_start = now_ms();
        auto machine = TRY(pipeline.take());
        ++outcome.boots;
        crash_log.set_boot(outcome.boots);
        // The reboot line waits for the kernel's "start stack=..." status line, to say when
        // the program ran again and where its stack is; a boot that never gets there still
        // gets its line when it ends.
        std::string reboot_line;
        if (outcome.boots > 1) {
            reboot_line = "reboot " + std::to_string(outcome.boots - 1) + ": new VM in " +
                          format_ms(ms_since(build_start));
            if (request.host_stats) {
                pipeline.settle();  // the old VM gone and the standby built: comparable numbers
                HostStats stats = host_stats();
                reboot_line += " [host: " + std::to_string(stats.open_fds) + " fds, " +
                               std::to_string(stats.rss_kib) + " KiB RSS, " +
                               std::to_string(stats.threads) + " threads]";
            }
        }
        auto reset_time = outcome.boots > 1 ? last_reset : build_start;
        machine->set_status_listener([&, boot = outcome.boots, reset_time](const std::string& line) {
            constexpr std::string_view kStart = "start stack=";
            if (!std::string_view(line).starts_with(kStart)) return;
            std::string stack = line.substr(kStart.size());
            std::string ran = format_ms(ms_since(reset_time));
            if (boot == 1) {
                if (request.log_detail) request.log_detail("boot 1: program running " + ran + " after the VM's creation, stack " + stack);
                return;
            }
            log(reboot_line + ", program running " + ran + " after the reset, stack " + stack);
            reboot_line.clear();
        });
        StopRequest stop = TRY(machine->run(g_interrupted));
        last_reset = std::chrono::steady_clock::now();
        if (!reboot_line.empty()) log(reboot_line);
        pipeline.retire(std::move(machine));  // stopped for good; torn down in the background
        if (g_interrupted.load()) {
            outcome.end = RunEnd::Interrupted;
            outcome.status = g_signal.load();
            return outcome;
        }
        switch (stop.kind) {
            case StopKind::PowerOff:
                outcome.end = RunEnd::Exited;
                outcome.status = stop.status;
                return outcome;
            case StopKind::Panic:
                outcome.end = RunEnd::Panicked;
                return outcome;
            case StopKind::Reset:
            case StopKind::None:
                break;
        }
        RestartDecision decision = tracker.on_reset(boot_start, now_ms());
        if (!decision.restart) {
            outcome.end = decision.limit_hit ? RunEnd::RestartLimit : RunEnd::ResetStopped;
            log(std::string("guest reset (") + stop.reason + ")" +
                (decision.limit_hit ? ": restart limit reached, stopping" : ": not restarting"));
            return outcome;
        }
        log(std::string("guest reset (") + stop.reason + ")" +
            (decision.delay_ms ? ", restarting in " + std::to_string(decision.delay_ms) + " ms"
                               : ""));
        if (decision.delay_ms) {
            // Sleep in slices so that Ctrl-C still ends the run promptly.
            uint64_t until = now_ms() + decision.delay_ms;
            while (!g_interrupted.load() && now_ms() < until)
                std::this_thread::sleep_for(std::chrono::milliseconds(std::min<uint64_t>(20, until - now_ms())));
            if (g_interrupted.load()) {
                outcome.end = RunEnd::Interrupted;
                outcome.status = g_signal.load();
                return outcome;
            }
        }
    }
}

}  // namespace vmm
