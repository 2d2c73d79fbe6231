#include "core/archive/selection.hpp"
#include "core/archive/archive_key.hpp"
#include "core/error.hpp"

#include <algorithm>
#include <set>

namespace convoy::archive {

namespace {

struct Listed {
    std::string key;
    uint64_t size;
    ArchiveKey parsed;
};

// Whether a manifest shows that the object can hold rows of the range.
bool manifest_overlaps(const Manifest &manifest, const SelectionSpec &spec) {
    if (manifest.time_column != spec.time_column)
        return true; // about another column: says nothing of this one
    if (!manifest.time_min_micros || !manifest.time_max_micros)
        return false; // no row with a time at all
    return spec.range.overlaps(*manifest.time_min_micros, *manifest.time_max_micros);
}

} // namespace

std::string read_small_object(Storage &storage, const std::string &key, size_t limit) {
    std::unique_ptr<ObjectReader> reader = storage.open_read(key);
    std::string text;
    uint8_t buffer[16384];
    for (;;) {
        size_t got = reader->read(buffer, sizeof(buffer));
        if (got == 0)
            break;
        if (text.size() + got > limit)
            throw Error(ErrorKind::corrupt_data, "object is larger than " + std::to_string(limit) + " bytes");
        text.append(reinterpret_cast<const char *>(buffer), got);
    }
    return text;
}

Selection select_objects(Storage &storage, const SelectionSpec &spec,
                         const std::function<bool()> &canceled) {
    std::vector<Listed> data;
    std::set<std::string> manifests;
    storage.list("backup/", [&](const ListedObject &object) {
        Listed listed{object.key, object.size, {}};
        if (!parse_archive_key(listed.key, listed.parsed) || listed.parsed.table != spec.table)
            return;
        if (listed.parsed.manifest)
            manifests.insert(listed.key);
        else
            data.push_back(std::move(listed));
    });
    std::sort(data.begin(), data.end(), [](const Listed &a, const Listed &b) { return a.key < b.key; });

    Selection selection;
    selection.table_objects = data.size();
    std::set<std::string> described; // manifests whose data object is listed
    for (Listed &listed : data) {
        std::string mkey = manifest_key(listed.key);
        bool has_manifest = manifests.count(mkey) > 0;
        if (has_manifest)
            described.insert(mkey);
        // An export window holds only rows of its window: no manifest needed.
        if (listed.parsed.has_window &&
            !spec.range.overlaps(listed.parsed.window_start_micros, listed.parsed.window_end_micros - 1))
            continue;
        SelectedObject object;
        object.key = listed.key;
        object.size = listed.size;
        object.exported = listed.parsed.exported;
        if (has_manifest) {
            if (canceled && canceled())
                throw Error(ErrorKind::storage_io, "reading the manifests was canceled");
            try {
                object.manifest = manifest_from_json(read_small_object(storage, mkey, max_manifest_bytes));
            } catch (const Error &e) {
                if (e.kind() == ErrorKind::not_found) {
                    // Removed since the listing: the object is read whole.
                } else if (e.kind() == ErrorKind::corrupt_data) {
                    object.manifest_problem = std::string("its manifest cannot be read: ") + e.what();
                } else {
                    throw;
                }
            }
            if (object.manifest && !manifest_overlaps(*object.manifest, spec))
                continue;
        }
        selection.bytes += object.size;
        selection.objects.push_back(std::move(object));
    }
    // Manifests left over describe objects that are gone. Those whose rows may
    // be in range are reported; reading one tells.
    for (const std::string &mkey : manifests) {
        if (described.count(mkey))
            continue;
        ArchiveKey parsed;
        if (!parse_archive_key(mkey, parsed))
            continue;
        if (parsed.has_window &&
            !spec.range.overlaps(parsed.window_start_micros, parsed.window_end_micros - 1))
            continue;
        std::string data_key = mkey.substr(0, mkey.size() - std::string_view(".manifest.json").size()) +
                               ".jsonl.gz";
        try {
            if (canceled && canceled())
                throw Error(ErrorKind::storage_io, "reading the manifests was canceled");
            Manifest manifest = manifest_from_json(read_small_object(storage, mkey, max_manifest_bytes));
            if (!manifest_overlaps(manifest, spec))
                continue;
        } catch (const Error &e) {
            if (e.kind() == ErrorKind::not_found)
                continue;
            if (e.kind() != ErrorKind::corrupt_data)
                throw;
        }
        selection.lost.push_back(data_key);
    }
    return selection;
}

} // namespace convoy::archive
