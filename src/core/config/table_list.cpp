#include "core/config/table_list.hpp"

#include "core/error.hpp"

namespace convoy {

namespace {

// PostgreSQL's identifier length limit (NAMEDATALEN - 1).
constexpr size_t max_identifier_bytes = 63;

// Character classes are ASCII-only on purpose, as in PostgreSQL's scanner: the
// <cctype> functions follow the process locale, which differs between the
// postmaster and backends of databases with different LC_CTYPE, and the same
// setting must parse the same everywhere.
bool is_ascii_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool is_ascii_alpha(char c) { return is_ascii_upper(c) || (c >= 'a' && c <= 'z'); }
bool is_ascii_digit(char c) { return c >= '0' && c <= '9'; }
char ascii_lower(char c) { return is_ascii_upper(c) ? static_cast<char>(c - 'A' + 'a') : c; }
// PostgreSQL's scanner_isspace().
bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

bool is_plain_identifier_char(char c, bool first) {
    unsigned char u = static_cast<unsigned char>(c);
    if (is_ascii_alpha(c) || c == '_' || u >= 0x80)
        return true;
    return !first && (is_ascii_digit(c) || c == '$');
}

bool needs_quotes(const std::string &ident) {
    if (ident.empty())
        return true;
    for (size_t i = 0; i < ident.size(); i++) {
        char c = ident[i];
        if (!is_plain_identifier_char(c, i == 0) || is_ascii_upper(c))
            return true;
    }
    return false;
}

std::string quote_if_needed(const std::string &ident) {
    if (!needs_quotes(ident))
        return ident;
    std::string out = "\"";
    for (char c : ident) {
        if (c == '"')
            out += '"';
        out += c;
    }
    return out + "\"";
}

class Scanner {
public:
    explicit Scanner(std::string_view text) : text_(text) {}

    void skip_space() {
        while (pos_ < text_.size() && is_space(text_[pos_]))
            pos_++;
    }
    bool at_end() const { return pos_ >= text_.size(); }
    char peek() const { return at_end() ? '\0' : text_[pos_]; }
    void advance() { pos_++; }

    // Reads one identifier at the current position (after optional spaces).
    std::string identifier(std::string_view entry_for_errors) {
        skip_space();
        std::string ident;
        if (peek() == '"') {
            advance();
            for (;;) {
                if (at_end())
                    throw Error(ErrorKind::invalid_config,
                                "unterminated quoted identifier in table list",
                                "The entry starting at \"" + std::string(entry_for_errors) +
                                    "\" has no closing double quote.");
                char c = text_[pos_++];
                if (c == '"') {
                    if (peek() != '"')
                        break;
                    advance();
                }
                ident += c;
            }
            if (ident.empty())
                throw Error(ErrorKind::invalid_config, "zero-length quoted identifier in table list");
        } else {
            while (!at_end() && is_plain_identifier_char(peek(), ident.empty())) {
                ident += ascii_lower(peek());
                advance();
            }
            if (ident.empty())
                throw Error(ErrorKind::invalid_config, "invalid table name in table list",
                            "Expected an identifier at \"" + std::string(rest()) + "\".");
        }
        if (ident.size() > max_identifier_bytes)
            throw Error(ErrorKind::invalid_config,
                        "identifier \"" + ident + "\" in table list is too long",
                        "Identifiers are limited to 63 bytes.");
        return ident;
    }

    std::string_view rest() const { return text_.substr(pos_ < text_.size() ? pos_ : text_.size()); }

private:
    std::string_view text_;
    size_t pos_ = 0;
};

} // namespace

std::string QualifiedName::display() const {
    return quote_if_needed(schema) + "." + quote_if_needed(table);
}

std::vector<QualifiedName> parse_table_list(std::string_view text, size_t max_tables) {
    std::vector<QualifiedName> tables;
    Scanner scan(text);
    scan.skip_space();
    if (scan.at_end())
        return tables;
    for (;;) {
        std::string_view entry = scan.rest();
        QualifiedName name;
        name.schema = scan.identifier(entry);
        scan.skip_space();
        if (scan.peek() != '.')
            throw Error(ErrorKind::invalid_config,
                        "table name \"" + name.schema + "\" is not schema-qualified",
                        "Name each table as schema.table, for example public." + name.schema + ".");
        scan.advance();
        name.table = scan.identifier(entry);
        scan.skip_space();
        if (scan.peek() == '.')
            throw Error(ErrorKind::invalid_config,
                        "improper qualified name (too many dotted names): " +
                            std::string(entry.substr(0, entry.find(','))));
        if (scan.peek() == ':') {
            scan.advance();
            name.time_column = scan.identifier(entry);
            scan.skip_space();
        }
        for (const QualifiedName &seen : tables)
            if (seen == name)
                throw Error(ErrorKind::invalid_config,
                            "table \"" + name.display() + "\" is listed more than once");
        tables.push_back(std::move(name));
        if (tables.size() > max_tables)
            throw Error(ErrorKind::invalid_config, "too many tables in table list",
                        "At most " + std::to_string(max_tables) + " tables can be backed up.");
        if (scan.at_end())
            break;
        if (scan.peek() != ',')
            throw Error(ErrorKind::invalid_config, "invalid table list syntax",
                        "Expected a comma at \"" + std::string(scan.rest()) + "\".");
        scan.advance();
    }
    return tables;
}

} // namespace convoy
