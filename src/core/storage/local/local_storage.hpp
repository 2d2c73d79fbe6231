// Storage in a local directory: each object is a file under the root.
//
// Durability: the bytes go to a temporary file in the object's directory, which is
// fsynced, renamed over the final name, and the directory fsynced (directories it
// had to create are fsynced into their parents too). Keys never escape the root:
// directories are opened one component at a time without following symbolic
// links, so a link planted inside the tree is refused rather than followed.
#pragma once

#include <string>

#include "core/storage/storage.hpp"
#include "core/core_only.hpp"

namespace convoy {

class LocalStorage : public Storage {
public:
    // root: an absolute path to an existing directory (it may itself be a link).
    // Throws Error(invalid_config) if it is not.
    explicit LocalStorage(std::string root);

    std::unique_ptr<ObjectUpload> begin_upload(const std::string &key) override;
    std::string describe() const override;

private:
    std::string root_;
};

} // namespace convoy
