// The kernel command line: space-separated words, each `key` or `key=value`, as Linux writes
// them (no quoting). Used for what the hypervisor, not the image, decides: virtio-mmio devices
// (`virtio_mmio.device=SIZE@ADDR:IRQ`) and debugging switches.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace lib {

struct CmdlineWord {
    std::string_view key;
    std::string_view value;  // empty for a bare `key` and for `key=`
    bool has_value = false;
};

class Cmdline {
public:
    explicit Cmdline(std::string_view text) : m_text(text) {}

    // Calls fn(const CmdlineWord&) for every word, in order (a key may repeat).
    template <typename Fn>
    void for_each(Fn&& fn) const {
        size_t pos = 0;
        while (pos < m_text.size()) {
            while (pos < m_text.size() && is_space(m_text[pos])) ++pos;
            size_t start = pos;
            while (pos < m_text.size() && !is_space(m_text[pos])) ++pos;
            if (pos > start) fn(split(m_text.substr(start, pos - start)));
        }
    }

    // The value of the last `key=value` or `key` word for key; nullopt when absent.
    std::optional<CmdlineWord> find(std::string_view key) const {
        std::optional<CmdlineWord> found;
        for_each([&](const CmdlineWord& word) {
            if (word.key == key) found = word;
        });
        return found;
    }

private:
    static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
    static CmdlineWord split(std::string_view word) {
        size_t eq = word.find('=');
        if (eq == std::string_view::npos) return {word, {}, false};
        return {word.substr(0, eq), word.substr(eq + 1), true};
    }

    std::string_view m_text;
};

}  // namespace lib
