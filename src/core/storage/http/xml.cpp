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

namespace {

// The first element named tag at or after from: its open tag's attributes and
// its inner text (still escaped); next is where the search goes on. False when
// there is none (or the markup is cut short).
bool find_element(std::string_view xml, std::string_view tag, size_t from, XmlElement &found,
                  size_t &next) {
    std::string open = "<" + std::string(tag);
    size_t pos = from;
    while ((pos = xml.find(open, pos)) != std::string_view::npos) {
        size_t after = pos + open.size();
        if (after >= xml.size())
            return false;
        char c = xml[after];
        if (c == '>' || c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '/') {
            size_t gt = xml.find('>', after);
            if (gt == std::string_view::npos)
                return false;
            if (xml[gt - 1] == '/') { // <Tag/>
                found = XmlElement{xml.substr(after, gt - 1 - after), std::string_view()};
                next = gt + 1;
                return true;
            }
            std::string close = "</" + std::string(tag) + ">";
            size_t end = xml.find(close, gt + 1);
            if (end == std::string_view::npos)
                return false;
            found = XmlElement{xml.substr(after, gt - after), xml.substr(gt + 1, end - gt - 1)};
            next = end + close.size();
            return true;
        }
        pos = after;
    }
    return false;
}

} // namespace

std::string xml_unescape(std::string_view text) { return unescape(text); }

std::optional<std::string> xml_element_text(std::string_view xml, std::string_view tag) {
    XmlElement element;
    size_t next = 0;
    if (!find_element(xml, tag, 0, element, next))
        return std::nullopt;
    return unescape(element.inner);
}

void xml_for_each(std::string_view xml, std::string_view tag,
                  const std::function<void(const XmlElement &)> &each) {
    XmlElement element;
    size_t next = 0;
    while (find_element(xml, tag, next, element, next))
        each(element);
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
