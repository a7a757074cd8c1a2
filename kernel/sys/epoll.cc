// epoll. An instance is a file holding an interest list of entries, one per (file, fd) pair;
// each entry is a ReadinessWatch linked into its file, so a file that announces a change
// puts its entries on their instances' ready lists, and epoll_wait looks only at those: its
// cost follows the events, not the size of the interest list. Level-triggered entries go
// back on the ready list after each report (until their file is found not ready);
// edge-triggered ones come back only with the next announcement; one-shot ones are disarmed
// until EPOLL_CTL_MOD. Entries leave when their open file description is destroyed, as on
// Linux. Files that cannot announce (the polled console) are looked at on every pass.
#include "kernel/fs/anon_inode.h"
#include "kernel/fs/file.h"
#include "kernel/mm/heap.h"
#include "kernel/proc/process.h"
#include "kernel/sched/wait.h"
#include "kernel/sys/handlers.h"
#include "kernel/sys/readiness_wait.h"

namespace kernel::sys {

// struct epoll_event: packed on x86-64.
struct [[gnu::packed]] EpollEvent {
    uint32_t events;
    uint64_t data;
};
static_assert(sizeof(EpollEvent) == 12);

namespace {

namespace ev = fs::ev;

constexpr uint32_t kEpollExclusive = 1u << 28, kEpollWakeup = 1u << 29, kEpollOneshot = 1u << 30,
                   kEpollEt = 1u << 31;
constexpr uint32_t kPrivateBits = kEpollExclusive | kEpollWakeup | kEpollOneshot | kEpollEt;
constexpr uint32_t kExclusiveOk = ev::kIn | ev::kOut | ev::kRdNorm | ev::kRdBand | ev::kWrNorm |
                                  ev::kWrBand | ev::kErr | ev::kHup | kEpollWakeup | kEpollEt |
                                  kEpollExclusive;
constexpr int kCtlAdd = 1, kCtlDel = 2, kCtlMod = 3;
constexpr int kEpollCloexec = 02000000;
constexpr int kMaxNests = 4;  // Linux's EP_MAX_NESTS

class EpollFile;

struct Entry final : fs::ReadinessWatch {
    Entry(EpollFile& owner_, int fd_) : owner(owner_), fd(fd_) {}
    void readiness_changed(uint32_t changed) override;
    void file_closed() override;
    const void* owner_object() const override { return &owner; }
    bool armed() const { return events & ~kPrivateBits; }

    EpollFile& owner;
    int fd;
    uint32_t events = 0;  // what was asked for, with EPOLLERR and EPOLLHUP
    uint64_t data = 0;
    Entry* next = nullptr;  // the interest list
    Entry* prev = nullptr;
    Entry* ready_next = nullptr;
    Entry* ready_prev = nullptr;
    Entry* polled_next = nullptr;  // the polled list
    Entry* polled_prev = nullptr;
    bool ready = false;       // on the ready list
    bool polled = false;      // its file cannot announce: looked at on every pass
    bool seen_ready = false;  // polled and edge-triggered: ready at the last look
};

// A doubly linked list of entries through one pair of their links.
template <Entry* Entry::*Next, Entry* Entry::*Prev>
class EntryList {
public:
    bool empty() const { return !m_head; }
    size_t size() const { return m_size; }
    Entry* front() const { return m_head; }
    void push_back(Entry& entry) {
        entry.*Next = nullptr;
        entry.*Prev = m_tail;
        (m_tail ? m_tail->*Next : m_head) = &entry;
        m_tail = &entry;
        ++m_size;
    }
    void push_front(Entry& entry) {
        entry.*Prev = nullptr;
        entry.*Next = m_head;
        (m_head ? m_head->*Prev : m_tail) = &entry;
        m_head = &entry;
        ++m_size;
    }
    void remove(Entry& entry) {
        (entry.*Prev ? entry.*Prev->*Next : m_head) = entry.*Next;
        (entry.*Next ? entry.*Next->*Prev : m_tail) = entry.*Prev;
        entry.*Next = entry.*Prev = nullptr;
        --m_size;
    }

private:
    Entry* m_head = nullptr;
    Entry* m_tail = nullptr;
    size_t m_size = 0;
};

class EpollFile final : public fs::File {
public:
    EpollFile() = default;
    ~EpollFile() override;
    lib::Result<size_t> read(std::span<char>) override { return lib::Errno::Inval; }
    lib::Result<size_t> write(std::span<const char>) override { return lib::Errno::Inval; }
    lib::ErrorOr stat(LinuxStat& out) override {
        fs::anon_inode_stat(out);
        return {};
    }
    uint32_t poll_events() override;
    bool pollable() const override { return true; }
    // Holding a polled file makes the instance one: who waits on it must look again.
    bool polled() const override { return has_polled(); }
    bool is_epoll() const override { return true; }
    void describe(lib::FormatSink& out) const override { out.write("anon_inode:[eventpoll]"); }

    static EpollFile* of(fs::File* file) {
        return file->is_epoll() ? static_cast<EpollFile*>(file) : nullptr;
    }
    Entry* find(fs::File& file, int fd);
    lib::ErrorOr add(fs::File& file, int fd, const EpollEvent& event);
    void modify(Entry& entry, const EpollEvent& event);
    void remove(Entry& entry);
    // Whether this instance reaches `target` through nested instances (or nests too deep).
    bool reaches(EpollFile& target, int depth);

    // Puts `entry` on the ready list (once); the instance itself became readable.
    void queue(Entry& entry);
    void unqueue(Entry& entry);
    // Looks at the entries whose files cannot announce.
    void look_at_polled();
    bool has_polled() const { return !m_polled.empty(); }
    // Reports up to `max` events to user memory at `address`: how many, EFAULT for none.
    lib::Result<int> collect(uint64_t address, int max);

private:
    // Ready events of `entry` now (with EPOLLERR/EPOLLHUP, within what it asked for).
    static uint32_t events_of(Entry& entry) {
        return entry.watched()->poll_events() & entry.events;
    }
    void check_now(Entry& entry);

    EntryList<&Entry::next, &Entry::prev> m_interest;
    EntryList<&Entry::ready_next, &Entry::ready_prev> m_ready;
    EntryList<&Entry::polled_next, &Entry::polled_prev> m_polled;  // files that cannot announce
};

void Entry::readiness_changed(uint32_t changed) {
    if (!armed()) return;                        // one-shot, reported
    if (changed && !(changed & events)) return;  // not what it waits for
    owner.queue(*this);
}

void Entry::file_closed() { owner.remove(*this); }

EpollFile::~EpollFile() {
    while (Entry* entry = m_interest.front()) remove(*entry);
}

// Readable when a ready entry really is ready. Nested instances ask their own entries; the
// depth is bounded by the ELOOP check at EPOLL_CTL_ADD and, for safety, here.
uint32_t EpollFile::poll_events() {
    static int depth = 0;
    if (depth > kMaxNests) return 0;
    ++depth;
    if (has_polled()) look_at_polled();
    uint32_t result = 0;
    for (Entry* entry = m_ready.front(); entry && !result; entry = entry->ready_next)
        if (events_of(*entry)) result = ev::kReadable;
    --depth;
    return result;
}

// A file's watches are few (one per instance and fd watching it): no search of the
// interest list.
Entry* EpollFile::find(fs::File& file, int fd) {
    for (fs::ReadinessWatch* watch = file.first_watch(); watch; watch = watch->next_watch()) {
        if (watch->owner_object() != this) continue;
        auto* entry = static_cast<Entry*>(watch);  // this instance's watches are its entries
        if (entry->fd == fd) return entry;
    }
    return nullptr;
}

bool EpollFile::reaches(EpollFile& target, int depth) {
    if (this == &target || depth > kMaxNests) return true;
    for (Entry* entry = m_interest.front(); entry; entry = entry->next) {
        EpollFile* inner = of(entry->watched());
        if (inner && inner->reaches(target, depth + 1)) return true;
    }
    return false;
}

void EpollFile::check_now(Entry& entry) {
    if (entry.armed() && events_of(entry)) queue(entry);
}

lib::ErrorOr EpollFile::add(fs::File& file, int fd, const EpollEvent& event) {
    auto* entry = mm::try_make<Entry>(*this, fd);
    if (!entry) return lib::Errno::NoMem;
    entry->events = event.events | ev::kErr | ev::kHup;
    entry->data = event.data;
    entry->polled = file.polled();
    if (entry->polled) m_polled.push_back(*entry);
    m_interest.push_back(*entry);
    file.add_watch(*entry);
    check_now(*entry);
    return {};
}

void EpollFile::modify(Entry& entry, const EpollEvent& event) {
    entry.events = event.events | ev::kErr | ev::kHup;
    entry.data = event.data;
    entry.seen_ready = false;
    check_now(entry);
}

void EpollFile::remove(Entry& entry) {
    if (fs::File* file = entry.watched()) file->remove_watch(entry);  // else: the file is going
    unqueue(entry);
    m_interest.remove(entry);
    if (entry.polled) m_polled.remove(entry);
    delete &entry;
}

void EpollFile::queue(Entry& entry) {
    if (entry.ready) return;
    entry.ready = true;
    m_ready.push_back(entry);
    announce(ev::kReadable);
}

void EpollFile::look_at_polled() {
    for (Entry* entry = m_polled.front(); entry; entry = entry->polled_next) {
        if (!entry->armed()) continue;
        bool now = events_of(*entry) != 0;
        // Edge-triggered: only a change from not ready to ready is news.
        if (now && (!(entry->events & kEpollEt) || !entry->seen_ready)) queue(*entry);
        entry->seen_ready = now;
    }
}

// One pass over the entries ready when it starts: level-triggered entries reported go to the
// back for the next call, so a busy one cannot starve the others. Asking an entry's file
// (a nested instance looking at its polled files) may queue the entry again meanwhile.
lib::Result<int> EpollFile::collect(uint64_t address, int max) {
    int reported = 0;
    for (size_t left = m_ready.size(); left > 0 && reported < max && !m_ready.empty(); --left) {
        Entry& entry = *m_ready.front();
        unqueue(entry);
        uint32_t events = events_of(entry);
        if (!events) continue;  // back when its file announces a change
        EpollEvent out{events & ~kPrivateBits, entry.data};
        auto copied =
            mm::copy_to_user_bytes(address + uint64_t(reported) * sizeof out, &out, sizeof out);
        if (copied.is_error()) {
            if (!entry.ready) {
                entry.ready = true;
                m_ready.push_front(entry);
            }
            if (reported == 0) return lib::Errno::Fault;
            break;
        }
        ++reported;
        if (entry.events & kEpollOneshot) {
            entry.events &= kPrivateBits;  // disarmed until EPOLL_CTL_MOD
            unqueue(entry);
        } else if (!(entry.events & kEpollEt) && !entry.ready) {
            entry.ready = true;  // still ready as far as anyone knows: no announcement
            m_ready.push_back(entry);
        }
    }
    return reported;
}

void EpollFile::unqueue(Entry& entry) {
    if (!entry.ready) return;
    m_ready.remove(entry);
    entry.ready = false;
}

lib::Result<int> create_instance(int flags) {
    if (flags & ~kEpollCloexec) return lib::Errno::Inval;
    auto* instance = mm::try_make<EpollFile>();
    if (!instance) return lib::Errno::NoMem;
    auto fd = proc::current().fds().install(instance, 0, flags & kEpollCloexec);
    if (fd.is_error()) instance->release();
    return fd;
}

lib::ErrorOr check_exclusive(int op, const EpollEvent& event, fs::File& target, Entry* entry) {
    if (op == kCtlMod && entry && (entry->events & kEpollExclusive)) return lib::Errno::Inval;
    if (!(event.events & kEpollExclusive)) return {};
    if (op == kCtlMod || (event.events & ~kExclusiveOk) || EpollFile::of(&target))
        return lib::Errno::Inval;
    return {};
}

// The epoll_wait family: collects ready events, sleeping on the readiness queue until some
// come, `deadline` passes or a signal arrives.
SyscallResult wait_for_events(int epfd, uint64_t events, int max, uint64_t deadline) {
    if (max <= 0 || uint64_t(max) > INT32_MAX / sizeof(EpollEvent)) return lib::Errno::Inval;
    if (!mm::user_range_ok(events, uint64_t(max) * sizeof(EpollEvent))) return lib::Errno::Fault;
    fs::File* file = TRY(proc::current().fds().get(epfd));
    EpollFile* instance = EpollFile::of(file);
    if (!instance) return lib::Errno::Inval;
    fs::FileRef hold(file);  // another thread may close epfd while this one sleeps
    fs::PolledBackoff backoff;
    for (;;) {
        if (instance->has_polled()) instance->look_at_polled();
        int reported = TRY(instance->collect(events, max));
        if (reported) return reported;
        uint64_t now = time::monotonic_ns();
        if (deadline <= now) return 0;
        uint64_t wake = instance->has_polled() ? backoff.next(now, deadline) : deadline;
        if (sched::sleep_on(sched::readiness_queue(), wake) == sched::WakeReason::Interrupted)
            return lib::Errno::Intr;
    }
}

}  // namespace

SyscallResult sys_epoll_create(int size) {
    if (size <= 0) return lib::Errno::Inval;
    return TRY(create_instance(0));
}

SyscallResult sys_epoll_create1(int flags) { return TRY(create_instance(flags)); }

SyscallResult sys_epoll_ctl(int epfd, int op, int fd, UserIn<EpollEvent> user_event) {
    EpollEvent event{};
    if (op != kCtlDel) TRY(mm::copy_from_user_bytes(&event, user_event.address(), sizeof event));
    auto& fds = proc::current().fds();
    fs::File* epoll_file = TRY(fds.get(epfd));
    fs::File* target = TRY(fds.get(fd));
    EpollFile* instance = EpollFile::of(epoll_file);
    if (!instance || epoll_file == target) return lib::Errno::Inval;
    if (!target->pollable()) return lib::Errno::Perm;
    Entry* entry = instance->find(*target, fd);
    TRY(check_exclusive(op, event, *target, entry));
    switch (op) {
        case kCtlAdd:
            if (entry) return lib::Errno::Exist;
            if (EpollFile* inner = EpollFile::of(target); inner && inner->reaches(*instance, 1))
                return lib::Errno::Loop;
            TRY(instance->add(*target, fd, event));
            return 0;
        case kCtlMod:
            if (!entry) return lib::Errno::NoEnt;
            instance->modify(*entry, event);
            return 0;
        case kCtlDel:
            if (!entry) return lib::Errno::NoEnt;
            instance->remove(*entry);
            return 0;
        default:
            return lib::Errno::Inval;
    }
}

SyscallResult sys_epoll_wait(int epfd, UserOut<EpollEvent> events, int max, int timeout_ms) {
    return wait_for_events(epfd, events.address(), max, deadline_after_ms(timeout_ms));
}

SyscallResult sys_epoll_pwait(int epfd, UserOut<EpollEvent> events, int max, int timeout_ms,
                              UserIn<uint64_t> sigmask, uint64_t sigset_size) {
    TemporarySigmask mask;
    if (!sigmask.is_null()) TRY(mask.set(sigmask, sigset_size));
    return wait_for_events(epfd, events.address(), max, deadline_after_ms(timeout_ms));
}

SyscallResult sys_epoll_pwait2(int epfd, UserOut<EpollEvent> events, int max,
                               UserIn<TimeSpec> timeout, UserIn<uint64_t> sigmask,
                               uint64_t sigset_size) {
    uint64_t deadline = TRY(deadline_after_timespec(timeout));
    TemporarySigmask mask;
    if (!sigmask.is_null()) TRY(mask.set(sigmask, sigset_size));
    return wait_for_events(epfd, events.address(), max, deadline);
}

}  // namespace kernel::sys
