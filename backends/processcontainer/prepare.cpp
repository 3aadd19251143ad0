// SPDX-License-Identifier: MIT
// cordon processcontainer backend: config preparation (cwd default, checks) and the executor's argv.
#include "prepare.hpp"

#include <utility>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "cordon/detail/utf16.hpp"
#include "cordon/mxc_json.hpp"
#include "cordon/windows_command_line.hpp"

namespace cordon::processcontainer {
namespace {

std::optional<std::string> first_directory(const boost::json::object& filesystem, const char* key,
                                           const DirectoryProbe& is_directory) {
    const auto* list = filesystem.if_contains(key);
    if (!list || !list->is_array()) return std::nullopt;
    for (const auto& entry : list->get_array())
        if (entry.is_string() && is_directory(std::string(entry.get_string()))) return std::string(entry.get_string());
    return std::nullopt;
}

bool same_name(std::string_view entry, std::string_view upper_name) {
    if (entry.size() <= upper_name.size() || entry[upper_name.size()] != '=') return false;
    for (std::size_t i = 0; i < upper_name.size(); ++i) {
        char c = entry[i];
        if ((c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c) != upper_name[i]) return false;
    }
    return true;
}

// wxc-exec refuses an explicit environment without SYSTEMROOT and LOCALAPPDATA (see prepare.hpp).
void add_required_env(boost::json::object& process, const RequiredEnvironment& required, PreparedConfig& prepared) {
    auto* env = process.if_contains("env");
    const auto* inherit = process.if_contains("inheritDefaultEnv");
    if (!env || !env->is_array() || (inherit && inherit->is_bool() && inherit->get_bool())) return;
    for (auto [name, value] : {std::pair<std::string_view, const std::string*>{"SYSTEMROOT", &required.system_root},
                               std::pair<std::string_view, const std::string*>{"LOCALAPPDATA", &required.local_app_data}}) {
        bool present = false;
        for (const auto& e : env->get_array())
            present = present || (e.is_string() && same_name(std::string_view(e.get_string()), name));
        if (present) continue;
        env->get_array().emplace_back(std::string(name) + "=" + *value);
        prepared.added_env.emplace_back(name);
    }
}

}  // namespace

Result<PreparedConfig> prepare_config(std::string_view config_json, const DirectoryProbe& is_directory,
                                      const RequiredEnvironment& required) {
    if (auto violations = validate(config_json); !violations.empty()) return to_error(violations);
    try {
        boost::json::value doc = boost::json::parse(boost::json::string_view(config_json.data(), config_json.size()));
        auto& root = doc.as_object();
        if (const auto* c = root.if_contains("containment")) {
            std::string_view containment = c->as_string();
            if (containment != "process" && containment != "processcontainer" && containment != "appcontainer")
                return make_error(ErrorCode::invalid_policy,
                                  "the processcontainer backend cannot run containment \"" + std::string(containment) + "\"",
                                  "/containment");
        }
        auto& process = root.at("process").as_object();
        std::string_view command = process.at("commandLine").as_string();
        auto units = detail::utf8_to_utf16(command);
        if (!units) return make_error(ErrorCode::invalid_policy, "commandLine is not valid UTF-8", "/process/commandLine");
        if (units->size() > windows_command_line_max)
            return make_error(ErrorCode::invalid_policy,
                              "commandLine is " + std::to_string(units->size()) +
                                  " UTF-16 characters; CreateProcessW allows " + std::to_string(windows_command_line_max),
                              "/process/commandLine");
        PreparedConfig prepared;
        if (!process.contains("cwd")) {
            if (const auto* fs = root.if_contains("filesystem"); fs && fs->is_object()) {
                auto dir = first_directory(fs->get_object(), "readwritePaths", is_directory);
                if (!dir) dir = first_directory(fs->get_object(), "readonlyPaths", is_directory);
                if (dir) {
                    process["cwd"] = *dir;
                    prepared.defaulted_cwd = *dir;
                }
            }
        }
        add_required_env(process, required, prepared);
        prepared.json = boost::json::serialize(doc);
        if (auto violations = validate(prepared.json); !violations.empty()) return to_error(violations);
        return prepared;
    } catch (const std::exception& e) {
        return make_error(ErrorCode::internal, std::string("while preparing the processcontainer config: ") + e.what());
    }
}

std::vector<std::string> executor_arguments(const std::string& executor, ConfigDelivery delivery,
                                            const std::string& config_file_or_base64) {
    return {executor, delivery != ConfigDelivery::base64 ? "--config" : "--config-base64", config_file_or_base64};
}

}  // namespace cordon::processcontainer
