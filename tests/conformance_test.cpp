// SPDX-License-Identifier: MIT
// Conformance: cordon's verdict on every corpus config equals the real lxc-exec 0.9.0 parser's
// (../shared/reference/mxc/corpus/parse-verdicts.tsv), and its messages point where the executor's do.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <boost/json/parse.hpp>

#include "cordon/detail/schema_check.hpp"
#include "cordon/detail/strict_json.hpp"
#include "cordon/mxc_json.hpp"

namespace fs = std::filesystem;
using namespace cordon;

namespace {

fs::path corpus_dir() {
    const char* shared = std::getenv("CORDON_SHARED_DIR");
    return fs::path(shared ? shared : "../shared") / "reference" / "mxc" / "corpus";
}

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

struct Row {
    std::string name, verdict_070, verdict_090, message_090;
};

std::vector<Row> verdicts() {
    std::vector<Row> rows;
    std::ifstream in(corpus_dir() / "parse-verdicts.tsv");
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        Row r;
        std::getline(fields, r.name, '\t');
        std::getline(fields, r.verdict_070, '\t');
        std::getline(fields, r.verdict_090, '\t');
        std::getline(fields, r.message_090);
        rows.push_back(r);
    }
    return rows;
}

bool executor_accepts(const std::string& verdict) { return verdict.rfind("accept", 0) == 0; }

// Contracts the 0.9.0 executor registers that cordon does not model: configs declaring them may go
// either way (cordon refuses them with "unsupported contract version").
bool declares_unmodelled_contract(const std::string& text) {
    try {
        auto doc = boost::json::parse(text);
        auto* v = doc.is_object() ? doc.get_object().if_contains("version") : nullptr;
        if (!v || !v->is_string()) return false;
        std::string version(v->get_string());
        return !find_contract(version) && (version == "0.8.0-alpha" || version == "0.9.0-alpha" || version == "0.10.0-alpha");
    } catch (...) {
        return false;
    }
}

// "Invalid configuration at `filesystem.readwritePaths[0]`: ..." -> "/filesystem/readwritePaths/0"
std::string executor_pointer(const std::string& message) {
    const std::string marker = "Invalid configuration at `";
    auto at = message.find(marker);
    if (at == std::string::npos) return "";
    auto end = message.find('`', at + marker.size());
    std::string path = message.substr(at + marker.size(), end - at - marker.size());
    std::string pointer = "/";
    for (char c : path) {
        if (c == '.' || c == '[') pointer += '/';
        else if (c != ']') pointer += c;
    }
    return pointer;
}

}  // namespace

TEST_CASE("cordon agrees with lxc-exec 0.9.0 on every corpus config") {
    auto rows = verdicts();
    REQUIRE(rows.size() >= 140);
    int agreed = 0, either_way = 0;
    for (const auto& row : rows) {
        CAPTURE(row.name);
        std::string text = slurp(corpus_dir() / (row.name + ".json"));
        Violations violations = validate(text);
        bool cordon_valid = violations.empty();
        bool executor_valid = executor_accepts(row.verdict_090);
        if (declares_unmodelled_contract(text)) {
            ++either_way;
            std::cout << "either way: " << row.name << " (executor " << row.verdict_090 << ", cordon "
                      << (cordon_valid ? "valid" : violations.front().to_string()) << ")\n";
            continue;
        }
        std::string detail;
        for (const auto& v : violations) detail += "\n  " + v.to_string();
        CHECK_MESSAGE(cordon_valid == executor_valid, row.verdict_090, " / cordon:", detail);
        if (cordon_valid == executor_valid) ++agreed;
        // where the executor names a location, cordon names the same one or a more precise one inside it
        if (std::string ptr = executor_pointer(row.message_090); !ptr.empty() && !cordon_valid) {
            bool found = false;
            for (const auto& v : violations)
                found = found || v.pointer == ptr || v.pointer.rfind(ptr + "/", 0) == 0;
            CHECK_MESSAGE(found, "executor points at ", ptr, "; cordon:", detail);
        }
    }
    std::cout << "conformance: " << agreed << " agree, " << either_way << " may go either way, of " << rows.size()
              << "\n";
    CHECK(either_way <= 4);
}

TEST_CASE("every valid corpus config round-trips through the policy model") {
    int round_tripped = 0;
    for (const auto& entry : fs::directory_iterator(corpus_dir())) {
        if (entry.path().extension() != ".json") continue;
        CAPTURE(entry.path().filename().string());
        auto policy = from_mxc_json(slurp(entry.path()));
        if (!policy) continue;
        auto version = boost::json::parse(slurp(entry.path())).at("version").as_string();
        auto json = to_mxc_json(*policy, *find_contract(std::string(version)));
        REQUIRE_MESSAGE(json.has_value(), json.error().to_string());
        CHECK(validate(*json).empty());
        auto again = from_mxc_json(*json);
        REQUIRE(again.has_value());
        CHECK(*again == *policy);
        ++round_tripped;
    }
    std::cout << "round-tripped " << round_tripped << " valid corpus configs\n";
    CHECK(round_tripped >= 50);
}

TEST_CASE("the closed schema never accepts less than the decoder; the difference is the documented non-schema rules") {
    std::set<std::string> schema_only_valid;
    for (const auto& entry : fs::directory_iterator(corpus_dir())) {
        if (entry.path().extension() != ".json") continue;
        std::string text = slurp(entry.path());
        boost::json::value doc;
        Violation syntax;
        if (!detail::parse_strict_json(text, doc, syntax)) continue;
        Violations version;
        const Contract* contract = detail::contract_of(doc, version);
        if (!contract) continue;
        Violations decoder;
        detail::decode_policy(doc, *contract, decoder);
        bool schema_valid = detail::schema_violations(doc, *contract).empty();
        CAPTURE(entry.path().filename().string());
        CHECK_MESSAGE(!(decoder.empty() && !schema_valid), "schema rejects what the decoder accepts");
        if (schema_valid && !decoder.empty()) schema_only_valid.insert(entry.path().stem().string());
    }
    // Rules a JSON Schema cannot express: NUL, whitespace-only and '"' paths, the backend-section
    // rule, proxy cross-field rules and URL form.
    const std::set<std::string> expected{
        "bad_commandline_nul", "bad_path_double_quote", "bad_path_nul", "bad_path_whitespace",
        "bad_lxc_section_without_containment", "bad_processcontainer_section_with_lxc", "bad_two_backend_sections",
        "bad_both_appcontainer_and_processcontainer", "bad_proxy_external_default_block_implicit",
        "bad_proxy_external_with_allowlist", "bad_proxy_external_with_block", "bad_proxy_on_lxc",
        "bad_proxy_url_garbage", "bad_proxy_url_no_port", "bad_proxy_with_firewall"};
    CHECK(schema_only_valid == expected);
}

int main(int argc, char** argv) {
    if (!fs::exists(corpus_dir() / "parse-verdicts.tsv")) {
        std::cout << "SKIP: the reference corpus is not at " << corpus_dir()
                  << " (set CORDON_SHARED_DIR to the shared/ folder beside the project)\n";
        return 77;  // meson's exit code for a skipped test
    }
    doctest::Context context(argc, argv);
    return context.run();
}
