#include "core/storage/http/xml.hpp"

#include <cstdint>

#include "core/error.hpp"

namespace convoy::http {

namespace {

void append_utf8(std::string &out, uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x110000) {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

std::string unescape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size(); i++) {
        if (text[i] != '&') {
            out += text[i];
            continue;
        }
        size_t semi = text.find(';', i);
        if (semi == std::string_view::npos || semi - i > 10) {
            out += text[i];
            continue;
        }
        std::string_view entity = text.substr(i + 1, semi - i - 1);
        if (entity == "amp")
            out += '&';
        else if (entity == "lt")
            out += '<';
        else if (entity == "gt")
            out += '>';
        else if (entity == "quot")
            out += '"';
        else if (entity == "apos")
            out += '\'';
        else if (entity.size() > 1 && entity[0] == '#') {
            uint32_t cp = 0;
            bool hex = entity[1] == 'x' || entity[1] == 'X';
            bool ok = entity.size() > (hex ? 2u : 1u);
            for (size_t j = hex ? 2 : 1; ok && j < entity.size(); j++) {
                char c = entity[j];
                int d = (c >= '0' && c <= '9')          ? c - '0'
                        : (hex && c >= 'a' && c <= 'f') ? c - 'a' + 10
                        : (hex && c >= 'A' && c <= 'F') ? c - 'A' + 10
                                                        : -1;
                if (d < 0 || cp > 0x10FFFF)
                    ok = false;
                else
                    cp = cp * (hex ? 16 : 10) + static_cast<uint32_t>(d);
            }
            if (!ok) {
                out += text[i];
                continue;
            }
            append_utf8(out, cp);
        } else {
            out += text[i];
            continue;
        }
        i = semi;
    }
    return out;
}

} // namespace

std::optional<std::string> xml_element_text(std::string_view xml, std::string_view tag) {
    std::string open = "<" + std::string(tag);
    size_t pos = 0;
    while ((pos = xml.find(open, pos)) != std::string_view::npos) {
        size_t after = pos + open.size();
        if (after >= xml.size())
            return std::nullopt;
        char c = xml[after];
        if (c == '>' || c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '/') {
            size_t gt = xml.find('>', after);
            if (gt == std::string_view::npos)
                return std::nullopt;
            if (xml[gt - 1] == '/')
                return std::string(); // <Tag/>
            std::string close = "</" + std::string(tag) + ">";
            size_t end = xml.find(close, gt + 1);
            if (end == std::string_view::npos)
                return std::nullopt;
            return unescape(xml.substr(gt + 1, end - gt - 1));
        }
        pos = after;
    }
    return std::nullopt;
}

std::string xml_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
        case '&':
            out += "&amp;";
            break;
        case '<':
            out += "&lt;";
            break;
        case '>':
            out += "&gt;";
            break;
        case '"':
            out += "&quot;";
            break;
        case '\'':
            out += "&apos;";
            break;
        default:
            out += c;
        }
    }
    return out;
}

} // namespace convoy::http
