// The libcurl wrapper against a scripted loopback server: retries and backoff,
// error kinds, messages without secrets, bodies bounded; plus the URL and XML
// helpers it relies on.
#include "core/storage/http/http_client.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>

#include "core/error.hpp"
#include "core/storage/http/url.hpp"
#include "core/storage/http/xml.hpp"
#include "fake_http_server.hpp"
#include "test_support.hpp"

namespace {

using convoy::Error;
using convoy::ErrorKind;
using convoy::test::FakeHttpServer;
using convoy::test::FakeRequest;
using convoy::test::FakeResponse;
namespace http = convoy::http;

http::ClientOptions fast_options(int retries = 3) {
    http::ClientOptions o;
    o.retry.max_retries = retries;
    o.retry.base_delay_ms = 1;
    o.retry.max_delay_ms = 5;
    o.connect_timeout_ms = 2000;
    o.request_timeout_ms = 5000;
    return o;
}

http::Request get(const std::string &url) {
    http::Request r;
    r.method = "GET";
    r.url = url;
    return r;
}

// Runs f, which must throw convoy::Error; returns it.
using convoy::test::catch_error;

const char s3_403[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SignatureDoesNotMatch</Code>"
    "<Message>The request signature we calculated does not match the signature you provided. "
    "Check your key and signing method.</Message><AWSAccessKeyId>AKID</AWSAccessKeyId>"
    "<StringToSign>AWS4-HMAC-SHA256 ...</StringToSign><SignatureProvided>deadbeef"
    "</SignatureProvided></Error>";

TEST(AsciiLower, FoldsAsciiLettersOnly) {
    // Header names are compared and signed in lower case whatever the process's
    // locale; bytes outside ASCII are left as they are.
    EXPECT_EQ(http::ascii_lower("Content-MD5: X-Ms-Date IZ"), "content-md5: x-ms-date iz");
    EXPECT_EQ(http::ascii_lower("\xC3\x84\xC4\xB0@[`{"), "\xC3\x84\xC4\xB0@[`{");
    EXPECT_EQ(http::ascii_lower('Q'), 'q');
}

TEST(HttpClient, CleanupOptionsIgnoreCancelAndHaveAShortLimit) {
    http::ClientOptions o;
    o.ca_file = "/etc/ca.pem";
    o.request_timeout_ms = 300000;
    o.retry.max_retries = 10;
    o.canceled = [] { return true; };
    http::ClientOptions cleanup = http::cleanup_options(o);
    EXPECT_FALSE(cleanup.canceled);
    EXPECT_EQ(cleanup.ca_file, "/etc/ca.pem");
    EXPECT_EQ(cleanup.request_timeout_ms, http::cleanup_attempt_timeout_ms);
    EXPECT_LE(cleanup.connect_timeout_ms, http::cleanup_attempt_timeout_ms);
    EXPECT_EQ(cleanup.retry.max_retries, 1);
    EXPECT_LE(2 * http::cleanup_attempt_timeout_ms + cleanup.retry.max_delay_ms, 10000);
}

TEST(HttpClient, SendsMethodHeadersAndBody) {
    FakeHttpServer server([](const FakeRequest &) {
        FakeResponse r;
        r.status = 201;
        r.headers = {{"ETag", "\"abc\""}, {"X-Thing", "  spaced  "}};
        r.body = "created";
        return r;
    });
    http::Client client(fast_options());
    std::string body = "hello body";
    http::Response resp = client.send(
        [&] {
            http::Request r;
            r.method = "PUT";
            r.url = server.url() + "/a%3Ab?x=1";
            r.headers = {{"Content-MD5", "abc=="}, {"X-Empty", ""}};
            r.body = reinterpret_cast<const uint8_t *>(body.data());
            r.body_len = body.size();
            return r;
        },
        "test put");
    EXPECT_EQ(resp.status, 201);
    EXPECT_EQ(resp.body, "created");
    EXPECT_EQ(resp.attempts, 1);
    ASSERT_NE(resp.header("etag"), nullptr);
    EXPECT_EQ(*resp.header("etag"), "\"abc\"");
    EXPECT_EQ(*resp.header("x-thing"), "spaced");
    auto reqs = server.requests();
    ASSERT_EQ(reqs.size(), 1u);
    EXPECT_EQ(reqs[0].method, "PUT");
    EXPECT_EQ(reqs[0].target, "/a%3Ab?x=1");
    EXPECT_EQ(reqs[0].body, body);
    EXPECT_EQ(reqs[0].header_or("Content-Length"), "10");
    EXPECT_EQ(reqs[0].header_or("Content-MD5"), "abc==");
    ASSERT_NE(reqs[0].header("X-Empty"), nullptr);
    EXPECT_EQ(reqs[0].header("Content-Type"), nullptr); // libcurl adds none
    EXPECT_EQ(reqs[0].header("Transfer-Encoding"), nullptr);
}

TEST(HttpClient, PostAndDeleteWithoutBody) {
    FakeHttpServer server([](const FakeRequest &) { return FakeResponse{}; });
    http::Client client(fast_options());
    for (const char *method : {"POST", "DELETE", "HEAD", "GET"}) {
        http::Response resp = client.send(
            [&] {
                http::Request r = get(server.url() + "/k?uploads");
                r.method = method;
                return r;
            },
            "test");
        EXPECT_EQ(resp.status, 200) << method;
    }
    auto reqs = server.requests();
    ASSERT_EQ(reqs.size(), 4u);
    EXPECT_EQ(reqs[0].method, "POST");
    EXPECT_EQ(reqs[0].header_or("Content-Length"), "0");
    EXPECT_EQ(reqs[0].header("Content-Type"), nullptr);
    EXPECT_EQ(reqs[1].method, "DELETE");
    EXPECT_EQ(reqs[2].method, "HEAD");
    EXPECT_EQ(reqs[3].method, "GET");
}

TEST(HttpClient, LargeBodyUsesExpectContinue) {
    FakeHttpServer server([](const FakeRequest &) { return FakeResponse{}; });
    http::Client client(fast_options());
    std::string body(3 * 1024 * 1024 + 7, 'x');
    for (size_t i = 0; i < body.size(); i += 4099)
        body[i] = static_cast<char>('a' + i % 26);
    client.send(
        [&] {
            http::Request r = get(server.url() + "/big");
            r.method = "PUT";
            r.body = reinterpret_cast<const uint8_t *>(body.data());
            r.body_len = body.size();
            return r;
        },
        "test");
    auto reqs = server.requests();
    ASSERT_EQ(reqs.size(), 1u);
    EXPECT_EQ(reqs[0].header_or("Expect"), "100-continue");
    EXPECT_TRUE(reqs[0].body == body);
}

TEST(HttpClient, RetriesServerErrorsThenSucceeds) {
    std::atomic<int> calls{0};
    FakeHttpServer server([&](const FakeRequest &) {
        FakeResponse r;
        int n = ++calls;
        r.status = n == 1 ? 500 : n == 2 ? 503 : n == 3 ? 429 : 200;
        return r;
    });
    http::Client client(fast_options(3));
    int builds = 0;
    http::Response resp = client.send(
        [&] {
            builds++;
            return get(server.url() + "/x");
        },
        "test");
    EXPECT_EQ(resp.status, 200);
    EXPECT_EQ(resp.attempts, 4);
    EXPECT_EQ(builds, 4); // a fresh request (date, signature) for each attempt
}

TEST(HttpClient, GivesUpAfterRetriesWithUnavailable) {
    FakeHttpServer server([](const FakeRequest &) {
        FakeResponse r;
        r.status = 503;
        r.body = "<Error><Code>SlowDown</Code><Message>Please reduce your request rate."
                 "</Message></Error>";
        return r;
    });
    http::Client client(fast_options(2));
    http::Response resp = client.send([&] { return get(server.url() + "/x"); }, "test");
    EXPECT_EQ(resp.status, 503);
    EXPECT_EQ(resp.attempts, 3);
    EXPECT_EQ(server.request_count(), 3u);
    Error e = catch_error([&] { http::throw_status_error(resp, "could not upload \"k\""); });
    EXPECT_EQ(e.kind(), ErrorKind::storage_unavailable);
    EXPECT_STREQ(e.what(), "could not upload \"k\": HTTP status 503 (SlowDown)");
    EXPECT_EQ(e.detail(), "The service said: Please reduce your request rate. "
                          "Gave up after 3 attempts.");
}

TEST(HttpClient, ClientErrorsAreNotRetried) {
    std::atomic<int> status{403};
    FakeHttpServer server([&](const FakeRequest &) {
        FakeResponse r;
        r.status = status;
        r.body = s3_403;
        return r;
    });
    http::Client client(fast_options(5));
    http::Response resp = client.send([&] { return get(server.url() + "/x"); }, "test");
    EXPECT_EQ(resp.status, 403);
    EXPECT_EQ(resp.attempts, 1);
    Error e = catch_error([&] { http::throw_status_error(resp, "could not upload \"k\""); });
    EXPECT_EQ(e.kind(), ErrorKind::storage_auth);
    EXPECT_STREQ(e.what(), "could not upload \"k\": HTTP status 403 (SignatureDoesNotMatch)");
    EXPECT_EQ(e.detail(), "The service said: The request signature we calculated does not match "
                          "the signature you provided. Check your key and signing method.");
    EXPECT_EQ(std::string(e.detail()).find("deadbeef"), std::string::npos);

    status = 404;
    resp = client.send([&] { return get(server.url() + "/x"); }, "test");
    EXPECT_EQ(resp.attempts, 1);
    e = catch_error([&] { http::throw_status_error(resp, "w"); });
    EXPECT_EQ(e.kind(), ErrorKind::storage_io);
    EXPECT_EQ(server.request_count(), 2u);
}

TEST(HttpClient, ConnectionRefusedIsRetriedThenUnavailable) {
    int port = FakeHttpServer::closed_port();
    http::Client client(fast_options(2));
    int builds = 0;
    Error e = catch_error([&] {
        client.send(
            [&] {
                builds++;
                return get("http://127.0.0.1:" + std::to_string(port) +
                           "/c/k?comp=block&sig=SECRETSIGNATURE");
            },
            "could not upload \"k\"");
    });
    EXPECT_EQ(builds, 3);
    EXPECT_EQ(e.kind(), ErrorKind::storage_unavailable);
    EXPECT_EQ(std::string(e.what()).rfind("could not upload \"k\": ", 0), 0u) << e.what();
    EXPECT_EQ(e.detail(), "Gave up after 3 attempts.");
    EXPECT_EQ(std::string(e.what()).find("SECRETSIGNATURE"), std::string::npos);
}

TEST(HttpClient, TimeoutIsRetriedThenUnavailable) {
    FakeHttpServer server([](const FakeRequest &) {
        FakeResponse r;
        r.delay_ms = 400;
        return r;
    });
    http::ClientOptions o = fast_options(1);
    o.request_timeout_ms = 100;
    http::Client client(o);
    auto start = std::chrono::steady_clock::now();
    Error e = catch_error([&] { client.send([&] { return get(server.url() + "/slow"); }, "t"); });
    auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(e.kind(), ErrorKind::storage_unavailable);
    EXPECT_NE(std::string(e.what()).find("imed out"), std::string::npos) << e.what();
    EXPECT_LT(elapsed, std::chrono::seconds(3));
}

TEST(HttpClient, DroppedConnectionIsRetried) {
    std::atomic<int> calls{0};
    FakeHttpServer server([&](const FakeRequest &) {
        FakeResponse r;
        r.drop = ++calls == 1;
        return r;
    });
    http::Client client(fast_options(2));
    http::Response resp = client.send([&] { return get(server.url() + "/x"); }, "t");
    EXPECT_EQ(resp.status, 200);
    EXPECT_EQ(resp.attempts, 2);
}

TEST(HttpClient, RetryAfterIsHonouredUpToTheCap) {
    std::atomic<int> calls{0};
    FakeHttpServer server([&](const FakeRequest &) {
        FakeResponse r;
        if (++calls == 1) {
            r.status = 429;
            r.headers = {{"Retry-After", "30"}};
        }
        return r;
    });
    http::ClientOptions o = fast_options(1);
    o.retry.max_delay_ms = 300;
    http::Client client(o);
    auto start = std::chrono::steady_clock::now();
    http::Response resp = client.send([&] { return get(server.url() + "/x"); }, "t");
    auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(resp.status, 200);
    EXPECT_GE(elapsed, std::chrono::milliseconds(280));
    EXPECT_LT(elapsed, std::chrono::seconds(3));
}

TEST(HttpClient, ResponseBodyIsBounded) {
    FakeHttpServer server([](const FakeRequest &) {
        FakeResponse r;
        r.body = std::string(100000, 'b');
        return r;
    });
    http::ClientOptions o = fast_options();
    o.max_response_body = 1000;
    http::Client client(o);
    http::Response resp = client.send([&] { return get(server.url() + "/x"); }, "t");
    EXPECT_EQ(resp.body.size(), 1000u);
    EXPECT_TRUE(resp.body_truncated);
}

TEST(HttpClient, CancelStopsRetrying) {
    FakeHttpServer server([](const FakeRequest &) {
        FakeResponse r;
        r.status = 500;
        return r;
    });
    std::atomic<int> polls{0};
    http::ClientOptions o = fast_options(100);
    o.retry.base_delay_ms = 50;
    o.canceled = [&] { return server.request_count() >= 2; };
    http::Client client(o);
    Error e = catch_error([&] { client.send([&] { return get(server.url() + "/x"); }, "w"); });
    EXPECT_EQ(e.kind(), ErrorKind::storage_io);
    EXPECT_STREQ(e.what(), "w: request canceled");
    EXPECT_LE(server.request_count(), 3u);
}

TEST(HttpClient, UnreadableCaFileIsAConfigErrorNotRetried) {
    FakeHttpServer server([](const FakeRequest &) { return FakeResponse{}; });
    http::ClientOptions o = fast_options(3);
    o.ca_file = "/nonexistent/ca.pem";
    http::Client client(o);
    int builds = 0;
    Error e = catch_error([&] {
        client.send(
            [&] {
                builds++;
                return get("https://127.0.0.1:" + std::to_string(server.port()) + "/");
            },
            "w");
    });
    EXPECT_EQ(e.kind(), ErrorKind::invalid_config) << e.what();
    EXPECT_EQ(builds, 1);
}

TEST(HttpServiceError, AzureMessageKeepsFirstLineOnly) {
    http::Response r;
    r.status = 403;
    r.body = "\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>"
             "AuthenticationFailed</Code><Message>Server failed to authenticate the request. "
             "Make sure the value of Authorization header is formed correctly including the "
             "signature.\nRequestId:1f0c\nTime:2024-05-01T12:00:00.0000000Z</Message>"
             "<AuthenticationErrorDetail>The MAC signature found in the HTTP request "
             "'c2VjcmV0' is not the same as any computed signature. Server used following "
             "string to sign: 'PUT...'.</AuthenticationErrorDetail></Error>";
    http::ServiceError e = http::service_error(r);
    EXPECT_EQ(e.code, "AuthenticationFailed");
    EXPECT_EQ(e.message, "Server failed to authenticate the request. Make sure the value of "
                         "Authorization header is formed correctly including the signature.");
}

TEST(HttpServiceError, FromHeadersWhenNoBody) {
    http::Response r;
    r.status = 404;
    r.headers = {{"x-ms-error-code", "ContainerNotFound"}};
    EXPECT_EQ(http::service_error(r).code, "ContainerNotFound");
    Error e = catch_error([&] { http::throw_status_error(r, "w"); });
    EXPECT_EQ(e.kind(), ErrorKind::storage_io);
    EXPECT_STREQ(e.what(), "w: HTTP status 404 (ContainerNotFound)");
    EXPECT_EQ(e.detail(), "");
}

TEST(HttpServiceError, StatusKinds) {
    for (long status : {401L, 403L}) {
        http::Response r;
        r.status = status;
        EXPECT_EQ(catch_error([&] { http::throw_status_error(r, "w"); }).kind(),
                  ErrorKind::storage_auth);
    }
    for (long status : {408L, 429L, 500L, 502L, 503L, 504L}) {
        http::Response r;
        r.status = status;
        EXPECT_EQ(catch_error([&] { http::throw_status_error(r, "w"); }).kind(),
                  ErrorKind::storage_unavailable);
        EXPECT_TRUE(http::retryable_status(status));
    }
    for (long status : {400L, 404L, 409L, 412L}) {
        http::Response r;
        r.status = status;
        EXPECT_EQ(catch_error([&] { http::throw_status_error(r, "w"); }).kind(),
                  ErrorKind::storage_io);
        EXPECT_FALSE(http::retryable_status(status));
    }
}

TEST(HttpRedact, MasksSignaturesAndTokens) {
    EXPECT_EQ(http::redact("GET /c/b?sv=2021&sig=abc%2Bdef&se=x"),
              "GET /c/b?sv=2021&sig=[redacted]&se=x");
    EXPECT_EQ(http::redact("X-Amz-Signature=0123abcd&X-Amz-Security-Token=tok"),
              "X-Amz-Signature=[redacted]&X-Amz-Security-Token=[redacted]");
    EXPECT_EQ(http::redact("Authorization: SharedKey acct:c2lnbmF0dXJl"),
              "Authorization:[redacted]");
    EXPECT_EQ(http::redact("used SharedKey acct:c2ln"), "used SharedKey [redacted]");
    EXPECT_EQ(http::redact("AWS4-HMAC-SHA256 Credential=AKID/x, Signature=ff"),
              "AWS4-HMAC-SHA256 [redacted]");
    EXPECT_EQ(http::redact("line\nbreak\x01"), "line break ");
    EXPECT_EQ(http::redact("plain text"), "plain text");
}

TEST(HttpUrl, PercentEncoding) {
    EXPECT_EQ(http::percent_encode("a/b c:d=e", true), "a/b%20c%3Ad%3De");
    EXPECT_EQ(http::percent_encode("a/b", false), "a%2Fb");
    EXPECT_EQ(http::percent_encode("-._~AZaz09", false), "-._~AZaz09");
    EXPECT_EQ(http::percent_decode("a%3Ab%3db%2x%"), "a:b=b%2x%");
}

TEST(HttpUrl, ParseEndpoint) {
    http::Endpoint e = http::parse_endpoint("http://127.0.0.1:10000/devstoreaccount1/", "s");
    EXPECT_EQ(e.scheme, "http");
    EXPECT_EQ(e.host, "127.0.0.1");
    EXPECT_EQ(e.port, 10000);
    EXPECT_EQ(e.base_path, "/devstoreaccount1");
    EXPECT_EQ(e.authority(), "127.0.0.1:10000");
    EXPECT_TRUE(e.host_is_address());

    e = http::parse_endpoint("S3.EU-West-1.amazonaws.com", "s");
    EXPECT_EQ(e.scheme, "https");
    EXPECT_EQ(e.host, "s3.eu-west-1.amazonaws.com");
    EXPECT_EQ(e.port, 0);
    EXPECT_EQ(e.origin(), "https://s3.eu-west-1.amazonaws.com");
    EXPECT_FALSE(e.host_is_address());

    e = http::parse_endpoint("https://minio.local:443", "s");
    EXPECT_EQ(e.port, 0); // the scheme's default is left out of Host
    e = http::parse_endpoint("http://[::1]:9000", "s");
    EXPECT_EQ(e.host, "[::1]");
    EXPECT_EQ(e.authority(), "[::1]:9000");

    for (const char *bad : {"ftp://x", "http://", "http://x:0", "http://x:99999", "http://x:ab",
                            "http://u:p@x", "http://x/?a=b", "http://x/a/../b", "http://x y"}) {
        Error err = catch_error([&] { http::parse_endpoint(bad, "convoy_backup.s3_endpoint"); });
        EXPECT_EQ(err.kind(), ErrorKind::invalid_config) << bad;
        EXPECT_EQ(std::string(err.what()).rfind("invalid value for convoy_backup.s3_endpoint", 0),
                  0u);
    }
}

TEST(HttpXml, ElementText) {
    std::string xml =
        "<?xml version=\"1.0\"?><InitiateMultipartUploadResult xmlns=\"x\">"
        "<Bucket>b</Bucket><Key>a&amp;b&lt;c&#x3A;&#61;</Key><UploadId>id-1</UploadId>"
        "<Empty/></InitiateMultipartUploadResult>";
    EXPECT_EQ(http::xml_element_text(xml, "UploadId").value(), "id-1");
    EXPECT_EQ(http::xml_element_text(xml, "Key").value(), "a&b<c:=");
    EXPECT_EQ(http::xml_element_text(xml, "Empty").value(), "");
    EXPECT_FALSE(http::xml_element_text(xml, "Upload"));
    EXPECT_FALSE(http::xml_element_text(xml, "Missing"));
    EXPECT_EQ(http::xml_escape("\"a\"&<b>'"), "&quot;a&quot;&amp;&lt;b&gt;&apos;");
}

} // namespace
