// Manifests as JSON, with jansson. Writing keeps the keys in one fixed order
// (jansson keeps insertion order); reading is strict: every field present with
// its type, no field unknown to the format, values that agree with each other.
// A manifest is read to decide what a backup holds, so anything doubtful is
// corrupt_data rather than a guess.
#include "core/catalog/manifest.hpp"

#include <jansson.h>

#include <cstdlib>
#include <memory>
#include <utility>

#include "core/catalog/manifest_values.hpp"
#include "core/error.hpp"
#include "core/storage/storage.hpp"

namespace convoy {

namespace {

constexpr std::string_view data_suffix = ".jsonl.gz";
constexpr std::string_view manifest_suffix = ".manifest.json";
constexpr int current_format = 1;

bool ends_with(std::string_view text, std::string_view suffix) {
    return text.size() >= suffix.size() &&
           text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// A key with that suffix after a non-empty last component.
bool has_named_suffix(std::string_view key, std::string_view suffix) {
    return ends_with(key, suffix) && key.size() > suffix.size() &&
           key[key.size() - suffix.size() - 1] != '/';
}

struct JsonRef {
    void operator()(json_t *json) const { json_decref(json); }
};
using Json = std::unique_ptr<json_t, JsonRef>;

// ---- writing ----

[[noreturn]] void cannot_write(const char *field) {
    throw Error(ErrorKind::internal,
                std::string("could not write manifest field \"") + field + "\"",
                "Its text is not valid UTF-8, or memory ran out.");
}

void set(json_t *object, const char *field, json_t *value) {
    // json_object_set_new() takes the reference, also when it fails.
    if (value == nullptr || json_object_set_new(object, field, value) != 0)
        cannot_write(field);
}

json_t *string_value(const std::string &text) { return json_stringn(text.data(), text.size()); }

json_t *count_value(const char *field, uint64_t count) {
    if (count > uint64_t(INT64_MAX))
        cannot_write(field);
    return json_integer(json_int_t(count));
}

// ---- reading ----

[[noreturn]] void corrupt(const std::string &what) {
    throw Error(ErrorKind::corrupt_data, "invalid manifest: " + what);
}

std::string quoted(const char *field) { return std::string("field \"") + field + "\""; }

json_t *required(json_t *object, const char *field) {
    json_t *value = json_object_get(object, field);
    if (value == nullptr)
        corrupt(quoted(field) + " is missing");
    return value;
}

std::string read_string(json_t *object, const char *field) {
    json_t *value = required(object, field);
    if (!json_is_string(value))
        corrupt(quoted(field) + " is not a string");
    return std::string(json_string_value(value), json_string_length(value));
}

uint64_t read_count(json_t *object, const char *field) {
    json_t *value = required(object, field);
    if (!json_is_integer(value) || json_integer_value(value) < 0)
        corrupt(quoted(field) + " is not a non-negative integer");
    return uint64_t(json_integer_value(value));
}

uint64_t read_lsn(json_t *object, const char *field) {
    std::optional<uint64_t> lsn = parse_lsn(read_string(object, field));
    if (!lsn)
        corrupt(quoted(field) + " is not an LSN such as \"16/B374D848\"");
    return *lsn;
}

int64_t read_time(json_t *value, const char *field) {
    std::optional<int64_t> time;
    if (json_is_string(value))
        time = parse_manifest_time(
            std::string_view(json_string_value(value), json_string_length(value)));
    if (!time)
        corrupt(quoted(field) +
                " is not a UTC time such as \"2026-11-25T06:01:40.123456Z\"");
    return *time;
}

std::optional<int64_t> read_optional_time(json_t *object, const char *field) {
    json_t *value = required(object, field);
    if (json_is_null(value))
        return std::nullopt;
    return read_time(value, field);
}

// The fields a manifest of this source has, in the order they are written.
const char *const common_fields[] = {"format",       "key",    "table",    "source",
                                     "rows",         "raw_bytes", "stored_bytes", "sha256"};
const char *const cdc_fields[] = {"first_commit_lsn", "last_commit_lsn"};
const char *const export_fields[] = {"window_start", "window_end"};
const char *const time_fields[] = {"time_column", "time_min", "time_max"};

template <size_t N> bool is_one_of(const char *key, const char *const (&fields)[N]) {
    for (const char *field : fields)
        if (std::string_view(key) == field)
            return true;
    return false;
}

bool is_sha256_hex(std::string_view text) {
    if (text.size() != 64)
        return false;
    for (char c : text)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    return true;
}

} // namespace

std::string manifest_key(std::string_view data_key) {
    if (!has_named_suffix(data_key, data_suffix))
        throw Error(ErrorKind::invalid_key,
                    "invalid object key \"" + printable_key(data_key) + "\": not a backup object",
                    "Backup objects are named \"….jsonl.gz\".");
    std::string key(data_key.substr(0, data_key.size() - data_suffix.size()));
    key += manifest_suffix;
    return key;
}

bool is_manifest_key(std::string_view key) { return has_named_suffix(key, manifest_suffix); }

std::string manifest_to_json(const Manifest &m) {
    // Not json_object(): inside a backend that name is PostgreSQL's own SQL
    // function, which the postgres executable exports and which therefore
    // takes the place of jansson's (test/unit/postgres_symbols_test.cpp).
    // json_pack() makes the object inside jansson.
    Json object(json_pack("{}"));
    if (!object)
        cannot_write("format");
    json_t *o = object.get();
    set(o, "format", json_integer(current_format));
    set(o, "key", string_value(m.key));
    set(o, "table", string_value(m.table));
    set(o, "source", json_string(m.source == ObjectSource::cdc ? "cdc" : "export"));
    set(o, "rows", count_value("rows", m.rows));
    set(o, "raw_bytes", count_value("raw_bytes", m.raw_bytes));
    set(o, "stored_bytes", count_value("stored_bytes", m.stored_bytes));
    set(o, "sha256", string_value(m.sha256));
    if (m.source == ObjectSource::cdc) {
        set(o, "first_commit_lsn", string_value(format_lsn(m.first_commit_lsn)));
        set(o, "last_commit_lsn", string_value(format_lsn(m.last_commit_lsn)));
    } else {
        set(o, "window_start", string_value(format_manifest_time(m.window_start_micros)));
        set(o, "window_end", string_value(format_manifest_time(m.window_end_micros)));
    }
    set(o, "time_column", string_value(m.time_column));
    set(o, "time_min", m.time_min_micros ? string_value(format_manifest_time(*m.time_min_micros))
                                         : json_null());
    set(o, "time_max", m.time_max_micros ? string_value(format_manifest_time(*m.time_max_micros))
                                         : json_null());
    char *text = json_dumps(o, JSON_COMPACT);
    if (text == nullptr)
        cannot_write("format");
    std::string result(text);
    std::free(text);
    return result;
}

Manifest manifest_from_json(std::string_view text) {
    json_error_t error;
    Json root(json_loadb(text.data(), text.size(), JSON_REJECT_DUPLICATES, &error));
    if (!root)
        corrupt("not JSON (line " + std::to_string(error.line) + ", column " +
                std::to_string(error.column) + ": " + error.text + ")");
    json_t *o = root.get();
    if (!json_is_object(o))
        corrupt("not a JSON object");

    Manifest m;
    json_t *format = required(o, "format");
    if (!json_is_integer(format))
        corrupt(quoted("format") + " is not an integer");
    if (json_integer_value(format) != current_format)
        corrupt("format " + std::to_string(json_integer_value(format)) +
                " is not supported (this version reads format " +
                std::to_string(current_format) + ")");
    m.format = current_format;

    std::string source = read_string(o, "source");
    if (source == "cdc")
        m.source = ObjectSource::cdc;
    else if (source == "export")
        m.source = ObjectSource::exported;
    else
        corrupt(quoted("source") + " is neither \"cdc\" nor \"export\"");

    const char *key;
    json_t *value;
    json_object_foreach(o, key, value) {
        bool known = is_one_of(key, common_fields) || is_one_of(key, time_fields) ||
                     is_one_of(key, m.source == ObjectSource::cdc ? cdc_fields : export_fields);
        if (!known)
            corrupt("field \"" + printable_key(key) + "\" does not belong in a " + source +
                    " manifest");
    }

    m.key = read_string(o, "key");
    try {
        validate_object_key(m.key);
    } catch (const Error &) {
        corrupt(quoted("key") + " is not a valid object key");
    }
    if (!has_named_suffix(m.key, data_suffix))
        corrupt(quoted("key") + " does not name a backup object (….jsonl.gz)");
    m.table = read_string(o, "table");
    if (m.table.empty())
        corrupt(quoted("table") + " is empty");
    m.rows = read_count(o, "rows");
    m.raw_bytes = read_count(o, "raw_bytes");
    m.stored_bytes = read_count(o, "stored_bytes");
    m.sha256 = read_string(o, "sha256");
    if (!is_sha256_hex(m.sha256))
        corrupt(quoted("sha256") + " is not 64 lowercase hexadecimal digits");
    if (m.source == ObjectSource::cdc) {
        m.first_commit_lsn = read_lsn(o, "first_commit_lsn");
        m.last_commit_lsn = read_lsn(o, "last_commit_lsn");
        if (m.first_commit_lsn > m.last_commit_lsn)
            corrupt("first_commit_lsn is after last_commit_lsn");
    } else {
        m.window_start_micros = read_time(required(o, "window_start"), "window_start");
        m.window_end_micros = read_time(required(o, "window_end"), "window_end");
        if (m.window_start_micros >= m.window_end_micros)
            corrupt("window_start is not before window_end");
    }
    m.time_column = read_string(o, "time_column");
    if (m.time_column.empty())
        corrupt(quoted("time_column") + " is empty");
    m.time_min_micros = read_optional_time(o, "time_min");
    m.time_max_micros = read_optional_time(o, "time_max");
    if (m.time_min_micros.has_value() != m.time_max_micros.has_value())
        corrupt("time_min and time_max are not both null or both times");
    if (m.time_min_micros && *m.time_min_micros > *m.time_max_micros)
        corrupt("time_min is after time_max");
    if (m.time_min_micros && m.rows == 0)
        corrupt("an object of no rows has a time_min");
    if ((m.rows == 0) != (m.raw_bytes == 0))
        corrupt("rows and raw_bytes disagree");
    return m;
}

} // namespace convoy
