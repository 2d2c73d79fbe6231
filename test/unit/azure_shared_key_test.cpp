// Azure Shared Key: the string-to-sign layout from Microsoft's "Authorize with
// Shared Key" page, and signatures checked against @azure/storage-blob's own
// Shared Key policy at a fixed date (test/e2e/storage/gen-sign-vectors.js) and
// against node:crypto's HMAC. Key: Azurite's well-known devstoreaccount1 key.
#include "core/storage/sign/azure_shared_key.hpp"

#include <gtest/gtest.h>

#include <string>

#include "core/storage/sign/crypto.hpp"

namespace {

namespace az = convoy::azure_sign;

const char dev_key_b64[] =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
const char fixed_date[] = "Wed, 01 May 2024 12:00:00 GMT";
const char blob_path[] = "/backups/backup/2024-05-01/events/2024-05-01T12%3A00%3A00Z.jsonl.gz";
const char body_md5[] = "hfLko00v5b//ZO76u7JCoA==";

std::string dev_key() { return convoy::crypto::base64_decode(dev_key_b64).value(); }

std::string sign(const az::Request &r) {
    return az::authorization(r.account, az::signature(az::string_to_sign(r), dev_key()));
}

TEST(AzureSharedKey, DocumentedStringToSign) {
    az::Request r;
    r.method = "GET";
    r.account = "devstoreaccount1";
    r.path = "/mycontainer";
    r.query = {{"restype", "container"}, {"comp", "metadata"}, {"timeout", "20"}};
    r.headers = {{"x-ms-version", "2015-02-21"}, {"x-ms-date", "Fri, 26 Jun 2015 23:39:12 GMT"}};
    std::string sts = az::string_to_sign(r);
    EXPECT_EQ(sts, "GET\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:Fri, 26 Jun 2015 23:39:12 GMT\n"
                   "x-ms-version:2015-02-21\n/devstoreaccount1/mycontainer\ncomp:metadata\n"
                   "restype:container\ntimeout:20");
    EXPECT_EQ(az::signature(sts, dev_key()), "NpSCSjvDEU2u4o4Lo6MDCJInwPAoMzWC8rMVmx3r3aA=");
}

TEST(AzureSharedKey, CreateContainerOnEmulatorMatchesSdk) {
    az::Request r;
    r.method = "PUT";
    r.account = "devstoreaccount1";
    r.path = "/devstoreaccount1/backups"; // path-style: the account appears twice
    r.query = {{"restype", "container"}};
    r.headers = {
        {"Content-Length", "0"}, {"x-ms-date", fixed_date}, {"x-ms-version", "2021-08-06"}};
    std::string sts = az::string_to_sign(r);
    // A zero Content-Length is signed as the empty string.
    EXPECT_EQ(sts, std::string("PUT\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:") + fixed_date +
                       "\nx-ms-version:2021-08-06\n/devstoreaccount1/devstoreaccount1/backups\n"
                       "restype:container");
    EXPECT_EQ(sign(r), "SharedKey devstoreaccount1:r6wO2cxOhr/NjU4y20OHmbpWPCKx8n67lXddkoJ3fs4=");
}

TEST(AzureSharedKey, PutBlobMatchesSdk) {
    az::Request r;
    r.method = "PUT";
    r.account = "devstoreaccount1";
    r.path = blob_path;
    r.headers = {{"x-ms-date", fixed_date},
                 {"x-ms-version", "2021-08-06"},
                 {"Content-Length", "18"},
                 {"Content-MD5", body_md5},
                 {"Content-Type", "application/gzip"},
                 {"x-ms-blob-type", "BlockBlob"}};
    EXPECT_EQ(az::string_to_sign(r),
              std::string("PUT\n\n\n18\n") + body_md5 + "\napplication/gzip\n\n\n\n\n\n\n" +
                  "x-ms-blob-type:BlockBlob\nx-ms-date:" + fixed_date +
                  "\nx-ms-version:2021-08-06\n/devstoreaccount1" + blob_path);
    EXPECT_EQ(sign(r), "SharedKey devstoreaccount1:2+xWbLmi8uU2hThIfRuUJgLY2lSE2XcHwoBivq9e5gE=");
}

TEST(AzureSharedKey, PutBlockOnEmulatorMatchesSdk) {
    az::Request r;
    r.method = "PUT";
    r.account = "devstoreaccount1";
    r.path = std::string("/devstoreaccount1") + blob_path;
    // Decoded values: the block id's '=' padding is %3D in the URL only.
    r.query = {{"comp", "block"}, {"blockid", "YmxvY2stMDAwMDAwMDAwMQ=="}};
    r.headers = {{"x-ms-date", fixed_date},
                 {"x-ms-version", "2021-08-06"},
                 {"Content-Length", "18"},
                 {"Content-MD5", body_md5}};
    std::string sts = az::string_to_sign(r);
    EXPECT_NE(sts.find("\nblockid:YmxvY2stMDAwMDAwMDAwMQ==\ncomp:block"), std::string::npos);
    EXPECT_EQ(sign(r), "SharedKey devstoreaccount1:PutdI/214vDX8CnmGp7QRGK1iBhBysBVoKGqiUQ7qIY=");
}

TEST(AzureSharedKey, PutBlockListMatchesSdk) {
    az::Request r;
    r.method = "PUT";
    r.account = "devstoreaccount1";
    r.path = blob_path;
    r.query = {{"comp", "blocklist"}};
    r.headers = {
        {"x-ms-date", fixed_date},           {"x-ms-version", "2021-08-06"},
        {"Content-Length", "102"},           {"Content-MD5", "Y/OAIbmTcrMCFwtuaY8wpQ=="},
        {"Content-Type", "application/xml"}, {"x-ms-blob-content-type", "application/gzip"}};
    EXPECT_EQ(sign(r), "SharedKey devstoreaccount1:bsDyf4oy36nVUpmDZBq9fMZLI0BJXsKtOGm5q5cOV2A=");
}

TEST(AzureSharedKey, HeaderCaseAndQueryCanonicalisation) {
    az::Request r;
    r.method = "GET";
    r.account = "acct";
    r.path = "/c";
    r.query = {{"Restype", "container"}, {"comp", "list"}, {"include", "b"}, {"include", "a"}};
    r.headers = {{"X-MS-Version", " 2021-08-06 "},
                 {"X-Ms-Date", "d"},
                 {"Range", "bytes=0-1"},
                 {"If-Match", "\"e\""}};
    EXPECT_EQ(az::string_to_sign(r), "GET\n\n\n\n\n\n\n\n\"e\"\n\n\nbytes=0-1\n"
                                     "x-ms-date:d\nx-ms-version:2021-08-06\n/acct/c\n"
                                     "comp:list\ninclude:a,b\nrestype:container");
}

TEST(AzureSharedKey, HttpDate) {
    EXPECT_EQ(az::http_date(1714564800), fixed_date);
    EXPECT_EQ(az::http_date(1435361952), "Fri, 26 Jun 2015 23:39:12 GMT");
}

} // namespace
