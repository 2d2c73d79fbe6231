// parse_archive_key(): what an object's name says, for the names both modes write.
#include "core/archive/archive_key.hpp"

#include "core/batch/object_key.hpp"
#include "core/catalog/manifest.hpp"

#include <gtest/gtest.h>

namespace {

using convoy::archive::ArchiveKey;
using convoy::archive::parse_archive_key;

TEST(ArchiveKey, CdcObjectsAndTheirManifests) {
    std::string key = convoy::object_key({"convoy.events", 1795586500123456, 0x16B3748, 0});
    ArchiveKey k;
    ASSERT_TRUE(parse_archive_key(key, k));
    EXPECT_EQ(k.table, "convoy.events");
    EXPECT_FALSE(k.manifest);
    EXPECT_FALSE(k.exported);
    EXPECT_FALSE(k.has_window);
    ASSERT_TRUE(parse_archive_key(convoy::manifest_key(key), k));
    EXPECT_TRUE(k.manifest);
    ASSERT_TRUE(parse_archive_key(convoy::object_key({"convoy.events", 1, 2, 3}), k));
    EXPECT_FALSE(k.exported);
}

TEST(ArchiveKey, ExportWindows) {
    std::string key = convoy::export_object_key("\"Odd\".t/x",
                                                3600000000, 7200000000);
    ArchiveKey k;
    ASSERT_TRUE(parse_archive_key(key, k));
    EXPECT_EQ(k.table, convoy::encode_key_component("\"Odd\".t/x"));
    EXPECT_TRUE(k.exported);
    ASSERT_TRUE(k.has_window);
    EXPECT_EQ(k.window_start_micros, 3600000000);
    EXPECT_EQ(k.window_end_micros, 7200000000);
}

TEST(ArchiveKey, OtherKeysAreNotPartOfTheLayout) {
    ArchiveKey k;
    for (const char *key : {"backup/2026-01-01/t.x/a.json", "backup/2026-01-01/t.x/.jsonl.gz",
                            "backup/2026-01-01/a.jsonl.gz", "backup/2026-01-01/t.x/y/a.jsonl.gz",
                            "other/2026-01-01/t.x/a.jsonl.gz", "backup//t.x/a.jsonl.gz",
                            "backup/2026-01-01/t.x/a.jsonl.gz.tmp"})
        EXPECT_FALSE(parse_archive_key(key, k)) << key;
    ASSERT_TRUE(parse_archive_key("backup/d/t.x/junk_export_junk.jsonl.gz", k));
    EXPECT_TRUE(k.exported);
    EXPECT_FALSE(k.has_window);
}

} // namespace
