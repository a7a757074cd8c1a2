// The non-template half of lib::format: parsing specs and rendering numbers.
#include "lib/base/format.h"

namespace lib {

void BufferSink::write(std::string_view text) {
    if (m_capacity == 0) {
        m_truncated |= !text.empty();
        return;
    }
    size_t room = m_capacity - 1 - m_length;
    size_t n = text.size() < room ? text.size() : room;
    for (size_t i = 0; i < n; ++i) m_buffer[m_length + i] = text[i];
    m_length += n;
    m_buffer[m_length] = '\0';
    m_truncated |= n < text.size();
}

namespace {

struct Spec {
    char fill = ' ';
    char align = 0;  // '<', '>' or 0 (numbers right, text left)
    bool alternate = false;
    unsigned width = 0;
    char type = 0;  // 'x', 'X', 'd', 'c', 'b', 'o' or 0
};

// Parses the text between ':' and '}'. Unknown characters are ignored rather than trusted.
Spec parse_spec(std::string_view text) {
    Spec spec;
    size_t i = 0;
    if (text.size() >= 2 && (text[1] == '<' || text[1] == '>')) {
        spec.fill = text[0];
        spec.align = text[1];
        i = 2;
    } else if (!text.empty() && (text[0] == '<' || text[0] == '>')) {
        spec.align = text[0];
        i = 1;
    }
    if (i < text.size() && text[i] == '#') {
        spec.alternate = true;
        ++i;
    }
    if (i < text.size() && text[i] == '0' && spec.align == 0) {
        spec.fill = '0';
        ++i;
    }
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
        if (spec.width < 1000) spec.width = spec.width * 10 + unsigned(text[i] - '0');
        ++i;
    }
    if (i < text.size()) spec.type = text[i];
    return spec;
}

void pad(FormatSink& sink, char fill, size_t count) {
    char chunk[16];
    for (char& c : chunk) c = fill;
    while (count) {
        size_t n = count < sizeof(chunk) ? count : sizeof(chunk);
        sink.write({chunk, n});
        count -= n;
    }
}

void emit(FormatSink& sink, const Spec& spec, std::string_view prefix, std::string_view body,
          bool numeric) {
    size_t length = prefix.size() + body.size();
    size_t padding = spec.width > length ? spec.width - length : 0;
    char align = spec.align ? spec.align : (numeric ? '>' : '<');
    if (spec.fill == '0' && numeric && spec.align == 0) {
        sink.write(prefix);  // zero padding goes between sign/prefix and digits
        pad(sink, '0', padding);
        sink.write(body);
        return;
    }
    if (align == '>') pad(sink, spec.fill, padding);
    sink.write(prefix);
    sink.write(body);
    if (align == '<') pad(sink, spec.fill, padding);
}

void emit_unsigned(FormatSink& sink, const Spec& spec, uint64_t value, bool negative) {
    unsigned base = 10;
    const char* digits = "0123456789abcdef";
    std::string_view prefix = negative ? "-" : "";
    switch (spec.type) {
        case 'x':
            base = 16;
            if (spec.alternate) prefix = "0x";
            break;
        case 'X':
            base = 16;
            digits = "0123456789ABCDEF";
            if (spec.alternate) prefix = "0X";
            break;
        case 'b':
            base = 2;
            if (spec.alternate) prefix = "0b";
            break;
        case 'o':
            base = 8;
            if (spec.alternate) prefix = "0";
            break;
        default:
            break;
    }
    char buffer[64];
    size_t at = sizeof(buffer);
    do {
        buffer[--at] = digits[value % base];
        value /= base;
    } while (value);
    emit(sink, spec, prefix, {buffer + at, sizeof(buffer) - at}, true);
}

void emit_arg(FormatSink& sink, const Spec& spec, const FormatArg& arg) {
    switch (arg.kind) {
        case FormatArg::Kind::Signed:
            if (spec.type == 'c') {
                char c = static_cast<char>(arg.i);
                emit(sink, spec, "", {&c, 1}, false);
            } else if (arg.i < 0 && spec.type != 'x' && spec.type != 'X') {
                emit_unsigned(sink, spec, 0 - static_cast<uint64_t>(arg.i), true);
            } else {
                emit_unsigned(sink, spec, static_cast<uint64_t>(arg.i), false);
            }
            return;
        case FormatArg::Kind::Unsigned:
            if (spec.type == 'c') {  // as for Signed: uint8_t and friends print as characters
                char c = static_cast<char>(arg.u);
                emit(sink, spec, "", {&c, 1}, false);
            } else {
                emit_unsigned(sink, spec, arg.u, false);
            }
            return;
        case FormatArg::Kind::Pointer: {
            Spec hex = spec;
            hex.type = 'x';
            hex.alternate = true;
            emit_unsigned(sink, hex, reinterpret_cast<uintptr_t>(arg.p), false);
            return;
        }
        case FormatArg::Kind::String:
            emit(sink, spec, "", {arg.s.data, arg.s.size}, false);
            return;
        case FormatArg::Kind::Char:
            emit(sink, spec, "", {&arg.c, 1}, false);
            return;
        case FormatArg::Kind::Bool:
            emit(sink, spec, "", arg.b ? "true" : "false", false);
            return;
    }
}

}  // namespace

void vformat(FormatSink& sink, std::string_view fmt, const FormatArg* args, size_t count) {
    size_t next_arg = 0;
    size_t literal_start = 0;
    for (size_t i = 0; i < fmt.size(); ++i) {
        char c = fmt[i];
        if (c != '{' && c != '}') continue;
        sink.write(fmt.substr(literal_start, i - literal_start));
        if (i + 1 < fmt.size() && fmt[i + 1] == c) {  // "{{" or "}}"
            sink.write({&fmt[i], 1});
            ++i;
            literal_start = i + 1;
            continue;
        }
        if (c == '}') {  // a lone '}' is printed as is
            sink.write("}");
            literal_start = i + 1;
            continue;
        }
        size_t close = fmt.find('}', i);
        if (close == std::string_view::npos) {
            literal_start = i;
            break;
        }
        std::string_view inside = fmt.substr(i + 1, close - i - 1);
        Spec spec;
        if (!inside.empty() && inside[0] == ':') spec = parse_spec(inside.substr(1));
        if (next_arg < count)
            emit_arg(sink, spec, args[next_arg++]);
        else
            sink.write("{?}");
        i = close;
        literal_start = close + 1;
    }
    if (literal_start < fmt.size()) sink.write(fmt.substr(literal_start));
}

}  // namespace lib
