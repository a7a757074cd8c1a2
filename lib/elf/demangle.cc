// Demanglers for what backtraces meet most: Rust legacy and v0 (the Rust reference,
// "Symbol name mangling"; RFC 2603) and the common subset of the Itanium C++ ABI §5.1
// ("External Names"). Input is hostile: every read is bounded and recursion has a depth limit.
#include "lib/elf/demangle.h"

#include <cstdint>

namespace lib::elf {

namespace {

// Bounded output: once something does not fit, the result is abandoned.
class Out {
public:
    explicit Out(std::span<char> buffer) : m_buffer(buffer) {}
    void put(std::string_view text) {
        for (char c : text) put(c);
    }
    void put(char c) {
        if (m_length < m_buffer.size())
            m_buffer[m_length++] = c;
        else
            m_overflow = true;
    }
    void put_number(uint64_t value) {
        char digits[20];
        int n = 0;
        do digits[n++] = char('0' + value % 10);
        while ((value /= 10) != 0);
        while (n > 0) put(digits[--n]);
    }
    bool ok() const { return !m_overflow; }
    std::string_view text() const { return {m_buffer.data(), m_length}; }
    size_t length() const { return m_length; }
    void truncate(size_t length) { m_length = length; }

private:
    std::span<char> m_buffer;
    size_t m_length = 0;
    bool m_overflow = false;
};

// Input with a cursor; reads past the end see '\0'.
struct In {
    std::string_view text;
    size_t pos = 0;
    bool failed = false;

    char peek() const { return pos < text.size() ? text[pos] : '\0'; }
    char next() { return pos < text.size() ? text[pos++] : (failed = true, '\0'); }
    bool eat(char c) {
        if (peek() != c) return false;
        ++pos;
        return true;
    }
    bool at_end() const { return pos >= text.size(); }
    // A decimal length (no leading zeros but "0"), bounded by what is left.
    bool decimal(uint64_t& value) {
        if (peek() < '0' || peek() > '9') return false;
        value = 0;
        if (peek() == '0') {
            ++pos;
            return true;
        }
        while (peek() >= '0' && peek() <= '9') {
            value = value * 10 + uint64_t(next() - '0');
            if (value > text.size()) return false;
        }
        return true;
    }
    // `length` raw bytes.
    bool bytes(uint64_t length, std::string_view& out) {
        if (length > text.size() - pos) return false;
        out = text.substr(pos, length);
        pos += length;
        return true;
    }
};

bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

// --- Rust legacy: _ZN <length><ident>... E, the last ident "h" + 16 hex digits ------------

bool is_rust_hash(std::string_view ident) {
    if (ident.size() != 17 || ident[0] != 'h') return false;
    for (char c : ident.substr(1))
        if (!is_hex(c)) return false;
    return true;
}

// One component with rustc's escapes: $LT$ $GT$ $RF$ $BP$ $C$ $SP$ $LP$ $RP$ $uNN$, ".." as
// "::"; a leading "_$" is a "$" that had to be escaped from the start of an identifier.
bool put_rust_legacy_ident(std::string_view ident, Out& out) {
    if (ident.size() >= 2 && ident[0] == '_' && ident[1] == '$') ident.remove_prefix(1);
    struct Escape {
        std::string_view code;
        char c;
    };
    static constexpr Escape kEscapes[] = {{"$LT$", '<'}, {"$GT$", '>'}, {"$RF$", '&'},
                                          {"$BP$", '*'}, {"$C$", ','},  {"$SP$", '@'},
                                          {"$LP$", '('}, {"$RP$", ')'}};
    size_t i = 0;
    while (i < ident.size()) {
        std::string_view rest = ident.substr(i);
        if (rest.starts_with("..")) {
            out.put("::");
            i += 2;
            continue;
        }
        if (rest[0] != '$') {
            out.put(rest[0]);
            ++i;
            continue;
        }
        bool matched = false;
        for (const Escape& e : kEscapes) {
            if (rest.starts_with(e.code)) {
                out.put(e.c);
                i += e.code.size();
                matched = true;
                break;
            }
        }
        if (matched) continue;
        // $uNN$: a character by its hex code (ASCII only in practice).
        if (rest.size() >= 5 && rest[1] == 'u') {
            size_t end = rest.find('$', 2);
            if (end == std::string_view::npos || end < 3 || end > 4) return false;
            unsigned value = 0;
            for (char c : rest.substr(2, end - 2)) {
                if (!is_hex(c)) return false;
                value = value * 16 + unsigned(c <= '9' ? c - '0' : c - 'a' + 10);
            }
            if (value < 0x20 || value > 0x7e) return false;
            out.put(char(value));
            i += end + 1;
            continue;
        }
        return false;
    }
    return true;
}

// --- Itanium C++ (and the shared _ZN framing of Rust legacy) ------------------------------

constexpr int kMaxDepth = 64;

// <substitution> abbreviations that name std entities (§5.1.5.3); others are not supported.
std::string_view std_abbreviation(char c) {
    switch (c) {
        case 't':
            return "std";
        case 'a':
            return "std::allocator";
        case 'b':
            return "std::basic_string";
        case 's':
            return "std::string";
        case 'i':
            return "std::istream";
        case 'o':
            return "std::ostream";
        case 'd':
            return "std::iostream";
        default:
            return {};
    }
}

// <unqualified-name> inside a nested or unscoped name: a <source-name>, a constructor or
// destructor (named after the previous component), with optional ABI tags.
bool cxx_unqualified(In& in, Out& out, std::string_view& last) {
    uint64_t length;
    if (in.decimal(length)) {
        std::string_view ident;
        if (length == 0 || !in.bytes(length, ident)) return false;
        out.put(ident);
        last = ident;
    } else if (in.peek() == 'C' || in.peek() == 'D') {
        char kind = in.next();
        char variant = in.next();
        if (last.empty() || variant < '0' || variant > '5') return false;
        if (kind == 'D') out.put('~');
        out.put(last);
    } else {
        return false;  // operators, lambdas, unnamed types...: not here
    }
    while (in.eat('B')) {  // <abi-tag>
        std::string_view tag;
        if (!in.decimal(length) || length == 0 || !in.bytes(length, tag)) return false;
        out.put("[abi:");
        out.put(tag);
        out.put(']');
    }
    return true;
}

// A nested name after its 'N': [CV-qualifiers] [ref-qualifier] components 'E'. Returns the
// components (`count`) and the last one.
bool cxx_nested(In& in, Out& out, std::string_view& last, size_t& count,
                std::string_view& last_raw) {
    while (in.peek() == 'r' || in.peek() == 'V' || in.peek() == 'K') in.next();
    if (in.peek() == 'R' || in.peek() == 'O') in.next();
    if (in.peek() == 'S') {
        in.next();
        std::string_view name = std_abbreviation(in.next());
        if (name.empty()) return false;
        out.put(name);
        last = name.substr(name.rfind(':') == std::string_view::npos ? 0 : name.rfind(':') + 1);
        ++count;
    }
    while (!in.eat('E')) {
        if (in.at_end() || count > kMaxDepth) return false;
        if (count) out.put("::");
        size_t before = in.pos;
        if (!cxx_unqualified(in, out, last)) return false;
        last_raw = in.text.substr(before, in.pos - before);
        ++count;
    }
    return count > 0;
}

// _ZN...E for Rust legacy: the same framing, the hash dropped and the escapes decoded.
bool rust_legacy(std::string_view name, Out& out) {
    In in{name.substr(3)};  // after "_ZN"
    std::string_view idents[kMaxDepth];
    size_t count = 0;
    while (!in.eat('E')) {
        uint64_t length;
        if (count == kMaxDepth || !in.decimal(length) || length == 0 ||
            !in.bytes(length, idents[count]))
            return false;
        ++count;
    }
    if (count < 2 || !is_rust_hash(idents[count - 1])) return false;
    for (size_t i = 0; i + 1 < count; ++i) {
        if (i) out.put("::");
        if (!put_rust_legacy_ident(idents[i], out)) return false;
    }
    return true;  // a trailing ".llvm.123" or the like is dropped with everything after E
}

bool itanium(std::string_view name, Out& out) {
    In in{name.substr(2)};  // after "_Z"
    std::string_view last, last_raw;
    size_t count = 0;
    if (in.eat('N')) return cxx_nested(in, out, last, count, last_raw);
    if (in.peek() == 'S' && in.text.substr(in.pos).starts_with("St")) {
        in.pos += 2;
        out.put("std::");
    }
    if (in.eat('L')) {
    }  // internal linkage (a static function)
    if (!cxx_unqualified(in, out, last)) return false;
    // Template arguments (I...E) would need a type demangler: leave the name raw.
    return in.peek() != 'I';
}

// --- Rust v0: _R [<decimal>] <path> [<instantiating-crate>] ------------------------------

class RustV0 {
public:
    RustV0(std::string_view text, Out& out) : m_in{text}, m_out(out) {}

    bool symbol() {
        m_in.pos = 2;                                                // after "_R"
        if (m_in.peek() >= '0' && m_in.peek() <= '9') return false;  // a future encoding version
        m_start = m_in.pos;
        return path(0) && !m_in.failed;
    }

private:
    // <base-62-number>: "_" is 0, else digits 0-9 a-z A-Z then "_", plus one.
    bool base62(uint64_t& value) {
        if (m_in.eat('_')) {
            value = 0;
            return true;
        }
        uint64_t v = 0;
        while (!m_in.eat('_')) {
            char c = m_in.next();
            uint64_t digit;
            if (c >= '0' && c <= '9')
                digit = uint64_t(c - '0');
            else if (c >= 'a' && c <= 'z')
                digit = uint64_t(c - 'a' + 10);
            else if (c >= 'A' && c <= 'Z')
                digit = uint64_t(c - 'A' + 36);
            else
                return false;
            if (v > (UINT64_MAX - digit) / 62) return false;
            v = v * 62 + digit;
        }
        value = v + 1;
        return value != 0;
    }
    bool disambiguator(uint64_t& value) {
        value = 0;
        if (!m_in.eat('s')) return true;
        return base62(value) && (++value, true);
    }
    // <identifier> = [<disambiguator>] <undisambiguated-identifier>; Punycode ('u') is not
    // decoded: the whole symbol then stays raw.
    bool identifier(std::string_view& ident, uint64_t& dis) {
        if (!disambiguator(dis)) return false;
        if (m_in.peek() == 'u') return false;
        uint64_t length;
        if (!m_in.decimal(length)) return false;
        m_in.eat('_');
        return m_in.bytes(length, ident);
    }
    // B <base-62-number>: the path, type or const at that offset from just after "_R",
    // which must lie before the backref itself (so a chain of them cannot loop).
    template <typename Fn>
    bool backref(int depth, Fn&& parse) {
        size_t at = m_in.pos - 1;
        uint64_t target;
        if (!base62(target) || m_start + target >= at) return false;
        size_t saved = m_in.pos;
        m_in.pos = m_start + size_t(target);
        bool ok = parse(depth + 1);
        m_in.pos = saved;
        return ok;
    }

    bool path(int depth) {
        if (depth > kMaxDepth) return false;
        uint64_t dis;
        std::string_view ident;
        switch (m_in.next()) {
            case 'C':  // crate root
                if (!identifier(ident, dis)) return false;
                m_out.put(ident);
                return true;
            case 'N': {  // nested: <namespace> <path> <identifier>
                char ns = m_in.next();
                if (!path(depth + 1) || !identifier(ident, dis)) return false;
                if (ns >= 'a' && ns <= 'z') {
                    m_out.put("::");
                    m_out.put(ident);
                } else if (ns >= 'A' && ns <= 'Z') {  // closures, shims
                    m_out.put("::{");
                    m_out.put(ns == 'C'   ? "closure"
                              : ns == 'S' ? "shim"
                                          : std::string_view(&ns, 1));
                    if (!ident.empty()) {
                        m_out.put(':');
                        m_out.put(ident);
                    }
                    m_out.put('#');
                    m_out.put_number(dis);
                    m_out.put('}');
                } else {
                    return false;
                }
                return true;
            }
            case 'M':  // inherent impl: <impl-path> <type>, shown as <Type>
                if (!impl_path(depth)) return false;
                m_out.put('<');
                if (!type(depth + 1)) return false;
                m_out.put('>');
                return true;
            case 'X':  // trait impl: <impl-path> <type> <path>, shown as <Type as Trait>
                if (!impl_path(depth)) return false;
                [[fallthrough]];
            case 'Y':  // trait definition: <type> <path>
                m_out.put('<');
                if (!type(depth + 1)) return false;
                m_out.put(" as ");
                if (!path(depth + 1)) return false;
                m_out.put('>');
                return true;
            case 'I':  // generic arguments: <path> {<generic-arg>} E
                if (!path(depth + 1)) return false;
                return generic_args(depth);
            case 'B':
                return backref(depth, [this](int d) { return path(d); });
            default:
                return false;
        }
    }
    // <impl-path> = [<disambiguator>] <path>: printed nowhere (the type says enough), so
    // parsed into a scratch position of the output and cut off again.
    bool impl_path(int depth) {
        uint64_t dis;
        if (!disambiguator(dis)) return false;
        size_t mark = m_out.length();
        bool ok = path(depth + 1);
        m_out.truncate(mark);
        return ok;
    }
    bool generic_args(int depth) {
        m_out.put('<');
        for (bool first = true; !m_in.eat('E'); first = false) {
            if (m_in.at_end()) return false;
            if (!first) m_out.put(", ");
            if (m_in.eat('L')) {  // a lifetime
                uint64_t index;
                if (!base62(index)) return false;
                m_out.put("'_");
            } else if (m_in.eat('K')) {
                if (!constant()) return false;
            } else if (!type(depth + 1)) {
                return false;
            }
        }
        m_out.put('>');
        return true;
    }
    // <const>: simple integers and placeholders; anything else leaves the symbol raw.
    bool constant() {
        if (m_in.eat('p')) {
            m_out.put('_');
            return true;
        }
        char t = m_in.next();
        if (!(t == 'h' || t == 't' || t == 'm' || t == 'y' || t == 'j' || t == 'a' || t == 's' ||
              t == 'l' || t == 'x' || t == 'i'))
            return false;
        bool negative = m_in.eat('n');
        uint64_t value = 0;
        for (int digits = 0; !m_in.eat('_'); ++digits) {
            char c = m_in.next();
            if (!is_hex(c) || digits >= 16) return false;
            value = value * 16 + uint64_t(c <= '9' ? c - '0' : c - 'a' + 10);
        }
        if (negative) m_out.put('-');
        m_out.put_number(value);
        return true;
    }
    bool type(int depth) {
        if (depth > kMaxDepth) return false;
        static constexpr std::string_view kBasic[26] = {
            "i8",    "bool", "char", "f64", "str",  "f32",  {},    "u8", "isize",
            "usize", {},     "i32",  "u32", "i128", "u128", "_",   {},   {},
            "i16",   "u16",  "()",   "...", {},     "i64",  "u64", "!"};
        char c = m_in.peek();
        if (c >= 'a' && c <= 'z' && !kBasic[c - 'a'].empty()) {
            m_in.next();
            m_out.put(kBasic[c - 'a']);
            return true;
        }
        switch (c) {
            case 'C':
            case 'N':
            case 'M':
            case 'X':
            case 'Y':
            case 'I':
                return path(depth + 1);
            case 'B':
                m_in.next();
                return backref(depth, [this](int d) { return type(d); });
            case 'R':
            case 'Q': {  // & and &mut, with an optional lifetime
                m_in.next();
                m_out.put(c == 'R' ? "&" : "&mut ");
                if (m_in.eat('L')) {
                    uint64_t index;
                    if (!base62(index)) return false;
                }
                return type(depth + 1);
            }
            case 'P':
            case 'O':
                m_in.next();
                m_out.put(c == 'P' ? "*const " : "*mut ");
                return type(depth + 1);
            case 'S':
                m_in.next();
                m_out.put('[');
                if (!type(depth + 1)) return false;
                m_out.put(']');
                return true;
            case 'T': {
                m_in.next();
                m_out.put('(');
                int n = 0;
                for (; !m_in.eat('E'); ++n) {
                    if (m_in.at_end()) return false;
                    if (n) m_out.put(", ");
                    if (!type(depth + 1)) return false;
                }
                if (n == 1) m_out.put(',');
                m_out.put(')');
                return true;
            }
            default:
                return false;  // arrays, fn pointers, dyn Trait: left raw
        }
    }

    In m_in;
    Out& m_out;
    size_t m_start = 2;
};

}  // namespace

std::string_view demangle(std::string_view name, std::span<char> buffer) {
    Out out(buffer);
    bool ok = false;
    if (name.starts_with("_ZN")) {
        ok = rust_legacy(name, out);
        if (!ok) {
            out.truncate(0);
            ok = itanium(name, out);
        }
    } else if (name.starts_with("_Z")) {
        ok = itanium(name, out);
    } else if (name.starts_with("_R")) {
        RustV0 v0(name, out);
        ok = v0.symbol();
    }
    if (!ok || !out.ok() || out.length() == 0) return name;
    return out.text();
}

}  // namespace lib::elf
