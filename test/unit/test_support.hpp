// Helpers shared by the core's unit tests: scratch directories, gzip inflation,
// file reading.
#pragma once

#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "core/storage/storage.hpp"

#ifndef CONVOY_TEST_TMPDIR
#define CONVOY_TEST_TMPDIR "/tmp"
#endif

namespace convoy::test {

// Removes path and everything below it, never following symbolic links.
inline void remove_tree(const std::string &path) {
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        if (DIR *d = ::opendir(path.c_str())) {
            std::vector<std::string> names;
            while (struct dirent *e = ::readdir(d)) {
                std::string name = e->d_name;
                if (name != "." && name != "..")
                    names.push_back(name);
            }
            ::closedir(d);
            for (const std::string &name : names)
                remove_tree(path + "/" + name);
        }
        ::rmdir(path.c_str());
    } else {
        ::unlink(path.c_str());
    }
}

// A fresh directory under the build tree, removed with its contents at scope end.
class TempDir {
public:
    TempDir() {
        ::mkdir(CONVOY_TEST_TMPDIR, 0755);
        std::string templ = std::string(CONVOY_TEST_TMPDIR) + "/convoy-test-XXXXXX";
        std::vector<char> buf(templ.begin(), templ.end());
        buf.push_back('\0');
        if (!::mkdtemp(buf.data()))
            throw std::runtime_error("mkdtemp failed for " + templ + ": " + std::strerror(errno));
        path_ = buf.data();
    }
    ~TempDir() { remove_tree(path_); }
    TempDir(const TempDir &) = delete;
    TempDir &operator=(const TempDir &) = delete;

    const std::string &path() const { return path_; }
    std::string operator/(const std::string &rel) const { return path_ + "/" + rel; }

private:
    std::string path_;
};

inline bool exists(const std::string &path) {
    struct stat st;
    return ::lstat(path.c_str(), &st) == 0;
}

inline std::string read_file(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw std::runtime_error("cannot read " + path);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

inline void write_file(const std::string &path, const std::string &content) {
    std::ofstream out(path, std::ios::binary);
    out << content;
    if (!out)
        throw std::runtime_error("cannot write " + path);
}

// Every non-directory entry below root (files and links), as paths relative to it,
// sorted.
inline std::vector<std::string> list_files(const std::string &root, const std::string &rel = "") {
    std::vector<std::string> out;
    std::string dir = rel.empty() ? root : root + "/" + rel;
    DIR *d = ::opendir(dir.c_str());
    if (!d)
        return out;
    std::vector<std::string> names;
    while (struct dirent *e = ::readdir(d)) {
        std::string name = e->d_name;
        if (name != "." && name != "..")
            names.push_back(name);
    }
    ::closedir(d);
    for (const std::string &name : names) {
        std::string child = rel.empty() ? name : rel + "/" + name;
        struct stat st;
        if (::lstat((root + "/" + child).c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
            for (std::string &f : list_files(root, child))
                out.push_back(std::move(f));
        } else {
            out.push_back(child);
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

// An object's bytes from memory, handed out at most piece bytes per read() (to
// exercise readers' handling of short reads); counts the read() calls.
class StringReader : public convoy::ObjectReader {
public:
    explicit StringReader(std::string data, size_t piece = SIZE_MAX)
        : data_(std::move(data)), piece_(piece) {}
    size_t read(uint8_t *buffer, size_t capacity) override {
        calls++;
        size_t n = std::min({capacity, piece_, data_.size() - pos_});
        std::memcpy(buffer, data_.data() + pos_, n);
        pos_ += n;
        return n;
    }
    int calls = 0;

private:
    std::string data_;
    size_t piece_;
    size_t pos_ = 0;
};

// Everything reader returns, read chunk bytes at a time, until read() returns 0.
inline std::string read_all(convoy::ObjectReader &reader, size_t chunk = 64 * 1024) {
    std::string out;
    std::vector<uint8_t> buf(chunk);
    for (;;) {
        size_t n = reader.read(buf.data(), buf.size());
        if (n == 0)
            return out;
        out.append(reinterpret_cast<const char *>(buf.data()), n);
    }
}

// Decompresses a complete gzip stream (one or more members, as gunzip does);
// fails the test on any error or trailing garbage.
inline std::string gunzip(const std::string &compressed) {
    z_stream zs{};
    if (inflateInit2(&zs, 15 + 16) != Z_OK)
        throw std::runtime_error("inflateInit2 failed");
    std::string out;
    zs.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(compressed.data()));
    zs.avail_in = static_cast<uInt>(compressed.size());
    char buf[64 * 1024];
    int rc;
    do {
        zs.next_out = reinterpret_cast<Bytef *>(buf);
        zs.avail_out = sizeof(buf);
        rc = inflate(&zs, Z_NO_FLUSH);
        if (rc != Z_OK && rc != Z_STREAM_END) {
            inflateEnd(&zs);
            throw std::runtime_error(std::string("inflate failed: ") + (zs.msg ? zs.msg : "?"));
        }
        out.append(buf, sizeof(buf) - zs.avail_out);
        // The next member starts right after this one's trailer.
        if (rc == Z_STREAM_END && zs.avail_in > 0) {
            if (inflateReset(&zs) != Z_OK)
                throw std::runtime_error("inflateReset failed");
            rc = Z_OK;
        }
    } while (rc != Z_STREAM_END);
    size_t trailing = zs.avail_in;
    inflateEnd(&zs);
    if (trailing != 0)
        throw std::runtime_error("trailing bytes after the gzip member");
    return out;
}

// Deterministic pseudo-random bytes (xorshift64*), incompressible.
inline std::string random_bytes(size_t n, uint64_t seed = 0x9E3779B97F4A7C15ull) {
    std::string out(n, '\0');
    uint64_t x = seed ? seed : 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        out[i] = static_cast<char>((x * 0x2545F4914F6CDD1Dull) >> 56);
    }
    return out;
}

// Compressible JSON-lines-like text.
inline std::string sample_rows(size_t min_bytes) {
    std::string out;
    for (uint64_t i = 0; out.size() < min_bytes; i++)
        out += "{\"id\": " + std::to_string(i) + ", \"name\": \"row " + std::to_string(i * 7919) +
               "\", \"ok\": true}\n";
    return out;
}

// The convoy::Error that f() throws; fails the test when it throws none.
template <typename F> convoy::Error catch_error(F &&f) {
    try {
        f();
    } catch (const convoy::Error &e) {
        return e;
    }
    ADD_FAILURE() << "no convoy::Error thrown";
    return convoy::Error(convoy::ErrorKind::internal, "none");
}

} // namespace convoy::test
