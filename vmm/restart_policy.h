// When a guest resets, should the VMM build a new VM, and after how long? Like systemd's
// StartLimitBurst/StartLimitIntervalSec plus RestartSec with exponential backoff: at most
// max_restarts within window; once boots keep dying young (shorter than quick_boot) several
// times in a row, wait before the next one, doubling up to backoff_max. A pure state machine
// over times the caller passes in, unit tested.
#pragma once

#include <cstdint>
#include <deque>

namespace vmm {

struct RestartPolicy {
    bool restart_on_reset = true;    // false: a reset ends the run
    uint32_t max_restarts = 1000;    // within window_ms; 0 means no restart at all
    uint64_t window_ms = 10'000;     // 0: max_restarts counts over the whole run
    uint64_t quick_boot_ms = 1000;   // a boot shorter than this "died young"
    uint32_t quick_boots_free = 10;  // young deaths in a row restarted without delay
    uint64_t backoff_initial_ms = 10;  // then this delay, doubling; 0 disables backoff
    uint64_t backoff_max_ms = 5000;
};

struct RestartDecision {
    bool restart = false;
    uint64_t delay_ms = 0;
    bool limit_hit = false;  // !restart because max_restarts within the window was reached
};

class RestartTracker {
public:
    explicit RestartTracker(const RestartPolicy& policy) : m_policy(policy) {}

    // A boot that started at boot_start_ms ended in a reset at now_ms.
    RestartDecision on_reset(uint64_t boot_start_ms, uint64_t now_ms);
    uint32_t restarts() const { return m_total; }

private:
    RestartPolicy m_policy;
    std::deque<uint64_t> m_recent;  // times of restarts inside the window
    uint32_t m_total = 0;
    uint32_t m_quick_in_a_row = 0;
};

}  // namespace vmm
