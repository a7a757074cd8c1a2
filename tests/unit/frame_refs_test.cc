// lib/vm/frame_refs: counts as holders come and go, the last holder told to free, growth
// (and failed growth), and deletions that keep every other entry findable.
#include "lib/vm/frame_refs.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

namespace {

using lib::vm::FrameRefs;

class TestStorage final : public FrameRefs::Storage {
public:
    FrameRefs::Slot* allocate(size_t count) override {
        if (fail) return nullptr;
        ++live;
        return new FrameRefs::Slot[count]();
    }
    void release(FrameRefs::Slot* slots, size_t) override {
        --live;
        delete[] slots;
    }
    bool fail = false;
    int live = 0;
};

constexpr uint64_t frame(uint64_t n) { return n << 12; }

TEST(FrameRefs, UntrackedFrameHasOneHolderWhoFreesIt) {
    TestStorage storage;
    FrameRefs refs(storage);
    EXPECT_EQ(refs.count(frame(5)), 1u);
    EXPECT_TRUE(refs.release(frame(5)));
    EXPECT_EQ(storage.live, 0);  // nothing allocated for untracked frames
}

TEST(FrameRefs, LastOfManyHoldersFrees) {
    TestStorage storage;
    FrameRefs refs(storage);
    ASSERT_TRUE(refs.share(frame(7)).has_value());
    ASSERT_TRUE(refs.share(frame(7)).has_value());
    EXPECT_EQ(refs.count(frame(7)), 3u);
    EXPECT_FALSE(refs.release(frame(7)));
    EXPECT_FALSE(refs.release(frame(7)));
    EXPECT_EQ(refs.tracked(), 0u);  // back to one holder: out of the table
    EXPECT_TRUE(refs.release(frame(7)));
}

TEST(FrameRefs, OwnerMayLetGoFirst) {
    TestStorage storage;
    FrameRefs refs(storage);
    ASSERT_TRUE(refs.share(frame(9)).has_value());  // owner lends to a mapping
    EXPECT_FALSE(refs.release(frame(9)));           // owner truncates the file
    EXPECT_TRUE(refs.release(frame(9)));            // the mapping goes: it frees
}

TEST(FrameRefs, FailedGrowthChangesNothing) {
    TestStorage storage;
    FrameRefs refs(storage);
    storage.fail = true;
    EXPECT_EQ(refs.share(frame(3)).error(), lib::Errno::NoMem);
    EXPECT_EQ(refs.count(frame(3)), 1u);
    storage.fail = false;
    for (uint64_t i = 1; i <= 48; ++i) ASSERT_TRUE(refs.share(frame(i)).has_value());
    storage.fail = true;  // the 49th needs a bigger table
    EXPECT_EQ(refs.share(frame(1000)).error(), lib::Errno::NoMem);
    for (uint64_t i = 1; i <= 48; ++i) EXPECT_EQ(refs.count(frame(i)), 2u);
    EXPECT_TRUE(refs.share(frame(1)).has_value());  // an existing entry needs no room
    EXPECT_EQ(refs.count(frame(1)), 3u);
}

TEST(FrameRefs, RandomSharesAndReleasesMatchAModel) {
    TestStorage storage;
    {
        FrameRefs refs(storage);
        std::map<uint64_t, uint64_t> model;  // frame -> holders
        std::mt19937_64 rng(42);
        for (int step = 0; step < 200000; ++step) {
            // Few distinct frames, clustered, so probe runs collide and wrap.
            uint64_t f = frame(1 + rng() % 3000);
            auto& holders = model[f];
            if (holders == 0) holders = 1;
            if (rng() % 2) {
                ASSERT_TRUE(refs.share(f).has_value());
                ++holders;
            } else if (holders > 1 || rng() % 4 == 0) {
                bool last = refs.release(f);
                ASSERT_EQ(last, holders == 1) << step;
                if (--holders == 0) model.erase(f);
            }
            if (step % 997 == 0) {
                size_t tracked = 0;
                for (auto& [fr, n] : model) {
                    ASSERT_EQ(refs.count(fr), n) << step;
                    tracked += n > 1;
                }
                ASSERT_EQ(refs.tracked(), tracked);
            }
        }
    }
    EXPECT_EQ(storage.live, 0);
}

}  // namespace
