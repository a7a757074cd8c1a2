// NameTable: the entries of one in-memory directory, found by name through a hash table and
// listed in insertion order by a cookie that survives changes (getdents64's d_off): a cookie
// names "the first entry inserted at or after this point", so removing the entry a listing
// stands on, or any other, never makes the listing skip or repeat a survivor. Intrusive: the
// caller owns the nodes and the name bytes; only the bucket array is allocated, through an
// injected allocator, and a failed growth costs speed, not correctness.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace lib::fs {

struct NameNode {
    NameNode* hash_next = nullptr;
    NameNode* prev = nullptr;  // insertion order
    NameNode* next = nullptr;
    uint64_t cookie = 0;  // assigned by insert(), increasing
    uint32_t hash = 0;
    std::string_view name;  // set by the caller before insert(); must outlive the node's stay
};

class BucketAllocator {
public:
    // `count` null pointers, or nullptr when there is no memory.
    virtual NameNode** allocate(size_t count) = 0;
    virtual void deallocate(NameNode** buckets, size_t count) = 0;

protected:
    ~BucketAllocator() = default;
};

class NameTable {
public:
    // Cookies 0 and 1 are left for "." and "..".
    static constexpr uint64_t kFirstCookie = 2;

    explicit NameTable(BucketAllocator& allocator) : m_allocator(&allocator) {}
    ~NameTable();
    NameTable(const NameTable&) = delete;
    NameTable& operator=(const NameTable&) = delete;

    NameNode* find(std::string_view name) const;
    // `node.name` must not be in the table yet. Appends it to the listing order.
    void insert(NameNode& node);
    void erase(NameNode& node);
    // The first node whose cookie is >= `cookie`, or nullptr past the end. O(1) for a listing
    // that asks for the cookie after the node it last got (whatever was erased meanwhile).
    NameNode* seek(uint64_t cookie);

    size_t size() const { return m_size; }
    NameNode* first() const { return m_head; }

    static uint32_t hash(std::string_view name);

private:
    bool grow();

    BucketAllocator* m_allocator;
    NameNode** m_buckets = nullptr;  // nullptr: every find() walks the listing
    size_t m_bucket_count = 0;       // a power of two
    size_t m_size = 0;
    NameNode* m_head = nullptr;
    NameNode* m_tail = nullptr;
    NameNode* m_hint = nullptr;  // the node after the one seek() returned last
    uint64_t m_next_cookie = kFirstCookie;
};

}  // namespace lib::fs
