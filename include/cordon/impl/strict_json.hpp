// SPDX-License-Identifier: MIT
// cordon: implementation of detail/strict_json.hpp (Boost.JSON's SAX parser with a duplicate-key check).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/value.hpp>
#include <boost/json/value_stack.hpp>

#include "cordon/detail/json_pointer.hpp"
#include "cordon/detail/strict_json.hpp"

namespace cordon::detail {

// Builds the value like boost::json::parser does, and additionally remembers which keys each open
// object already holds: Boost.JSON keeps one of two duplicates silently, every MXC executor rejects them.
class StrictJsonHandler {
public:
    static constexpr std::size_t max_object_size = std::size_t(-1);
    static constexpr std::size_t max_array_size = std::size_t(-1);
    static constexpr std::size_t max_key_size = std::size_t(-1);
    static constexpr std::size_t max_string_size = std::size_t(-1);

    boost::json::value_stack stack;
    std::string duplicate_pointer;  // set when a duplicate key stopped the parse

    bool on_document_begin(boost::json::error_code&) { stack.reset(); return true; }
    bool on_document_end(boost::json::error_code&) { return true; }

    bool on_object_begin(boost::json::error_code&) {
        enter_value();
        frames_.emplace_back(true);
        return true;
    }
    bool on_object_end(std::size_t n, boost::json::error_code&) {
        frames_.pop_back();
        stack.push_object(n);
        return true;
    }
    bool on_array_begin(boost::json::error_code&) {
        enter_value();
        frames_.emplace_back(false);
        return true;
    }
    bool on_array_end(std::size_t n, boost::json::error_code&) {
        frames_.pop_back();
        stack.push_array(n);
        return true;
    }
    bool on_key_part(boost::json::string_view s, std::size_t, boost::json::error_code&) {
        key_.append(s.data(), s.size());
        stack.push_chars(s);
        return true;
    }
    bool on_key(boost::json::string_view s, std::size_t, boost::json::error_code& ec) {
        key_.append(s.data(), s.size());
        Frame& frame = frames_.back();
        frame.key = key_;
        key_.clear();
        if (!frame.keys.insert(frame.key).second) {
            duplicate_pointer = pointer();
            ec = boost::json::error::syntax;  // any error stops the parser; the pointer says why
            return false;
        }
        stack.push_key(s);
        return true;
    }
    bool on_string_part(boost::json::string_view s, std::size_t, boost::json::error_code&) {
        if (!in_string_) { enter_value(); in_string_ = true; }
        stack.push_chars(s);
        return true;
    }
    bool on_string(boost::json::string_view s, std::size_t, boost::json::error_code&) {
        if (!in_string_) enter_value();
        in_string_ = false;
        stack.push_string(s);
        return true;
    }
    bool on_number_part(boost::json::string_view, boost::json::error_code&) { return true; }
    bool on_int64(std::int64_t i, boost::json::string_view, boost::json::error_code&) {
        enter_value();
        stack.push_int64(i);
        return true;
    }
    bool on_uint64(std::uint64_t u, boost::json::string_view, boost::json::error_code&) {
        enter_value();
        stack.push_uint64(u);
        return true;
    }
    bool on_double(double d, boost::json::string_view, boost::json::error_code&) {
        enter_value();
        stack.push_double(d);
        return true;
    }
    bool on_bool(bool b, boost::json::error_code&) {
        enter_value();
        stack.push_bool(b);
        return true;
    }
    bool on_null(boost::json::error_code&) {
        enter_value();
        stack.push_null();
        return true;
    }
    bool on_comment_part(boost::json::string_view, boost::json::error_code&) { return true; }
    bool on_comment(boost::json::string_view, boost::json::error_code&) { return true; }

private:
    struct Frame {
        explicit Frame(bool is_object) : object(is_object) {}
        bool object;
        std::size_t next_index = 0;
        std::size_t index = 0;
        std::string key;
        std::unordered_set<std::string> keys;  // hashed: a hostile object with many keys stays linear
    };

    void enter_value() {
        if (!frames_.empty() && !frames_.back().object) frames_.back().index = frames_.back().next_index++;
    }
    std::string pointer() const {
        std::string out;
        for (const Frame& f : frames_) out = f.object ? pointer_child(out, f.key) : pointer_child(out, f.index);
        return out;
    }

    std::vector<Frame> frames_;
    std::string key_;
    bool in_string_ = false;
};

CORDON_FUNC bool parse_strict_json(std::string_view text, boost::json::value& out, Violation& violation) {
    if (text.size() > max_config_bytes) {
        violation = {"", "document is " + std::to_string(text.size()) + " bytes; the limit is " +
                             std::to_string(max_config_bytes)};
        return false;
    }
    if (text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF") {
        violation = {"", "invalid JSON at line 1 column 1: a UTF-8 byte order mark is not allowed"};
        return false;
    }
    boost::json::parse_options options;  // the defaults are strict RFC 8259
    options.max_depth = max_json_depth;
    boost::json::basic_parser<StrictJsonHandler> parser(options);
    boost::json::error_code ec;
    std::size_t consumed = parser.write_some(false, text.data(), text.size(), ec);
    if (!ec && consumed < text.size()) ec = boost::json::error::extra_data;
    if (ec) {
        if (!parser.handler().duplicate_pointer.empty()) {
            violation = {parser.handler().duplicate_pointer, "duplicate key (every MXC executor rejects duplicates)"};
        } else if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
            violation = {"", "invalid JSON: the document is empty"};
        } else {
            violation = {"", "invalid JSON at " + line_column(text, consumed) + ": " + ec.message()};
        }
        return false;
    }
    out = parser.handler().stack.release();
    return true;
}

}  // namespace cordon::detail
