// SPDX-License-Identifier: MIT
// Property: for thousands of generated request/ceiling pairs (both styles), every granted path lies within
// a ceiling root of at least the same access, trust anchors stay read-only, and the timeout never grows.
#include "cordon/ceiling_loader.hpp"
#include "cordon/clamp.hpp"

#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "cordon/mxc_json.hpp"
#include "support/clamp_helpers.hpp"
#include "support/temp_tree.hpp"

using namespace cordon;
using namespace cordon::test;

namespace {

// Generates adversarial spellings from a small alphabet so that paths collide, nest and escape often.
class Generator {
public:
    Generator(PathStyle style, unsigned seed) : style_(style), rng_(seed) {}

    std::string path() {
        static const char* const parts[] = {"a", "b", "ab", "A", "..", ".", "", "c d", "x.txt"};
        std::string out = root();
        int depth = pick(5);
        for (int i = 0; i < depth; ++i) {
            std::string part = parts[pick(9)];
            if (style_ == PathStyle::windows && pick(3) == 0)
                for (char& ch : part) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
            out += part;
            if (i + 1 < depth || pick(4) == 0) out += separator();
        }
        if (pick(40) == 0) out = "rel" + separator() + out;  // invalid now and then
        return out;
    }

    std::vector<std::string> paths(int max) {
        std::vector<std::string> out;
        for (int i = pick(max + 1); i > 0; --i) out.push_back(path());
        return out;
    }

    int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }

private:
    std::string separator() {
        if (style_ == PathStyle::posix) return pick(5) ? "/" : "//";
        return pick(3) ? "\\" : "/";
    }
    std::string root() {
        if (style_ == PathStyle::posix) return "/";
        switch (pick(6)) {
            case 0: return "c:\\";
            case 1: return "D:\\";
            case 2: return "\\\\?\\C:\\";
            case 3: return "\\\\srv\\share\\";
            default: return "C:\\";
        }
    }
    PathStyle style_;
    std::mt19937 rng_;
};

boost::json::array json_list(const std::vector<std::string>& v) {
    boost::json::array a;
    for (const auto& s : v) a.emplace_back(s);
    return a;
}

const std::uint32_t timeouts[] = {0, 500, 1000, 30000, 60000};

struct Checked {
    int cases = 0;
    int grants = 0;
};

// The invariants, on one outcome. `anchors` are the normalised anchors in force.
void check_outcome(const ClampOutcome& out, const Ceiling& ceiling, const Policy& request, PathStyle style,
                   const std::vector<Path>& anchors, Checked& checked) {
    auto within_any = [](const Path& p, const std::vector<Path>& roots) {
        for (const auto& r : roots)
            if (within(p, r)) return true;
        return false;
    };
    std::vector<Path> granted;
    for (const auto& s : out.policy.filesystem.readwrite) {
        Path p = Path::parse(s, style).value();
        CHECK_MESSAGE(within_any(p, ceiling.readwrite), "read-write outside every read-write root: " << s);
        for (const auto& a : anchors) CHECK_MESSAGE((!within(p, a) && !within(a, p)), "anchor writable via " << s);
        granted.push_back(p);
        ++checked.grants;
    }
    for (const auto& s : out.policy.filesystem.readonly) {
        Path p = Path::parse(s, style).value();
        CHECK_MESSAGE((within_any(p, ceiling.readonly) || within_any(p, ceiling.readwrite)),
                      "read-only outside every root: " << s);
        granted.push_back(p);
        ++checked.grants;
    }
    for (const auto& s : out.policy.filesystem.readwrite) CHECK_FALSE(within_any(Path::parse(s, style).value(), ceiling.denied));
    CHECK(out.policy.process.timeout <= request.process.timeout);
    CHECK(out.policy.process.timeout <= ceiling.timeout);
    if (out.policy.process.cwd) CHECK(within_any(Path::parse(*out.policy.process.cwd, style).value(), granted));
    if (!ceiling.allows_network()) CHECK(out.policy.effective_egress_default() == EgressDefault::deny);
    CHECK(out.policy.effective_containment() == ceiling.containment.value_or(Containment::bubblewrap));
    // The result is a valid config, and every requested item got exactly one decision.
    CHECK(to_mxc_json(out.policy, emit_contract(out.policy)).has_value());
    std::size_t items = request.filesystem.readwrite.size() + request.filesystem.readonly.size() +
                        request.filesystem.denied.size() + request.process.env.size() + 1 /* timeout */ +
                        (request.process.cwd ? 1 : 0);
    CHECK(out.report.decisions.size() >= items);
    ++checked.cases;
}

}  // namespace

TEST_SUITE("clamp-property") {
    TEST_CASE("lexical: 4000 generated pairs per style") {
        for (PathStyle style : {PathStyle::posix, PathStyle::windows}) {
            CAPTURE(to_string(style));
            Generator g(style, style == PathStyle::posix ? 1234u : 5678u);
            Checked checked;
            for (int i = 0; i < 4000; ++i) {
                boost::json::object ceiling_doc;
                auto valid = [&](std::vector<std::string> v) {  // ceiling roots must parse
                    std::vector<std::string> out;
                    for (auto& s : v)
                        if (Path::parse(s, style)) out.push_back(std::move(s));
                    return out;
                };
                ceiling_doc["readonlyPaths"] = json_list(valid(g.paths(3)));
                ceiling_doc["readwritePaths"] = json_list(valid(g.paths(3)));
                if (g.pick(4) == 0) ceiling_doc["deniedPaths"] = json_list(valid(g.paths(1)));
                if (g.pick(3)) ceiling_doc["timeout"] = timeouts[g.pick(5)];
                if (g.pick(2)) ceiling_doc["env"] = boost::json::object{{"allow", boost::json::array{"A*", "LD_PRELOAD"}}};
                auto ceiling = parse_ceiling(boost::json::serialize(ceiling_doc), CeilingOptions{style, false});
                REQUIRE_MESSAGE(ceiling.has_value(), boost::json::serialize(ceiling_doc));

                boost::json::object process{{"commandLine", "x"}};
                if (g.pick(4)) process["timeout"] = timeouts[g.pick(5)];
                if (g.pick(2)) process["cwd"] = g.path();
                process["env"] = boost::json::array{"AB=1", "LD_PRELOAD=x", "B=2"};
                boost::json::object req{{"version", "0.6.0-alpha"}, {"process", process}};
                req["filesystem"] = boost::json::object{{"readwritePaths", json_list(g.paths(4))},
                                                        {"readonlyPaths", json_list(g.paths(4))}};
                std::string text = boost::json::serialize(req);
                auto request = from_mxc_json(text);
                REQUIRE_MESSAGE(request.has_value(), text);

                ClampOptions options = lexical(style);
                std::vector<Path> anchors;
                if (g.pick(3) == 0) {
                    std::string exec = g.path();
                    if (auto p = Path::parse(exec, style)) {
                        options.executor_dir = exec;
                        anchors.push_back(*p);
                    }
                }
                Capabilities caps = caps_of();
                auto out = clamp(*request, *ceiling, caps, options);
                if (!out) {
                    // Only the fail-closed refusal of denials is possible here, and bubblewrap enforces them.
                    FAIL_CHECK(out.error().to_string() << " for " << text << " under " << boost::json::serialize(ceiling_doc));
                    continue;
                }
                check_outcome(*out, *ceiling, *request, style, anchors, checked);
            }
            CHECK(checked.cases == 4000);
            CHECK(checked.grants > 2000);  // the generator does produce grants, not only drops
            MESSAGE(to_string(style) << ": " << checked.cases << " pairs, " << checked.grants << " granted paths checked");
        }
    }

    TEST_CASE("canonical: generated requests over a real tree with escaping, looping and dangling links") {
        TempTree t;
        for (const char* d : {"a/b", "a/c", "ab", "out/x"}) t.dir(d);
        t.file("a/f.txt");
        t.link("a/esc", t.path("out"));
        t.link("a/in", "b");
        t.link("a/loop", "loop");
        t.link("a/dang", t.path("out/none"));
        t.link("a/up", "..");
        auto ceiling = parse_ceiling("{\"readwritePaths\":[" + js(t.path("a/b")) + "],\"readonlyPaths\":[" +
                                         js(t.path("a")) + "],\"timeout\":1000}",
                                     CeilingOptions{PathStyle::posix, true});
        REQUIRE(ceiling.has_value());
        const char* const names[] = {"a", "b", "c", "ab", "esc", "in", "loop", "dang", "up", "..", "f.txt", "out", "x", "new"};
        std::mt19937 rng(99);
        auto pick = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };
        auto gen = [&] {
            std::string p = t.root();
            for (int i = pick(5); i >= 0; --i) p += std::string("/") + names[pick(14)];
            return p;
        };
        Checked checked;
        Capabilities no_files = caps_of();
        no_files.file_grants = false;
        for (int i = 0; i < 600; ++i) {
            boost::json::object req{{"version", "0.6.0-alpha"}, {"process", boost::json::object{{"commandLine", "x"}}}};
            std::vector<std::string> rw, ro;
            for (int k = pick(4); k > 0; --k) rw.push_back(gen());
            for (int k = pick(4); k > 0; --k) ro.push_back(gen());
            req["filesystem"] = boost::json::object{{"readwritePaths", json_list(rw)}, {"readonlyPaths", json_list(ro)}};
            Policy request = from_mxc_json(boost::json::serialize(req)).value();
            auto out = clamp(request, *ceiling, i % 2 ? no_files : caps_of(), ClampOptions::of(PathStyle::posix, true));
            REQUIRE(out.has_value());
            check_outcome(*out, *ceiling, request, PathStyle::posix, {}, checked);
            // Re-resolving what was granted lands inside the ceiling too: no link escapes.
            for (const auto& s : out->policy.filesystem.readonly) {
                auto again = canonical(s).value();
                CHECK(again.state != Resolution::unknown);
                CHECK(within(again.path, ceiling->readonly[0]));
            }
        }
        CHECK(checked.grants > 200);
    }
}
