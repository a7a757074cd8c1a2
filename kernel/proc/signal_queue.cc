// Pending signal sets: a bitmask and a FIFO of queued siginfo. Runs from syscalls and from
// timer callbacks alike (interrupts are off in the kernel, so neither interrupts the other).
#include <new>

#include "kernel/proc/signal_state.h"

namespace kernel::proc {

void PendingSignals::append(QueuedSignal& entry) {
    entry.next = nullptr;
    entry.queue = this;
    if (m_tail)
        m_tail->next = &entry;
    else
        m_head = &entry;
    m_tail = &entry;
    m_mask |= sig_bit(entry.info.signo);
    ++m_count;
}

bool PendingSignals::add(const SigInfo& info) {
    int signal = info.signo;
    if (signal < kSigRtMin && (m_mask & sig_bit(signal))) return true;  // merged
    if (m_count >= kMaxQueued) {
        if (signal >= kSigRtMin) return false;
        m_mask |= sig_bit(signal);  // the bit alone: take() reports it as SI_USER
        return true;
    }
    auto* entry = new (std::nothrow) QueuedSignal;
    if (!entry) {
        if (signal >= kSigRtMin) return false;
        m_mask |= sig_bit(signal);
        return true;
    }
    entry->info = info;
    append(*entry);
    return true;
}

bool PendingSignals::add_owned(QueuedSignal& entry) {
    if (entry.queue) return false;
    append(entry);
    return true;
}

void PendingSignals::remove(QueuedSignal& entry) {
    if (entry.queue != this) return;
    int signal = entry.info.signo;
    bool more = false;
    QueuedSignal** link = &m_head;
    QueuedSignal* previous = nullptr;
    while (*link) {
        QueuedSignal* current = *link;
        if (current == &entry) {
            *link = current->next;
            if (m_tail == current) m_tail = previous;
            --m_count;
            continue;
        }
        more |= current->info.signo == signal;
        previous = current;
        link = &current->next;
    }
    entry.next = nullptr;
    entry.queue = nullptr;
    if (!more) m_mask &= ~sig_bit(signal);
    if (!entry.on_take) delete &entry;
}

int PendingSignals::take(uint64_t allowed, SigInfo& info) {
    uint64_t candidates = m_mask & allowed;
    if (!candidates) return 0;
    int signal = __builtin_ctzll(candidates) + 1;
    for (QueuedSignal* entry = m_head; entry; entry = entry->next) {
        if (entry->info.signo != signal) continue;
        info = entry->info;
        auto* on_take = entry->on_take;
        remove(*entry);  // frees a heap entry: do not touch it after this
        if (on_take) on_take(*entry, info);
        return signal;
    }
    // Queued without an entry (the heap was out): what Linux reports for it too.
    m_mask &= ~sig_bit(signal);
    info = {};
    info.signo = signal;
    info.code = kSiUser;
    return signal;
}

void PendingSignals::discard(int signal) {
    for (QueuedSignal* entry = m_head; entry;) {
        QueuedSignal* next = entry->next;
        if (entry->info.signo == signal) remove(*entry);
        entry = next;
    }
    m_mask &= ~sig_bit(signal);
}

void PendingSignals::clear() {
    while (m_head) remove(*m_head);
    m_mask = 0;
}

}  // namespace kernel::proc
