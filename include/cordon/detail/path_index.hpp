// SPDX-License-Identifier: MIT
// cordon: which of many paths cover a path, or lie below it, without comparing it with each of them.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "cordon/path.hpp"

namespace cordon::detail {

/// An index of paths of one style (a ceiling's roots, its denials) answering within() questions in
/// the time of the asked path's depth (and the size of the answer), not of the number of paths:
/// clamp asks one per requested path, and a ceiling may hold thousands (bench: `cordon-bench scale`).
/// Holds pointers to the paths: they must outlive the index, unmoved.
class PathIndex {
public:
    PathIndex() = default;
    template <class Range, class Project>
    PathIndex(const Range& items, Project path_of) {
        for (const auto& item : items) add(path_of(item));
        sort();
    }
    explicit PathIndex(const std::vector<Path>& paths) : PathIndex(paths, [](const Path& p) -> const Path& { return p; }) {}

    static constexpr std::size_t npos = static_cast<std::size_t>(-1);

    /// The position of the first path, in the order given, that `p` lies within (within(p, it)), or npos.
    std::size_t first_covering(const Path& p) const {
        if (small()) {
            for (std::size_t i = 0; i < paths_.size(); ++i)
                if (within(p, *paths_[i])) return i;
            return npos;
        }
        if (p.style() != paths_.front()->style()) return npos;
        const std::string& key = p.key();
        const std::size_t root_len = p.root().size();
        std::size_t best = paths_.size();
        for (std::size_t end = key.size();;) {
            auto it = first_.find(std::string_view(key).substr(0, end));
            if (it != first_.end()) best = (std::min)(best, it->second);
            if (end <= root_len) break;
            std::size_t cut = key.rfind(p.separator(), end - 1);
            end = cut == std::string::npos || cut < root_len ? root_len : cut;
        }
        return best == paths_.size() ? npos : best;
    }

    /// The positions of every path that lies within `p` (within(it, p)), in the order given.
    std::vector<std::size_t> below(const Path& p) const {
        std::vector<std::size_t> hits;
        if (small()) {
            for (std::size_t i = 0; i < paths_.size(); ++i)
                if (within(*paths_[i], p)) hits.push_back(i);
            return hits;
        }
        if (p.style() == paths_.front()->style()) {
            const std::string& key = p.key();
            auto at = [this](std::string_view k) {
                return std::lower_bound(sorted_.begin(), sorted_.end(), k,
                                        [](const auto& e, std::string_view x) { return e.first < x; });
            };
            for (auto it = at(key); it != sorted_.end() && it->first == key; ++it) hits.push_back(it->second);
            if (!p.is_root()) {
                const std::string prefix = key + p.separator();
                for (auto it = at(prefix); it != sorted_.end() && it->first.substr(0, prefix.size()) == prefix; ++it)
                    hits.push_back(it->second);
            } else {  // a root's key ends in its separator: everything that starts with it
                for (auto it = at(key); it != sorted_.end() && it->first.substr(0, key.size()) == key; ++it)
                    if (it->first != key) hits.push_back(it->second);
            }
        }
        std::sort(hits.begin(), hits.end());
        return hits;
    }

private:
    // A few paths (most ceilings) are compared one by one: building the tables would cost more.
    static constexpr std::size_t small_size = 16;
    bool small() const { return paths_.size() <= small_size; }

    void add(const Path& p) { paths_.push_back(&p); }
    void sort() {
        if (small()) return;
        for (std::size_t i = 0; i < paths_.size(); ++i) {
            first_.emplace(std::string_view(paths_[i]->key()), i);  // keeps the earliest of equal keys
            sorted_.emplace_back(std::string_view(paths_[i]->key()), i);
        }
        std::sort(sorted_.begin(), sorted_.end());
    }

    std::vector<const Path*> paths_;
    std::unordered_map<std::string_view, std::size_t> first_;
    std::vector<std::pair<std::string_view, std::size_t>> sorted_;
};

}  // namespace cordon::detail
