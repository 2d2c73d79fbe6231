#include "core/catalog/cataloged_object.hpp"

#include <memory>
#include <string>

namespace convoy {

void write_manifest(Storage &storage, const Manifest &manifest) {
    std::string text = manifest_to_json(manifest);
    text += '\n';
    std::unique_ptr<ObjectUpload> upload = storage.begin_upload(manifest_key(manifest.key));
    try {
        upload->write(reinterpret_cast<const uint8_t *>(text.data()), text.size());
        upload->commit();
    } catch (...) {
        upload->abort();
        throw;
    }
}

} // namespace convoy
