// AVL insertion and deletion through parent links (no recursion on the mutation paths), the
// gap augmentation kept current through rotations, and the pruned gap searches.
#include "lib/vm/area_tree.h"

namespace lib::vm {

namespace {

uint64_t max3(uint64_t a, uint64_t b, uint64_t c) {
    uint64_t m = a > b ? a : b;
    return m > c ? m : c;
}

}  // namespace

AreaNode* AreaTree::leftmost(AreaNode* node) {
    while (node && node->m_left) node = node->m_left;
    return node;
}

AreaNode* AreaTree::rightmost(AreaNode* node) {
    while (node && node->m_right) node = node->m_right;
    return node;
}

AreaNode* AreaTree::first() const { return leftmost(m_root); }
AreaNode* AreaTree::last() const { return rightmost(m_root); }

AreaNode* AreaTree::next(const AreaNode* node) {
    if (node->m_right) return leftmost(node->m_right);
    while (node->m_parent && node->m_parent->m_right == node) node = node->m_parent;
    return node->m_parent;
}

AreaNode* AreaTree::prev(const AreaNode* node) {
    if (node->m_left) return rightmost(node->m_left);
    while (node->m_parent && node->m_parent->m_left == node) node = node->m_parent;
    return node->m_parent;
}

AreaNode* AreaTree::find(uint64_t addr) const {
    AreaNode* node = m_root;
    while (node) {
        if (addr < node->start)
            node = node->m_left;
        else if (addr >= node->end)
            node = node->m_right;
        else
            return node;
    }
    return nullptr;
}

AreaNode* AreaTree::first_ending_after(uint64_t addr) const {
    // Disjoint ranges sorted by start are sorted by end too, so this is a plain lower bound.
    AreaNode* best = nullptr;
    for (AreaNode* node = m_root; node;) {
        if (node->end > addr) {
            best = node;
            node = node->m_left;
        } else {
            node = node->m_right;
        }
    }
    return best;
}

AreaNode* AreaTree::first_starting_at(uint64_t addr) const {
    AreaNode* best = nullptr;
    for (AreaNode* node = m_root; node;) {
        if (node->start >= addr) {
            best = node;
            node = node->m_left;
        } else {
            node = node->m_right;
        }
    }
    return best;
}

void AreaTree::update_max_gap(AreaNode* node) {
    node->m_max_gap = max3(node->m_gap, max_gap(node->m_left), max_gap(node->m_right));
}

void AreaTree::update(AreaNode* node) {
    int left = height(node->m_left), right = height(node->m_right);
    node->m_height = 1 + (left > right ? left : right);
    update_max_gap(node);
}

void AreaTree::refresh_gap(AreaNode* node) {
    const AreaNode* before = prev(node);
    node->m_gap = node->start - (before ? before->end : 0);
    for (AreaNode* up = node; up; up = up->m_parent) update_max_gap(up);
}

void AreaTree::refresh_gaps(uint64_t lo, uint64_t hi) {
    AreaNode* node = first_starting_at(lo);
    for (; node && node->start <= hi; node = next(node)) refresh_gap(node);
    if (node) refresh_gap(node);  // its gap reaches down to the last node refreshed
}

void AreaTree::replace_child(AreaNode* parent, AreaNode* old_child, AreaNode* new_child) {
    if (!parent)
        m_root = new_child;
    else if (parent->m_left == old_child)
        parent->m_left = new_child;
    else
        parent->m_right = new_child;
}

AreaNode* AreaTree::rotate_left(AreaNode* node) {
    AreaNode* pivot = node->m_right;
    node->m_right = pivot->m_left;
    if (pivot->m_left) pivot->m_left->m_parent = node;
    pivot->m_parent = node->m_parent;
    replace_child(node->m_parent, node, pivot);
    pivot->m_left = node;
    node->m_parent = pivot;
    update(node);
    update(pivot);
    return pivot;
}

AreaNode* AreaTree::rotate_right(AreaNode* node) {
    AreaNode* pivot = node->m_left;
    node->m_left = pivot->m_right;
    if (pivot->m_right) pivot->m_right->m_parent = node;
    pivot->m_parent = node->m_parent;
    replace_child(node->m_parent, node, pivot);
    pivot->m_right = node;
    node->m_parent = pivot;
    update(node);
    update(pivot);
    return pivot;
}

AreaNode* AreaTree::rebalance(AreaNode* node) {
    int balance = height(node->m_left) - height(node->m_right);
    if (balance > 1) {
        if (height(node->m_left->m_left) < height(node->m_left->m_right)) rotate_left(node->m_left);
        return rotate_right(node);
    }
    if (balance < -1) {
        if (height(node->m_right->m_right) < height(node->m_right->m_left))
            rotate_right(node->m_right);
        return rotate_left(node);
    }
    return node;
}

void AreaTree::retrace(AreaNode* node) {
    // Always walks to the root: the subtree gap maxima change all the way up even when the
    // heights stop changing.
    while (node) {
        update(node);
        node = rebalance(node)->m_parent;
    }
}

void AreaTree::insert(AreaNode* node) {
    AreaNode* parent = nullptr;
    AreaNode** link = &m_root;
    while (*link) {
        parent = *link;
        link = node->start < parent->start ? &parent->m_left : &parent->m_right;
    }
    node->m_left = node->m_right = nullptr;
    node->m_parent = parent;
    node->m_height = 1;
    node->m_gap = node->m_max_gap = 0;
    *link = node;
    ++m_size;
    retrace(parent);
    refresh_gap(node);
    if (AreaNode* after = next(node)) refresh_gap(after);
}

void AreaTree::erase(AreaNode* node) {
    AreaNode* after = next(node);
    AreaNode* retrace_from;
    if (node->m_left && node->m_right) {
        // Relink the successor into node's place; nodes are never copied, since callers hold
        // pointers to them.
        AreaNode* successor = after;
        if (successor->m_parent == node) {
            retrace_from = successor;
        } else {
            retrace_from = successor->m_parent;
            successor->m_parent->m_left = successor->m_right;
            if (successor->m_right) successor->m_right->m_parent = successor->m_parent;
            successor->m_right = node->m_right;
            successor->m_right->m_parent = successor;
        }
        successor->m_left = node->m_left;
        successor->m_left->m_parent = successor;
        successor->m_parent = node->m_parent;
        replace_child(node->m_parent, node, successor);
    } else {
        AreaNode* child = node->m_left ? node->m_left : node->m_right;
        if (child) child->m_parent = node->m_parent;
        replace_child(node->m_parent, node, child);
        retrace_from = node->m_parent;
    }
    node->m_left = node->m_right = node->m_parent = nullptr;
    --m_size;
    retrace(retrace_from);
    if (after) refresh_gap(after);
}

// Reverse in-order walk that skips subtrees whose largest gap is too small, right subtrees
// lying wholly above hi and left subtrees wholly below lo. The first fit is the highest.
// Recursion depth is the tree's height: at most 24 for 65,530 areas.
bool AreaTree::search_down(const AreaNode* node, uint64_t length, uint64_t lo, uint64_t hi,
                           uint64_t& out) {
    if (!node || node->m_max_gap < length) return false;
    // Gaps in the right subtree start at or above node->end.
    if (node->end <= hi - length && search_down(node->m_right, length, lo, hi, out)) return true;
    uint64_t gap_start = node->start - node->m_gap;
    uint64_t s = gap_start > lo ? gap_start : lo, e = node->start < hi ? node->start : hi;
    if (e > s && e - s >= length) {
        out = e - length;
        return true;
    }
    // Gaps in the left subtree end below gap_start.
    return gap_start >= lo + length && search_down(node->m_left, length, lo, hi, out);
}

bool AreaTree::search_up(const AreaNode* node, uint64_t length, uint64_t lo, uint64_t hi,
                         uint64_t& out) {
    if (!node || node->m_max_gap < length) return false;
    uint64_t gap_start = node->start - node->m_gap;
    if (gap_start >= lo + length && search_up(node->m_left, length, lo, hi, out)) return true;
    uint64_t s = gap_start > lo ? gap_start : lo, e = node->start < hi ? node->start : hi;
    if (e > s && e - s >= length) {
        out = s;
        return true;
    }
    return node->end <= hi - length && search_up(node->m_right, length, lo, hi, out);
}

std::optional<uint64_t> AreaTree::find_gap(uint64_t length, uint64_t lo, uint64_t hi,
                                           bool top_down) const {
    if (length == 0 || lo > hi || hi - lo < length) return std::nullopt;
    // The space above the last node is no node's gap, so it is checked apart.
    const AreaNode* top = last();
    uint64_t tail = top && top->end > lo ? top->end : lo;
    bool tail_fits = tail <= hi && hi - tail >= length;
    uint64_t found;
    if (top_down) {
        if (tail_fits) return hi - length;
        if (search_down(m_root, length, lo, hi, found)) return found;
    } else {
        if (search_up(m_root, length, lo, hi, found)) return found;
        if (tail_fits) return tail;
    }
    return std::nullopt;
}

int AreaTree::check_subtree(const AreaNode* node, const AreaNode* parent, size_t& count) {
    if (!node) return 0;
    if (node->m_parent != parent) return -1;
    ++count;
    int left = check_subtree(node->m_left, node, count);
    int right = check_subtree(node->m_right, node, count);
    if (left < 0 || right < 0 || left - right > 1 || right - left > 1) return -1;
    int h = 1 + (left > right ? left : right);
    if (node->m_height != h) return -1;
    if (node->m_max_gap != max3(node->m_gap, max_gap(node->m_left), max_gap(node->m_right)))
        return -1;
    return h;
}

bool AreaTree::check() const {
    size_t count = 0;
    if (check_subtree(m_root, nullptr, count) < 0 || count != m_size) return false;
    uint64_t previous_end = 0;
    for (const AreaNode* node = first(); node; node = next(node)) {
        if (node->start >= node->end || node->start < previous_end) return false;
        if (node->m_gap != node->start - previous_end) return false;
        previous_end = node->end;
    }
    return true;
}

}  // namespace lib::vm
