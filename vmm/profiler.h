// A sampling profiler of the guest: a timer interrupts KVM_RUN every 100 us and the vCPU's
// instruction pointer and frame-pointer call chain are recorded. On this project's hosts
// ring-0 guest code is emulated (docs/ARCHITECTURE.md, "Known host quirks"), so knowing where
// the kernel spends its instructions is what makes boots fast. Enabled by PHX_PROFILE=FILE:
// one sample per line (hex addresses, innermost first), appended; `scripts/profile-report`
// symbolizes them.
#pragma once

#include <time.h>

#include <cstdint>
#include <string>

namespace vmm {

class Vm;

class GuestProfiler {
public:
    // A profiler writing to $PHX_PROFILE, or an inactive one when it is unset.
    static GuestProfiler from_environment();
    ~GuestProfiler();
    GuestProfiler(const GuestProfiler&) = delete;
    GuestProfiler& operator=(const GuestProfiler&) = delete;
    GuestProfiler(GuestProfiler&& other) noexcept;
    GuestProfiler& operator=(GuestProfiler&&) = delete;

    bool active() const { return m_timer_armed; }
    // Starts sampling the calling thread (the vCPU thread).
    void start();
    // Records where the (stopped) vCPU is.
    void sample(const Vm& vm);
    // Stops the timer and appends the samples to the file.
    void finish();

private:
    GuestProfiler() = default;

    std::string m_path;
    timer_t m_timer{};
    bool m_timer_armed = false;
    std::string m_samples;
};

}  // namespace vmm
