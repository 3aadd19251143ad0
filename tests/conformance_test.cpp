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
#include "cordon/capabilities.hpp"
#include "cordon/ceiling_loader.hpp"
#include "cordon/clamp.hpp"
#include "cordon/detail/strict_json.hpp"
#include "cordon/impl/mxc_encode.hpp"  // inline: the encoder alone, to check what it emits
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

namespace {

// Every reference config file: the corpora (corpus, corpus-1.0.0, ...) and the upstream samples.
std::vector<fs::path> reference_configs() {
    std::vector<fs::path> out;
    const fs::path mxc = corpus_dir().parent_path();
    for (const auto& dir : fs::directory_iterator(mxc)) {
        const std::string name = dir.path().filename().string();
        if (!dir.is_directory() || (name.rfind("corpus", 0) != 0 && name != "upstream-configs")) continue;
        for (const auto& f : fs::recursive_directory_iterator(dir.path()))
            if (f.is_regular_file() && f.path().extension() == ".json") out.push_back(f.path());
    }
    return out;
}

struct EmitCheck {
    int emitted = 0;    // configs the encoder produced that its contract's decoder accepts
    int refused = 0;    // policies to_mxc_json refuses (the decoder found a rule broken)
};

// The property release builds rely on (config.hpp, CORDON_CHECK_OWN_OUTPUT): whatever the encoder
// emits and the decoder accepts, the closed schema accepts too; and to_mxc_json's text is exactly
// that config, valid by validate() (decoder and schema).
void check_emit(const Policy& policy, EmitCheck& tally) {
    const Contract& contract = emit_contract(policy);
    boost::json::value doc = detail::encode_policy(policy, contract);
    Violations decoder;
    detail::decode_policy(doc, contract, decoder);
    Violations schema = detail::schema_violations(doc, contract);
    std::string detail_text;
    for (const auto& v : schema) detail_text += "\n  " + v.to_string();
    CHECK_MESSAGE(!(decoder.empty() && !schema.empty()), "the schema rejects what the decoder accepts:", detail_text);
    auto text = to_mxc_json(policy, contract);
    CHECK(text.has_value() == decoder.empty());
    if (!text) {
        ++tally.refused;
        return;
    }
    CHECK(validate(*text).empty());
    ++tally.emitted;
}

}  // namespace

TEST_CASE("every config cordon emits from the reference corpora passes the closed schema") {
    // Ceilings wide and narrow, each style, every backend: what clamp can make of every request.
    const std::vector<std::pair<PathStyle, std::string>> ceilings{
        {PathStyle::posix, R"({"readwritePaths":["/"],"network":{"defaultPolicy":"allow"},"env":{"allow":["*"]},
           "requestMaySet":["containerId","lifecycle","fallback.allowDaclMutation","network.proxy",
           "network.enforcementMode","network.allowLocalNetwork","ui","processContainer.capabilities",
           "processContainer.leastPrivilege","processContainer.ui","seatbelt","seatbelt.profileOverride","lxc"]})"},
        {PathStyle::posix, R"({"readonlyPaths":["/usr","/home"],"readwritePaths":["/tmp"],"timeout":1000})"},
        {PathStyle::windows, R"({"readwritePaths":["C:\\"],"network":{"defaultPolicy":"allow"},"env":{"allow":["*"]}})"},
        {PathStyle::windows, R"({"readonlyPaths":["C:\\Users"],"readwritePaths":["C:\\work"]})"}};
    const Capabilities caps[] = {capabilities_for(Backend::bubblewrap, "0.9.0").value(),
                                 capabilities_for(Backend::seatbelt, "0.9.0").value(),
                                 capabilities_for(Backend::processcontainer, "0.9.0").value()};
    EmitCheck tally;
    int files = 0, requests = 0;
    for (const fs::path& file : reference_configs()) {
        ++files;
        CAPTURE(file.string());
        auto policy = from_mxc_json(slurp(file));
        if (!policy) continue;  // invalid, or a contract cordon does not speak (yet)
        ++requests;
        check_emit(*policy, tally);  // the round trip
        for (const auto& [style, json] : ceilings)
            for (const Capabilities& c : caps) {
                auto ceiling = parse_ceiling(json, CeilingOptions{style, false});
                REQUIRE_MESSAGE(ceiling.has_value(), ceiling.error().to_string());
                auto out = clamp(*policy, *ceiling, c, ClampOptions{style, false, std::nullopt, {}});
                if (out) check_emit(out->policy, tally);
            }
    }
    // Policies an embedder could build by hand that no contract allows: refused, never emitted.
    auto broken = [] {
        Policy p;
        p.process.command_line = "true";
        return p;
    };
    std::vector<Policy> hand_made(8, broken());
    hand_made[0].process.command_line.clear();
    hand_made[1].process.command_line = std::string("a\0b", 3);
    hand_made[2].filesystem.readwrite = {""};
    hand_made[3].filesystem.readonly = {"/a\"b"};
    hand_made[4].network = NetworkSpec{};
    hand_made[4].network->proxy = Proxy{ProxyLocalhost{0}};
    hand_made[5].network = NetworkSpec{};
    hand_made[5].network->proxy = Proxy{ProxyUrl{""}};
    hand_made[6].lxc = LxcSpec{"debian", "12"};
    hand_made[7].seatbelt = SeatbeltSpec{};
    hand_made[7].containment = Containment::bubblewrap;
    const int refused_before = tally.refused;
    for (const Policy& p : hand_made) check_emit(p, tally);
    CHECK(tally.refused - refused_before == static_cast<int>(hand_made.size()));
    std::cout << "emit check: " << files << " reference files, " << requests << " valid requests, " << tally.emitted
              << " emitted configs validated, " << tally.refused << " refused by the decoder\n";
    CHECK(requests >= 100);
    CHECK(tally.emitted >= 1000);
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
