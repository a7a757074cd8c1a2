// Result<T, E>: a value or an error, and TRY() to propagate the error. No exceptions anywhere
// in lib/, kernel/ or vmm/; this is how failure travels.
#pragma once

#include <new>
#include <type_traits>
#include <utility>

#include "lib/base/errno.h"

namespace lib {

template <typename E>
struct ErrorTag {
    E error;
};

template <typename T, typename E = Errno>
class [[nodiscard]] Result {
public:
    Result(const T& value) : m_has_value(true) { new (&m_value) T(value); }  // NOLINT
    Result(T&& value) : m_has_value(true) { new (&m_value) T(std::move(value)); }  // NOLINT
    template <typename U>
        requires(std::is_convertible_v<U &&, T> && !std::is_same_v<std::remove_cvref_t<U>, T> &&
                 !std::is_same_v<std::remove_cvref_t<U>, E>)
    Result(U&& value) : m_has_value(true) {  // NOLINT
        new (&m_value) T(std::forward<U>(value));
    }
    Result(E error) : m_has_value(false), m_error(error) {}  // NOLINT

    Result(Result&& other) : m_has_value(other.m_has_value) {
        if (m_has_value)
            new (&m_value) T(std::move(other.m_value));
        else
            m_error = other.m_error;
    }
    Result(const Result& other) : m_has_value(other.m_has_value) {
        if (m_has_value)
            new (&m_value) T(other.m_value);
        else
            m_error = other.m_error;
    }
    Result& operator=(Result other) {
        this->~Result();
        new (this) Result(std::move(other));
        return *this;
    }
    ~Result() {
        if (m_has_value) m_value.~T();
    }

    bool is_error() const { return !m_has_value; }
    bool has_value() const { return m_has_value; }
    E error() const { return m_error; }
    T& value() { return m_value; }
    const T& value() const { return m_value; }
    T release_value() { return std::move(m_value); }
    T value_or(T fallback) const { return m_has_value ? m_value : fallback; }

private:
    bool m_has_value;
    union {
        T m_value;
        E m_error;
    };
};

template <typename E>
class [[nodiscard]] Result<void, E> {
public:
    Result() = default;
    Result(E error) : m_has_error(true), m_error(error) {}  // NOLINT
    bool is_error() const { return m_has_error; }
    bool has_value() const { return !m_has_error; }
    E error() const { return m_error; }
    void release_value() {}

private:
    bool m_has_error = false;
    E m_error{};
};

using ErrorOr = Result<void>;

}  // namespace lib

// TRY(expr): evaluate a Result; on error return that error from the enclosing function,
// otherwise yield the value. A GCC/Clang statement expression.
#define TRY(expr)                                             \
    ({                                                        \
        auto _phx_try_result = (expr);                        \
        if (_phx_try_result.is_error()) [[unlikely]]          \
            return _phx_try_result.error();                   \
        _phx_try_result.release_value();                      \
    })
