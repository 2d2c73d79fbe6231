#include "core/storage/local/local_storage.hpp"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
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
    // Gives the descriptor up to the caller (fdopendir(), say).
    int release() noexcept { return std::exchange(fd_, -1); }
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

constexpr std::string_view temp_name_start = ".convoy-";
constexpr std::string_view temp_name_end = ".tmp";

std::string temp_file_name() {
    static std::atomic<uint64_t> counter{0};
    uint64_t n = counter.fetch_add(1, std::memory_order_relaxed);
    return std::string(temp_name_start) + std::to_string(static_cast<long long>(::getpid())) +
           "-" + std::to_string(n) + std::string(temp_name_end);
}

// A name temp_file_name() makes: an upload in progress, or one a crash left.
bool is_temp_file_name(std::string_view name) {
    return name.size() > temp_name_start.size() + temp_name_end.size() &&
           name.compare(0, temp_name_start.size(), temp_name_start) == 0 &&
           name.compare(name.size() - temp_name_end.size(), temp_name_end.size(),
                        temp_name_end) == 0;
}

// After openat(O_NOFOLLOW) of name in dir failed with err: refuses a symbolic
// link with invalid_key (the key would leave the tree), returns otherwise.
void refuse_if_link(int dir, const std::string &name, int err, const std::string &key,
                    const std::string &path) {
    struct stat st;
    if ((err == ELOOP || err == ENOTDIR) &&
        ::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
        throw Error(ErrorKind::invalid_key,
                    "object key " + quoted(key) + " would leave the storage directory",
                    "The path " + quoted(path) +
                        " is a symbolic link, and links inside the storage directory "
                        "are not followed.");
}

constexpr int subdirectory_flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

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

// Reads one object's file straight into the caller's buffer.
class LocalReader final : public ObjectReader {
public:
    LocalReader(Fd file, std::string path) : file_(std::move(file)), path_(std::move(path)) {}

    size_t read(uint8_t *buffer, size_t capacity) override {
        size_t piece = capacity < max_write_piece ? capacity : max_write_piece;
        for (;;) {
            ssize_t n = ::read(file_.get(), buffer, piece);
            if (n >= 0)
                return static_cast<size_t>(n);
            if (errno != EINTR) {
                int err = errno;
                throw_io("could not read file " + quoted(path_), err);
            }
        }
    }

private:
    Fd file_;
    std::string path_;
};

Fd open_root(const std::string &root) {
    // The root itself may be a symbolic link: it is configuration, not a key.
    Fd dir(openat_retry(AT_FDCWD, root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir.valid()) {
        int err = errno;
        throw_io("could not open storage directory " + quoted(root), err);
    }
    return dir;
}

// An entry of a directory that list() walks.
struct Entry {
    std::string name;
    bool directory = false;
    uint64_t size = 0;
    // Directories sort as if their name ended in '/', which puts every key
    // below "a" after "a-b" and before "a0", as in byte order of whole keys.
    bool operator<(const Entry &other) const {
        size_t n = std::min(name.size(), other.name.size());
        int c = name.compare(0, n, other.name, 0, n);
        if (c != 0)
            return c < 0;
        auto after = [n](const Entry &e) -> int {
            return e.name.size() > n ? static_cast<unsigned char>(e.name[n])
                                     : (e.directory ? '/' : -1);
        };
        return after(*this) < after(other);
    }
};

// The files and directories in dir whose names start with name_start, sorted;
// links, other kinds of files, temporary files and names no key can have
// (with a backslash) are left out.
std::vector<Entry> read_entries(int dir, const std::string &path, std::string_view name_start) {
    Fd own(openat_retry(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    DIR *stream = own.valid() ? ::fdopendir(own.get()) : nullptr;
    if (stream == nullptr) {
        int err = errno;
        throw_io("could not open directory " + quoted(path), err);
    }
    (void)own.release();
    struct Closer {
        DIR *d;
        ~Closer() { ::closedir(d); }
    } closer{stream};

    std::vector<Entry> entries;
    for (;;) {
        errno = 0;
        struct dirent *e = ::readdir(stream);
        if (e == nullptr) {
            if (errno != 0) {
                int err = errno;
                throw_io("could not read directory " + quoted(path), err);
            }
            break;
        }
        std::string_view name = e->d_name;
        if (name == "." || name == ".." || is_temp_file_name(name) ||
            name.find('\\') != std::string_view::npos ||
            name.compare(0, name_start.size(), name_start) != 0)
            continue;
        struct stat st;
        if (::fstatat(dir, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            if (errno == ENOENT) // removed since readdir() saw it
                continue;
            int err = errno;
            throw_io("could not stat file " + quoted(join_path(path, name)), err);
        }
        if (S_ISDIR(st.st_mode))
            entries.push_back(Entry{std::string(name), true, 0});
        else if (S_ISREG(st.st_mode))
            entries.push_back(Entry{std::string(name), false, static_cast<uint64_t>(st.st_size)});
    }
    std::sort(entries.begin(), entries.end());
    return entries;
}

// Calls each() for the objects below dir (at path, key_base the keys' start)
// whose names start with name_start, in byte order of their keys.
void walk(int dir, const std::string &path, const std::string &key_base,
          std::string_view name_start, const std::function<void(const ListedObject &)> &each) {
    for (const Entry &entry : read_entries(dir, path, name_start)) {
        if (!entry.directory) {
            each(ListedObject{key_base + entry.name, entry.size});
            continue;
        }
        Fd sub(openat_retry(dir, entry.name.c_str(), subdirectory_flags));
        if (!sub.valid()) {
            // Removed or replaced (by a link, say) since it was read: not ours.
            if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)
                continue;
            int err = errno;
            throw_io("could not open directory " + quoted(join_path(path, entry.name)), err);
        }
        walk(sub.get(), join_path(path, entry.name), key_base + entry.name + "/", {}, each);
    }
}

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

    Fd dir = open_root(root_);
    std::string dir_path = root_;

    // Every component but the last is a directory, opened (or made) one at a time
    // relative to its parent, never following a symbolic link.
    size_t start = 0;
    for (size_t slash; (slash = key.find('/', start)) != std::string::npos; start = slash + 1) {
        std::string name = key.substr(start, slash - start);
        std::string path = join_path(dir_path, name);
        const int flags = subdirectory_flags;

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
            refuse_if_link(dir.get(), name, err, key, path);
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

void LocalStorage::list(const std::string &prefix,
                        const std::function<void(const ListedObject &)> &each) {
    validate_key_prefix(prefix);
    Fd dir = open_root(root_);
    std::string dir_path = root_;
    // The prefix's directories are opened as begin_upload() opens a key's; the
    // rest of it selects names in the last one.
    size_t start = 0;
    for (size_t slash; (slash = prefix.find('/', start)) != std::string::npos; start = slash + 1) {
        std::string name = prefix.substr(start, slash - start);
        std::string path = join_path(dir_path, name);
        Fd sub(openat_retry(dir.get(), name.c_str(), subdirectory_flags));
        if (!sub.valid()) {
            // Nothing there, or not a directory, or a link (whose contents no
            // upload put there): no object has this prefix.
            if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)
                return;
            int err = errno;
            throw_io("could not open directory " + quoted(path), err);
        }
        dir = std::move(sub);
        dir_path = std::move(path);
    }
    walk(dir.get(), dir_path, prefix.substr(0, start), std::string_view(prefix).substr(start),
         each);
}

std::unique_ptr<ObjectReader> LocalStorage::open_read(const std::string &key) {
    validate_object_key(key);
    auto not_found = [&]() {
        return Error(ErrorKind::not_found,
                     "object " + quoted(stored_key(key)) + " does not exist in " + describe());
    };
    Fd dir = open_root(root_);
    std::string dir_path = root_;
    size_t start = 0;
    for (size_t slash; (slash = key.find('/', start)) != std::string::npos; start = slash + 1) {
        std::string name = key.substr(start, slash - start);
        std::string path = join_path(dir_path, name);
        Fd sub(openat_retry(dir.get(), name.c_str(), subdirectory_flags));
        if (!sub.valid()) {
            int err = errno;
            refuse_if_link(dir.get(), name, err, key, path);
            if (err == ENOENT || err == ENOTDIR)
                throw not_found();
            throw_io("could not open directory " + quoted(path), err);
        }
        dir = std::move(sub);
        dir_path = std::move(path);
    }
    std::string name = key.substr(start);
    std::string path = join_path(dir_path, name);
    if (is_temp_file_name(name))
        throw not_found(); // an upload's, not an object
    // O_NONBLOCK: a FIFO planted in the tree must not hang the open.
    Fd file(openat_retry(dir.get(), name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    if (!file.valid()) {
        int err = errno;
        refuse_if_link(dir.get(), name, err, key, path);
        if (err == ENOENT)
            throw not_found();
        throw_io("could not open file " + quoted(path), err);
    }
    struct stat st;
    if (::fstat(file.get(), &st) != 0) {
        int err = errno;
        throw_io("could not stat file " + quoted(path), err);
    }
    if (!S_ISREG(st.st_mode))
        throw not_found(); // a directory, a FIFO...: not an object
    return std::make_unique<LocalReader>(std::move(file), std::move(path));
}

} // namespace convoy
