// SPDX-License-Identifier: MIT
// cordon: implementation of clamp.hpp: the clamp of one request, as a small state machine.
#pragma once

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#if !defined(_WIN32)
#include <unistd.h>
#endif

#include "cordon/canonical.hpp"
#include "cordon/ceiling_loader.hpp"
#include "cordon/clamp.hpp"
#include "cordon/detail/env_rules.hpp"
#include "cordon/detail/fs_probe.hpp"
#include "cordon/detail/host_addresses.hpp"
#include "cordon/detail/json_pointer.hpp"
#include "cordon/detail/limit_fields.hpp"
#include "cordon/detail/path_index.hpp"
#include "cordon/detail/socket_scan.hpp"
#include "cordon/domain_pattern.hpp"
#include "cordon/egress_clamp.hpp"
#include "cordon/enforceable.hpp"
#include "cordon/names.hpp"

namespace cordon {

namespace detail {

inline constexpr std::string_view rw_field = "/filesystem/readwritePaths";
inline constexpr std::string_view ro_field = "/filesystem/readonlyPaths";

struct Anchor {
    Path path;
    std::string what;  ///< "the ceiling file" / "the executor directory"
};

// The clamp of one request, as a small state machine over the output policy and report.
class Clamper {
public:
    Clamper(const Policy& request, const Ceiling& ceiling, const Capabilities& caps, const ClampOptions& options)
        : req_(request),
          ceil_(ceiling),
          caps_(caps),
          opt_(options),
          ceiling_rw_(ceiling.readwrite),
          ceiling_ro_(ceiling.readonly),
          ceiling_denied_(ceiling.denied) {}

    Result<ClampOutcome> run() {
        if (Status s = check_inputs(); !s) return s.error();
        out_.process.command_line = req_.process.command_line;
        if (Status s = containment(); !s) return s.error();
        if (Status s = denied(); !s) return s.error();  // first: no grant may lie below a denial
        filesystem();
        if (Status s = pin_denials(); !s) return s.error();
        cwd();
        env();
        timeout();
        limits();
        out_.run_as = ceil_.run_as;  // the operator's choice; a request never picks the sandbox's user
        if (Status s = network(); !s) return s.error();
        domains();
        ceiling_only_fields();
        if (Status s = enforceable(out_, caps_); !s) return s.error();  // what the result needs, the backend must enforce
        report_.ceiling = ceil_.source;
        return ClampOutcome{std::move(out_), std::move(report_)};
    }

private:
    struct Resolution_ {
        std::optional<Path> path;
        EntryKind kind = EntryKind::unknown;
        bool exists = false;  // known to exist (canonical mode only)
        std::string problem;  // why there is no path
    };
    struct Grant {
        Path path;
        bool rw;
        EntryKind kind;
    };
    struct Denial {
        Path path;
        bool from_ceiling;
    };

    void decide(std::string field, std::string requested, Verdict verdict, std::vector<ClampResultItem> result,
                std::string reason) {
        report_.decisions.push_back(
            ClampDecision{std::move(field), std::move(requested), verdict, std::move(result), std::move(reason)});
    }

    Status check_inputs() {
        if (opt_.style != ceil_.style)
            return make_error(ErrorCode::invalid_policy, "clamp style " + std::string(to_string(opt_.style)) +
                                                             " differs from the ceiling's style " +
                                                             std::string(to_string(ceil_.style)));
        if (opt_.canonicalize != ceil_.canonical)
            return make_error(ErrorCode::invalid_policy,
                              opt_.canonicalize ? "the ceiling was loaded lexically; load it canonicalised to clamp canonically"
                                                : "the ceiling was canonicalised; clamp lexically only with a lexical ceiling");
        if (opt_.canonicalize && opt_.style != host_path_style())
            return make_error(ErrorCode::invalid_policy, "cannot canonicalise " + std::string(to_string(opt_.style)) +
                                                             " paths on this host; clamp lexically");
        if (ceil_.source_file) anchors_.push_back({*ceil_.source_file, "the ceiling file in use"});
        std::vector<TrustAnchor> given = opt_.anchors;
        if (opt_.executor_dir) given.push_back({*opt_.executor_dir, "the executor's directory"});
        for (const TrustAnchor& a : given) {
            Resolution_ r = resolve(a.path);
            if (!r.path) return make_error(ErrorCode::invalid_policy, a.what + ": " + r.problem, a.path);
            anchors_.push_back({*r.path, a.what});
        }
        return {};
    }

    // Canonical mode: canonical() with `unknown` turned into a problem; lexical mode: parse only.
    Resolution_ resolve(const std::string& text) {
        Resolution_ r;
        if (!opt_.canonicalize) {
            auto p = Path::parse(text, opt_.style);
            if (p) r.path = std::move(*p);
            else r.problem = "invalid path: " + p.error().message;
            return r;
        }
        auto c = resolver_(text);
        if (!c) {
            r.problem = "invalid path: " + c.error().message;
        } else if (c->state == Resolution::unknown) {
            r.problem = "cannot be resolved (" + c->reason + "), so it is never granted";
        } else {
            r.path = std::move(c->path);
            r.kind = c->kind;
            r.exists = c->state == Resolution::canonical;
        }
        return r;
    }

    Status containment() {
        Containment backend = containment_of(caps_.backend);
        if (ceil_.containment && *ceil_.containment != Containment::process && *ceil_.containment != backend)
            return make_error(ErrorCode::backend_unsupported,
                              "the ceiling requires containment \"" + std::string(to_string(*ceil_.containment)) +
                                  "\" but the capabilities given are backend " + std::string(to_string(caps_.backend)) +
                                  "'s");
        Containment c = ceil_.containment.value_or(backend);
        out_.containment = c;
        if (req_.containment) {
            std::string asked(to_string(*req_.containment));
            if (*req_.containment == c) decide("/containment", asked, Verdict::kept, {{"/containment", asked}}, "");
            else
                decide("/containment", asked, Verdict::dropped, {{"/containment", std::string(to_string(c))}},
                       "the ceiling's backend wins");
        }
        return {};
    }

    // Access the ceiling gives a path: 2 read-write, 1 read-only, 0 none.
    int ceiling_access(const Path& p) const {
        if (ceiling_rw_.first_covering(p) != detail::PathIndex::npos) return 2;
        if (ceiling_ro_.first_covering(p) != detail::PathIndex::npos) return 1;
        return 0;
    }

    void filesystem() {
        denials_ = detail::PathIndex(denied_, [](const Denial& d) -> const Path& { return d.path; });
        for (std::size_t i = 0; i < req_.filesystem.readwrite.size(); ++i)
            grant(pointer_child(rw_field, i), req_.filesystem.readwrite[i], true);
        for (std::size_t i = 0; i < req_.filesystem.readonly.size(); ++i)
            grant(pointer_child(ro_field, i), req_.filesystem.readonly[i], false);
        denials_ = {};  // sockets join denied_ below, which may move it
        dedupe_grants();
        std::unordered_set<std::string> denied_keys;
        for (const Denial& d : denied_) denied_keys.insert(d.path.key());
        for (Path& socket : sockets_) {  // masked like any denial (and pinned against renames with them)
            if (!denied_keys.insert(socket.key()).second) continue;
            out_.filesystem.denied.push_back(socket.str());
            denied_.push_back({std::move(socket), true});
        }
        sockets_.clear();
        socket_keys_.clear();
    }

    // One entry per path, the first; a path granted read-write is not repeated read-only. By
    // sorting positions by key: no comparison of every grant with every other, no hashing.
    void dedupe_grants() {
        const std::size_t rw = rw_keys_.size();
        auto key = [&](std::size_t i) -> const std::string& { return i < rw ? rw_keys_[i] : ro_keys_[i - rw]; };
        std::vector<std::size_t> order(rw + ro_keys_.size());
        for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
        std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return key(a) < key(b); });
        std::vector<bool> drop(order.size());
        for (std::size_t i = 1; i < order.size(); ++i) drop[order[i]] = key(order[i]) == key(order[i - 1]);
        auto keep = [&](std::vector<std::string>& list, std::vector<std::string>& keys, std::size_t offset) {
            std::size_t out = 0;
            for (std::size_t i = 0; i < list.size(); ++i) {
                if (drop[offset + i]) continue;
                if (out != i) {
                    list[out] = std::move(list[i]);
                    keys[out] = std::move(keys[i]);
                }
                ++out;
            }
            list.resize(out);
            keys.resize(out);
        };
        keep(out_.filesystem.readwrite, rw_keys_, 0);
        keep(out_.filesystem.readonly, ro_keys_, rw);
    }

    void grant(std::string field, const std::string& text, bool want_rw) {
        Resolution_ r = resolve(text);
        if (!r.path) {
            decide(std::move(field), text, Verdict::dropped, {}, r.problem);
            return;
        }
        Verdict verdict = Verdict::kept;
        std::vector<std::string> reasons;
        std::vector<Grant> grants;
        int access = ceiling_access(*r.path);
        if (access == 2 || (access == 1 && !want_rw)) {
            grants.push_back({*r.path, want_rw, r.kind});
        } else if (access == 1) {
            grants.push_back({*r.path, false, r.kind});
            verdict = Verdict::downgraded;
            reasons.push_back("only a read-only ceiling root covers it");
        } else {
            // An ancestor of ceiling roots is narrowed to those roots, each with the lesser access.
            for (std::size_t i : ceiling_rw_.below(*r.path)) grants.push_back({ceil_.readwrite[i], want_rw, EntryKind::unknown});
            for (std::size_t i : ceiling_ro_.below(*r.path)) grants.push_back({ceil_.readonly[i], false, EntryKind::unknown});
            if (grants.empty()) {
                decide(std::move(field), text, Verdict::dropped, {}, "outside every ceiling root");
                return;
            }
            verdict = Verdict::narrowed;
            reasons.push_back("narrowed to the ceiling roots below it");
        }
        std::vector<ClampResultItem> result;
        for (Grant& g : grants) {
            if (!file_grant_rule(g, verdict, reasons)) continue;
            if (!denial_rule(g, reasons)) continue;
            anchor_rule(g, verdict, reasons);
            if (!socket_rule(g, verdict, reasons)) continue;
            std::string field_out(g.rw ? rw_field : ro_field);
            (g.rw ? out_.filesystem.readwrite : out_.filesystem.readonly).push_back(g.path.str());
            (g.rw ? rw_keys_ : ro_keys_).push_back(g.path.key());
            result.push_back({std::move(field_out), g.path.str()});
        }
        if (result.empty()) verdict = Verdict::dropped;
        std::string reason;
        for (const auto& s : reasons) reason += (reason.empty() ? "" : "; ") + s;
        decide(std::move(field), text, verdict, std::move(result), std::move(reason));
    }

    // Backends that cannot grant a single file get its parent directory, if the ceiling allows
    // that directory with the same access; otherwise nothing.
    bool file_grant_rule(Grant& g, Verdict& verdict, std::vector<std::string>& reasons) const {
        if (caps_.file_grants || g.kind != EntryKind::other) return true;
        Path parent = g.path.parent();
        int access = ceiling_access(parent);
        if (access == 2 || (access == 1 && !g.rw)) {
            reasons.push_back("parent-directory grant: backend " + std::string(to_string(caps_.backend)) +
                              " cannot grant a single file");
            g.path = std::move(parent);
            g.kind = EntryKind::directory;
            if (verdict == Verdict::kept) verdict = Verdict::narrowed;
            return true;
        }
        reasons.push_back("backend " + std::string(to_string(caps_.backend)) +
                          " cannot grant a single file and the ceiling does not allow its parent directory " +
                          parent.str() + (g.rw ? " read-write" : ""));
        return false;
    }

    // A grant at or below a denied path would be mounted over the denial's mask and re-expose it.
    bool denial_rule(const Grant& g, std::vector<std::string>& reasons) const {
        const std::size_t hit = denials_.first_covering(g.path);
        if (hit == detail::PathIndex::npos) return true;
        const Denial& d = denied_[hit];
        reasons.push_back(d.from_ceiling ? g.path.str() + " lies in ceiling-denied " + d.path.str()
                                         : g.path.str() + " lies in denied " + d.path.str() +
                                               ", and a grant there would re-expose what the denial hides");
        return false;
    }

    // Canonical mode: a Unix socket inside a grant (docker.sock, an ssh-agent) would be reachable
    // with the network blocked, so each one the ceiling's allowedSockets does not name is masked
    // (denied); a grant that is such a socket, or too large to scan completely, is not granted.
    bool socket_rule(const Grant& g, Verdict& verdict, std::vector<std::string>& reasons) {
        if (!opt_.canonicalize) return true;
        detail::SocketScan scan;
        // What resolving it already saw: absent or a plain file has nothing below it to search.
        auto type = resolver_.known_type(g.path.str());
#if !defined(_WIN32)
        if (type && *type != S_IFDIR) {
            if (*type == S_IFSOCK) scan.sockets.push_back(g.path.str());
        } else {
            scan = detail::find_sockets(g.path.str(), socket_budget_, &socket_dirs_);
        }
#else
        (void)type;
        scan = detail::find_sockets(g.path.str(), socket_budget_, &socket_dirs_);
#endif
        if (!scan.complete) {
            reasons.push_back(scan.problem.empty()
                                  ? "more than " + std::to_string(detail::socket_scan_limit) +
                                        " entries to search for Unix sockets; grant a narrower directory"
                                  : "cannot be searched for Unix sockets (" + scan.problem + ")");
            return false;
        }
        std::size_t masked = 0;
        for (const std::string& socket : scan.sockets) {
            Path p = Path::parse(socket, opt_.style).value();
            if (covered_exactly(p, ceil_.allowed_sockets)) continue;
            if (p.key() == g.path.key()) {
                reasons.push_back(p.str() + " is a Unix socket the ceiling's allowedSockets does not name");
                return false;
            }
            if (socket_keys_.insert(p.key()).second) sockets_.push_back(std::move(p));
            ++masked;
        }
        if (masked > 0) {
            reasons.push_back("masked " + std::to_string(masked) +
                              " Unix socket(s) inside it that the ceiling's allowedSockets does not name");
            if (verdict == Verdict::kept) verdict = Verdict::narrowed;
        }
        return true;
    }

    static bool covered_exactly(const Path& p, const std::vector<Path>& list) {
        return std::any_of(list.begin(), list.end(), [&](const Path& q) { return q.key() == p.key(); });
    }

    // The engine's own trust anchors never become writable: a grant of, inside or above one is read-only.
    void anchor_rule(Grant& g, Verdict& verdict, std::vector<std::string>& reasons) const {
        if (!g.rw) return;
        for (const Anchor& a : anchors_) {
            if (!within(g.path, a.path) && !within(a.path, g.path)) continue;
            g.rw = false;
            verdict = Verdict::downgraded;
            reasons.push_back("read-only: " + g.path.str() + " would make " + a.what + " (" + a.path.str() +
                              ") writable");
            return;
        }
    }

    Status denied() {
        std::unordered_set<std::string> known;
        auto add = [&](const Path& p, bool from_ceiling) {
            if (!known.insert(p.key()).second) return;
            denied_.push_back({p, from_ceiling});
            out_.filesystem.denied.push_back(p.str());
        };
        for (const Path& p : ceil_.denied) add(p, true);
        for (std::size_t i = 0; i < req_.filesystem.denied.size(); ++i) {
            const std::string& text = req_.filesystem.denied[i];
            std::string field = pointer_child("/filesystem/deniedPaths", i);
            // A denial only narrows, so it is kept; one cordon cannot read is an error rather than
            // silently lifted. An unresolvable one is kept as spelled (it still narrows).
            std::optional<Path> path;
            std::string note;
            if (opt_.canonicalize) {
                auto c = resolver_(text);
                if (!c) return make_error(ErrorCode::invalid_policy, "denied path: " + c.error().message, field);
                path = c->path;
                if (c->state == Resolution::unknown) note = "kept as spelled: " + c->reason;
            } else {
                auto p = Path::parse(text, opt_.style);
                if (!p) return make_error(ErrorCode::invalid_policy, "denied path: " + p.error().message, field);
                path = std::move(*p);
            }
            if (Status s = single_name(*path, field); !s) return s;
            add(*path, false);
            decide(field, text, Verdict::kept, {{"/filesystem/deniedPaths", path->str()}}, note);
        }
        for (const Path& p : ceil_.denied)
            if (Status s = single_name(p, "ceiling deniedPaths"); !s) return s;
        return {};
    }

    // A denied file with a second hard link stays readable under the other name (canonical mode:
    // only then does clamp look at the disk).
    Status single_name(const Path& p, const std::string& field) const {
        if (!opt_.canonicalize) return {};
        std::uint64_t links = detail::link_count(p.str());
        if (links <= 1) return {};
        return make_error(ErrorCode::invalid_policy,
                          "denied file " + p.str() + " has " + std::to_string(links) +
                              " hard links; another name of it would stay readable, so the denial cannot hold",
                          field);
    }

    // Keeps each denial where it is whatever the sandbox renames (Capabilities::rename_guard): a
    // parent directory that a writable grant covers could be renamed, moving the denied content to
    // a name the next run can read.
    Status pin_denials() {
        if (caps_.rename_guard == RenameGuard::object_bound) return {};
        std::vector<Path> roots;
        for (const auto& s : out_.filesystem.readwrite) roots.push_back(Path::parse(s, opt_.style).value());
        const detail::PathIndex writable(roots);
        std::unordered_set<std::string> granted_rw(rw_keys_.begin(), rw_keys_.end());
        auto writable_root_of = [&](const Path& p) -> const Path* {
            std::size_t i = writable.first_covering(p);
            return i == detail::PathIndex::npos ? nullptr : &roots[i];
        };
        for (const Denial& d : denied_) {
            std::vector<ClampResultItem> pinned;
            for (Path a = d.path.parent(); a.key() != d.path.key(); a = a.parent()) {
                const Path* rw = writable_root_of(a);
                if (!rw) break;  // above every writable grant: nothing there can be renamed
                if (caps_.rename_guard == RenameGuard::none)
                    return make_error(ErrorCode::backend_unsupported,
                                      "backend " + std::string(to_string(caps_.backend)) + " denies by path, and " +
                                          d.path.str() + " lies inside the writable grant " + rw->str() +
                                          ": renaming a parent directory would move the denied content out from under "
                                          "the denial; refusing rather than running with a denial the sandbox can lift",
                                      "/filesystem/deniedPaths");
                if (a.key() != rw->key() && (!opt_.canonicalize || detail::is_directory(a.str()))) {
                    if (granted_rw.insert(a.key()).second) {
                        out_.filesystem.readwrite.push_back(a.str());
                        rw_keys_.push_back(a.key());
                    }
                    pinned.push_back({"/filesystem/readwritePaths", a.str()});
                }
                if (a.is_root()) break;
            }
            if (!pinned.empty())
                decide("/filesystem/deniedPaths", d.path.str(), Verdict::kept, std::move(pinned),
                       "its parent directories inside writable grants are granted onto themselves (mount points "
                       "cannot be renamed), so the sandbox cannot move the denied content to another name");
        }
        return {};
    }

    bool granted(const Path& p) const {
        for (const auto& s : out_.filesystem.readwrite)
            if (within(p, Path::parse(s, opt_.style).value())) return true;
        for (const auto& s : out_.filesystem.readonly)
            if (within(p, Path::parse(s, opt_.style).value())) return true;
        return false;
    }

    // Chosen rule: a cwd outside every granted path after clamping is dropped, not replaced by a
    // granted directory: the executor then starts in its default and the workload fails visibly
    // instead of running somewhere the requester did not choose (docs/clamp-rules.md).
    void cwd() {
        if (!req_.process.cwd) return;
        const std::string& text = *req_.process.cwd;
        Resolution_ r = resolve(text);
        std::string problem = r.problem;
        if (r.path && opt_.canonicalize && !r.exists) problem = "does not exist (the executor cannot start in it)";
        if (problem.empty() && !granted(*r.path)) problem = "not within any granted path after clamping";
        const std::size_t by = problem.empty() ? ceiling_denied_.first_covering(*r.path) : detail::PathIndex::npos;
        if (by != detail::PathIndex::npos) problem = "lies in ceiling-denied " + ceil_.denied[by].str();
        if (!problem.empty()) {
            decide("/process/cwd", text, Verdict::dropped, {}, problem);
            return;
        }
        out_.process.cwd = r.path->str();
        decide("/process/cwd", text, Verdict::kept, {{"/process/cwd", r.path->str()}}, "");
    }

    void env() {
        const bool fold = opt_.style == PathStyle::windows;
        for (std::size_t i = 0; i < req_.process.env.size(); ++i) {
            const EnvVar& var = req_.process.env[i];
            std::string field = pointer_child("/process/env", i);
            std::string entry = var.entry();
            if (!var.value || var.name.empty()) {
                decide(field, entry, Verdict::dropped, {},
                       var.name.empty() ? "empty variable name" : "no '=': executors drop entries without a value");
                continue;
            }
            switch (detail::judge_env_name(var.name, ceil_.env_allow, fold)) {
                case detail::EnvVerdict::allowed:
                    out_.process.env.push_back(var);
                    decide(field, entry, Verdict::kept, {{"/process/env", entry}}, "");
                    break;
                case detail::EnvVerdict::dangerous:
                    decide(field, entry, Verdict::dropped, {},
                           var.name + ": " + std::string(detail::dangerous_env_reason(ordinal_upper(var.name))) +
                               "; only a ceiling allow-list entry naming it exactly admits it");
                    break;
                case detail::EnvVerdict::not_listed:
                    decide(field, entry, Verdict::dropped, {}, "not in the ceiling's env allow-list");
                    break;
            }
        }
        inherit_default_env(fold);
    }

    // The backend's default environment (bubblewrap: fixed PATH and TERM values, never the host's)
    // is inherited only when the ceiling admits those names, as it would admit them one by one.
    void inherit_default_env(bool fold) {
        if (!req_.process.inherit_default_env) return;
        std::string missing;
        for (const char* name : {"PATH", "TERM"})
            if (detail::judge_env_name(name, ceil_.env_allow, fold) != detail::EnvVerdict::allowed)
                missing += missing.empty() ? name : std::string(" and ") + name;
        if (missing.empty()) {
            out_.process.inherit_default_env = true;
            decide("/process/inheritDefaultEnv", "true", Verdict::kept, {{"/process/inheritDefaultEnv", "true"}}, "");
        } else {
            decide("/process/inheritDefaultEnv", "true", Verdict::dropped, {},
                   "the backend's default environment sets " + missing +
                       ", which the ceiling's env allow-list does not admit; the sandbox gets only the allowed entries");
        }
    }

    void timeout() {
        Timeout t = stricter(req_.process.timeout, ceil_.timeout);
        out_.process.timeout = t;
        auto text = [](Timeout x) { return x.is_none() ? std::string("none") : std::to_string(x.wire_value()); };
        std::vector<ClampResultItem> result;
        if (!t.is_none()) result.push_back({"/process/timeout", text(t)});
        if (t == req_.process.timeout)
            decide("/process/timeout", text(req_.process.timeout), Verdict::kept, std::move(result), "");
        else
            decide("/process/timeout", text(req_.process.timeout), Verdict::narrowed, std::move(result),
                   "the ceiling's limit is " + text(ceil_.timeout) + " ms (a missing or 0 timeout means none)");
    }

    // The sandbox runs under a uid of its own when the ceiling names one or cordon runs as root
    // (detail::default_run_as).
    bool sandbox_has_own_uid() const {
#if defined(_WIN32)
        return false;
#else
        return ceil_.run_as.has_value() || euid_ == 0;
#endif
    }

    // Each limit is the lower of the ceiling's (or cordon's default) and the request's, like the
    // timeout; the request can only lower it.
    void limits() {
        for (const detail::LimitField& f : detail::limit_fields) {
            auto ceiling = detail::ceiling_limit(f, ceil_.limits, sandbox_has_own_uid());
            auto asked = req_.limits.*f.member;  // 0 asks for no limit: the ceiling's stands
            auto& out = out_.limits.*f.member;
            out = !asked || *asked == 0 ? ceiling : !ceiling ? asked : (std::min)(*asked, *ceiling);
            if (!asked) continue;
            std::string field = pointer_child("/limits", f.name);
            std::string text = std::to_string(*asked);
            std::string now = out ? std::to_string(*out) : "none";
            if (out == asked || (!out && *asked == 0)) decide(field, text, Verdict::kept, {{field, now}}, "");
            else decide(field, text, Verdict::narrowed, {{field, now}}, "the ceiling's limit is " + now);
        }
    }

    static bool host_allowed(const std::string& host, const std::vector<std::string>& allowed) {
        std::string h = ordinal_upper_ascii(host);
        for (const auto& a : allowed)
            if (detail::glob_match(ordinal_upper_ascii(a), h)) return true;
        return false;
    }
    static std::string ordinal_upper_ascii(std::string s) {
        for (char& c : s) c = detail::ascii_upper(c);
        return s;
    }

    // The model's pointers are the directional wire's (/network/egress/...); a legacy request's
    // `defaultPolicy` is reported at /network/egress/default (the legacy codec maps it back).
    Status network() {
        const NetworkSpec* asked = req_.network ? &*req_.network : nullptr;
        NetworkSpec net;
        net.legacy.enforcement_mode = ceil_.fixed.enforcement_mode;
        net.legacy.allow_local_network = ceil_.fixed.allow_local_network;
        net.proxy = ceil_.fixed.proxy;
        if (Status s = egress(asked, net); !s) return s;
        if (asked) ingress(*asked);
        // Ceiling-only network fields: the ceiling's values, or the request's where the ceiling allows
        // it and the network is not blocked (a proxy shares the host network on bubblewrap).
        if (asked) {
            const bool open = net.effective_default() == EgressDefault::allow || !net.legacy.allowed_hosts.empty();
            take_field(asked->legacy.enforcement_mode, net.legacy.enforcement_mode,
                       RequestField::network_enforcement_mode, "/network/enforcementMode",
                       [](EnforcementMode m) { return std::string(to_string(m)); }, true);
            take_field(asked->legacy.allow_local_network, net.legacy.allow_local_network,
                       RequestField::network_allow_local_network, "/network/allowLocalNetwork",
                       [](bool b) { return std::string(b ? "true" : "false"); }, open);
            take_field(asked->proxy, net.proxy, RequestField::network_proxy, "/runtimeConfig/networkProxy",
                       [](const Proxy&) { return std::string("(proxy)"); }, open);
        }
        out_.network = std::move(net);
        return {};
    }

    // The request's domain patterns, each intersected with the ceiling's (domain_pattern.hpp); the
    // proxy that serves them is the runner's business.
    void domains() {
        DomainClamp c = clamp_domains(req_.allowed_domains, ceil_.allowed_domains, "/network/allowedDomains");
        for (ClampDecision& d : c.decisions) report_.decisions.push_back(std::move(d));
        for (const DomainPattern& p : c.granted) out_.allowed_domains.push_back(p.to_string());
    }

    // A ceiling that blocks or lists hosts (legacy) decides the default itself and takes no rules;
    // any other ceiling (`allow`, egress rules) goes through clamp_egress as sets.
    Status egress(const NetworkSpec* asked, NetworkSpec& net) {
        if (ceil_.allows_network() && ceil_.allowed_hosts.empty()) {
            if (Status s = egress_sets(asked, net); !s) return s;
            if (asked) host_lists(*asked, net);
            return {};
        }
        const EgressDefault want = req_.effective_egress_default();
        const std::string want_text(to_string(want));
        const std::string field = "/network/egress/default";
        const bool asked_default = asked && asked->egress.default_action;
        net.egress.default_action = EgressDefault::deny;
        if (!ceil_.allows_network()) {
            if (asked_default)
                decide(field, want_text, want == EgressDefault::deny ? Verdict::kept : Verdict::dropped,
                       {{field, "deny"}}, want == EgressDefault::deny ? "" : "the ceiling blocks the network");
        } else if (want == EgressDefault::allow) {
            // "Everything" under a ceiling that allows only some hosts becomes those hosts.
            net.legacy.allowed_hosts = ceil_.allowed_hosts;
            std::vector<ClampResultItem> result{{field, "deny"}};
            for (const auto& h : ceil_.allowed_hosts) result.push_back({"/network/allowedHosts", h});
            decide(field, want_text, Verdict::narrowed, std::move(result), "the ceiling allows only its listed hosts");
        } else if (asked_default) {
            decide(field, want_text, Verdict::kept, {{field, want_text}}, "");
        }
        if (!asked) return {};
        host_lists(*asked, net);
        for (std::size_t i = 0; i < asked->egress.allow.size(); ++i)
            decide(pointer_child("/network/egress/allow", i), to_json(asked->egress.allow[i]), Verdict::dropped, {},
                   ceil_.allows_network() ? "the ceiling allows only its listed hosts, no egress rules"
                                          : "the ceiling blocks the network");
        for (std::size_t i = 0; i < asked->egress.deny.size(); ++i)
            decide(pointer_child("/network/egress/deny", i), to_json(asked->egress.deny[i]), Verdict::dropped, {},
                   "nothing is allowed, so there is nothing to deny");
        return {};
    }

    // The request's egress ∩ the ceiling's (its rules, or everything under `allow`), minus its deny
    // rules and, where the backend enforces rules, the host's own addresses the ceiling does not name.
    Status egress_sets(const NetworkSpec* asked, NetworkSpec& net) {
        Egress ceiling = ceil_.egress;
        ceiling.default_action = ceil_.network == NetworkDefault::allow ? EgressDefault::allow : EgressDefault::deny;
        const Egress request = asked ? asked->egress : Egress{};
        EgressClampOptions options;
        if (caps_.egress_rules)
            options.host_addresses = opt_.host_addresses ? *opt_.host_addresses
                                     : opt_.canonicalize ? detail::host_addresses()
                                                         : std::vector<Cidr>{};
        auto clamped = clamp_egress(request, ceiling, "/network/egress", "/network/egress", options);
        if (!clamped) return clamped.error();
        if (request.default_action == EgressDefault::deny)
            decide("/network/egress/default", "deny", Verdict::kept, {{"/network/egress/default", "deny"}}, "");
        for (EgressDecision& d : clamped->decisions) {
            if (Status s = reachable(d); !s) return s;
            std::vector<ClampResultItem> result;
            const bool rules = !d.granted.allow.empty() || !d.granted.deny.empty();
            if (d.field == "/network/egress/default" && d.verdict != Verdict::dropped)
                result.push_back({d.field, std::string(to_string(d.granted.effective_default()))});
            if (d.verdict != Verdict::dropped && (rules || d.field != "/network/egress/default"))
                result.push_back({"/network/egress", to_json(d.granted)});
            decide(d.field, d.requested, d.verdict, std::move(result), std::move(d.reason));
        }
        net.egress = std::move(clamped->egress);
        return {};
    }

    // A grant that lies wholly in blocks the backend accepts and never reaches (127.0.0.0/8, slirp's
    // 10.0.2.2, IPv6 on bubblewrap) is refused: it would run and silently do nothing.
    Status reachable(const EgressDecision& d) {
        if (d.verdict == Verdict::dropped || caps_.silent_peers.size == 0 || d.field.find("/deny/") != std::string::npos)
            return {};
        auto granted = EgressSet::from_egress(d.granted);
        if (!granted || granted->empty()) return {};
        if (!silent_) {
            silent_.emplace();
            auto v4 = EgressSet::from_rule(EgressRule{std::vector<Peer>{Peer{*Cidr::parse("0.0.0.0/0"), {}}}, std::nullopt});
            for (const SilentPeer& p : caps_.silent_peers) {
                auto block = Cidr::parse(p.cidr);
                if (!block) continue;
                auto set = p.cidr == "::/0" && v4 ? Result<EgressSet>(EgressSet::everything() - *v4)
                                                  : EgressSet::from_rule(EgressRule{std::vector<Peer>{Peer{*block, {}}}, std::nullopt});
                if (set) silent_->push_back({p, std::move(*set)});
            }
        }
        EgressSet all;
        for (const auto& entry : *silent_) all = all | entry.second;
        if (!granted->subset_of(all)) return {};
        for (const auto& [peer, set] : *silent_)
            if (granted->intersects(set))
                return make_error(ErrorCode::backend_unsupported,
                                  d.requested + " would never be reached on " + std::string(to_string(caps_.backend)) +
                                      " (SDK " + std::string(caps_.sdk_version) + "): " + std::string(peer.cidr) + " " +
                                      std::string(peer.why),
                                  d.field);
        return {};
    }

    void host_lists(const NetworkSpec& asked, NetworkSpec& net) {
        const LegacyNetwork& legacy = asked.legacy;
        const bool open = ceil_.allows_network();
        for (std::size_t i = 0; i < legacy.allowed_hosts.size(); ++i) {
            const std::string& h = legacy.allowed_hosts[i];
            std::string field = pointer_child("/network/allowedHosts", i);
            if (open && (ceil_.allowed_hosts.empty() || host_allowed(h, ceil_.allowed_hosts))) {
                bool dup = std::find(net.legacy.allowed_hosts.begin(), net.legacy.allowed_hosts.end(), h) !=
                           net.legacy.allowed_hosts.end();
                if (!dup) net.legacy.allowed_hosts.push_back(h);
                decide(field, h, Verdict::kept, {{"/network/allowedHosts", h}}, "");
            } else {
                decide(field, h, Verdict::dropped, {},
                       open ? "not among the ceiling's allowed hosts" : "the ceiling blocks the network");
            }
        }
        for (std::size_t i = 0; i < legacy.blocked_hosts.size(); ++i) {
            std::string field = pointer_child("/network/blockedHosts", i);
            if (!open) {
                decide(field, legacy.blocked_hosts[i], Verdict::dropped, {},
                       "the ceiling blocks the network, so there is nothing to block");
                continue;
            }
            net.legacy.blocked_hosts.push_back(legacy.blocked_hosts[i]);
            decide(field, legacy.blocked_hosts[i], Verdict::kept, {{"/network/blockedHosts", legacy.blocked_hosts[i]}},
                   "");
        }
    }

    // The ceiling grants no way in: ingress and host-loopback `allow` are dropped, `deny` kept.
    void ingress(const NetworkSpec& asked) {
        auto one = [&](const std::optional<NetworkAction>& a, const char* field) {
            if (!a) return;
            std::string text(to_string(*a));
            if (*a == NetworkAction::deny) decide(field, text, Verdict::kept, {{field, text}}, "");
            else decide(field, text, Verdict::dropped, {{field, "deny"}}, "the ceiling grants no ingress");
        };
        one(asked.ingress.default_action, "/network/ingress/default");
        one(asked.ingress.host_loopback, "/network/ingress/hostLoopback");
    }

    // One ceiling-only field: the request's value replaces the ceiling's only when the ceiling names
    // the field in requestMaySet (and `possible`); otherwise the request's value is dropped.
    template <class T, class Show>
    void take_field(const std::optional<T>& asked, std::optional<T>& out, RequestField f, const std::string& field,
                    Show show, bool possible) {
        if (!asked) return;
        std::string text = show(*asked);
        if (ceil_.request_may(f) && possible) {
            out = asked;
            decide(field, text, Verdict::kept, {{field, text}}, "");
        } else {
            decide(field, text, Verdict::dropped, {},
                   !possible ? "the network is blocked"
                             : "a ceiling-only field (the ceiling's requestMaySet does not name " +
                                   std::string(to_string(f)) + ")");
        }
    }

    void ceiling_only_fields() {
        auto yes_no = [](bool b) { return std::string(b ? "true" : "false"); };
        out_.container_id = ceil_.fixed.container_id;
        take_field(req_.container_id, out_.container_id, RequestField::container_id, "/containerId",
                   [](const std::string& s) { return s; }, true);
        out_.lifecycle = ceil_.fixed.lifecycle;
        take_field(req_.lifecycle, out_.lifecycle, RequestField::lifecycle, "/lifecycle",
                   [](const LifecycleSpec&) { return std::string("(section)"); }, true);
        out_.ui = ceil_.fixed.ui;
        take_field(req_.ui, out_.ui, RequestField::ui, "/ui", [](const UiSpec&) { return std::string("(section)"); }, true);
        out_.fallback = ceil_.fixed.fallback;
        if (req_.fallback && req_.fallback->allow_dacl_mutation) {
            std::optional<bool> v = out_.fallback ? out_.fallback->allow_dacl_mutation : std::nullopt;
            take_field(req_.fallback->allow_dacl_mutation, v, RequestField::fallback_allow_dacl_mutation,
                       "/fallback/allowDaclMutation", yes_no, true);
            if (v) out_.fallback = FallbackSpec{v};
        }
        const Containment c = out_.effective_containment();
        // processContainer: field by field; network capabilities never under a blocked network.
        std::optional<ProcessContainerSpec> pc = ceil_.fixed.process_container;
        if (req_.process_container) {
            const ProcessContainerSpec& a = *req_.process_container;
            const bool here = c == Containment::processcontainer;
            ProcessContainerSpec merged = pc.value_or(ProcessContainerSpec{});
            take_field(a.least_privilege, merged.least_privilege, RequestField::process_container_least_privilege,
                       "/processContainer/leastPrivilege", yes_no, here);
            take_field(a.ui, merged.ui, RequestField::process_container_ui, "/processContainer/ui",
                       [](const ProcessContainerUi&) { return std::string("(section)"); }, here);
            const bool blocked = out_.network && out_.network->effective_default() == EgressDefault::deny &&
                                 out_.network->legacy.allowed_hosts.empty() && out_.network->egress.allow.empty();
            std::vector<std::string> caps_out;
            bool caps_taken = false;
            for (std::size_t i = 0; i < a.capabilities.size(); ++i) {
                const std::string& cap = a.capabilities[i];
                std::string field = pointer_child("/processContainer/capabilities", i);
                bool network_cap = cap == "internetClient" || cap == "internetClientServer" ||
                                   cap == "privateNetworkClientServer";
                if (!here) decide(field, cap, Verdict::dropped, {}, "section for another backend");
                else if (!ceil_.request_may(RequestField::process_container_capabilities))
                    decide(field, cap, Verdict::dropped, {},
                           "a ceiling-only field (the ceiling's requestMaySet does not name processContainer.capabilities)");
                else if (network_cap && blocked)
                    decide(field, cap, Verdict::dropped, {}, "a network capability under a blocked network");
                else {
                    caps_out.push_back(cap);
                    caps_taken = true;
                    decide(field, cap, Verdict::kept, {{"/processContainer/capabilities", cap}}, "");
                }
            }
            if (caps_taken) merged.capabilities = std::move(caps_out);
            if (here && (pc || merged.least_privilege || merged.ui || !merged.capabilities.empty())) pc = std::move(merged);
        }
        out_.process_container = c == Containment::processcontainer ? pc : std::nullopt;

        out_.seatbelt = c == Containment::seatbelt ? ceil_.fixed.seatbelt : std::nullopt;
        if (req_.seatbelt) {
            const bool here = c == Containment::seatbelt;
            SeatbeltSpec merged = out_.seatbelt.value_or(SeatbeltSpec{});
            std::optional<std::string> profile = merged.profile_override;
            take_field(req_.seatbelt->profile_override, profile, RequestField::seatbelt_profile_override,
                       "/seatbelt/profileOverride", [](const std::string& s) { return s; }, here);
            SeatbeltSpec asked = *req_.seatbelt;
            asked.profile_override.reset();
            std::optional<SeatbeltSpec> rest;
            if (asked != SeatbeltSpec{})
                take_field(std::optional<SeatbeltSpec>(asked), rest, RequestField::seatbelt, "/seatbelt",
                           [](const SeatbeltSpec&) { return std::string("(section)"); }, here);
            if (rest) merged = *rest;
            merged.profile_override = profile;
            if (here && (out_.seatbelt || rest || profile)) out_.seatbelt = merged;
        }
        out_.lxc = c == Containment::lxc ? ceil_.fixed.lxc : std::nullopt;
        if (req_.lxc) {
            std::optional<LxcSpec> v = out_.lxc;
            take_field(req_.lxc, v, RequestField::lxc, "/lxc",
                       [](const LxcSpec& l) { return l.distribution + " " + l.release; }, c == Containment::lxc);
            out_.lxc = c == Containment::lxc ? v : std::nullopt;
        }
    }

    const Policy& req_;
    const Ceiling& ceil_;
    const Capabilities& caps_;
    const ClampOptions& opt_;
    std::vector<Anchor> anchors_;
    std::optional<std::vector<std::pair<SilentPeer, EgressSet>>> silent_;  // caps_.silent_peers as sets, when needed
    std::vector<Denial> denied_;
    std::vector<Path> sockets_;  // found by socket_rule, masked once the grants are known
    std::unordered_set<std::string> socket_keys_;  // of sockets_
    detail::PathIndex ceiling_rw_, ceiling_ro_, ceiling_denied_;  // of the ceiling's roots: O(depth) per question
    detail::PathIndex denials_;  // of denied_, while the grants are decided
    std::size_t socket_budget_ = detail::socket_scan_limit;
    detail::DirMemo socket_dirs_;  // each directory is read once per clamp, however many grants cover it
    std::vector<std::string> rw_keys_, ro_keys_;
    PathResolver resolver_;  // one per clamp: the request's paths are resolved at one moment
#if !defined(_WIN32)
    const uid_t euid_ = ::geteuid();  // asked once: the limits and their report ask it per field
#endif
    Policy out_;
    ClampReport report_;
};

}  // namespace detail

CORDON_FUNC Result<ClampOutcome> clamp(const Policy& request, const Ceiling& ceiling, const Capabilities& capabilities,
                                       const ClampOptions& options) {
    try {
        return detail::Clamper(request, ceiling, capabilities, options).run();
    } catch (const std::exception& e) {
        return make_error(ErrorCode::internal, std::string("while clamping: ") + e.what());
    }
}

}  // namespace cordon
