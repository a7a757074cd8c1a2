#include "vmm/restart_policy.h"

namespace vmm {

RestartDecision RestartTracker::on_reset(uint64_t boot_start_ms, uint64_t now_ms) {
    RestartDecision decision;
    if (!m_policy.restart_on_reset || m_policy.max_restarts == 0) return decision;
    if (m_policy.window_ms != 0)
        while (!m_recent.empty() && now_ms - m_recent.front() >= m_policy.window_ms)
            m_recent.pop_front();
    uint64_t counted = m_policy.window_ms != 0 ? m_recent.size() : m_total;
    if (counted >= m_policy.max_restarts) {
        decision.limit_hit = true;
        return decision;
    }
    if (m_policy.window_ms != 0) m_recent.push_back(now_ms);
    ++m_total;

    bool quick = now_ms - boot_start_ms < m_policy.quick_boot_ms;
    m_quick_in_a_row = quick ? m_quick_in_a_row + 1 : 0;
    decision.restart = true;
    if (m_policy.backoff_initial_ms != 0 && m_quick_in_a_row > m_policy.quick_boots_free) {
        uint32_t doublings = m_quick_in_a_row - m_policy.quick_boots_free - 1;
        uint64_t delay = m_policy.backoff_initial_ms;
        for (uint32_t i = 0; i < doublings && delay < m_policy.backoff_max_ms; ++i) delay *= 2;
        decision.delay_ms = delay < m_policy.backoff_max_ms ? delay : m_policy.backoff_max_ms;
    }
    return decision;
}

}  // namespace vmm
