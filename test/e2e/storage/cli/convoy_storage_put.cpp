// convoy_storage_put: the core's S3Storage and AzureBlobStorage from the command
// line, for the storage end-to-end tests (run-core-e2e.sh). Built by CMake only;
// never installed. Commands:
//   put (the default): reads standard input and uploads it under --key
//   list: prints "<size> <key>" for every object under --list-prefix
//   get:  writes the object --key to standard output (--gunzip: decompressed;
//         --sha256: its digest and size on standard error)
//
// Secrets come from the environment only and are never printed:
//   S3:    AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN (optional)
//   Azure: AZURE_STORAGE_KEY or AZURE_STORAGE_SAS_TOKEN (AZURE_STORAGE_ACCOUNT may
//          stand in for --account)
//
// Exit status: 0 done, 1 usage, 2 invalid_config, 3 storage_auth,
// 4 storage_unavailable, 5 storage_io, 6 invalid_key, 7 anything else,
// 8 not_found, 9 corrupt_data.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/read/gzip_reader.hpp"
#include "core/read/sha256_reader.hpp"
#include "core/storage/azure/azure_blob_storage.hpp"
#include "core/storage/s3/s3_storage.hpp"

namespace {

const char usage_text[] =
    "usage: convoy_storage_put [put] --backend s3|azure --key KEY [options] < data\n"
    "       convoy_storage_put list --backend s3|azure [--list-prefix P] [options]\n"
    "       convoy_storage_put get --backend s3|azure --key KEY [--gunzip] [--sha256] [options]\n"
    "common:  --endpoint URL  --prefix P  --part-size BYTES  --ca-file FILE\n"
    "         --page-size KEYS  --read-buffer BYTES\n"
    "         --retries N  --retry-base-ms MS  --retry-max-ms MS\n"
    "         --connect-timeout-ms MS  --timeout-ms MS  --write-size BYTES\n"
    "         --allow-small-parts  --abort (write everything, then abort)\n"
    "s3:      --bucket B  --region R  --path-style\n"
    "azure:   --account A  --container C  --no-create-container\n"
    "secrets: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,\n"
    "         AZURE_STORAGE_KEY or AZURE_STORAGE_SAS_TOKEN (environment only)\n";

[[noreturn]] void usage(const std::string &problem) {
    std::fprintf(stderr, "convoy_storage_put: %s\n%s", problem.c_str(), usage_text);
    std::exit(1);
}

std::string env(const char *name) {
    const char *v = std::getenv(name);
    return v ? v : "";
}

long long number(const std::string &flag, const std::string &text) {
    char *end = nullptr;
    errno = 0;
    long long v = std::strtoll(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || errno != 0 || v < 0)
        usage("invalid number for " + flag + ": \"" + text + "\"");
    return v;
}

const char *kind_name(convoy::ErrorKind kind) {
    switch (kind) {
    case convoy::ErrorKind::invalid_config:
        return "invalid_config";
    case convoy::ErrorKind::invalid_key:
        return "invalid_key";
    case convoy::ErrorKind::storage_io:
        return "storage_io";
    case convoy::ErrorKind::storage_auth:
        return "storage_auth";
    case convoy::ErrorKind::storage_unavailable:
        return "storage_unavailable";
    case convoy::ErrorKind::not_found:
        return "not_found";
    case convoy::ErrorKind::corrupt_data:
        return "corrupt_data";
    case convoy::ErrorKind::out_of_resources:
        return "out_of_resources";
    case convoy::ErrorKind::internal:
        return "internal";
    }
    return "unknown";
}

int exit_code(convoy::ErrorKind kind) {
    switch (kind) {
    case convoy::ErrorKind::invalid_config:
        return 2;
    case convoy::ErrorKind::storage_auth:
        return 3;
    case convoy::ErrorKind::storage_unavailable:
        return 4;
    case convoy::ErrorKind::storage_io:
        return 5;
    case convoy::ErrorKind::invalid_key:
        return 6;
    case convoy::ErrorKind::not_found:
        return 8;
    case convoy::ErrorKind::corrupt_data:
        return 9;
    default:
        return 7;
    }
}

} // namespace

// Writes what reader returns to standard output.
int copy_to_stdout(convoy::ObjectReader &reader) {
    std::vector<uint8_t> buf(64 * 1024);
    for (;;) {
        size_t n = reader.read(buf.data(), buf.size());
        if (n == 0)
            break;
        if (std::fwrite(buf.data(), 1, n, stdout) != n) {
            std::fprintf(stderr, "convoy_storage_put: could not write standard output: %s\n",
                         std::strerror(errno));
            return 7;
        }
    }
    if (std::fflush(stdout) != 0) {
        std::fprintf(stderr, "convoy_storage_put: could not write standard output: %s\n",
                     std::strerror(errno));
        return 7;
    }
    return 0;
}

int main(int argc, char **argv) {
    std::string command = "put";
    std::string backend, key, endpoint, prefix, ca_file, bucket, region, account, container;
    std::string list_prefix;
    long long part_size = -1, write_size = 64 * 1024, page_size = -1, read_buffer = -1;
    bool path_style = false, allow_small = false, do_abort = false, create_container = true;
    bool gunzip = false, sha256 = false;
    convoy::http::ClientOptions http;

    int first = 1;
    if (argc > 1 && argv[1][0] != '-') {
        command = argv[1];
        first = 2;
        if (command != "put" && command != "list" && command != "get")
            usage("unknown command \"" + command + "\"");
    }
    for (int i = first; i < argc; i++) {
        std::string arg = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc)
                usage("missing value for " + arg);
            return argv[++i];
        };
        if (arg == "--backend")
            backend = value();
        else if (arg == "--key")
            key = value();
        else if (arg == "--endpoint")
            endpoint = value();
        else if (arg == "--prefix")
            prefix = value();
        else if (arg == "--part-size")
            part_size = number(arg, value());
        else if (arg == "--ca-file")
            ca_file = value();
        else if (arg == "--retries")
            http.retry.max_retries = static_cast<int>(number(arg, value()));
        else if (arg == "--retry-base-ms")
            http.retry.base_delay_ms = number(arg, value());
        else if (arg == "--retry-max-ms")
            http.retry.max_delay_ms = number(arg, value());
        else if (arg == "--connect-timeout-ms")
            http.connect_timeout_ms = number(arg, value());
        else if (arg == "--timeout-ms")
            http.request_timeout_ms = number(arg, value());
        else if (arg == "--write-size")
            write_size = number(arg, value());
        else if (arg == "--allow-small-parts")
            allow_small = true;
        else if (arg == "--abort")
            do_abort = true;
        else if (arg == "--bucket")
            bucket = value();
        else if (arg == "--region")
            region = value();
        else if (arg == "--path-style")
            path_style = true;
        else if (arg == "--account")
            account = value();
        else if (arg == "--container")
            container = value();
        else if (arg == "--no-create-container")
            create_container = false;
        else if (arg == "--list-prefix")
            list_prefix = value();
        else if (arg == "--page-size")
            page_size = number(arg, value());
        else if (arg == "--read-buffer")
            read_buffer = number(arg, value());
        else if (arg == "--gunzip")
            gunzip = true;
        else if (arg == "--sha256")
            sha256 = true;
        else if (arg == "--help" || arg == "-h") {
            std::fputs(usage_text, stdout);
            return 0;
        } else
            usage("unknown option \"" + arg + "\"");
    }
    if (backend != "s3" && backend != "azure")
        usage("--backend must be s3 or azure");
    if (key.empty() && command != "list")
        usage("--key is required");
    if (write_size < 1)
        usage("--write-size must be at least 1");
    http.ca_file = ca_file;

    try {
        std::unique_ptr<convoy::Storage> storage;
        if (backend == "s3") {
            convoy::S3Config c;
            c.bucket = bucket;
            c.region = region;
            c.endpoint = endpoint;
            c.force_path_style = path_style;
            c.access_key = env("AWS_ACCESS_KEY_ID");
            c.secret_key = env("AWS_SECRET_ACCESS_KEY");
            c.session_token = env("AWS_SESSION_TOKEN");
            c.prefix = prefix;
            if (part_size >= 0)
                c.part_size = static_cast<size_t>(part_size);
            c.allow_small_parts = allow_small;
            if (page_size >= 0)
                c.list_page_size = static_cast<int>(page_size);
            if (read_buffer >= 0)
                c.read_buffer_size = static_cast<size_t>(read_buffer);
            c.http = http;
            storage = std::make_unique<convoy::S3Storage>(std::move(c));
        } else {
            convoy::AzureConfig c;
            c.account_name = account.empty() ? env("AZURE_STORAGE_ACCOUNT") : account;
            c.account_key = env("AZURE_STORAGE_KEY");
            c.sas_token = env("AZURE_STORAGE_SAS_TOKEN");
            c.container = container;
            c.endpoint = endpoint;
            c.prefix = prefix;
            if (part_size >= 0)
                c.block_size = static_cast<size_t>(part_size);
            c.create_container = create_container;
            if (page_size >= 0)
                c.list_page_size = static_cast<int>(page_size);
            if (read_buffer >= 0)
                c.read_buffer_size = static_cast<size_t>(read_buffer);
            c.http = http;
            storage = std::make_unique<convoy::AzureBlobStorage>(std::move(c));
        }

        if (command == "list") {
            unsigned long long count = 0;
            storage->list(list_prefix, [&](const convoy::ListedObject &o) {
                std::printf("%llu %s\n", static_cast<unsigned long long>(o.size), o.key.c_str());
                count++;
            });
            std::fprintf(stderr, "listed %llu objects of %s\n", count, storage->describe().c_str());
            return 0;
        }
        if (command == "get") {
            std::unique_ptr<convoy::ObjectReader> object = storage->open_read(key);
            convoy::Sha256Reader hashed(*object);
            std::unique_ptr<convoy::GzipReader> inflated;
            if (gunzip)
                inflated = std::make_unique<convoy::GzipReader>(hashed);
            int rc = copy_to_stdout(inflated ? static_cast<convoy::ObjectReader &>(*inflated)
                                             : static_cast<convoy::ObjectReader &>(hashed));
            if (rc == 0 && sha256)
                std::fprintf(stderr, "sha256 %s bytes %llu\n", hashed.hex_digest().c_str(),
                             static_cast<unsigned long long>(hashed.bytes_read()));
            return rc;
        }

        std::unique_ptr<convoy::ObjectUpload> upload = storage->begin_upload(key);
        std::vector<uint8_t> buf(static_cast<size_t>(write_size));
        unsigned long long total = 0;
        for (;;) {
            ssize_t n = ::read(STDIN_FILENO, buf.data(), buf.size());
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                std::fprintf(stderr, "convoy_storage_put: could not read standard input: %s\n",
                             std::strerror(errno));
                upload->abort();
                return 7;
            }
            if (n == 0)
                break;
            upload->write(buf.data(), static_cast<size_t>(n));
            total += static_cast<unsigned long long>(n);
        }
        if (do_abort) {
            upload->abort();
            std::printf("aborted %llu bytes for %s under \"%s\"\n", total,
                        storage->describe().c_str(), key.c_str());
            return 0;
        }
        upload->commit();
        std::printf("uploaded %llu bytes to %s under \"%s\"\n", total, storage->describe().c_str(),
                    key.c_str());
        return 0;
    } catch (const convoy::Error &e) {
        std::fprintf(stderr, "convoy_storage_put: ERROR [%s]: %s\n", kind_name(e.kind()), e.what());
        if (!e.detail().empty())
            std::fprintf(stderr, "DETAIL: %s\n", e.detail().c_str());
        return exit_code(e.kind());
    } catch (const std::exception &e) {
        std::fprintf(stderr, "convoy_storage_put: ERROR [internal]: %s\n", e.what());
        return 7;
    }
}
