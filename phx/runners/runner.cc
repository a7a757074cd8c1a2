// The runner registry behind --hypervisor. Phoenix's own VMM joins as "builtin".
#include "phx/runners/runner.h"

#include <x86intrin.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "phx/runners/builtin.h"
#include "phx/runners/qemu.h"

namespace phx {

namespace {

// The host's TSC rate, measured against the monotonic clock over 10 ms (once per phx run).
uint64_t host_tsc_khz() {
    auto start = std::chrono::steady_clock::now();
    uint64_t first = __rdtsc();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    uint64_t last = __rdtsc();
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start).count();
    return ns > 0 ? uint64_t((last - first) * 1'000'000.0 / double(ns)) : 0;
}

}  // namespace

std::string kernel_command_line(const RunSpec& spec, Accel accel) {
    std::string line;
    auto add = [&](const std::string& word) { line += (line.empty() ? "" : " ") + word; };
    for (const auto& word : spec.kernel_args) add(word);
    // kvm_pvm emulates ring 0 and cannot emulate XSAVE/XRSTOR (the VM dies): the kernel must
    // save thread FP state with FXSAVE (docs/ARCHITECTURE.md, "Known host quirks").
    std::error_code error;
    if (accel == Accel::Kvm && std::filesystem::exists("/sys/module/kvm_pvm", error))
        add("phx.fpu=fxsave");
    // Under TCG the guest's TSC ticks at the host's rate, but neither kvmclock nor a CPUID
    // leaf says so, and QEMU's PIT is too slow to calibrate against (it measures 2-3 MHz).
    if (accel == Accel::Tcg)
        if (uint64_t khz = host_tsc_khz()) add("phx.tsc_khz=" + std::to_string(khz));
    return line;
}

std::string format_mac(const vmm::net::MacAddress& mac) {
    char text[18];
    std::snprintf(text, sizeof(text), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2],
                  mac[3], mac[4], mac[5]);
    return text;
}

std::string choose_runner(const std::string& name, Accel accel) {
    if (name != "auto") return name;
    return resolve_accel(accel) == Accel::Kvm ? "builtin" : "qemu";
}

std::vector<std::string> runner_names() { return {"auto", "builtin", "qemu"}; }

std::unique_ptr<Runner> make_runner(const std::string& name) {
    if (name == "qemu") return std::make_unique<QemuRunner>();
    if (name == "builtin") return std::make_unique<BuiltinRunner>();
    return nullptr;
}

}  // namespace phx
