// The pipe's ring buffer and its two ends. The buffer (contiguous frames) is allocated at the
// first write, so a pipe that never carries data costs no memory. Blocked readers and writers
// sleep on their own queues; the ends announce readiness to epoll and the poll sleepers.
#include "kernel/fs/pipe.h"

#include "kernel/arch/x86_64/layout.h"
#include "kernel/fs/anon_inode.h"
#include "kernel/mm/frames.h"
#include "kernel/mm/heap.h"
#include "kernel/mm/user_ptr.h"
#include "kernel/proc/signal_state.h"
#include "kernel/sched/wait.h"
#include "kernel/sys/linux_types.h"
#include "kernel/time/clock.h"

namespace kernel::fs {

namespace {

constexpr int kONonblock = 04000, kOAppend = 02000, kOWronly = 01;
constexpr uint32_t kFionread = 0x541b;
constexpr int kSigPipe = 13;

// Where the bytes of one transfer are: kernel memory (File::read/write) or user memory.
struct Place {
    uint64_t address;
    bool user;

    lib::ErrorOr put(size_t offset, const char* from, size_t length) const {
        if (user) return mm::copy_to_user_bytes(address + offset, from, length);
        __builtin_memcpy(reinterpret_cast<char*>(address) + offset, from, length);
        return {};
    }
    lib::ErrorOr get(char* to, size_t offset, size_t length) const {
        if (user) return mm::copy_from_user_bytes(to, address + offset, length);
        __builtin_memcpy(to, reinterpret_cast<const char*>(address) + offset, length);
        return {};
    }
};

size_t pages_for(size_t bytes) { return bytes / arch::kPageSize; }

}  // namespace

class Pipe {
public:
    Pipe() : m_ino(next_pipe_ino()), m_created(time::realtime_ns()) {}
    ~Pipe() {
        if (m_buffer) mm::free_frames(arch::virt_to_phys(m_buffer), pages_for(m_capacity));
    }

    lib::Result<size_t> read(Place to, size_t count, bool nonblocking);
    lib::Result<size_t> write(Place from, size_t count, bool nonblocking);
    lib::Result<size_t> resize(uint64_t bytes);
    // An end is going away; deletes the pipe after the second.
    void end_closed(PipeEnd& end);

    uint32_t reader_events() const {
        return (m_used ? ev::kReadable : 0) | (m_writer ? 0 : ev::kHup);
    }
    uint32_t writer_events() const {
        return (writable() ? ev::kWritable : 0) | (m_reader ? 0 : ev::kErr);
    }

    PipeEnd* m_reader = nullptr;
    PipeEnd* m_writer = nullptr;
    size_t m_capacity = PipeEnd::kDefaultCapacity;
    size_t m_used = 0;
    uint64_t m_ino;
    uint64_t m_created;

private:
    // POLLOUT once a PIPE_BUF-sized write would go in whole.
    bool writable() const { return m_capacity - m_used >= PipeEnd::kPipeBuf; }
    lib::ErrorOr copy_out(Place to, size_t length);
    lib::ErrorOr copy_in(Place from, size_t offset, size_t length);
    // Bytes went in or out: wake the other side's sleepers and tell its watchers.
    void consumed(bool was_writable);
    void produced(bool was_empty);

    char* m_buffer = nullptr;
    size_t m_head = 0;           // the oldest byte
    sched::WaitQueue m_readers;  // threads blocked reading an empty pipe
    sched::WaitQueue m_writers;  // threads blocked writing a full one
};

// The oldest `length` bytes (at most m_used) to `to`, in up to two pieces; consumed only if
// both arrive.
lib::ErrorOr Pipe::copy_out(Place to, size_t length) {
    size_t first = m_capacity - m_head < length ? m_capacity - m_head : length;
    TRY(to.put(0, m_buffer + m_head, first));
    if (first < length) TRY(to.put(first, m_buffer, length - first));
    m_head = (m_head + length) % m_capacity;
    m_used -= length;
    if (m_used == 0) m_head = 0;  // keeps the next writes in one piece
    return {};
}

lib::ErrorOr Pipe::copy_in(Place from, size_t offset, size_t length) {
    if (!m_buffer) {
        auto frames = mm::alloc_frames(pages_for(m_capacity));
        if (frames.is_error()) return lib::Errno::NoMem;
        m_buffer = arch::phys_to_virt<char>(frames.value());
    }
    size_t tail = (m_head + m_used) % m_capacity;
    size_t first = m_capacity - tail < length ? m_capacity - tail : length;
    TRY(from.get(m_buffer + tail, offset, first));
    if (first < length) TRY(from.get(m_buffer, offset + first, length - first));
    m_used += length;
    return {};
}

void Pipe::consumed(bool was_writable) {
    if (!m_writers.empty()) m_writers.wake_all();  // the call costs where ring 0 is emulated
    if (m_writer && !was_writable && writable()) m_writer->announce_change(ev::kWritable, true);
}

// Every write is news for an edge-triggered reader (Linux wakes on each write once epoll has
// looked at the pipe); poll and select only care when the pipe was empty.
void Pipe::produced(bool was_empty) {
    if (!m_readers.empty()) m_readers.wake_all();
    if (m_reader) m_reader->announce_change(ev::kReadable, was_empty);
}

lib::Result<size_t> Pipe::read(Place to, size_t count, bool nonblocking) {
    if (count == 0) return size_t(0);
    for (;;) {
        if (m_used) {
            size_t length = m_used < count ? m_used : count;
            bool was_writable = writable();
            TRY(copy_out(to, length));
            consumed(was_writable);
            return length;
        }
        if (!m_writer) return size_t(0);  // EOF
        if (nonblocking) return lib::Errno::Again;
        auto reason =
            sched::wait_event(m_readers, sched::kForever, [this] { return m_used || !m_writer; });
        if (reason == sched::WakeReason::Interrupted) return lib::Errno::Intr;
    }
}

lib::Result<size_t> Pipe::write(Place from, size_t count, bool nonblocking) {
    if (count == 0) return size_t(0);
    bool atomic = count <= PipeEnd::kPipeBuf;
    size_t done = 0;
    for (;;) {
        if (!m_reader) {
            proc::send_signal(&sched::current(), kSigPipe);
            if (done) return done;
            return lib::Errno::Pipe;
        }
        size_t free = m_capacity - m_used, want = count - done;
        if (free >= (atomic ? want : 1)) {
            size_t length = free < want ? free : want;
            bool was_empty = m_used == 0;
            auto copied = copy_in(from, done, length);
            if (copied.is_error()) {
                if (done) return done;
                return copied.error();
            }
            done += length;
            produced(was_empty);
            if (done == count) return done;
            continue;
        }
        if (nonblocking) {
            if (done) return done;
            return lib::Errno::Again;
        }
        // Wait for room for the rest, or a PIPE_BUF's worth of it: a writer woken for every
        // byte a reader takes would move a byte per wakeup.
        size_t room = want < PipeEnd::kPipeBuf ? want : PipeEnd::kPipeBuf;
        auto reason = sched::wait_event(m_writers, sched::kForever, [this, room] {
            return !m_reader || m_capacity - m_used >= room;
        });
        if (reason == sched::WakeReason::Interrupted) {
            if (done) return done;
            return lib::Errno::Intr;
        }
    }
}

lib::Result<size_t> Pipe::resize(uint64_t bytes) {
    if (bytes > PipeEnd::kMaxCapacity) return lib::Errno::Perm;
    size_t capacity = arch::kPageSize;
    while (capacity < bytes) capacity *= 2;
    if (capacity < m_used) return lib::Errno::Busy;
    if (capacity == m_capacity) return capacity;
    if (m_buffer) {
        auto frames = mm::alloc_frames(pages_for(capacity));
        if (frames.is_error()) return lib::Errno::NoMem;
        char* buffer = arch::phys_to_virt<char>(frames.value());
        size_t used = m_used;
        if (used) (void)copy_out(Place{reinterpret_cast<uint64_t>(buffer), false}, used);
        mm::free_frames(arch::virt_to_phys(m_buffer), pages_for(m_capacity));
        m_buffer = buffer;
        m_head = 0;
        m_used = used;
    }
    bool was_writable = writable();
    m_capacity = capacity;
    consumed(was_writable);
    return capacity;
}

void Pipe::end_closed(PipeEnd& end) {
    if (&end == m_reader) {
        m_reader = nullptr;
        m_writers.wake_all();
        if (m_writer) m_writer->announce_change(ev::kErr, true);
    } else {
        m_writer = nullptr;
        m_readers.wake_all();
        if (m_reader) m_reader->announce_change(ev::kHup, true);
    }
    if (!m_reader && !m_writer) delete this;
}

lib::ErrorOr PipeEnd::create(int flags, PipeEnd*& reader, PipeEnd*& writer) {
    auto* pipe = mm::try_make<Pipe>();
    if (!pipe) return lib::Errno::NoMem;
    int nonblock = flags & kONonblock;
    pipe->m_reader = new (std::nothrow) PipeEnd(*pipe, nonblock);
    pipe->m_writer = new (std::nothrow) PipeEnd(*pipe, kOWronly | nonblock);
    if (!pipe->m_reader || !pipe->m_writer) {
        PipeEnd* made = pipe->m_reader ? pipe->m_reader : pipe->m_writer;
        if (made)
            made->release();  // deletes the pipe with it
        else
            delete pipe;
        return lib::Errno::NoMem;
    }
    reader = pipe->m_reader;
    writer = pipe->m_writer;
    return {};
}

PipeEnd::~PipeEnd() { m_pipe.end_closed(*this); }

bool PipeEnd::nonblocking() const { return m_flags & kONonblock; }

lib::Result<size_t> PipeEnd::read(std::span<char> buffer) {
    if (!reading()) return lib::Errno::BadF;
    return m_pipe.read({reinterpret_cast<uint64_t>(buffer.data()), false}, buffer.size(),
                       nonblocking());
}

lib::Result<size_t> PipeEnd::write(std::span<const char> data) {
    if (reading()) return lib::Errno::BadF;
    return m_pipe.write({reinterpret_cast<uint64_t>(data.data()), false}, data.size(),
                        nonblocking());
}

lib::Result<size_t> PipeEnd::read_user(uint64_t address, size_t count) {
    if (!reading()) return lib::Errno::BadF;
    return m_pipe.read({address, true}, count, nonblocking());
}

lib::Result<size_t> PipeEnd::write_user(uint64_t address, size_t count) {
    if (reading()) return lib::Errno::BadF;
    return m_pipe.write({address, true}, count, nonblocking());
}

lib::Result<int64_t> PipeEnd::ioctl(uint32_t request, uint64_t argument) {
    if (request != kFionread) return lib::Errno::NotTy;
    int available = int(m_pipe.m_used);
    TRY(mm::copy_to_user(mm::UserOut<int>(argument), available));
    return 0;
}

lib::ErrorOr PipeEnd::stat(sys::LinuxStat& out) {
    pipe_stat(out, m_pipe.m_ino, m_pipe.m_created);
    return {};
}

uint32_t PipeEnd::poll_events() {
    return reading() ? m_pipe.reader_events() : m_pipe.writer_events();
}

void PipeEnd::set_status_flags(int flags) {
    constexpr int kChangeable = kONonblock | kOAppend;
    m_flags = (m_flags & ~kChangeable) | (flags & kChangeable);
}

void PipeEnd::describe(lib::FormatSink& out) const {
    lib::format_to(out, "pipe:[{}]", m_pipe.m_ino);
}

size_t PipeEnd::capacity() const { return m_pipe.m_capacity; }

lib::Result<size_t> PipeEnd::set_capacity(uint64_t bytes) { return m_pipe.resize(bytes); }

}  // namespace kernel::fs
