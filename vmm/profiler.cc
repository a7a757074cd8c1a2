#include "vmm/profiler.h"

#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <optional>

#include "vmm/kvm/vm.h"

namespace vmm {

namespace {

constexpr long kIntervalNs = 100'000;
constexpr int kMaxFrames = 24;
constexpr uint64_t kAddressMask = 0x000f'ffff'ffff'f000;

void on_profile_signal(int) {}  // only to make KVM_RUN return EINTR

// Guest virtual -> guest physical through the guest's 4-level page tables (identity when
// paging is off, as in the PVH entry code).
std::optional<uint64_t> translate(const GuestMemory& memory, const kvm_sregs& sregs, uint64_t va) {
    if (!(sregs.cr0 & (1u << 31))) return va;
    uint64_t table = sregs.cr3 & kAddressMask;
    for (int level = 3; level >= 0; --level) {
        auto entry = memory.read_obj<uint64_t>(table + ((va >> (12 + 9 * level)) & 511) * 8);
        if (entry.is_error() || !(entry.value() & 1)) return std::nullopt;
        uint64_t span = 1ull << (12 + 9 * level);
        if (level == 0 || (level <= 2 && (entry.value() & 0x80)))
            return (entry.value() & kAddressMask & ~(span - 1)) | (va & (span - 1));
        table = entry.value() & kAddressMask;
    }
    return std::nullopt;
}

std::optional<uint64_t> read_u64(const GuestMemory& memory, const kvm_sregs& sregs, uint64_t va) {
    auto pa = translate(memory, sregs, va);
    if (!pa || (*pa & 4095) > 4096 - 8) return std::nullopt;
    auto value = memory.read_obj<uint64_t>(*pa);
    return value.is_error() ? std::nullopt : std::optional(value.value());
}

}  // namespace

GuestProfiler GuestProfiler::from_environment() {
    GuestProfiler profiler;
    if (const char* path = std::getenv("PHX_PROFILE"); path && *path) profiler.m_path = path;
    return profiler;
}

GuestProfiler::GuestProfiler(GuestProfiler&& other) noexcept
    : m_path(std::move(other.m_path)),
      m_timer(other.m_timer),
      m_timer_armed(other.m_timer_armed),
      m_samples(std::move(other.m_samples)) {
    other.m_timer_armed = false;
}

GuestProfiler::~GuestProfiler() { finish(); }

void GuestProfiler::start() {
    if (m_path.empty() || m_timer_armed) return;
    struct sigaction action{};
    action.sa_handler = on_profile_signal;  // no SA_RESTART: KVM_RUN must return
    sigemptyset(&action.sa_mask);
    sigaction(SIGPROF, &action, nullptr);
    sigevent event{};
    event.sigev_notify = SIGEV_THREAD_ID;
    event.sigev_signo = SIGPROF;
    event._sigev_un._tid = static_cast<pid_t>(syscall(SYS_gettid));
    if (timer_create(CLOCK_MONOTONIC, &event, &m_timer) != 0) return;
    itimerspec spec{{0, kIntervalNs}, {0, kIntervalNs}};
    timer_settime(m_timer, 0, &spec, nullptr);
    m_timer_armed = true;
}

void GuestProfiler::sample(const Vm& vm) {
    kvm_regs regs{};
    kvm_sregs sregs{};
    if (!vm.read_registers(regs, sregs)) return;
    char word[24];
    std::snprintf(word, sizeof(word), "%llx", static_cast<unsigned long long>(regs.rip));
    m_samples += word;
    // The kernel keeps frame pointers: [rbp] is the caller's rbp, [rbp + 8] the return address.
    uint64_t frame = regs.rbp;
    for (int depth = 0; depth < kMaxFrames && frame; ++depth) {
        auto next = read_u64(vm.memory(), sregs, frame);
        auto ret = read_u64(vm.memory(), sregs, frame + 8);
        if (!next || !ret || *next <= frame) break;
        std::snprintf(word, sizeof(word), " %llx", static_cast<unsigned long long>(*ret));
        m_samples += word;
        frame = *next;
    }
    m_samples += '\n';
}

void GuestProfiler::finish() {
    if (!m_timer_armed) return;
    timer_delete(m_timer);
    m_timer_armed = false;
    if (FILE* out = std::fopen(m_path.c_str(), "a")) {
        std::fwrite(m_samples.data(), 1, m_samples.size(), out);
        std::fclose(out);
    }
    m_samples.clear();
}

}  // namespace vmm
