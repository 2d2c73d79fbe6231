#include "core/json/line_scan.hpp"

#include <cstring>

namespace convoy::json {

namespace {

constexpr uint8_t in_object = 1;
constexpr uint8_t in_array = 2;

enum class Expect : uint8_t {
    first_key, // after '{': a key or '}'
    key,       // after ',' in an object
    colon,
    first_value, // after '[': a value or ']'
    value,
    after_value, // ',' or the container's end
};

bool is_space(unsigned char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_digit(unsigned char c) noexcept { return c >= '0' && c <= '9'; }
bool is_hex(unsigned char c) noexcept {
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// Bytes a string may hold as they are: printable ASCII but the quote and the
// backslash. Everything else takes the slow path.
struct PlainTable {
    bool plain[256];
    constexpr PlainTable() : plain() {
        for (int c = 0x20; c < 0x80; c++)
            plain[c] = c != '"' && c != '\\';
    }
};
constexpr PlainTable plain_bytes;

// Length of the UTF-8 sequence starting at s[0] (at most `left` bytes), or 0 if
// it is not one PostgreSQL accepts (no overlong forms, no surrogates, nothing
// above U+10FFFF).
size_t utf8_sequence(const unsigned char *s, size_t left) noexcept {
    unsigned char c = s[0];
    auto cont = [&](size_t i, unsigned char lo = 0x80, unsigned char hi = 0xBF) {
        return i < left && s[i] >= lo && s[i] <= hi;
    };
    if (c >= 0xC2 && c <= 0xDF)
        return cont(1) ? 2 : 0;
    if (c == 0xE0)
        return cont(1, 0xA0) && cont(2) ? 3 : 0;
    if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF)
        return cont(1) && cont(2) ? 3 : 0;
    if (c == 0xED)
        return cont(1, 0x80, 0x9F) && cont(2) ? 3 : 0;
    if (c == 0xF0)
        return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
    if (c >= 0xF1 && c <= 0xF3)
        return cont(1) && cont(2) && cont(3) ? 4 : 0;
    if (c == 0xF4)
        return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : 0;
    return 0;
}

class Scanner {
public:
    Scanner(std::string_view line, uint8_t *stack) noexcept
        : s_(reinterpret_cast<const unsigned char *>(line.data())), n_(line.size()), stack_(stack) {}

    LineScan run(const std::string_view *names, size_t name_count, MemberValue *values) noexcept;

private:
    bool fail(const char *why, size_t at) noexcept {
        error_ = why;
        error_at_ = at;
        return false;
    }
    void skip_space() noexcept {
        while (i_ < n_ && is_space(s_[i_]))
            i_++;
    }
    bool string() noexcept; // at the opening quote; leaves i_ after the closing one
    bool number() noexcept;
    bool literal(const char *word, size_t len) noexcept;

    const unsigned char *s_;
    size_t n_;
    size_t i_ = 0;
    uint8_t *stack_;
    const char *error_ = nullptr;
    size_t error_at_ = 0;
    bool nul_escape_ = false;
    bool escaped_key_ = false;
};

bool Scanner::string() noexcept {
    size_t start = i_++;
    for (;;) {
        while (i_ < n_ && plain_bytes.plain[s_[i_]])
            i_++;
        if (i_ >= n_)
            return fail("unterminated string", start);
        unsigned char c = s_[i_];
        if (c == '"') {
            i_++;
            return true;
        }
        if (c == '\\') {
            if (i_ + 1 >= n_)
                return fail("unterminated string", start);
            unsigned char e = s_[i_ + 1];
            if (e == 'u') {
                if (i_ + 6 > n_ || !is_hex(s_[i_ + 2]) || !is_hex(s_[i_ + 3]) || !is_hex(s_[i_ + 4]) ||
                    !is_hex(s_[i_ + 5]))
                    return fail("\\u must be followed by four hexadecimal digits", i_);
                if (s_[i_ + 2] == '0' && s_[i_ + 3] == '0' && s_[i_ + 4] == '0' && s_[i_ + 5] == '0')
                    nul_escape_ = true;
                i_ += 6;
                continue;
            }
            if (!strchr("\"\\/bfnrt", e) || e == '\0')
                return fail("invalid escape sequence", i_);
            i_ += 2;
            continue;
        }
        if (c < 0x20)
            return fail("control character in a string", i_);
        size_t len = utf8_sequence(s_ + i_, n_ - i_);
        if (len == 0)
            return fail("invalid UTF-8", i_);
        i_ += len;
    }
}

// RFC 8259 numbers, as PostgreSQL's lexer reads them.
bool Scanner::number() noexcept {
    size_t start = i_;
    if (s_[i_] == '-')
        i_++;
    if (i_ < n_ && s_[i_] == '0') {
        i_++;
    } else if (i_ < n_ && is_digit(s_[i_])) {
        while (i_ < n_ && is_digit(s_[i_]))
            i_++;
    } else {
        return fail("invalid number", start);
    }
    if (i_ < n_ && s_[i_] == '.') {
        i_++;
        if (i_ >= n_ || !is_digit(s_[i_]))
            return fail("invalid number", start);
        while (i_ < n_ && is_digit(s_[i_]))
            i_++;
    }
    if (i_ < n_ && (s_[i_] == 'e' || s_[i_] == 'E')) {
        i_++;
        if (i_ < n_ && (s_[i_] == '+' || s_[i_] == '-'))
            i_++;
        if (i_ >= n_ || !is_digit(s_[i_]))
            return fail("invalid number", start);
        while (i_ < n_ && is_digit(s_[i_]))
            i_++;
    }
    return true;
}

bool Scanner::literal(const char *word, size_t len) noexcept {
    if (n_ - i_ < len || memcmp(s_ + i_, word, len) != 0)
        return fail("invalid token", i_);
    i_ += len;
    return true;
}

LineScan Scanner::run(const std::string_view *names, size_t name_count, MemberValue *values) noexcept {
    for (size_t k = 0; k < name_count; k++)
        values[k] = MemberValue{0, 0, false};
    LineScan result{false, nullptr, 0, false, false};
    if (n_ > UINT32_MAX) {
        result.error = "line longer than 4 GiB";
        return result;
    }
    size_t depth = 0;
    Expect expect = Expect::value;
    // The top-level member whose value is being read (-1: none wanted), and
    // where that value began.
    long member = -1;
    size_t value_start = 0;
    size_t next_name = 0;
    bool ok = true;

    skip_space();
    if (i_ >= n_ || s_[i_] != '{')
        ok = fail("a line must be a JSON object", i_);
    while (ok) {
        skip_space();
        if (i_ >= n_) {
            ok = fail("unexpected end of line", i_);
            break;
        }
        unsigned char c = s_[i_];
        bool value_done = false;
        switch (expect) {
        case Expect::first_key:
        case Expect::key:
            if (c == '}' && expect == Expect::first_key) {
                depth--;
                i_++;
                value_done = true;
                break;
            }
            if (c != '"') {
                ok = fail("expected a string as object key", i_);
                break;
            }
            {
                size_t key_start = i_ + 1;
                if (!(ok = string()))
                    break;
                if (depth == 1) {
                    member = -1;
                    std::string_view key(reinterpret_cast<const char *>(s_ + key_start),
                                         i_ - 1 - key_start);
                    if (key.find('\\') != std::string_view::npos)
                        escaped_key_ = true;
                    // Lines keep column order: the name after the last one
                    // found is the likely one.
                    if (next_name < name_count && names[next_name] == key) {
                        member = long(next_name);
                    } else {
                        for (size_t k = 0; k < name_count && member < 0; k++)
                            if (names[k] == key)
                                member = long(k);
                    }
                    if (member >= 0)
                        next_name = size_t(member) + 1;
                }
            }
            expect = Expect::colon;
            break;
        case Expect::colon:
            if (c != ':') {
                ok = fail("expected \":\"", i_);
                break;
            }
            i_++;
            expect = Expect::value;
            break;
        case Expect::first_value:
        case Expect::value:
            if (c == ']' && expect == Expect::first_value) {
                depth--;
                i_++;
                value_done = true;
                break;
            }
            if (depth == 1)
                value_start = i_;
            if (c == '{' || c == '[') {
                if (depth == max_scan_depth) {
                    ok = fail("nested too deeply", i_);
                    break;
                }
                stack_[depth++] = c == '{' ? in_object : in_array;
                i_++;
                expect = c == '{' ? Expect::first_key : Expect::first_value;
                break;
            }
            if (depth == 0) { // only the outer object is allowed at the top
                ok = fail("a line must be a JSON object", i_);
                break;
            }
            if (c == '"')
                ok = string();
            else if (c == '-' || is_digit(c))
                ok = number();
            else if (c == 't')
                ok = literal("true", 4);
            else if (c == 'f')
                ok = literal("false", 5);
            else if (c == 'n')
                ok = literal("null", 4);
            else
                ok = fail("invalid token", i_);
            value_done = ok;
            break;
        case Expect::after_value:
            if (c == ',') {
                i_++;
                expect = stack_[depth - 1] == in_object ? Expect::key : Expect::value;
            } else if (c == '}' && stack_[depth - 1] == in_object) {
                depth--;
                i_++;
                value_done = true;
            } else if (c == ']' && stack_[depth - 1] == in_array) {
                depth--;
                i_++;
                value_done = true;
            } else {
                ok = fail(stack_[depth - 1] == in_object ? "expected \",\" or \"}\""
                                                          : "expected \",\" or \"]\"",
                          i_);
            }
            break;
        }
        if (!ok || !value_done)
            continue;
        if (depth == 0) { // the outer object closed
            skip_space();
            if (i_ != n_)
                ok = fail("text after the JSON object", i_);
            break;
        }
        if (depth == 1 && member >= 0) {
            values[member] = MemberValue{uint32_t(value_start), uint32_t(i_ - value_start), true};
            member = -1;
        }
        expect = Expect::after_value;
    }
    result.valid = ok;
    result.error = ok ? nullptr : error_;
    result.error_offset = ok ? 0 : error_at_;
    result.nul_escape = nul_escape_;
    result.escaped_key = escaped_key_;
    return result;
}

} // namespace

LineScan scan_line(std::string_view line, const std::string_view *names, size_t name_count,
                   MemberValue *values, uint8_t *depth_stack) noexcept {
    Scanner scanner(line, depth_stack);
    return scanner.run(names, name_count, values);
}

} // namespace convoy::json
