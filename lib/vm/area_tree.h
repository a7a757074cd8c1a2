// An intrusive AVL tree of disjoint [start, end) ranges in address order. Each node also keeps
// the free gap below it and the largest such gap in its subtree (like Linux's rb_subtree_gap),
// so a free range of a given size is found in O(log n) rather than by walking every area.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

namespace lib::vm {

class AreaTree;

// The part of a VM area the tree owns. Linking a node never allocates.
struct AreaNode {
    uint64_t start = 0;
    uint64_t end = 0;

private:
    friend class AreaTree;
    AreaNode* m_left = nullptr;
    AreaNode* m_right = nullptr;
    AreaNode* m_parent = nullptr;
    uint64_t m_gap = 0;      // start minus the previous node's end (or minus 0 for the first)
    uint64_t m_max_gap = 0;  // the largest m_gap in this subtree
    int m_height = 1;
};

class AreaTree {
public:
    size_t size() const { return m_size; }
    bool empty() const { return m_size == 0; }

    AreaNode* first() const;
    AreaNode* last() const;
    static AreaNode* next(const AreaNode* node);
    static AreaNode* prev(const AreaNode* node);

    // The node whose range contains addr.
    AreaNode* find(uint64_t addr) const;
    // The first node with end > addr: the one containing addr, or else the next one above.
    AreaNode* first_ending_after(uint64_t addr) const;
    // The first node with start >= addr.
    AreaNode* first_starting_at(uint64_t addr) const;

    // The node's range must be disjoint from every linked node's.
    void insert(AreaNode* node);
    void erase(AreaNode* node);

    // Callers may move nodes' bounds in place, keeping order and disjointness; afterwards they
    // call this for the nodes starting in [lo, hi] so the gap bookkeeping catches up.
    void refresh_gaps(uint64_t lo, uint64_t hi);

    // The highest (top_down) or lowest start of a free range of `length` bytes inside
    // [lo, hi). Free means covered by no node.
    std::optional<uint64_t> find_gap(uint64_t length, uint64_t lo, uint64_t hi,
                                     bool top_down) const;

    // Unlinks every node, calling release(node) on each, in O(n).
    template <typename Fn>
    void clear(Fn&& release);

    // Links, heights, balance, order, disjointness, gaps and size all consistent.
    bool check() const;

private:
    static AreaNode* leftmost(AreaNode* node);
    static AreaNode* rightmost(AreaNode* node);
    static int height(const AreaNode* node) { return node ? node->m_height : 0; }
    static uint64_t max_gap(const AreaNode* node) { return node ? node->m_max_gap : 0; }
    static void update(AreaNode* node);
    static void update_max_gap(AreaNode* node);
    void refresh_gap(AreaNode* node);
    void replace_child(AreaNode* parent, AreaNode* old_child, AreaNode* new_child);
    AreaNode* rotate_left(AreaNode* node);
    AreaNode* rotate_right(AreaNode* node);
    AreaNode* rebalance(AreaNode* node);
    void retrace(AreaNode* node);

    static bool search_down(const AreaNode* node, uint64_t length, uint64_t lo, uint64_t hi,
                            uint64_t& out);
    static bool search_up(const AreaNode* node, uint64_t length, uint64_t lo, uint64_t hi,
                          uint64_t& out);
    // Returns the subtree's height, or -1 when something under node is inconsistent.
    static int check_subtree(const AreaNode* node, const AreaNode* parent, size_t& count);

    AreaNode* m_root = nullptr;
    size_t m_size = 0;
};

template <typename Fn>
void AreaTree::clear(Fn&& release) {
    // Post-order walk through parent links: each edge is followed once down and once up.
    AreaNode* node = m_root;
    while (node) {
        if (node->m_left) {
            node = node->m_left;
        } else if (node->m_right) {
            node = node->m_right;
        } else {
            AreaNode* parent = node->m_parent;
            if (parent && parent->m_left == node)
                parent->m_left = nullptr;
            else if (parent)
                parent->m_right = nullptr;
            release(node);
            node = parent;
        }
    }
    m_root = nullptr;
    m_size = 0;
}

}  // namespace lib::vm
