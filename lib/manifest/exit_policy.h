// What the kernel does when the program's life ends: power the VM off with the exit status,
// reset it (the runner or cloud then boots a fresh VM, with a fresh layout), or halt and idle.
// Nanos's manifest settings, written by phx as Option records (docs/manifest.md):
//   reboot_on_exit=t | f | * | N | !N | N,M,...   which statuses reset (Nanos vm_exit_match)
//   expected_exit_code=N | N,M,...                 these statuses count as 0 (success)
//   idle_on_exit=t                                 halt instead of powering off
// Portable and pure: the kernel decides with it, unit tests check every form.
#pragma once

#include <cstdint>
#include <string_view>

#include "lib/base/result.h"

namespace lib::manifest {

class Manifest;

// A set of exit statuses 0..255.
class StatusSet {
public:
    void add(uint8_t status) { m_bits[status / 64] |= uint64_t(1) << (status % 64); }
    bool contains(uint8_t status) const { return m_bits[status / 64] >> (status % 64) & 1; }
    bool empty() const { return !(m_bits[0] | m_bits[1] | m_bits[2] | m_bits[3]); }

private:
    uint64_t m_bits[4] = {};
};

struct ExitPolicy {
    enum class Reboot : uint8_t {
        Never,         // f (or absent)
        OnFailure,     // t: any status but 0
        Always,        // *: any status
        OnStatus,      // N or N,M: a listed status
        UnlessStatus,  // !N: any status but N
    };
    Reboot reboot = Reboot::Never;
    StatusSet statuses;  // OnStatus: the list; UnlessStatus: the one exception
    StatusSet expected;  // expected_exit_code
    bool idle = false;   // idle_on_exit

    // The three settings from a manifest's Option records; absent ones keep their defaults.
    // A malformed value is an error naming the option (the kernel reports it and powers off).
    static Result<ExitPolicy> from_manifest(const Manifest& manifest, std::string_view& bad_key);
    static Result<ExitPolicy> parse(std::string_view reboot_on_exit, std::string_view expected_exit_code,
                                    std::string_view idle_on_exit);
};

enum class ExitAction : uint8_t { PowerOff, Reboot, Idle };

struct ExitDecision {
    ExitAction action = ExitAction::PowerOff;
    uint8_t status = 0;  // what PowerOff reports (an expected status becomes 0)
};

// The decision for the program's exit with `status` (0..255; 128+N for signal N).
ExitDecision decide_exit(const ExitPolicy& policy, uint8_t status);
// The decision for a kernel panic: a failure, so it reboots under t, * and !N (whatever N),
// and never matches a status list; otherwise the VM powers off reporting the panic.
ExitAction decide_panic(const ExitPolicy& policy);

}  // namespace lib::manifest
