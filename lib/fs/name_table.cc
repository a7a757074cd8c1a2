// NameTable: chained hashing (FNV-1a), doubled when the load passes one entry per bucket.
#include "lib/fs/name_table.h"

namespace lib::fs {

namespace {

constexpr size_t kInitialBuckets = 8;

bool same(const NameNode& node, uint32_t hash, std::string_view name) {
    return node.hash == hash && node.name.size() == name.size() &&
           __builtin_memcmp(node.name.data(), name.data(), name.size()) == 0;
}

}  // namespace

uint32_t NameTable::hash(std::string_view name) {
    uint32_t h = 2166136261u;
    for (char c : name) h = (h ^ uint8_t(c)) * 16777619u;
    return h;
}

NameTable::~NameTable() {
    if (m_buckets) m_allocator->deallocate(m_buckets, m_bucket_count);
}

NameNode* NameTable::find(std::string_view name) const {
    uint32_t h = hash(name);
    if (!m_buckets) {
        for (NameNode* node = m_head; node; node = node->next)
            if (same(*node, h, name)) return node;
        return nullptr;
    }
    for (NameNode* node = m_buckets[h & (m_bucket_count - 1)]; node; node = node->hash_next)
        if (same(*node, h, name)) return node;
    return nullptr;
}

bool NameTable::grow() {
    size_t count = m_bucket_count ? m_bucket_count * 2 : kInitialBuckets;
    NameNode** buckets = m_allocator->allocate(count);
    if (!buckets) return false;  // keep the old buckets (or none): longer chains, same answers
    for (NameNode* node = m_head; node; node = node->next) {
        NameNode*& slot = buckets[node->hash & (count - 1)];
        node->hash_next = slot;
        slot = node;
    }
    if (m_buckets) m_allocator->deallocate(m_buckets, m_bucket_count);
    m_buckets = buckets;
    m_bucket_count = count;
    return true;
}

void NameTable::insert(NameNode& node) {
    node.hash = hash(node.name);
    node.cookie = m_next_cookie++;
    node.prev = m_tail;
    node.next = nullptr;
    node.hash_next = nullptr;
    if (m_tail)
        m_tail->next = &node;
    else
        m_head = &node;
    m_tail = &node;
    ++m_size;
    if (m_size > m_bucket_count && grow()) return;  // grow() rehashed every node, this one too
    if (m_buckets) {
        NameNode*& slot = m_buckets[node.hash & (m_bucket_count - 1)];
        node.hash_next = slot;
        slot = &node;
    }
}

void NameTable::erase(NameNode& node) {
    if (m_buckets) {
        NameNode** link = &m_buckets[node.hash & (m_bucket_count - 1)];
        while (*link && *link != &node) link = &(*link)->hash_next;
        if (*link) *link = node.hash_next;
    }
    if (node.prev)
        node.prev->next = node.next;
    else
        m_head = node.next;
    if (node.next)
        node.next->prev = node.prev;
    else
        m_tail = node.prev;
    if (m_hint == &node) m_hint = node.next;
    node.prev = node.next = node.hash_next = nullptr;
    --m_size;
}

NameNode* NameTable::seek(uint64_t cookie) {
    NameNode* found = nullptr;
    if (!m_tail || cookie > m_tail->cookie) return nullptr;
    if (cookie <= m_head->cookie) {
        found = m_head;
    } else if (m_hint && m_hint->cookie >= cookie && m_hint->prev &&
               m_hint->prev->cookie < cookie) {
        found = m_hint;
    } else {
        found = m_head;
        while (found->cookie < cookie) found = found->next;  // the tail's cookie is >= cookie
    }
    m_hint = found->next;
    return found;
}

}  // namespace lib::fs
