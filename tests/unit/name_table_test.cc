// lib/fs/name_table: lookups, growth (and failed growth), and listings that survive removals
// and insertions the way getdents64 over a changing tmpfs directory must.
#include "lib/fs/name_table.h"

#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

namespace {

using lib::fs::NameNode;
using lib::fs::NameTable;

class TestAllocator final : public lib::fs::BucketAllocator {
public:
    NameNode** allocate(size_t count) override {
        if (fail) return nullptr;
        ++live;
        return new NameNode*[count]();
    }
    void deallocate(NameNode** buckets, size_t) override {
        --live;
        delete[] buckets;
    }
    bool fail = false;
    int live = 0;
};

struct Entry {
    explicit Entry(std::string n) : name(std::move(n)) { node.name = name; }
    std::string name;
    NameNode node;
};

class NameTableTest : public ::testing::Test {
protected:
    Entry& add(NameTable& table, const std::string& name) {
        entries.push_back(std::make_unique<Entry>(name));
        table.insert(entries.back()->node);
        return *entries.back();
    }
    // Every name from `cookie` on, advancing the way getdents64 does.
    static std::vector<std::string> list(NameTable& table,
                                         uint64_t cookie = NameTable::kFirstCookie) {
        std::vector<std::string> names;
        for (NameNode* node; (node = table.seek(cookie));) {
            names.emplace_back(node->name);
            cookie = node->cookie + 1;
        }
        return names;
    }
    TestAllocator allocator;
    std::vector<std::unique_ptr<Entry>> entries;
};

TEST_F(NameTableTest, FindsInsertedNamesOnly) {
    NameTable table(allocator);
    EXPECT_EQ(table.find("a"), nullptr);
    Entry& a = add(table, "a");
    add(table, "bb");
    EXPECT_EQ(table.find("a"), &a.node);
    EXPECT_EQ(table.find("b"), nullptr);
    EXPECT_EQ(table.find("bbb"), nullptr);
    EXPECT_EQ(table.size(), 2u);
    table.erase(a.node);
    EXPECT_EQ(table.find("a"), nullptr);
    EXPECT_EQ(table.size(), 1u);
}

TEST_F(NameTableTest, GrowsAndKeepsEveryName) {
    {
        NameTable table(allocator);
        for (int i = 0; i < 5000; ++i) add(table, "file" + std::to_string(i));
        for (int i = 0; i < 5000; ++i) {
            NameNode* node = table.find("file" + std::to_string(i));
            ASSERT_NE(node, nullptr) << i;
            EXPECT_EQ(node->name, "file" + std::to_string(i));
        }
        EXPECT_EQ(list(table).size(), 5000u);
        EXPECT_EQ(allocator.live, 1);
    }
    EXPECT_EQ(allocator.live, 0) << "the buckets are freed with the table";
}

TEST_F(NameTableTest, WorksWithoutAnyBuckets) {
    allocator.fail = true;
    NameTable table(allocator);
    for (int i = 0; i < 100; ++i) add(table, std::to_string(i));
    EXPECT_NE(table.find("42"), nullptr);
    allocator.fail = false;  // growth succeeds later: all nodes are rehashed
    for (int i = 100; i < 200; ++i) add(table, std::to_string(i));
    for (int i = 0; i < 200; ++i) EXPECT_NE(table.find(std::to_string(i)), nullptr) << i;
    allocator.fail = true;  // growth fails with buckets in place: chains just get longer
    for (int i = 200; i < 600; ++i) add(table, std::to_string(i));
    for (int i = 0; i < 600; ++i) EXPECT_NE(table.find(std::to_string(i)), nullptr) << i;
    for (int i = 0; i < 600; i += 2) table.erase(*table.find(std::to_string(i)));
    for (int i = 0; i < 600; ++i)
        EXPECT_EQ(table.find(std::to_string(i)) != nullptr, i % 2 == 1) << i;
}

TEST_F(NameTableTest, ListsInInsertionOrder) {
    NameTable table(allocator);
    add(table, "c");
    add(table, "a");
    add(table, "b");
    EXPECT_EQ(list(table), (std::vector<std::string>{"c", "a", "b"}));
    EXPECT_EQ(table.seek(0)->name, "c") << "cookies below the first start at the beginning";
    EXPECT_EQ(table.seek(1000), nullptr);
}

TEST_F(NameTableTest, RemovingWhileListingSkipsNothing) {
    // rm -rf: read an entry, unlink it, ask for the next.
    NameTable table(allocator);
    for (int i = 0; i < 50; ++i) add(table, std::to_string(i));
    std::vector<std::string> seen;
    uint64_t cookie = NameTable::kFirstCookie;
    for (NameNode* node; (node = table.seek(cookie));) {
        seen.emplace_back(node->name);
        cookie = node->cookie + 1;
        table.erase(*node);
    }
    EXPECT_EQ(seen.size(), 50u);
    EXPECT_EQ(table.size(), 0u);
    EXPECT_EQ(table.first(), nullptr);
}

TEST_F(NameTableTest, RemovingTheNextEntryOrOthersKeepsTheRest) {
    NameTable table(allocator);
    for (int i = 0; i < 10; ++i) add(table, std::to_string(i));
    NameNode* third = table.seek(NameTable::kFirstCookie + 2);
    ASSERT_EQ(third->name, "2");
    uint64_t cookie = third->cookie + 1;
    table.erase(*table.find("3"));  // the entry the listing would return next
    table.erase(*table.find("0"));  // one already listed
    table.erase(*table.find("7"));  // one further on
    add(table, "new");              // appears at the end
    EXPECT_EQ(list(table, cookie), (std::vector<std::string>{"4", "5", "6", "8", "9", "new"}));
}

TEST_F(NameTableTest, ReinsertedNameGetsANewCookie) {
    NameTable table(allocator);
    Entry& a = add(table, "a");
    add(table, "b");
    uint64_t old = a.node.cookie;
    table.erase(a.node);
    table.insert(a.node);
    EXPECT_GT(a.node.cookie, old);
    EXPECT_EQ(list(table), (std::vector<std::string>{"b", "a"}));
}

TEST_F(NameTableTest, RandomOperationsMatchAModel) {
    NameTable table(allocator);
    std::set<std::string> model;
    std::vector<Entry*> live;
    uint32_t seed = 12345;
    auto next = [&] { return seed = seed * 1103515245 + 12345, (seed >> 16) & 0x7fff; };
    for (int step = 0; step < 20000; ++step) {
        if (live.empty() || next() % 3) {
            std::string name = "n" + std::to_string(next() % 2000);
            if (model.count(name)) continue;
            live.push_back(&add(table, name));
            model.insert(name);
        } else {
            size_t index = next() % live.size();
            model.erase(live[index]->name);
            table.erase(live[index]->node);
            live.erase(live.begin() + long(index));
        }
    }
    auto listed = list(table);
    EXPECT_EQ(std::set<std::string>(listed.begin(), listed.end()), model);
    EXPECT_EQ(listed.size(), model.size());
    for (const auto& name : model) EXPECT_NE(table.find(name), nullptr) << name;
}

}  // namespace
