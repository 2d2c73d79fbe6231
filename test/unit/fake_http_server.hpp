// A scripted HTTP/1.1 server on 127.0.0.1 for the storage clients' unit tests.
// A thread per connection (keep-alive, Content-Length bodies, Expect:
// 100-continue); a handler decides each response (it may be called from several
// threads at once) and every request is recorded.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <cstring>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace convoy::test {

struct FakeRequest {
    std::string method;
    std::string target; // as sent: path?query
    std::string path;   // before '?', still percent-encoded
    std::string query;  // after '?', still percent-encoded
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;

    const std::string *header(const std::string &name) const {
        for (const auto &h : headers) {
            if (h.first.size() != name.size())
                continue;
            bool same = true;
            for (size_t i = 0; i < name.size() && same; i++)
                same = std::tolower(static_cast<unsigned char>(h.first[i])) ==
                       std::tolower(static_cast<unsigned char>(name[i]));
            if (same)
                return &h.second;
        }
        return nullptr;
    }
    std::string header_or(const std::string &name, const std::string &fallback = "") const {
        const std::string *v = header(name);
        return v ? *v : fallback;
    }
};

struct FakeResponse {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    bool drop = false; // close the connection without answering
    int delay_ms = 0;  // wait before answering
    // Send the headers (with the whole body's Content-Length) and only this
    // many bytes of the body, wait stall_ms, then close the connection: a
    // connection lost, or a store gone silent, in the middle of a body.
    size_t cut_body_at = std::string::npos;
    int stall_ms = 0;
};

class FakeHttpServer {
public:
    using Handler = std::function<FakeResponse(const FakeRequest &)>;

    explicit FakeHttpServer(Handler handler) : handler_(std::move(handler)) {
        listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        if (listen_fd_ < 0)
            throw std::runtime_error("socket failed");
        int one = 1;
        ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = 0;
        if (::bind(listen_fd_, reinterpret_cast<sockaddr *>(&addr), sizeof(addr)) != 0 ||
            ::listen(listen_fd_, 16) != 0)
            throw std::runtime_error("bind/listen failed");
        socklen_t len = sizeof(addr);
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr *>(&addr), &len);
        port_ = ntohs(addr.sin_port);
        thread_ = std::thread([this] { serve(); });
    }

    ~FakeHttpServer() {
        stop_ = true;
        if (thread_.joinable())
            thread_.join();
        for (std::thread &t : connections_)
            t.join();
        ::close(listen_fd_);
    }

    int port() const { return port_; }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

    std::vector<FakeRequest> requests() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return requests_;
    }
    // Connections accepted so far.
    int connections() const { return accepted_.load(); }
    size_t request_count() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return requests_.size();
    }

    // A port on which nothing listens (bound, then closed).
    static int closed_port() {
        int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ::bind(fd, reinterpret_cast<sockaddr *>(&addr), sizeof(addr));
        socklen_t len = sizeof(addr);
        ::getsockname(fd, reinterpret_cast<sockaddr *>(&addr), &len);
        ::close(fd);
        return ntohs(addr.sin_port);
    }

private:
    bool wait_readable(int fd) {
        while (!stop_) {
            pollfd p{fd, POLLIN, 0};
            int rc = ::poll(&p, 1, 50);
            if (rc > 0)
                return true;
        }
        return false;
    }

    // Reads into buf until it holds at least want bytes; false on EOF or stop.
    bool fill(int fd, std::string &buf, size_t want) {
        char tmp[65536];
        while (buf.size() < want) {
            if (!wait_readable(fd))
                return false;
            ssize_t n = ::recv(fd, tmp, sizeof(tmp), 0);
            if (n <= 0)
                return false;
            buf.append(tmp, static_cast<size_t>(n));
        }
        return true;
    }

    void send_all(int fd, const std::string &data) {
        size_t off = 0;
        while (off < data.size()) {
            ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
            if (n <= 0)
                return;
            off += static_cast<size_t>(n);
        }
    }

    void serve_connection(int fd) {
        std::string buf;
        for (;;) {
            size_t head_end;
            while ((head_end = buf.find("\r\n\r\n")) == std::string::npos)
                if (!fill(fd, buf, buf.size() + 1))
                    return;
            FakeRequest req;
            std::string head = buf.substr(0, head_end);
            buf.erase(0, head_end + 4);
            size_t line_end = head.find("\r\n");
            std::string line = head.substr(0, line_end);
            size_t sp1 = line.find(' '), sp2 = line.rfind(' ');
            req.method = line.substr(0, sp1);
            req.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
            size_t q = req.target.find('?');
            req.path = req.target.substr(0, q);
            req.query = q == std::string::npos ? "" : req.target.substr(q + 1);
            size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
            while (pos < head.size()) {
                size_t e = head.find("\r\n", pos);
                if (e == std::string::npos)
                    e = head.size();
                std::string h = head.substr(pos, e - pos);
                size_t colon = h.find(':');
                if (colon != std::string::npos) {
                    std::string value = h.substr(colon + 1);
                    size_t b = value.find_first_not_of(' ');
                    req.headers.emplace_back(h.substr(0, colon),
                                             b == std::string::npos ? "" : value.substr(b));
                }
                pos = e + 2;
            }
            const std::string *expect = req.header("Expect");
            if (expect && *expect == "100-continue")
                send_all(fd, "HTTP/1.1 100 Continue\r\n\r\n");
            size_t length = std::stoul(req.header_or("Content-Length", "0"));
            if (!fill(fd, buf, length))
                return;
            req.body = buf.substr(0, length);
            buf.erase(0, length);
            {
                std::lock_guard<std::mutex> lock(mutex_);
                requests_.push_back(req);
            }
            FakeResponse resp = handler_(req);
            for (int waited = 0; waited < resp.delay_ms && !stop_; waited += 10)
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            if (resp.drop || stop_)
                return;
            std::string out = "HTTP/1.1 " + std::to_string(resp.status) + " Status\r\n";
            for (const auto &h : resp.headers)
                out += h.first + ": " + h.second + "\r\n";
            out += "Content-Length: " + std::to_string(resp.body.size()) + "\r\n\r\n";
            if (resp.cut_body_at != std::string::npos) {
                send_all(fd, out + resp.body.substr(0, resp.cut_body_at));
                for (int waited = 0; waited < resp.stall_ms && !stop_; waited += 10)
                    std::this_thread::sleep_for(std::chrono::milliseconds(10));
                return;
            }
            if (req.method != "HEAD")
                out += resp.body;
            send_all(fd, out);
        }
    }

    void serve() {
        while (!stop_) {
            if (!wait_readable(listen_fd_))
                return;
            int fd = ::accept(listen_fd_, nullptr, nullptr);
            if (fd < 0)
                continue;
            accepted_++;
            connections_.emplace_back([this, fd] {
                serve_connection(fd);
                ::close(fd);
            });
        }
    }

    Handler handler_;
    int listen_fd_ = -1;
    int port_ = 0;
    std::atomic<bool> stop_{false};
    std::atomic<int> accepted_{0};
    std::thread thread_;
    std::vector<std::thread> connections_; // only touched by thread_, then the destructor
    mutable std::mutex mutex_;
    std::vector<FakeRequest> requests_;
};

} // namespace convoy::test
