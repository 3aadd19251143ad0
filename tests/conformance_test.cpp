// SPDX-License-Identifier: MIT
// Conformance: cordon's verdict on every reference corpus config equals the real executor's, per
// SDK: lxc-exec 0.9.0 on ../shared/reference/mxc/corpus (146 files, 0.6.0-alpha to 1.0.0) and
// lxc-exec 1.0.1 on corpus-1.0.0 (120 files), on that corpus rewritten to 0.9.0-alpha (both
// binaries), and on the legacy corpus; its messages point where the executor's do.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <regex>
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

fs::path reference_dir() {
    const char* shared = std::getenv("CORDON_SHARED_DIR");
    return fs::path(shared ? shared : "../shared") / "reference" / "mxc";
}
fs::path corpus_dir() { return reference_dir() / "corpus"; }
fs::path corpus10_dir() { return reference_dir() / "corpus-1.0.0"; }

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

using Row = std::map<std::string, std::string>;

// A TSV with a header line, as rows keyed by column name.
std::vector<Row> read_tsv(const fs::path& path) {
    std::vector<Row> rows;
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    std::vector<std::string> header;
    for (std::istringstream h(line); std::getline(h, line, '\t');) header.push_back(line);
    while (std::getline(in, line)) {
        Row row;
        std::istringstream fields(line);
        for (const auto& name : header) {
            std::string value;
            std::getline(fields, value, '\t');
            row[name] = value;
        }
        rows.push_back(row);
    }
    return rows;
}

bool executor_accepts(const std::string& verdict) { return verdict.rfind("accept", 0) == 0; }

// The executor's location of its error, as a JSON pointer: "Invalid configuration at
// `filesystem.readwritePaths[0]`" or "network.egress.allow[0].to[0].cidr must be ..." ->
// "/filesystem/readwritePaths/0", "/network/egress/allow/0/to/0/cidr"; "" when it names none.
std::string executor_pointer(const std::string& message) {
    std::string path;
    const std::string marker = "Invalid configuration at `";
    static const std::regex semantic(R"re(parse error: ((network|runtimeConfig|processContainer)[A-Za-z0-9_.\[\]]*) )re");
    std::smatch m;
    if (auto at = message.find(marker); at != std::string::npos) {
        auto end = message.find('`', at + marker.size());
        path = message.substr(at + marker.size(), end - at - marker.size());
    } else if (std::regex_search(message, m, semantic)) {
        path = m[1];
    } else {
        return "";
    }
    std::string pointer = "/";
    for (char c : path) {
        if (c == '.' || c == '[') pointer += '/';
        else if (c != ']') pointer += c;
    }
    return pointer;
}

struct Tally {
    int agreed = 0, total = 0;
};

// cordon's verdict under `sdk` against the executor's, and its pointer against the executor's.
void compare(const std::string& name, const std::string& text, const std::string& verdict, const std::string& message,
             std::string_view sdk, Tally& tally) {
    CAPTURE(name);
    CAPTURE(sdk);
    Violations violations = validate(text, CheckOptions{sdk});
    bool cordon_valid = violations.empty();
    std::string detail;
    for (const auto& v : violations) detail += "\n  " + v.to_string();
    CHECK_MESSAGE(cordon_valid == executor_accepts(verdict), verdict, " ", message, " / cordon:", detail);
    ++tally.total;
    if (cordon_valid == executor_accepts(verdict)) ++tally.agreed;
    // where the executor names a location, cordon names the same one or a more precise one inside it
    // (a `phase` key sends the executor to its state-aware parser, whose locations are of another request type)
    const bool state_aware = message.find("malformed_request") != std::string::npos;
    if (std::string ptr = executor_pointer(message); !ptr.empty() && !cordon_valid && !state_aware) {
        bool found = false;
        for (const auto& v : violations) found = found || v.pointer == ptr || v.pointer.rfind(ptr + "/", 0) == 0;
        CHECK_MESSAGE(found, "executor points at ", ptr, "; cordon:", detail);
    }
}

// The file with `"version": "1.0.0"` spelled `0.9.0-alpha` (as the reference run rewrote it), or "".
std::string as_090(const std::string& text) {
    static const std::regex version(R"re("version"(\s*):(\s*)"1\.0\.0")re");
    if (!std::regex_search(text, version)) return "";
    return std::regex_replace(text, version, R"("version"$1:$2"0.9.0-alpha")", std::regex_constants::format_first_only);
}

}  // namespace

TEST_CASE("cordon agrees with lxc-exec 0.9.0 on every file of corpus/ (0.6.0-alpha to 1.0.0)") {
    auto rows = read_tsv(corpus_dir() / "parse-verdicts.tsv");
    REQUIRE(rows.size() == 146);
    Tally tally;
    for (auto& row : rows)
        compare(row["name"], slurp(corpus_dir() / (row["name"] + ".json")), row["parse_0.9.0"], row["message_0.9.0"],
                "0.9.0", tally);
    std::cout << "conformance lxc-exec 0.9.0, corpus/: " << tally.agreed << " of " << tally.total << " agree\n";
    CHECK(tally.agreed == 146);
}

TEST_CASE("cordon agrees with lxc-exec 1.0.1 on every file of corpus-1.0.0/ and of corpus/") {
    Tally tally;
    for (auto& row : read_tsv(corpus10_dir() / "parse-verdicts.tsv"))
        compare(row["name"], slurp(corpus10_dir() / (row["name"] + ".json")), row["parse_1.0.1"], row["message_1.0.1"],
                "1.0.1", tally);
    std::cout << "conformance lxc-exec 1.0.1, corpus-1.0.0/: " << tally.agreed << " of " << tally.total << " agree\n";
    CHECK(tally.total == 120);
    CHECK(tally.agreed == 120);
    Tally legacy;
    for (auto& row : read_tsv(corpus10_dir() / "legacy-0.6.0-alpha-corpus-on-1.0.1.tsv"))
        compare(row["name"], slurp(corpus_dir() / (row["name"] + ".json")),
                row["class_1.0.1"] == "accept" ? "accept" : "reject", row["message_1.0.1"], "1.0.1", legacy);
    std::cout << "conformance lxc-exec 1.0.1, corpus/: " << legacy.agreed << " of " << legacy.total << " agree\n";
    CHECK(legacy.total == 146);
    CHECK(legacy.agreed == 146);
}

TEST_CASE("corpus-1.0.0 rewritten to 0.9.0-alpha: cordon agrees with lxc-exec 1.0.1 and 0.9.0") {
    Tally on_101, on_090;
    for (auto& row : read_tsv(corpus10_dir() / "parse-verdicts.tsv")) {
        if (row["parse_1.0.1_as_0.9.0-alpha"] == "n/a") continue;
        std::string text = as_090(slurp(corpus10_dir() / (row["name"] + ".json")));
        REQUIRE_MESSAGE(!text.empty(), row["name"]);
        compare(row["name"], text, row["parse_1.0.1_as_0.9.0-alpha"], "", "1.0.1", on_101);
        compare(row["name"], text, row["parse_0.9.0_as_0.9.0-alpha"], "", "0.9.0", on_090);
    }
    std::cout << "conformance as 0.9.0-alpha: 1.0.1 " << on_101.agreed << " of " << on_101.total << ", 0.9.0 "
              << on_090.agreed << " of " << on_090.total << " agree\n";
    CHECK(on_101.total == 112);
    CHECK(on_101.agreed == 112);
    CHECK(on_090.agreed == 112);
}

TEST_CASE("development contracts are refused with a message that says so") {
    for (const char* version : {"0.10.0-alpha", "1.1.0-alpha"}) {
        std::string text = std::string(R"({"version":")") + version + R"(","process":{"commandLine":"true"}})";
        auto v = validate(text);
        REQUIRE(v.size() == 1);
        CHECK(v[0].pointer == "/version");
        CHECK(v[0].message.find("development contract") != std::string::npos);
    }
}

TEST_CASE("every valid corpus config round-trips through the policy model") {
    int round_tripped = 0, translated_count = 0;
    for (const fs::path& dir : {corpus_dir(), corpus10_dir()})
        for (const auto& entry : fs::directory_iterator(dir)) {
            if (entry.path().extension() != ".json") continue;
            CAPTURE(entry.path().filename().string());
            auto policy = from_mxc_json(slurp(entry.path()));
            if (!policy) continue;
            auto version = boost::json::parse(slurp(entry.path())).at("version").as_string();
            const Contract& contract = *find_contract(std::string(version));
            auto json = to_mxc_json(*policy, contract);
            if (!json && json.error().where.rfind("/process/env/", 0) == 0) continue;  // refused on purpose
            REQUIRE_MESSAGE(json.has_value(), json.error().to_string());
            CHECK(validate(*json).empty());
            auto again = from_mxc_json(*json);
            REQUIRE(again.has_value());
            CHECK(*again == *policy);
            ++round_tripped;
            // and through every other contract that can carry it: translation keeps the model
            for (const Contract* other : known_contracts) {
                auto translated = to_mxc_json(*policy, *other);
                if (!translated) continue;
                CAPTURE(other->version);
                auto back = from_mxc_json(*translated);
                REQUIRE_MESSAGE(back.has_value(), back.error().to_string());
                CHECK(*back == *policy);
                ++translated_count;
            }
        }
    std::cout << "round-tripped " << round_tripped << " valid corpus configs; " << translated_count
              << " translations into other contracts kept the policy\n";
    CHECK(round_tripped >= 100);
}

// The decoder and the closed schema are independent gates: the schema never accepts less, and what
// only the decoder rejects is the documented list of rules a JSON Schema cannot express.
std::set<std::string> schema_only_valid(const fs::path& dir) {
    std::set<std::string> out;
    for (const auto& entry : fs::directory_iterator(dir)) {
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
        if (schema_valid && !decoder.empty()) out.insert(entry.path().stem().string());
    }
    return out;
}

void check_same(const std::set<std::string>& actual, const std::set<std::string>& expected) {
    for (const auto& name : actual) CHECK_MESSAGE(expected.count(name) == 1, "only the decoder rejects ", name);
    for (const auto& name : expected) CHECK_MESSAGE(actual.count(name) == 1, "the schema rejects ", name, " too");
}

TEST_CASE("the closed schema never accepts less than the decoder; the difference is the documented non-schema rules") {
    // NUL, whitespace-only and '"' paths, the backend-section rule, proxy cross-field rules and URL form.
    check_same(schema_only_valid(corpus_dir()),
          std::set<std::string>{"bad_commandline_nul", "bad_path_double_quote", "bad_path_nul", "bad_path_whitespace",
                                "bad_lxc_section_without_containment", "bad_processcontainer_section_with_lxc",
                                "bad_two_backend_sections", "bad_both_appcontainer_and_processcontainer",
                                "bad_proxy_external_default_block_implicit", "bad_proxy_external_with_allowlist",
                                "bad_proxy_external_with_block", "bad_proxy_on_lxc", "bad_proxy_url_garbage",
                                "bad_proxy_url_no_port", "bad_proxy_with_firewall"});
    // Plus, for 1.0.0: CIDR, except and port semantics, the proxy URL and its network, the
    // IsolationSession network.
    check_same(schema_only_valid(corpus10_dir()),
          std::set<std::string>{"bad_cidr_host_bits_set", "bad_cidr_hostname", "bad_cidr_prefix_too_long",
                                "bad_commandline_nul",
                                "bad_endport_less_than_port", "bad_endport_without_port", "bad_except_host_bits_set",
                                "bad_except_other_family", "bad_except_outside_cidr", "bad_icmp_with_port",
                                "bad_isolation_session_without_network", "bad_path_double_quote", "bad_path_nul",
                                "bad_proxy_no_port", "bad_proxy_remote_host", "bad_proxy_scheme_socks5",
                                "bad_proxy_with_egress_allow", "bad_proxy_with_rules",
                                "bad_section_processcontainer_on_bubblewrap"});
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
    // to_mxc_json may refuse more than the decoder (an empty env name, a field the contract cannot
    // express), never less: nothing the decoder rejects is ever emitted.
    auto text = to_mxc_json(policy, contract);
    if (!decoder.empty()) CHECK_FALSE(text.has_value());
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
                auto out = clamp(*policy, *ceiling, c, ClampOptions::of(style, false));
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
    if (!fs::exists(corpus_dir() / "parse-verdicts.tsv") || !fs::exists(corpus10_dir() / "parse-verdicts.tsv")) {
        std::cout << "SKIP: the reference corpora are not at " << reference_dir()
                  << " (set CORDON_SHARED_DIR to the shared/ folder beside the project)\n";
        return 77;  // meson's exit code for a skipped test
    }
    doctest::Context context(argc, argv);
    return context.run();
}
