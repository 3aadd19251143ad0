// SPDX-License-Identifier: MIT
// cordon-bench scale: how clamp, clamp_egress and clamp_domains grow with 10, 100, 1000 paths, rules, patterns.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include <stdlib.h>  // mkdtemp

#include "benchmarks.hpp"
#include "cordon/capabilities.hpp"
#include "cordon/ceiling_loader.hpp"
#include "cordon/clamp.hpp"
#include "cordon/domain_pattern.hpp"
#include "cordon/egress_clamp.hpp"
#include "cordon/mxc_json.hpp"

namespace cordon::bench {

namespace {

constexpr const char* scale_usage =
    "usage: cordon-bench scale [--sizes 10,100,1000] [--min-ms N] [--only paths|emit|egress|domains]\n";

using Clock = std::chrono::steady_clock;

// Median microseconds per call of `op`, repeated for at least `min_ms` (and at least 5 times).
double time_us(const std::function<long()>& op, double min_ms) {
    std::vector<double> runs;
    long sink = 0;
    auto start = Clock::now();
    while (runs.size() < 5 || std::chrono::duration<double, std::milli>(Clock::now() - start).count() < min_ms) {
        auto t0 = Clock::now();
        sink += op();
        runs.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    }
    if (sink < 0) std::cerr << "";  // keeps the work observable
    std::sort(runs.begin(), runs.end());
    return runs[runs.size() / 2];
}

std::string json_list(const std::vector<std::string>& items) {
    std::string out = "[";
    for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ",\"" : "\"") + items[i] + "\"";
    return out + "]";
}

// n ceiling roots under `base` (every other one read-only) and n requested paths: inside a root,
// below an inside one, outside every root, and (once) an ancestor of all roots, which narrows to
// all of them: the result itself grows with n there.
struct PathCase {
    Ceiling ceiling;
    Policy request;
};

PathCase path_case(const std::string& base, std::size_t n, bool canonical) {
    std::vector<std::string> rw, ro, req_rw, req_ro;
    for (std::size_t i = 0; i < n; ++i) {
        std::string root = base + "/r" + std::to_string(i);
        (i % 2 ? ro : rw).push_back(root);
        if (canonical) std::filesystem::create_directories(root + "/sub");
        switch (i % 4) {
            case 0: req_rw.push_back(root + "/sub"); break;
            case 1: req_ro.push_back(root + "/sub"); break;
            case 2: req_rw.push_back(root); break;
            default: req_rw.push_back(base + "/outside/" + std::to_string(i)); break;
        }
    }
    req_ro.push_back(base);  // the ancestor
    auto ceiling = parse_ceiling("{\"readwritePaths\":" + json_list(rw) + ",\"readonlyPaths\":" + json_list(ro) + "}",
                                 CeilingOptions{PathStyle::posix, canonical});
    PathCase c{std::move(ceiling.value()), Policy{}};
    c.request.process.command_line = "true";
    c.request.filesystem.readwrite = std::move(req_rw);
    c.request.filesystem.readonly = std::move(req_ro);
    return c;
}

Egress egress_case(std::size_t n, bool ceiling) {
    Egress e;
    for (std::size_t i = 0; i < n; ++i) {
        const std::string net = "10." + std::to_string(i / 250) + "." + std::to_string(i % 250);
        EgressRule r;
        std::string cidr = ceiling ? net + ".0/24" : net + "." + std::to_string(1 + i % 200) + "/32";
        if (!ceiling && i % 3 == 2) cidr = "172.16." + std::to_string(i % 250) + ".0/24";  // outside
        r.to = std::vector<Peer>{make_peer(cidr, {}, "/to/0").value()};
        r.ports = std::vector<PortSpec>{ceiling ? PortSpec::range(Protocol::tcp, 1, 1024)
                                                : PortSpec::single(Protocol::tcp, static_cast<std::uint16_t>(80 + i % 900))};
        e.allow.push_back(std::move(r));
    }
    for (std::size_t i = 0; i < n / 10; ++i) {  // a few holes
        EgressRule r;
        r.to = std::vector<Peer>{make_peer("10.0." + std::to_string(i % 250) + ".128/25", {}, "/to/0").value()};
        (ceiling ? e.deny : e.deny).push_back(std::move(r));
    }
    return e;
}

std::vector<DomainPattern> domain_ceiling(std::size_t n) {
    std::vector<std::string> texts;
    for (std::size_t i = 0; i < n; ++i)
        texts.push_back(i % 2 ? "*.d" + std::to_string(i) + ".example.com" : "host" + std::to_string(i) + ".example.org:443");
    return parse_domain_patterns(texts).value();
}

std::vector<std::string> domain_request(std::size_t n) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < n; ++i) {
        switch (i % 4) {
            case 0: out.push_back("host" + std::to_string(i) + ".example.org"); break;  // narrowed to :443
            case 1: out.push_back("api.d" + std::to_string(i) + ".example.com"); break;  // kept
            case 2: out.push_back("*.d" + std::to_string(i - 1) + ".example.com"); break;  // kept
            default: out.push_back("other" + std::to_string(i) + ".net"); break;           // dropped
        }
    }
    out.push_back("*.example.com");  // once: narrowed to all n/2 wildcards (the result grows with n)
    return out;
}

struct Row {
    std::string what;
    std::size_t n;
    double us;
};

void print_table(const std::vector<Row>& rows) {
    std::printf("%-34s %6s %12s %12s %10s\n", "operation", "n", "us/op", "ns/item", "growth");
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const Row& r = rows[i];
        std::string growth = "-";
        if (i > 0 && rows[i - 1].what == r.what) {
            // time ratio per size ratio: 1.0 is linear, ~1.3 n log n at x10, ~10 quadratic
            double t = r.us / rows[i - 1].us, s = static_cast<double>(r.n) / static_cast<double>(rows[i - 1].n);
            char buf[32];
            std::snprintf(buf, sizeof buf, "x%.2f/n", t / s);
            growth = buf;
        }
        std::printf("%-34s %6zu %12.1f %12.1f %10s\n", r.what.c_str(), r.n, r.us, r.us * 1000.0 / static_cast<double>(r.n),
                    growth.c_str());
    }
    for (const Row& r : rows)
        std::cout << "{\"op\":\"scale\",\"what\":\"" << r.what << "\",\"n\":" << r.n << ",\"us_per_op\":" << r.us << "}\n";
}

}  // namespace

int run_scale(const Args& args) {
    std::vector<std::size_t> sizes{10, 100, 1000};
    double min_ms = 200;
    std::string only;
    for (std::size_t i = 0; i + 1 < args.size(); i += 2) {
        if (args[i] == "--min-ms") min_ms = std::stod(std::string(args[i + 1]));
        else if (args[i] == "--only") only = std::string(args[i + 1]);
        else if (args[i] == "--sizes") {
            sizes.clear();
            std::string list(args[i + 1]);
            for (std::size_t at = 0; at < list.size();) {
                std::size_t comma = list.find(',', at);
                sizes.push_back(std::stoul(list.substr(at, comma - at)));
                at = comma == std::string::npos ? list.size() : comma + 1;
            }
        } else return std::cerr << scale_usage, 2;
    }
    if (args.size() % 2 != 0) return std::cerr << scale_usage, 2;
    char dir_template[] = "/tmp/cordon-scale.XXXXXX";
    if (!::mkdtemp(dir_template)) return std::cerr << "scale: mkdtemp failed\n", 1;
    const std::string tmp = std::filesystem::canonical(dir_template).string();
    const Capabilities caps = capabilities_for(Backend::bubblewrap, "0.9.0").value();
    std::vector<Row> rows;
    auto wanted = [&only](const char* kind) { return only.empty() || only == kind; };
    for (bool canonical : {false, true})
        for (std::size_t n : sizes) {
            if (!wanted("paths")) break;
            PathCase c = path_case(tmp + "/n" + std::to_string(n), n, canonical);
            ClampOptions options = ClampOptions::of(PathStyle::posix, canonical);
            rows.push_back({canonical ? "clamp paths (canonical, real dirs)" : "clamp paths (lexical)", n,
                            time_us([&] { return static_cast<long>(clamp(c.request, c.ceiling, caps, options)->report.decisions.size()); },
                                    min_ms)});
        }
    for (std::size_t n : sizes) {
        if (!wanted("emit")) break;
        PathCase c = path_case(tmp + "/e" + std::to_string(n), n, false);
        auto out = clamp(c.request, c.ceiling, caps, ClampOptions::of(PathStyle::posix, false));
        rows.push_back({"emit + report (paths)", n, time_us([&] {
                            return static_cast<long>(to_mxc_json(out->policy).value().size() + out->report.to_json().size());
                        }, min_ms)});
    }
    for (std::size_t n : sizes) {
        if (!wanted("egress")) break;
        Egress ceiling = egress_case(n, true), request = egress_case(n, false);
        rows.push_back({"clamp_egress (rules)", n,
                        time_us([&] { return static_cast<long>(clamp_egress(request, ceiling)->decisions.size()); }, min_ms)});
    }
    for (std::size_t n : sizes) {
        if (!wanted("domains")) break;
        auto ceiling = domain_ceiling(n);
        auto request = domain_request(n);
        rows.push_back({"clamp_domains (patterns)", n,
                        time_us([&] { return static_cast<long>(clamp_domains(request, ceiling).granted.size()); }, min_ms)});
    }
    std::filesystem::remove_all(tmp);
    print_table(rows);
    return 0;
}

}  // namespace cordon::bench
