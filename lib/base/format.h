// Type-safe formatting without allocation, for the kernel console and crash reports (and the
// same code on the host). Syntax is a small subset of std::format:
//   {}  {:x}  {:#x}  {:016x}  {:>8}  {:<8}  {:d}  {:c}
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

namespace lib {

class FormatSink {
public:
    virtual void write(std::string_view text) = 0;

protected:
    ~FormatSink() = default;
};

// Formats into a fixed buffer, truncating; always NUL-terminated when capacity > 0.
class BufferSink final : public FormatSink {
public:
    BufferSink(char* buffer, size_t capacity) : m_buffer(buffer), m_capacity(capacity) {
        if (m_capacity) m_buffer[0] = '\0';
    }
    void write(std::string_view text) override;
    std::string_view view() const { return {m_buffer, m_length}; }
    bool truncated() const { return m_truncated; }

private:
    char* m_buffer;
    size_t m_capacity;
    size_t m_length = 0;
    bool m_truncated = false;
};

struct FormatArg {
    enum class Kind : uint8_t { Signed, Unsigned, Pointer, String, Char, Bool };
    Kind kind;
    union {
        int64_t i;
        uint64_t u;
        const void* p;
        struct {
            const char* data;
            size_t size;
        } s;
        char c;
        bool b;
    };

    template <typename T>
    static FormatArg from(const T& value) {
        FormatArg arg{};
        using U = std::remove_cvref_t<T>;
        if constexpr (std::is_same_v<U, bool>) {
            arg.kind = Kind::Bool;
            arg.b = value;
        } else if constexpr (std::is_same_v<U, char>) {
            arg.kind = Kind::Char;
            arg.c = value;
        } else if constexpr (std::is_enum_v<U>) {
            arg.kind = Kind::Signed;
            arg.i = static_cast<int64_t>(value);
        } else if constexpr (std::is_integral_v<U> && std::is_signed_v<U>) {
            arg.kind = Kind::Signed;
            arg.i = value;
        } else if constexpr (std::is_integral_v<U>) {
            arg.kind = Kind::Unsigned;
            arg.u = value;
        } else if constexpr (std::is_null_pointer_v<U>) {
            // Before the string case: nullptr_t converts to string_view, which would strlen(0).
            arg.kind = Kind::Pointer;
            arg.p = nullptr;
        } else if constexpr (std::is_convertible_v<const U&, std::string_view>) {
            arg.kind = Kind::String;
            if constexpr (std::is_pointer_v<U>) {
                if (value == nullptr) {  // a null C string prints, rather than faulting
                    arg.s = {"(null)", 6};
                    return arg;
                }
            }
            std::string_view view(value);
            arg.s = {view.data(), view.size()};
        } else if constexpr (std::is_pointer_v<U>) {
            arg.kind = Kind::Pointer;
            arg.p = value;
        } else {
            static_assert(sizeof(U) == 0, "lib::format: unsupported argument type");
        }
        return arg;
    }
};

void vformat(FormatSink& sink, std::string_view fmt, const FormatArg* args, size_t count);

template <typename... Args>
void format_to(FormatSink& sink, std::string_view fmt, const Args&... args) {
    if constexpr (sizeof...(Args) == 0) {
        vformat(sink, fmt, nullptr, 0);
    } else {
        const FormatArg packed[] = {FormatArg::from(args)...};
        vformat(sink, fmt, packed, sizeof...(Args));
    }
}

// Formats into buffer and returns the (possibly truncated) text.
template <typename... Args>
std::string_view format_buffer(char* buffer, size_t capacity, std::string_view fmt,
                               const Args&... args) {
    BufferSink sink(buffer, capacity);
    format_to(sink, fmt, args...);
    return sink.view();
}

}  // namespace lib
