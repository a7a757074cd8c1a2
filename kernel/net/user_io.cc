// UserIo: chunked copies between sockets and user buffers.
#include "kernel/net/user_io.h"

namespace kernel::net {

namespace {
constexpr size_t kIovMax = 1024;
constexpr uint64_t kMaxRwCount = 0x7ffff000;
}  // namespace

UserIo UserIo::single(uint64_t address, size_t length) {
    UserIo io;
    if (length > kMaxRwCount) length = kMaxRwCount;
    io.m_base = address;
    io.m_left = length;
    io.m_total = length;
    return io;
}

UserIo UserIo::kernel(void* data, size_t length) {
    UserIo io = single(reinterpret_cast<uint64_t>(data), length);
    io.m_kernel = true;
    return io;
}

lib::Result<UserIo> UserIo::vectored(mm::UserIn<sys::IoVec> iov, size_t count) {
    if (count > kIovMax) return lib::Errno::Inval;
    UserIo io;
    io.m_iov = iov.address();
    io.m_count = count;
    uint64_t total = 0;
    for (size_t i = 0; i < count; ++i) {
        sys::IoVec vec;
        TRY(mm::copy_from_user(vec, iov.offset(i)));
        if (int64_t(vec.length) < 0) return lib::Errno::Inval;
        total += vec.length;
        if (total > kMaxRwCount) total = kMaxRwCount;
    }
    io.m_total = total;
    io.m_index = 0;
    TRY(io.advance_vector());
    return io;
}

// Loads the next non-empty iovec when the current one is used up.
lib::ErrorOr UserIo::advance_vector() {
    while (m_left == 0 && m_iov && m_index < m_count) {
        sys::IoVec vec;
        TRY(mm::copy_from_user(vec, mm::UserIn<sys::IoVec>(m_iov).offset(m_index++)));
        m_base = vec.base;
        m_left = vec.length;
    }
    return {};
}

lib::Result<size_t> UserIo::move(void* kernel, size_t length, bool to_user) {
    size_t moved = 0;
    auto* bytes = static_cast<char*>(kernel);
    while (moved < length && m_done < m_total) {
        TRY(advance_vector());
        if (m_left == 0) break;
        size_t chunk = length - moved;
        if (chunk > m_left) chunk = m_left;
        if (chunk > m_total - m_done) chunk = m_total - m_done;
        lib::ErrorOr copied;
        if (m_kernel)
            __builtin_memcpy(to_user ? reinterpret_cast<char*>(m_base) : bytes + moved,
                             to_user ? bytes + moved : reinterpret_cast<const char*>(m_base),
                             chunk);
        else
            copied = to_user ? mm::copy_to_user_bytes(m_base, bytes + moved, chunk)
                             : mm::copy_from_user_bytes(bytes + moved, m_base, chunk);
        if (copied.is_error()) {
            if (moved) break;
            return copied.error();
        }
        m_base += chunk;
        m_left -= chunk;
        m_done += chunk;
        moved += chunk;
    }
    return moved;
}

lib::Result<size_t> UserIo::pull(std::span<char> into) {
    return move(into.data(), into.size(), false);
}

lib::Result<size_t> UserIo::push(std::span<const char> from) {
    return move(const_cast<char*>(from.data()), from.size(), true);
}

void UserIo::skip(size_t count) {
    while (count && m_done < m_total) {
        if (advance_vector().is_error() || m_left == 0) return;
        size_t chunk = count < m_left ? count : m_left;
        m_base += chunk, m_left -= chunk, m_done += chunk, count -= chunk;
    }
}

}  // namespace kernel::net
