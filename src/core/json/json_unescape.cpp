#include "core/json/json_unescape.hpp"

#include <cstdint>
#include <cstring>

#include "core/hex_digits.hpp"

namespace convoy::json {

namespace {

bool read_u16(std::string_view s, size_t at, uint32_t &value) noexcept {
    if (at + 6 > s.size() || s[at] != '\\' || s[at + 1] != 'u')
        return false;
    value = 0;
    for (size_t i = at + 2; i < at + 6; i++) {
        int h = hex_digit_value(s[i]);
        if (h < 0)
            return false;
        value = value * 16 + uint32_t(h);
    }
    return true;
}

size_t put_utf8(uint32_t c, char *out) noexcept {
    if (c < 0x80) {
        out[0] = char(c);
        return 1;
    }
    if (c < 0x800) {
        out[0] = char(0xC0 | (c >> 6));
        out[1] = char(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        out[0] = char(0xE0 | (c >> 12));
        out[1] = char(0x80 | ((c >> 6) & 0x3F));
        out[2] = char(0x80 | (c & 0x3F));
        return 3;
    }
    out[0] = char(0xF0 | (c >> 18));
    out[1] = char(0x80 | ((c >> 12) & 0x3F));
    out[2] = char(0x80 | ((c >> 6) & 0x3F));
    out[3] = char(0x80 | (c & 0x3F));
    return 4;
}

} // namespace

bool unescape_string(std::string_view s, char *out, size_t &out_len) noexcept {
    size_t o = 0;
    size_t i = 0;
    while (i < s.size()) {
        const char *slash = static_cast<const char *>(memchr(s.data() + i, '\\', s.size() - i));
        size_t run = (slash ? size_t(slash - s.data()) : s.size()) - i;
        memcpy(out + o, s.data() + i, run);
        o += run;
        i += run;
        if (i >= s.size())
            break;
        if (i + 1 >= s.size())
            return false;
        char e = s[i + 1];
        if (e != 'u') {
            char c;
            switch (e) {
            case '"': c = '"'; break;
            case '\\': c = '\\'; break;
            case '/': c = '/'; break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'n': c = '\n'; break;
            case 'r': c = '\r'; break;
            case 't': c = '\t'; break;
            default: return false;
            }
            out[o++] = c;
            i += 2;
            continue;
        }
        uint32_t code;
        if (!read_u16(s, i, code) || code == 0)
            return false;
        i += 6;
        if (code >= 0xD800 && code <= 0xDBFF) {
            uint32_t low;
            if (!read_u16(s, i, low) || low < 0xDC00 || low > 0xDFFF)
                return false;
            i += 6;
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
        } else if (code >= 0xDC00 && code <= 0xDFFF) {
            return false;
        }
        // Never longer than its escape: 6 bytes give at most 3, 12 give 4.
        o += put_utf8(code, out + o);
    }
    out_len = o;
    return true;
}

} // namespace convoy::json
