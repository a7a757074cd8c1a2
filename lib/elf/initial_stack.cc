// Builds the initial process stack (freestanding and hosted): first a layout with every size
// checked for overflow, then the writes, all at user addresses inside [rsp, stack_top).
#include "lib/elf/initial_stack.h"

#include "lib/base/checked.h"

namespace lib::elf {

namespace {

// Where each part goes, as user addresses (see the picture in initial_stack.h).
struct Layout {
    uint64_t execfn;
    uint64_t env_strings;
    uint64_t arg_strings;
    uint64_t platform;
    uint64_t random;
    uint64_t rsp;
};

// A loop rather than string_view::find: that may call memchr, which the kernel lacks.
bool has_nul(std::string_view text) {
    for (char c : text)
        if (c == '\0') return true;
    return false;
}

// Types the builder emits itself; a caller's copy would be ambiguous (AT_NULL would cut auxv).
bool reserved_aux(uint64_t type) {
    return type == AT_NULL || type == AT_RANDOM || type == AT_EXECFN || type == AT_PLATFORM;
}

Result<void> check_inputs(const InitialStackSpec& spec) {
    for (std::string_view arg : spec.argv)
        if (has_nul(arg)) return Errno::Inval;
    for (std::string_view env : spec.envp)
        if (has_nul(env)) return Errno::Inval;
    if (has_nul(spec.execfn) || has_nul(spec.platform)) return Errno::Inval;
    for (const AuxEntry& entry : spec.aux)
        if (reserved_aux(entry.type)) return Errno::Inval;
    return {};
}

// Bytes the strings take with their NULs.
std::optional<uint64_t> strings_size(std::span<const std::string_view> strings) {
    uint64_t total = 0;
    for (std::string_view s : strings) {
        auto with_nul = checked_add<uint64_t>(s.size(), 1);
        if (!with_nul) return std::nullopt;
        auto sum = checked_add(total, *with_nul);
        if (!sum) return std::nullopt;
        total = *sum;
    }
    return total;
}

// Moves a downward-growing cursor by `size` bytes; fails when that passes address 0.
Result<uint64_t> push(uint64_t& cursor, std::optional<uint64_t> size) {
    if (!size || *size > cursor) return Errno::TooBig;
    cursor -= *size;
    return cursor;
}

// The words below the random bytes: argc, argv[] and NULL, envp[] and NULL, auxv pairs.
std::optional<uint64_t> table_size(const InitialStackSpec& spec) {
    uint64_t aux_pairs = 3 + (spec.platform.empty() ? 0 : 1);  // RANDOM, EXECFN, [PLATFORM], NULL
    auto pairs = checked_add<uint64_t>(spec.aux.size(), aux_pairs);
    auto vectors = checked_add<uint64_t>(spec.argv.size(), spec.envp.size());
    if (!pairs || !vectors) return std::nullopt;
    auto aux_words = checked_mul<uint64_t>(*pairs, 2);
    auto pointer_words = checked_add<uint64_t>(*vectors, 3);  // argc and two NULLs
    if (!aux_words || !pointer_words) return std::nullopt;
    auto words = checked_add(*aux_words, *pointer_words);
    if (!words) return std::nullopt;
    return checked_mul<uint64_t>(*words, 8);
}

Result<Layout> plan(const InitialStackSpec& spec, uint64_t stack_top, size_t buffer_size) {
    Layout layout;
    uint64_t cursor = stack_top;
    TRY(push(cursor, 8));  // Linux's end marker: bprm->p starts one pointer below the top
    layout.execfn = TRY(push(cursor, checked_add<uint64_t>(spec.execfn.size(), 1)));
    layout.env_strings = TRY(push(cursor, strings_size(spec.envp)));
    layout.arg_strings = TRY(push(cursor, strings_size(spec.argv)));
    uint64_t platform_size = spec.platform.empty() ? 0 : spec.platform.size() + 1;
    layout.platform = TRY(push(cursor, platform_size));
    layout.random = TRY(push(cursor, spec.random.size()));
    TRY(push(cursor, table_size(spec)));
    // psABI §3.4.1: rsp is 16-byte aligned at entry, and argc is the word at rsp.
    layout.rsp = align_down(cursor, 16);
    if (stack_top - layout.rsp > buffer_size) return Errno::TooBig;
    return layout;
}

// Writes at user addresses inside [rsp, stack_top), which plan() proved lie inside the buffer.
class StackWriter {
public:
    StackWriter(std::span<std::byte> buffer, uint64_t stack_top)
        : m_buffer(buffer), m_top(stack_top) {}

    void zero(uint64_t from) {
        for (size_t i = offset(from); i < m_buffer.size(); ++i) m_buffer[i] = std::byte{0};
    }
    void bytes(uint64_t address, std::span<const std::byte> data) {
        size_t at = offset(address);
        for (size_t i = 0; i < data.size(); ++i) m_buffer[at + i] = data[i];
    }
    // Writes text and its NUL; returns the address just past them.
    uint64_t string(uint64_t address, std::string_view text) {
        bytes(address, std::as_bytes(std::span<const char>(text.data(), text.size())));
        m_buffer[offset(address) + text.size()] = std::byte{0};
        return address + text.size() + 1;
    }
    void word(uint64_t address, uint64_t value) {
        __builtin_memcpy(m_buffer.data() + offset(address), &value, sizeof(value));
    }

private:
    size_t offset(uint64_t address) const { return m_buffer.size() - size_t(m_top - address); }

    std::span<std::byte> m_buffer;
    uint64_t m_top;
};

// Writes each string upward from `strings` and its pointer upward from `pointers`, then the
// terminating NULL pointer; returns the address after that NULL.
uint64_t write_vector(StackWriter& out, uint64_t pointers, uint64_t strings,
                      std::span<const std::string_view> items) {
    for (std::string_view item : items) {
        out.word(pointers, strings);
        strings = out.string(strings, item);
        pointers += 8;
    }
    out.word(pointers, 0);
    return pointers + 8;
}

}  // namespace

Result<uint64_t> build_initial_stack(std::span<std::byte> buffer, uint64_t stack_top,
                                     const InitialStackSpec& spec) {
    TRY(check_inputs(spec));
    Layout layout = TRY(plan(spec, stack_top, buffer.size()));
    StackWriter out(buffer, stack_top);
    out.zero(layout.rsp);  // the end marker and the alignment padding
    out.string(layout.execfn, spec.execfn);
    if (!spec.platform.empty()) out.string(layout.platform, spec.platform);
    out.bytes(layout.random, spec.random);

    uint64_t at = layout.rsp;
    out.word(at, spec.argv.size());
    at = write_vector(out, at + 8, layout.arg_strings, spec.argv);
    at = write_vector(out, at, layout.env_strings, spec.envp);
    auto aux = [&](uint64_t type, uint64_t value) {
        out.word(at, type);
        out.word(at + 8, value);
        at += 16;
    };
    for (const AuxEntry& entry : spec.aux) aux(entry.type, entry.value);
    aux(AT_RANDOM, layout.random);
    aux(AT_EXECFN, layout.execfn);
    if (!spec.platform.empty()) aux(AT_PLATFORM, layout.platform);
    aux(AT_NULL, 0);
    return layout.rsp;
}

}  // namespace lib::elf
