// SPDX-License-Identifier: MIT
// cordon processcontainer backend: its prepare step on the typed policy (cwd default, required
// environment, checks) and the executor's argv.
#include "prepare.hpp"

#include <utility>

#include "cordon/backend.hpp"
#include "cordon/backend_sdk.hpp"
#include "cordon/detail/utf16.hpp"
#include "cordon/names.hpp"
#include "cordon/windows_command_line.hpp"

namespace cordon::processcontainer {
namespace {

std::optional<std::string> first_directory(const std::vector<std::string>& grants, const DirectoryProbe& is_directory) {
    for (const std::string& g : grants)
        if (is_directory(g)) return g;
    return std::nullopt;
}

bool same_name(std::string_view name, std::string_view upper_name) {
    if (name.size() != upper_name.size()) return false;
    for (std::size_t i = 0; i < upper_name.size(); ++i) {
        char c = name[i];
        if ((c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c) != upper_name[i]) return false;
    }
    return true;
}

// wxc-exec refuses an explicit environment without SYSTEMROOT and LOCALAPPDATA (see prepare.hpp).
void add_required_env(ProcessSpec& process, const Contract& contract, const RequiredEnvironment& required,
                      Preparation& done) {
    const bool explicit_env = (!process.env.empty() || contract.inherit_default_env) && !process.inherit_default_env;
    if (!explicit_env) return;
    for (auto [name, value] : {std::pair<std::string_view, const std::string*>{"SYSTEMROOT", &required.system_root},
                               std::pair<std::string_view, const std::string*>{"LOCALAPPDATA", &required.local_app_data}}) {
        bool present = false;
        for (const EnvVar& e : process.env) present = present || (e.value && same_name(e.name, name));
        if (present) continue;
        process.env.push_back(EnvVar{std::string(name), *value});
        done.added_env.emplace_back(name);
    }
}

}  // namespace

Result<Preparation> prepare_policy(Policy& policy, const Contract& contract, const DirectoryProbe& is_directory,
                                   const RequiredEnvironment& required) {
    const Containment own = containment_of(Backend::processcontainer);
    if (policy.containment && *policy.containment != own && *policy.containment != Containment::process)
        return make_error(ErrorCode::invalid_policy,
                          "the processcontainer backend cannot run containment \"" +
                              std::string(to_string(*policy.containment)) + "\"",
                          "/containment");
    auto units = detail::utf8_to_utf16(policy.process.command_line);
    if (!units) return make_error(ErrorCode::invalid_policy, "commandLine is not valid UTF-8", "/process/commandLine");
    if (units->size() > windows_command_line_max)
        return make_error(ErrorCode::invalid_policy,
                          "commandLine is " + std::to_string(units->size()) + " UTF-16 characters; CreateProcessW allows " +
                              std::to_string(windows_command_line_max),
                          "/process/commandLine");
    Preparation done;
    if (!policy.process.cwd) {
        auto dir = first_directory(policy.filesystem.readwrite, is_directory);
        if (!dir) dir = first_directory(policy.filesystem.readonly, is_directory);
        if (dir) policy.process.cwd = done.defaulted_cwd = *dir;
    }
    add_required_env(policy.process, contract, required, done);
    return done;
}

Result<PreparedConfig> prepare_config(std::string_view config_json, const DirectoryProbe& is_directory,
                                      const RequiredEnvironment& required) {
    PreparedConfig prepared;
    auto json = backend_sdk::prepare_config(config_json, [&](Policy& p, const Contract& c) -> Status {
        auto done = prepare_policy(p, c, is_directory, required);
        if (!done) return done.error();
        static_cast<Preparation&>(prepared) = std::move(*done);
        return {};
    });
    if (!json) return json.error();
    prepared.json = std::move(*json);
    return prepared;
}

std::vector<std::string> executor_arguments(const std::string& executor, ConfigDelivery delivery,
                                            const std::string& config_file_or_base64) {
    return {executor, delivery != ConfigDelivery::base64 ? "--config" : "--config-base64", config_file_or_base64};
}

}  // namespace cordon::processcontainer
