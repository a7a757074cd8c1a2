// RestartTracker over times the test passes in: the restart limit within a window (or the
// whole run), quick deaths and the exponential backoff, what resets the streak, and the
// policies that never restart.
#include "vmm/restart_policy.h"

#include <gtest/gtest.h>

#include <vector>

namespace {

using vmm::RestartDecision;
using vmm::RestartPolicy;
using vmm::RestartTracker;

constexpr uint64_t kLongBoot = 60'000;  // far above quick_boot_ms

// A reset at now_ms of a boot that lived long enough not to count as a quick death.
RestartDecision long_boot_reset(RestartTracker& tracker, uint64_t now_ms) {
    return tracker.on_reset(now_ms - kLongBoot, now_ms);
}

void expect_decision(const RestartDecision& d, bool restart, uint64_t delay_ms, bool limit_hit) {
    EXPECT_EQ(d.restart, restart);
    EXPECT_EQ(d.delay_ms, delay_ms);
    EXPECT_EQ(d.limit_hit, limit_hit);
}

TEST(RestartTracker, DefaultsRestartAtOnce) {
    RestartTracker tracker{RestartPolicy{}};
    expect_decision(long_boot_reset(tracker, 100'000), true, 0, false);
    expect_decision(tracker.on_reset(100'000, 100'500), true, 0, false);  // quick, but free
    EXPECT_EQ(tracker.restarts(), 2u);
}

TEST(RestartTracker, RestartOnResetFalseNeverRestarts) {
    RestartPolicy policy;
    policy.restart_on_reset = false;
    RestartTracker tracker(policy);
    expect_decision(long_boot_reset(tracker, 100'000), false, 0, false);
    EXPECT_EQ(tracker.restarts(), 0u);
}

TEST(RestartTracker, ZeroMaxRestartsNeverRestarts) {
    RestartPolicy policy;
    policy.max_restarts = 0;
    RestartTracker tracker(policy);
    // Not a "limit hit": the run was told not to restart at all (phx: "not restarting").
    expect_decision(long_boot_reset(tracker, 100'000), false, 0, false);
    EXPECT_EQ(tracker.restarts(), 0u);
}

TEST(RestartTracker, MaxRestartsWithinTheWindow) {
    RestartPolicy policy;
    policy.max_restarts = 3;
    policy.window_ms = 1000;
    RestartTracker tracker(policy);
    expect_decision(long_boot_reset(tracker, 100'000), true, 0, false);
    expect_decision(long_boot_reset(tracker, 100'100), true, 0, false);
    expect_decision(long_boot_reset(tracker, 100'200), true, 0, false);
    expect_decision(long_boot_reset(tracker, 100'300), false, 0, true);
    EXPECT_EQ(tracker.restarts(), 3u) << "a refused restart is not counted";
    expect_decision(long_boot_reset(tracker, 100'999), false, 0, true);
    // The restart at 100'000 leaves the window exactly window_ms later.
    expect_decision(long_boot_reset(tracker, 101'000), true, 0, false);
    expect_decision(long_boot_reset(tracker, 101'050), false, 0, true);
    expect_decision(long_boot_reset(tracker, 101'100), true, 0, false);
    EXPECT_EQ(tracker.restarts(), 5u);
}

TEST(RestartTracker, WindowSlidesOverSpreadOutResets) {
    RestartPolicy policy;
    policy.max_restarts = 2;
    policy.window_ms = 1000;
    RestartTracker tracker(policy);
    for (uint64_t t = 100'000; t < 110'000; t += 600) {
        expect_decision(long_boot_reset(tracker, t), true, 0, false);  // never 3 within 1 s
    }
    EXPECT_EQ(tracker.restarts(), 17u);
}

TEST(RestartTracker, WindowZeroCountsTheWholeRun) {
    RestartPolicy policy;
    policy.max_restarts = 2;
    policy.window_ms = 0;
    RestartTracker tracker(policy);
    expect_decision(long_boot_reset(tracker, 100'000), true, 0, false);
    expect_decision(long_boot_reset(tracker, 10'000'000), true, 0, false);
    expect_decision(long_boot_reset(tracker, 1'000'000'000), false, 0, true);
    EXPECT_EQ(tracker.restarts(), 2u);
}

// Quick deaths: quick_boots_free of them free, then initial, doubling, capped at the max.
std::vector<uint64_t> quick_delays(const RestartPolicy& policy, int resets) {
    RestartTracker tracker(policy);
    std::vector<uint64_t> delays;
    uint64_t now = 100'000;
    for (int i = 0; i < resets; ++i) {
        RestartDecision d = tracker.on_reset(now, now + 10);
        EXPECT_TRUE(d.restart) << i;
        delays.push_back(d.delay_ms);
        now += 10 + d.delay_ms;
    }
    return delays;
}

RestartPolicy backoff_policy() {
    RestartPolicy policy;
    policy.max_restarts = 1000;
    policy.window_ms = 0;
    policy.quick_boot_ms = 1000;
    policy.quick_boots_free = 2;
    policy.backoff_initial_ms = 10;
    policy.backoff_max_ms = 45;
    return policy;
}

TEST(RestartTracker, QuickDeathsBackOffExponentiallyToTheMax) {
    EXPECT_EQ(quick_delays(backoff_policy(), 8),
              (std::vector<uint64_t>{0, 0, 10, 20, 40, 45, 45, 45}));
}

TEST(RestartTracker, DefaultBackoffSequence) {
    RestartPolicy policy;
    policy.window_ms = 0;
    EXPECT_EQ(quick_delays(policy, 22),
              (std::vector<uint64_t>{0,  0,  0,  0,   0,   0,   0,    0,    0,    0,    10,
                                     20, 40, 80, 160, 320, 640, 1280, 2560, 5000, 5000, 5000}));
}

TEST(RestartTracker, ManyQuickDeathsStayAtTheMax) {
    RestartPolicy policy = backoff_policy();
    policy.max_restarts = 100'000;
    auto delays = quick_delays(policy, 10'000);
    EXPECT_EQ(delays.back(), 45u);
}

TEST(RestartTracker, BackoffZeroDisablesTheDelay) {
    RestartPolicy policy = backoff_policy();
    policy.backoff_initial_ms = 0;
    EXPECT_EQ(quick_delays(policy, 50), std::vector<uint64_t>(50, 0));
}

TEST(RestartTracker, InitialDelayAboveTheMaxIsCapped) {
    // What phx gets for --restart-backoff 10000: it sets only backoff_initial_ms, and the
    // default backoff_max_ms (5000) caps even the first delay.
    RestartPolicy policy = backoff_policy();
    policy.backoff_initial_ms = 10'000;
    policy.backoff_max_ms = 5000;
    EXPECT_EQ(quick_delays(policy, 4), (std::vector<uint64_t>{0, 0, 5000, 5000}));
}

TEST(RestartTracker, ALongLivedBootResetsTheStreak) {
    RestartTracker tracker(backoff_policy());
    uint64_t now = 100'000;
    auto quick = [&] {
        RestartDecision d = tracker.on_reset(now, now + 10);
        now += 1000;
        return d.delay_ms;
    };
    EXPECT_EQ(quick(), 0u);
    EXPECT_EQ(quick(), 0u);
    EXPECT_EQ(quick(), 10u);
    EXPECT_EQ(quick(), 20u);
    expect_decision(tracker.on_reset(now, now + 1000), true, 0, false);  // exactly quick_boot_ms
    now += 2000;
    EXPECT_EQ(quick(), 0u) << "the streak starts over";
    EXPECT_EQ(quick(), 0u);
    EXPECT_EQ(quick(), 10u);
}

TEST(RestartTracker, ARefusedRestartDoesNotExtendTheStreak) {
    RestartPolicy policy = backoff_policy();
    policy.max_restarts = 3;
    policy.window_ms = 1000;
    RestartTracker tracker(policy);
    EXPECT_EQ(tracker.on_reset(100'000, 100'010).delay_ms, 0u);
    EXPECT_EQ(tracker.on_reset(100'010, 100'020).delay_ms, 0u);
    EXPECT_EQ(tracker.on_reset(100'020, 100'030).delay_ms, 10u);
    expect_decision(tracker.on_reset(100'030, 100'040), false, 0, true);
    // After the window: the fourth quick death in a row counted, not the fifth.
    expect_decision(tracker.on_reset(101'500, 101'510), true, 20, false);
}

}  // namespace
