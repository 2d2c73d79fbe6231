// Storage in a local directory: each object is a file under the root.
//
// Durability: the bytes go to a temporary file in the object's directory, which is
// fsynced, renamed over the final name, and the directory fsynced. So that the
// path to the object survives a crash as well, every directory above it up to
// the root is fsynced: the first time this storage puts an object below it,
// whoever made it (an earlier attempt may have crashed before fsyncing what it
// made), and again whenever a subdirectory is made in it.
//
// Keys never escape the root: directories are opened one component at a time
// without following symbolic links, so a link planted inside the tree is refused
// rather than followed (for reading as for writing; list() skips links).
//
// list() walks the tree depth first, each directory's entries sorted so that
// keys come in byte order ("a-b" before "a/c"); it holds the names of one
// directory per level of the path at a time. Temporary files of uploads in
// progress (or of crashed ones) are not objects and are never listed or read.
#pragma once

#include <sys/types.h>

#include <mutex>
#include <string>
#include <unordered_set>

#include "core/storage/storage.hpp"
#include "core/core_only.hpp"

namespace convoy {

class LocalStorage : public Storage {
public:
    // root: an absolute path to an existing directory (it may itself be a link).
    // file_mode: the permissions of new objects, 0600 or 0640 (group-readable
    // at most); new directories get the same plus search rights (0700, 0750).
    // They are set explicitly, whatever the process's umask.
    // Throws Error(invalid_config) if either is not.
    explicit LocalStorage(std::string root, mode_t file_mode = 0600);

    std::unique_ptr<ObjectUpload> begin_upload(const std::string &key) override;
    std::string describe() const override;
    void list(const std::string &prefix,
              const std::function<void(const ListedObject &)> &each) override;
    std::unique_ptr<ObjectReader> open_read(const std::string &key) override;

private:
    // fsyncs the directory dir_fd (at path) unless this storage has done so
    // already and new_entry is false.
    void sync_directory_once(int dir_fd, const std::string &path, bool new_entry);

    std::string root_;
    mode_t file_mode_;
    mode_t directory_mode_;
    std::mutex synced_mutex_;
    std::unordered_set<std::string> synced_directories_; // by path
};

} // namespace convoy
