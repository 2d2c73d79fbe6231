#include "core/json/json_text.hpp"

namespace convoy::json {

namespace {

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

// Moves pos past a run of digits; returns how many there were.
size_t skip_digits(std::string_view text, size_t &pos) noexcept {
    size_t start = pos;
    while (pos < text.size() && is_digit(text[pos]))
        pos++;
    return pos - start;
}

} // namespace

// RFC 8259: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
bool is_json_number(std::string_view text) noexcept {
    size_t pos = 0;
    if (pos < text.size() && text[pos] == '-')
        pos++;
    if (pos < text.size() && text[pos] == '0')
        pos++;
    else if (skip_digits(text, pos) == 0)
        return false;

    if (pos < text.size() && text[pos] == '.') {
        pos++;
        if (skip_digits(text, pos) == 0)
            return false;
    }

    if (pos < text.size() && (text[pos] == 'e' || text[pos] == 'E')) {
        pos++;
        if (pos < text.size() && (text[pos] == '+' || text[pos] == '-'))
            pos++;
        if (skip_digits(text, pos) == 0)
            return false;
    }
    return pos == text.size();
}

} // namespace convoy::json
