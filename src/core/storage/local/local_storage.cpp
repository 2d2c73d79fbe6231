#include "core/storage/local/local_storage.hpp"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.hpp"

namespace convoy {

namespace {

// Largest single write(2): Linux transfers at most 0x7ffff000 bytes per call.
constexpr size_t max_write_piece = size_t(1) << 30;
// Written bytes handed to the kernel for writeback at a time (Linux): the
// disk works while the next bytes are compressed, and commit()'s fsync finds
// little left to do, as PostgreSQL's backend_flush_after does.
constexpr uint64_t writeback_every = 4 * 1024 * 1024;
// Attempts at a fresh temporary name when one is taken (by a file a crashed
// process with a recycled pid left behind).
constexpr int temp_name_attempts = 100;

// strerror_r has a GNU variant returning char * and a POSIX one returning int.
[[maybe_unused]] const char *strerror_result(int rc, const char *buf) noexcept {
    return rc == 0 ? buf : "unknown error";
}
[[maybe_unused]] const char *strerror_result(const char *msg, const char *) noexcept { return msg; }

std::string errno_text(int err) {
    char buf[256] = "";
    return strerror_result(strerror_r(err, buf, sizeof(buf)), buf);
}

// "could not write file \"/x/y\": No space left on device", PostgreSQL's wording.
[[noreturn]] void throw_io(const std::string &what, int err) {
    throw Error(ErrorKind::storage_io, what + ": " + errno_text(err));
}

// A path or key in double quotes, as messages show them.
std::string quoted(std::string_view text) { return "\"" + printable_key(text) + "\""; }

std::string join_path(const std::string &dir, std::string_view name) {
    std::string path = dir;
    if (path.empty() || path.back() != '/')
        path += '/';
    path += name;
    return path;
}

// An owned file descriptor.
class Fd {
public:
    Fd() noexcept = default;
    explicit Fd(int fd) noexcept : fd_(fd) {}
    Fd(Fd &&other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    Fd &operator=(Fd &&other) noexcept {
        if (this != &other) {
            reset();
            fd_ = std::exchange(other.fd_, -1);
        }
        return *this;
    }
    Fd(const Fd &) = delete;
    Fd &operator=(const Fd &) = delete;
    ~Fd() { reset(); }

    int get() const noexcept { return fd_; }
    bool valid() const noexcept { return fd_ >= 0; }
    // Closes without looking at the result (for cleanup paths).
    void reset() noexcept {
        if (fd_ >= 0)
            ::close(fd_);
        fd_ = -1;
    }
    // Closes and returns 0, or -1 with errno set. Not retried on EINTR: on Linux
    // the descriptor is gone either way.
    int close_checked() noexcept { return ::close(std::exchange(fd_, -1)); }

private:
    int fd_ = -1;
};

int openat_retry(int dirfd, const char *name, int flags, mode_t mode = 0) noexcept {
    int fd;
    do {
        fd = ::openat(dirfd, name, flags, mode);
    } while (fd < 0 && errno == EINTR);
    return fd;
}

int fsync_retry(int fd) noexcept {
    int rc;
    do {
        rc = ::fsync(fd);
    } while (rc != 0 && errno == EINTR);
    return rc;
}

void fsync_directory(int dir_fd, const std::string &path) {
    if (fsync_retry(dir_fd) != 0) {
        int err = errno;
        throw_io("could not fsync directory " + quoted(path), err);
    }
}

std::string temp_file_name() {
    static std::atomic<uint64_t> counter{0};
    uint64_t n = counter.fetch_add(1, std::memory_order_relaxed);
    return ".convoy-" + std::to_string(static_cast<long long>(::getpid())) + "-" +
           std::to_string(n) + ".tmp";
}

class LocalUpload final : public ObjectUpload {
public:
    LocalUpload(Fd dir, std::string dir_path, Fd file, std::string temp_name,
                std::string final_name)
        : dir_(std::move(dir)), dir_path_(std::move(dir_path)), file_(std::move(file)),
          temp_name_(std::move(temp_name)), final_name_(std::move(final_name)) {}

    ~LocalUpload() override {
        if (!committed_)
            abort();
    }

    void write(const uint8_t *data, size_t len) override {
        if (closed_)
            throw Error(ErrorKind::internal,
                        "cannot write to an upload that is already committed or aborted");
        while (len > 0) {
            size_t piece = len < max_write_piece ? len : max_write_piece;
            ssize_t n = ::write(file_.get(), data, piece);
            if (n < 0) {
                int err = errno;
                if (err == EINTR)
                    continue;
                throw_io("could not write file " + quoted(temp_path()), err);
            }
            // write() returning 0 for a non-empty buffer can only mean a full disk.
            if (n == 0)
                throw_io("could not write file " + quoted(temp_path()), ENOSPC);
            data += n;
            len -= static_cast<size_t>(n);
            written_ += static_cast<uint64_t>(n);
        }
        start_writeback();
    }

    // Only starts writeback, it waits for nothing and its errors are left to
    // fsync(), which reports them: durability still rests on commit().
    void start_writeback() noexcept {
#ifdef SYNC_FILE_RANGE_WRITE
        if (written_ - written_back_ < writeback_every)
            return;
        (void) ::sync_file_range(file_.get(), static_cast<off_t>(written_back_),
                                 static_cast<off_t>(written_ - written_back_),
                                 SYNC_FILE_RANGE_WRITE);
        written_back_ = written_;
#endif
    }

    void commit() override {
        if (closed_)
            throw Error(ErrorKind::internal,
                        "cannot commit an upload that is already committed or aborted");
        // From here on no more bytes are accepted; if anything below fails, the
        // caller aborts, which removes the temporary file if it is still there.
        closed_ = true;
        if (fsync_retry(file_.get()) != 0) {
            int err = errno;
            throw_io("could not fsync file " + quoted(temp_path()), err);
        }
        if (file_.close_checked() != 0) {
            int err = errno;
            throw_io("could not close file " + quoted(temp_path()), err);
        }
        if (::renameat(dir_.get(), temp_name_.c_str(), dir_.get(), final_name_.c_str()) != 0) {
            int err = errno;
            throw_io("could not rename file " + quoted(temp_path()) + " to " + quoted(final_path()),
                     err);
        }
        temp_present_ = false;
        // The object is in place; this makes the rename itself durable. Should it
        // fail, the object stays visible (it cannot be told apart from a replaced
        // older one), the caller sees the error and writes the key again.
        fsync_directory(dir_.get(), dir_path_);
        committed_ = true;
        dir_.reset();
    }

    void abort() noexcept override {
        closed_ = true;
        file_.reset();
        if (temp_present_) {
            // Nothing useful can be done if this fails: the name marks the file
            // as temporary, so it can be told apart from an object.
            (void)::unlinkat(dir_.get(), temp_name_.c_str(), 0);
            temp_present_ = false;
        }
        dir_.reset();
    }

private:
    std::string temp_path() const { return join_path(dir_path_, temp_name_); }
    std::string final_path() const { return join_path(dir_path_, final_name_); }

    Fd dir_;
    std::string dir_path_;
    Fd file_;
    std::string temp_name_;
    std::string final_name_;
    bool closed_ = false;
    bool temp_present_ = true;
    bool committed_ = false;
    uint64_t written_ = 0;      // bytes written so far
    uint64_t written_back_ = 0; // of which writeback was started
};

} // namespace

LocalStorage::LocalStorage(std::string root, mode_t file_mode)
    : root_(std::move(root)), file_mode_(file_mode),
      // Search rights wherever read rights are: 0600 -> 0700, 0640 -> 0750.
      directory_mode_(file_mode | ((file_mode & 0444) >> 2)) {
    if (file_mode != 0600 && file_mode != 0640) {
        char text[8];
        snprintf(text, sizeof(text), "%04o", unsigned(file_mode));
        throw Error(ErrorKind::invalid_config,
                    std::string("file mode ") + text + " is not allowed for backup objects",
                    "Use 0600 (owner only) or 0640 (also readable by the group).");
    }
    if (root_.empty())
        throw Error(ErrorKind::invalid_config, "storage directory is not set",
                    "Set it to an absolute path to an existing directory.");
    if (root_.front() != '/')
        throw Error(ErrorKind::invalid_config,
                    "storage directory " + quoted(root_) + " is not an absolute path",
                    "Set it to an absolute path to an existing directory.");
    // "/srv/backup/" and "/srv/backup" name the same place; keep messages tidy.
    while (root_.size() > 1 && root_.back() == '/')
        root_.pop_back();

    struct stat st;
    if (::stat(root_.c_str(), &st) != 0) {
        int err = errno;
        if (err == ENOENT)
            throw Error(ErrorKind::invalid_config,
                        "storage directory " + quoted(root_) + " does not exist");
        throw Error(ErrorKind::invalid_config,
                    "could not access storage directory " + quoted(root_) + ": " + errno_text(err));
    }
    if (!S_ISDIR(st.st_mode))
        throw Error(ErrorKind::invalid_config,
                    "storage directory " + quoted(root_) + " is not a directory");
}

void LocalStorage::sync_directory_once(int dir_fd, const std::string &path, bool new_entry) {
    std::lock_guard<std::mutex> lock(synced_mutex_);
    if (!new_entry && synced_directories_.count(path) != 0)
        return;
    fsync_directory(dir_fd, path);
    synced_directories_.insert(path);
}

std::string LocalStorage::describe() const { return "local directory " + quoted(root_); }

std::unique_ptr<ObjectUpload> LocalStorage::begin_upload(const std::string &key) {
    validate_object_key(key);

    // The root itself may be a symbolic link: it is configuration, not a key.
    Fd dir(openat_retry(AT_FDCWD, root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir.valid()) {
        int err = errno;
        throw_io("could not open storage directory " + quoted(root_), err);
    }
    std::string dir_path = root_;

    // Every component but the last is a directory, opened (or made) one at a time
    // relative to its parent, never following a symbolic link.
    size_t start = 0;
    for (size_t slash; (slash = key.find('/', start)) != std::string::npos; start = slash + 1) {
        std::string name = key.substr(start, slash - start);
        std::string path = join_path(dir_path, name);
        const int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

        bool created = false;
        Fd sub(openat_retry(dir.get(), name.c_str(), flags));
        if (!sub.valid() && errno == ENOENT) {
            if (::mkdirat(dir.get(), name.c_str(), directory_mode_) == 0) {
                created = true;
            } else if (errno != EEXIST) { // EEXIST: another process has just made it
                int err = errno;
                throw_io("could not create directory " + quoted(path), err);
            }
            sub = Fd(openat_retry(dir.get(), name.c_str(), flags));
            // The umask may have taken rights away: set them as configured.
            if (created && sub.valid() && ::fchmod(sub.get(), directory_mode_) != 0) {
                int err = errno;
                throw_io("could not set permissions of directory " + quoted(path), err);
            }
        }
        if (!sub.valid()) {
            int err = errno;
            struct stat st;
            if ((err == ELOOP || err == ENOTDIR) &&
                ::fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                S_ISLNK(st.st_mode))
                throw Error(ErrorKind::invalid_key,
                            "object key " + quoted(key) + " would leave the storage directory",
                            "The path " + quoted(path) +
                                " is a symbolic link, and links inside the storage directory "
                                "are not followed.");
            throw_io("could not open directory " + quoted(path), err);
        }
        // sub's entry in dir must be durable, whoever made sub. (sub itself is
        // fsynced in turn: as the next parent, or on commit() if it is the last.)
        sync_directory_once(dir.get(), dir_path, created);
        dir = std::move(sub);
        dir_path = std::move(path);
    }
    std::string final_name = key.substr(start);

    for (int attempt = 0;; attempt++) {
        std::string temp_name = temp_file_name();
        Fd file(openat_retry(dir.get(), temp_name.c_str(),
                             O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, file_mode_));
        if (file.valid() && ::fchmod(file.get(), file_mode_) != 0) {
            int err = errno;
            ::unlinkat(dir.get(), temp_name.c_str(), 0);
            throw_io("could not set permissions of file " + quoted(join_path(dir_path, temp_name)),
                     err);
        }
        if (file.valid())
            return std::make_unique<LocalUpload>(std::move(dir), std::move(dir_path),
                                                 std::move(file), std::move(temp_name),
                                                 std::move(final_name));
        if (errno != EEXIST || attempt + 1 >= temp_name_attempts) {
            int err = errno;
            throw_io("could not create file " + quoted(join_path(dir_path, temp_name)), err);
        }
    }
}

} // namespace convoy
