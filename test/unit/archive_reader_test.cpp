// ArchiveReader on a local store: which objects are chosen for a table and a
// range, what comes out of each line, and how corrupt, lost and foreign objects
// are reported.
#include "core/archive/archive_reader.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <climits>
#include <map>
#include <string>
#include <vector>

#include "core/batch/object_key.hpp"
#include "core/catalog/cataloged_object.hpp"
#include "core/error.hpp"
#include "core/storage/local/local_storage.hpp"
#include "core/storage/sign/crypto.hpp"
#include "test_support.hpp"

namespace {

using namespace convoy;
using namespace convoy::archive;
using convoy::test::TempDir;

constexpr int64_t hour = 3600LL * 1000000;
constexpr int64_t t0 = 1795564800000000; // 2026-11-25T00:00:00Z

std::string at(int64_t micros) { return format_rfc3339_utc(micros); }

std::string row(int id, int64_t micros) {
    return "{\"id\":" + std::to_string(id) + ",\"created_at\":\"" + at(micros) + "\",\"x\":\"v" +
           std::to_string(id) + "\"}";
}

struct Outcome {
    std::vector<std::string> keys;               // objects in event order (lines, done, corrupt, lost)
    std::map<std::string, std::string> corrupt;  // key -> reason
    std::map<std::string, std::string> lost;
    std::vector<std::string> done;
    std::vector<std::string> lines;              // line text
    std::vector<std::string> ids;                // raw "id" member
    std::vector<LineInfo> infos;
    uint64_t objects_total = 0, bytes_total = 0, objects_listed = 0;
};

class ArchiveReaderTest : public ::testing::Test {
protected:
    TempDir dir;
    std::shared_ptr<LocalStorage> store = std::make_shared<LocalStorage>(dir.path());

    // Writes an object and its manifest, as the writers do.
    std::string put(const std::string &key, const std::vector<std::pair<int, int64_t>> &rows,
                    bool with_manifest = true, const std::string &time_column = "created_at") {
        Manifest m;
        m.key = key;
        m.table = "convoy.events";
        m.time_column = time_column;
        std::string text;
        for (auto [id, micros] : rows) {
            text += row(id, micros) + "\n";
            m.rows++;
            m.time_min_micros = std::min(m.time_min_micros.value_or(LLONG_MAX), micros);
            m.time_max_micros = std::max(m.time_max_micros.value_or(LLONG_MIN), micros);
        }
        auto produce = [&](auto &&emit) { emit(text.data(), text.size()); };
        if (with_manifest)
            write_cataloged_object(*store, m, produce);
        else
            write_gzip_object(*store, key, produce);
        return key;
    }

    std::string cdc_key(int64_t micros, uint64_t lsn, const std::string &table = "convoy.events") {
        return object_key({table, micros, lsn, 0});
    }

    ReaderOptions options(int64_t start, int64_t end) {
        ReaderOptions o;
        o.selection = SelectionSpec{encode_key_component("convoy.events"), "created_at", {start, end}};
        o.members = {"id", "created_at"};
        o.time_member = 1;
        o.parse_time = true;
        o.digests = true;
        o.batch_bytes = 64;
        return o;
    }

    Outcome read(ReaderOptions o) {
        ArchiveReader reader(store, std::move(o));
        Outcome out;
        for (;;) {
            EventView e;
            if (!reader.next(e, std::chrono::milliseconds(10000)))
                throw std::runtime_error("no event for 10 s");
            if (e.kind == EventKind::finished)
                return out;
            if (e.kind == EventKind::selected) {
                out.objects_total = e.objects_total;
                out.bytes_total = e.bytes_total;
                out.objects_listed = e.objects_listed;
                continue;
            }
            if (out.keys.empty() || out.keys.back() != e.key)
                out.keys.push_back(e.key);
            if (e.kind == EventKind::object_corrupt)
                out.corrupt[e.key] = e.reason;
            else if (e.kind == EventKind::object_lost)
                out.lost[e.key] = e.reason;
            else if (e.kind == EventKind::object_done)
                out.done.push_back(e.key);
            for (size_t i = 0; i < e.line_count; i++) {
                const LineInfo &l = e.lines[i];
                std::string line(e.text + l.offset, l.length);
                out.lines.push_back(line);
                const json::MemberValue &id = e.members[i * e.member_count];
                out.ids.push_back(id.present ? line.substr(id.begin, id.length) : "<absent>");
                out.infos.push_back(l);
            }
        }
    }
};

TEST_F(ArchiveReaderTest, PicksTheTablesObjectsThatCanHoldTheRange) {
    std::string inside = put(cdc_key(t0 + hour, 0x100), {{1, t0 + hour}, {2, t0 + hour + 5}});
    // Rows of the range written much later: the manifest, not the name, counts.
    std::string late = put(cdc_key(t0 + 30 * hour, 0x200), {{3, t0 + hour + 7}});
    put(cdc_key(t0 + 3 * hour, 0x300), {{4, t0 + 3 * hour}});            // after the range
    put(cdc_key(t0 + hour, 0x400, "convoy.other"), {{5, t0 + hour}});    // another table
    std::string bare = put(cdc_key(t0 + 5 * hour, 0x500), {{6, t0 + hour + 9}, {7, t0 + 5 * hour}},
                           false);                                       // no manifest: read whole
    std::string window = put(export_object_key("convoy.events", t0 + hour, t0 + 2 * hour),
                             {{8, t0 + hour + 1}});
    put(export_object_key("convoy.events", t0 + 2 * hour, t0 + 3 * hour), {{9, t0 + 2 * hour}}, false);
    std::string other_column = put(cdc_key(t0 + 9 * hour, 0x600), {{10, t0 + 9 * hour}}, true, "updated_at");
    put(cdc_key(t0, 0x700), {}, true);                                   // no rows with a time

    Outcome out = read(options(t0 + hour, t0 + 2 * hour));
    EXPECT_EQ(out.objects_listed, 8u);
    EXPECT_EQ(out.objects_total, 5u);
    std::vector<std::string> expected = {bare, inside, late, other_column, window};
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(out.done, expected);
    EXPECT_TRUE(out.corrupt.empty());
    EXPECT_TRUE(out.lost.empty());
    // Lines out of the range are dropped: 7 and 10.
    std::vector<std::string> ids = out.ids;
    std::sort(ids.begin(), ids.end());
    EXPECT_EQ(ids, (std::vector<std::string>{"1", "2", "3", "6", "8"}));
    for (size_t i = 0; i < out.lines.size(); i++) {
        crypto::Sha256Digest d = crypto::sha256(out.lines[i]);
        uint64_t expected_digest[2];
        memcpy(expected_digest, d.data(), sizeof(expected_digest));
        EXPECT_EQ(out.infos[i].digest[0], expected_digest[0]);
        EXPECT_EQ(out.infos[i].digest[1], expected_digest[1]);
        EXPECT_EQ(out.infos[i].time, TimeState::parsed);
    }
}

TEST_F(ArchiveReaderTest, LineNumbersCountEveryLineOfTheObject) {
    put(cdc_key(t0, 0x100), {{1, t0 - 1}, {2, t0}, {3, t0 + hour}, {4, t0 + 1}}, false);
    Outcome out = read(options(t0, t0 + hour));
    ASSERT_EQ(out.infos.size(), 2u);
    EXPECT_EQ(out.infos[0].number, 2u);
    EXPECT_EQ(out.infos[1].number, 4u);
    EXPECT_EQ(out.infos[1].time_micros, t0 + 1);
}

TEST_F(ArchiveReaderTest, TimesItCannotReadAndNullTimes) {
    std::string key = cdc_key(t0, 0x100);
    write_gzip_object(*store, key, [](auto &&emit) {
        std::string text = "{\"id\":1,\"created_at\":\"2026-11-25 00:00:00+00\"}\n"
                           "{\"id\":2,\"created_at\":null}\n"
                           "{\"id\":3}\n"
                           "{\"id\":4,\"created_at\":\"infinity\"}\n";
        emit(text.data(), text.size());
    });
    Outcome out = read(options(t0, t0 + hour));
    EXPECT_EQ(out.ids, (std::vector<std::string>{"1", "4"}));
    EXPECT_EQ(out.infos[0].time, TimeState::text);
}

TEST_F(ArchiveReaderTest, CorruptObjectsAreNamedWithTheReason) {
    std::string flipped = put(cdc_key(t0, 0x100), {{1, t0}, {2, t0 + 1}});
    std::string path = dir / flipped;
    std::string bytes = test::read_file(path);
    bytes[bytes.size() / 2] ^= 0x55;
    test::write_file(path, bytes);

    std::string truncated = put(cdc_key(t0, 0x200), {{3, t0}, {4, t0 + 1}});
    bytes = test::read_file(dir / truncated);
    test::write_file(dir / truncated, bytes.substr(0, bytes.size() - 9));

    std::string not_json = cdc_key(t0, 0x300);
    write_gzip_object(*store, not_json, [](auto &&emit) {
        std::string text = row(5, t0) + "\n{\"id\":6,\"created_at\":\"" + at(t0) + "\",}\n" + row(7, t0) + "\n";
        emit(text.data(), text.size());
    });

    // The data is fine, the manifest counts other rows.
    std::string miscounted = cdc_key(t0, 0x400);
    {
        Manifest m;
        m.key = miscounted;
        m.table = "convoy.events";
        m.time_column = "created_at";
        m.time_min_micros = t0;
        m.time_max_micros = t0;
        m.rows = 2;
        write_cataloged_object(*store, m, [](auto &&emit) {
            std::string text = row(8, t0) + "\n";
            emit(text.data(), text.size());
        });
    }
    std::string bad_manifest = put(cdc_key(t0, 0x500), {{9, t0}});
    test::write_file(dir / manifest_key(bad_manifest), "{\"format\": 1");

    std::string copied = put(cdc_key(t0, 0x600), {{10, t0}});
    test::write_file(dir / cdc_key(t0, 0x601), test::read_file(dir / copied));
    test::write_file(dir / manifest_key(cdc_key(t0, 0x601)), test::read_file(dir / manifest_key(copied)));

    std::string gone = put(cdc_key(t0, 0x700), {{11, t0}});
    ASSERT_EQ(::unlink((dir / gone).c_str()), 0);

    Outcome out = read(options(t0, t0 + hour));
    EXPECT_EQ(out.corrupt.size(), 5u);
    EXPECT_TRUE(out.corrupt.count(flipped));
    EXPECT_NE(out.corrupt[truncated].find("truncated"), std::string::npos) << out.corrupt[truncated];
    EXPECT_EQ(out.corrupt[not_json], "line 2 is not valid JSON: expected a string as object key at byte 52");
    EXPECT_EQ(out.corrupt[miscounted], "it holds 1 rows, but its manifest says 2");
    EXPECT_EQ(out.corrupt[bad_manifest].rfind("its manifest cannot be read: ", 0), 0u) << out.corrupt[bad_manifest];
    EXPECT_EQ(out.lost[gone], "its manifest is there, but the object is not");
    EXPECT_EQ(out.done, (std::vector<std::string>{copied, cdc_key(t0, 0x601)}));
}

TEST_F(ArchiveReaderTest, StoreFailuresStopTheReading) {
    // A store whose listing fails, as an unreachable one does past its retries.
    struct Unreachable : LocalStorage {
        using LocalStorage::LocalStorage;
        void list(const std::string &, const std::function<void(const ListedObject &)> &) override {
            throw Error(ErrorKind::storage_unavailable, "could not connect");
        }
    };
    ArchiveReader reader(std::make_shared<Unreachable>(dir.path()), options(t0, t0 + hour));
    EventView e;
    try {
        while (reader.next(e, std::chrono::milliseconds(10000)))
            ASSERT_NE(e.kind, EventKind::finished);
        FAIL() << "no event for 10 s";
    } catch (const Error &error) {
        EXPECT_EQ(error.kind(), ErrorKind::storage_unavailable);
        EXPECT_STREQ(error.what(), "could not connect");
    }
}

TEST_F(ArchiveReaderTest, StopsWhenDestroyedWhileItHasMoreToSay) {
    for (int i = 0; i < 20; i++) {
        std::vector<std::pair<int, int64_t>> rows;
        for (int j = 0; j < 200; j++)
            rows.emplace_back(i * 1000 + j, t0 + j);
        put(cdc_key(t0, 0x100 + uint64_t(i)), rows, false);
    }
    auto started = std::chrono::steady_clock::now();
    {
        ArchiveReader reader(store, options(t0, t0 + hour));
        EventView e;
        ASSERT_TRUE(reader.next(e, std::chrono::milliseconds(10000)));
    }
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
}

} // namespace

namespace {

TEST_F(ArchiveReaderTest, ALineOverTheLimitStopsWithWhatToChange) {
    std::string key = put(cdc_key(t0, 0x100), {{1, t0}, {2, t0}}, false);
    ReaderOptions o = options(t0, t0 + hour);
    o.max_line_bytes = 20;
    o.line_limit_detail = "Raise the limit.";
    ArchiveReader reader(store, std::move(o));
    EventView e;
    try {
        while (reader.next(e, std::chrono::milliseconds(10000)))
            ASSERT_NE(e.kind, EventKind::finished);
        FAIL() << "no event for 10 s";
    } catch (const Error &error) {
        EXPECT_EQ(error.kind(), ErrorKind::out_of_resources);
        EXPECT_EQ(std::string(error.what()), "line 1 is longer than 20 bytes in object " + key);
        EXPECT_EQ(error.detail(), "Raise the limit.");
    }
}

} // namespace

namespace {

TEST_F(ArchiveReaderTest, ReadsGivenObjectsAgainWithoutListing) {
    std::string a = put(cdc_key(t0, 0x100), {{1, t0}, {2, t0 + 1}});
    std::string b = put(cdc_key(t0, 0x200), {{3, t0}});
    ReaderOptions o = options(t0, t0 + hour);
    o.only_keys = {b, a};
    Outcome out = read(o);
    EXPECT_EQ(out.done, (std::vector<std::string>{b, a}));
    EXPECT_EQ(out.ids, (std::vector<std::string>{"3", "1", "2"}));
    EXPECT_EQ(out.objects_listed, 0u);
}

} // namespace
