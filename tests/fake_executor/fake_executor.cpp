// SPDX-License-Identifier: MIT
// Test program that stands in for an MXC executor (lxc-exec, mxc-exec-mac) where the real one cannot run.
//
// Command line, as lxc-exec 0.9.0 (../shared/docs/mxc-contract.md d.1):
//   fake_executor [--config FILE | --config=FILE] [--config-base64 B64] [--dry-run] [--experimental]
//                 [--debug] [CONFIG_PATH]
// Precedence --config-base64 > --config > positional. No config: "Error: No config provided..." exit 1.
// Unreadable file / bad base64 / invalid JSON: "Request error" + detail on stderr, exit 1.
// Unknown flag: a clap-style usage error, exit 2. --dry-run: prints the dry-run verdict, exit 0,
// and runs nothing (only actions given by FAKE_EXECUTOR_MODE still apply).
//
// Environment controls:
//   FAKE_EXECUTOR_RECORD=FILE  append JSON lines to FILE (or, when unset, to the FILE named by a
//     config "containerId":"fake-record:FILE", for backends that pass the executor no environment).
//     Line 1, written before anything else:
//     {"argv":[...], "env":[...], "cwd":..., "fds":[{"fd":0,"target":"/dev/null"},...],
//      "pid", "ppid", "pgid", "sid", "sig_ignored", "sig_blocked" (hex masks from /proc/self/status),
//      "uid", "gid", "groups", "cap_eff", "no_new_privs" (the Uid:/Gid:/Groups:/CapEff:/NoNewPrivs:
//      lines of /proc/self/status, as text),
//      "config" (text received, or null), "config_source" ("base64"|"file"|"positional"|"none"),
//      "config_path", "config_file_mode", "config_dir_mode", "config_file_uid" (when a file),
//      "dry_run", "experimental"}
//     then one {"event":"spawn","role":R,"pid":N} per process it forks (R as in the actions below).
//   FAKE_EXECUTOR_DELAY_MS=MS  sleep MS milliseconds before reading the config (a slow executor
//     start: the window in which a config on a shared path could be swapped).
//   FAKE_EXECUTOR_MODE=ACTIONS  comma-separated actions, run in order. When unset, the config's
//     process.commandLine is used if it starts with "@fake:" (e.g. "@fake:out:hi,exit:3"),
//     otherwise the action is `run`.
//
// Actions (TEXT may use \n; it cannot contain a comma):
//   run                 like lxc-exec: /bin/sh -c <process.commandLine> with the config's env (only)
//                       and cwd, in this process group, SIGKILLed if we die (bwrap --die-with-parent).
//                       Exit status: the command's (128+N for a signal). With process.timeout > 0,
//                       on expiry the group gets SIGTERM and we print 0.9.0's
//                       {"error":{"code":"backend_error","message":"script timed out after Nms"}} and exit 255.
//   out:TEXT / err:TEXT write TEXT to stdout / stderr
//   exit:N              exit with status N now
//   sleep:MS            sleep MS milliseconds
//   ignore-term         ignore SIGTERM from now on (only SIGKILL ends us)
//   stop                stop ourselves with SIGSTOP (until someone sends SIGCONT)
//   children:N          fork N children (role "child") that sleep 60 s with stdout/stderr on /dev/null
//   holder              fork a grandchild-to-be (role "holder") that keeps stdout/stderr open 60 s
//   escaped-holder      the same, after setsid() (role "escaped-holder"): outside our process group
//   flood:MIB[:out|err] write MIB MiB of 'x' to stdout and stderr (or only the one named)
//   request-error       "Request error\nConfiguration parse error: fake rejection\n", exit 1
//   backend-error[:MSG] MSG immediately followed by {"error":{"code":"backend_error","message":MSG}}, exit 255
//   unavailable         "error: the 'seatbelt' backend is not available on Linux" + a log line, exit 1
//   bwrap-fail          "bwrap: Can't find source path /nonexistent: No such file or directory", exit 1
// The process exits 0 after the last action.
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/prctl.h>
#endif

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "cordon/detail/base64.hpp"

extern char** environ;

namespace {

int record_fd = -1;

void write_all(int fd, std::string_view s) {
    while (!s.empty()) {
        ssize_t n = ::write(fd, s.data(), s.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        s.remove_prefix(static_cast<std::size_t>(n));
    }
}

void record(const boost::json::object& o) {
    if (record_fd >= 0) write_all(record_fd, boost::json::serialize(o) + "\n");
}

[[noreturn]] void fail(int code, std::string_view message) {
    write_all(2, message);
    std::exit(code);
}

void sleep_ms(long ms) {
    timespec t{ms / 1000, (ms % 1000) * 1000000L};
    while (::nanosleep(&t, &t) != 0 && errno == EINTR) {}
}

std::string status_field(const char* name) {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind(name, 0) == 0) {
            auto v = line.substr(std::strlen(name));
            v.erase(0, v.find_first_not_of(" \t"));
            return v;
        }
    return "";
}

boost::json::array open_fds() {
    boost::json::array fds;
    DIR* d = ::opendir("/proc/self/fd");
    if (!d) return fds;
    while (dirent* e = ::readdir(d)) {
        if (e->d_name[0] == '.') continue;
        int fd = std::atoi(e->d_name);
        if (fd == ::dirfd(d)) continue;
        char target[4096];
        ssize_t n = ::readlinkat(::dirfd(d), e->d_name, target, sizeof target - 1);
        target[n > 0 ? n : 0] = '\0';
        fds.push_back(boost::json::object{{"fd", fd}, {"target", target}});
    }
    ::closedir(d);
    return fds;
}

std::string unescape(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 1 < s.size() && s[i + 1] == 'n') { out += '\n'; ++i; }
        else out += s[i];
    }
    return out;
}

// Forks a process that sleeps 60 s; returns in the parent once the child is set up (so an
// escaped holder really is outside the group before we go on, e.g. to exit).
void spawn_sleeper(const char* role, bool keep_output, bool escape) {
    int ready[2];
    if (::pipe(ready) != 0) fail(70, "fake_executor: pipe failed\n");
    pid_t pid = ::fork();
    if (pid < 0) fail(70, "fake_executor: fork failed\n");
    if (pid == 0) {
        ::close(ready[0]);
        if (escape) ::setsid();
        if (!keep_output) {
            int null = ::open("/dev/null", O_WRONLY);
            ::dup2(null, 1);
            ::dup2(null, 2);
            ::close(null);
        }
        ::close(ready[1]);  // EOF in the parent: set up
        sleep_ms(60000);
        ::_exit(0);
    }
    ::close(ready[1]);
    char c;
    while (::read(ready[0], &c, 1) < 0 && errno == EINTR) {}
    ::close(ready[0]);
    record(boost::json::object{{"event", "spawn"}, {"role", role}, {"pid", pid}});
}

void flood(long mib, std::string_view which) {
    std::string chunk(1 << 16, 'x');
    for (long i = 0; i < mib * 16; ++i) {
        if (which != "err") write_all(1, chunk);
        if (which != "out") write_all(2, chunk);
    }
}

int run_command_line(const boost::json::object* config) {
    const boost::json::object* process = nullptr;
    if (config) process = config->if_contains("process") ? config->at("process").if_object() : nullptr;
    if (!process || !process->if_contains("commandLine") || !process->at("commandLine").is_string())
        fail(1, "Request error\nConfiguration parse error: missing field `process.commandLine`\n");
    std::string command(process->at("commandLine").as_string());
    std::string cwd;
    if (auto* c = process->if_contains("cwd"); c && c->is_string()) cwd = std::string(c->as_string());
    std::vector<std::string> env;
    if (auto* e = process->if_contains("env"); e && e->is_array())
        for (const auto& kv : e->as_array())
            if (kv.is_string() && std::string_view(kv.as_string()).find('=') != std::string_view::npos)
                env.emplace_back(kv.as_string());  // entries without '=' are dropped, as bwrap's --setenv
    long timeout = 0;
    if (auto* t = process->if_contains("timeout"); t && t->is_number()) timeout = static_cast<long>(t->to_number<double>());

    std::vector<char*> envp;
    for (auto& kv : env) envp.push_back(kv.data());
    envp.push_back(nullptr);
    const char* argv[] = {"sh", "-c", command.c_str(), nullptr};
    pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid < 0) fail(255, "fake_executor: fork failed\n");
    if (pid == 0) {
#if defined(__linux__)
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) ::_exit(127);
#endif
        if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) {
            write_all(2, "bwrap: Can't chdir to " + cwd + ": No such file or directory\n");
            ::_exit(1);
        }
        ::execve("/bin/sh", const_cast<char* const*>(argv), envp.data());
        ::_exit(127);
    }
    record(boost::json::object{{"event", "spawn"}, {"role", "command"}, {"pid", pid}});

    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout);
    int status = 0;
    for (;;) {
        pid_t r = ::waitpid(pid, &status, timeout > 0 ? WNOHANG : 0);
        if (r == pid) break;
        if (r < 0 && errno != EINTR) fail(255, "fake_executor: waitpid failed\n");
        if (timeout > 0 && std::chrono::steady_clock::now() >= deadline) {
            ::signal(SIGTERM, SIG_IGN);  // the group signal is for the command's tree, not for us
            ::kill(0, SIGTERM);
            ::signal(SIGTERM, SIG_DFL);
            ::waitpid(pid, &status, 0);
            fail(255, "{\"error\":{\"code\":\"backend_error\",\"message\":\"script timed out after " +
                          std::to_string(timeout) + "ms\"}}\n");
        }
        if (timeout > 0) sleep_ms(5);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int act(const std::string& actions, const boost::json::object* config) {
    std::stringstream list(actions);
    std::string item;
    while (std::getline(list, item, ',')) {
        auto colon = item.find(':');
        std::string name = item.substr(0, colon);
        std::string arg = colon == std::string::npos ? "" : item.substr(colon + 1);
        if (name == "run") return run_command_line(config);
        else if (name == "out") write_all(1, unescape(arg));
        else if (name == "err") write_all(2, unescape(arg));
        else if (name == "exit") return std::atoi(arg.c_str());
        else if (name == "sleep") sleep_ms(std::atol(arg.c_str()));
        else if (name == "ignore-term") ::signal(SIGTERM, SIG_IGN);
        else if (name == "stop") ::raise(SIGSTOP);
        else if (name == "children") for (int i = 0, n = std::atoi(arg.c_str()); i < n; ++i) spawn_sleeper("child", false, false);
        else if (name == "holder") spawn_sleeper("holder", true, false);
        else if (name == "escaped-holder") spawn_sleeper("escaped-holder", true, true);
        else if (name == "flood") {
            auto c2 = arg.find(':');
            flood(std::atol(arg.substr(0, c2).c_str()), c2 == std::string::npos ? "" : arg.substr(c2 + 1));
        } else if (name == "request-error") fail(1, "Request error\nConfiguration parse error: fake rejection\n");
        else if (name == "backend-error") {
            std::string msg = arg.empty() ? "Seatbelt: fake backend failure" : unescape(arg);
            fail(255, msg + boost::json::serialize(boost::json::object{
                                {"error", boost::json::object{{"code", "backend_error"}, {"message", msg}}}}) + "\n");
        } else if (name == "unavailable") fail(1, "error: the 'seatbelt' backend is not available on Linux\nScript code length: 4\n");
        else if (name == "bwrap-fail") fail(1, "bwrap: Can't find source path /nonexistent: No such file or directory\n");
        else fail(64, "fake_executor: unknown action '" + name + "'\n");
    }
    return 0;
}

std::optional<std::string> read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace

// Over 80 lines on purpose: one pass in lxc-exec's own order (argv, the config, its checks, the
// actions), so that a reader can hold it against the real executor's behaviour step by step.
int main(int argc, char** argv) {
    boost::json::object rec;
    rec["fds"] = open_fds();  // first, before this program opens anything itself

    std::optional<std::string> base64, config_flag, positional;
    bool dry_run = false, experimental = false;
    boost::json::array args;
    for (int i = 0; i < argc; ++i) args.emplace_back(argv[i]);
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        if (a == "--config-base64" && i + 1 < argc) base64 = argv[++i];
        else if (a == "--config" && i + 1 < argc) config_flag = argv[++i];
        else if (a.rfind("--config=", 0) == 0) config_flag = std::string(a.substr(9));
        else if (a == "--dry-run") dry_run = true;
        else if (a == "--experimental") experimental = true;
        else if (a == "--debug") {}
        else if (!a.empty() && a[0] == '-')
            fail(2, "error: unexpected argument '" + std::string(a) +
                        "' found\n\nUsage: lxc-exec [OPTIONS] [CONFIG_PATH]\n\nFor more information, try '--help'.\n");
        else if (!positional) positional = std::string(a);
        else fail(2, "error: unexpected argument '" + std::string(a) + "' found\n\nUsage: lxc-exec [OPTIONS] [CONFIG_PATH]\n");
    }

    if (const char* delay = std::getenv("FAKE_EXECUTOR_DELAY_MS")) sleep_ms(std::atol(delay));
    std::optional<std::string> config_text;
    std::string source = "none", error;
    if (base64) {
        source = "base64";
        config_text = cordon::detail::base64_decode(*base64);
        if (!config_text) error = "Request error\nFailed to decode base64 configuration\n";
    } else if (config_flag || positional) {
        const std::string& path = config_flag ? *config_flag : *positional;
        source = config_flag ? "file" : "positional";
        rec["config_path"] = path;
        struct stat file_st, dir_st;
        if (::stat(path.c_str(), &file_st) == 0) {
            rec["config_file_mode"] = file_st.st_mode & 07777;
            rec["config_file_uid"] = file_st.st_uid;
        }
        std::string dir = path.substr(0, path.find_last_of('/') + 1);
        if (!dir.empty() && ::stat(dir.c_str(), &dir_st) == 0) rec["config_dir_mode"] = dir_st.st_mode & 07777;
        config_text = read_file(path);
        if (!config_text) error = "Request error\nConfiguration file not found: " + path + "\n";
    }

    std::string record_path = std::getenv("FAKE_EXECUTOR_RECORD") ? std::getenv("FAKE_EXECUTOR_RECORD") : "";
    if (record_path.empty() && config_text) {  // a backend passes no environment: take it from containerId
        const std::string marker = "\"containerId\":\"fake-record:";
        if (auto at = config_text->find(marker); at != std::string::npos) {
            auto start = at + marker.size();
            record_path = config_text->substr(start, config_text->find('"', start) - start);
        }
    }
    if (!record_path.empty()) record_fd = ::open(record_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    rec["argv"] = args;
    boost::json::array env;
    for (char** e = environ; *e; ++e) env.emplace_back(*e);
    rec["env"] = env;
    char cwd[4096];
    rec["cwd"] = ::getcwd(cwd, sizeof cwd) ? cwd : "";
    rec["pid"] = ::getpid();
    rec["ppid"] = ::getppid();
    rec["pgid"] = ::getpgrp();
    rec["sid"] = ::getsid(0);
    rec["sig_ignored"] = status_field("SigIgn:");
    rec["sig_blocked"] = status_field("SigBlk:");
    rec["uid"] = status_field("Uid:");
    rec["gid"] = status_field("Gid:");
    rec["groups"] = status_field("Groups:");
    rec["cap_eff"] = status_field("CapEff:");
    rec["no_new_privs"] = status_field("NoNewPrivs:");
    rec["config_source"] = source;
    if (config_text) rec["config"] = *config_text;
    else rec["config"] = nullptr;
    rec["dry_run"] = dry_run;
    rec["experimental"] = experimental;
    record(rec);

    if (source == "none") fail(1, "Error: No config provided. Use a positional path, --config, or --config-base64\n");
    if (!error.empty()) fail(1, error);
    boost::json::value config;
    try {
        config = boost::json::parse(*config_text);
        if (!config.is_object()) throw std::invalid_argument("invalid type: expected a map");
    } catch (const std::exception& e) {
        fail(1, std::string("Request error\nConfiguration parse error: ") + e.what() + "\n");
    }

    const char* mode = std::getenv("FAKE_EXECUTOR_MODE");
    std::string actions = mode ? mode : "";
    if (!mode && !dry_run) {
        actions = "run";
        const auto& o = config.as_object();
        if (auto* p = o.if_contains("process"); p && p->is_object())
            if (auto* c = p->as_object().if_contains("commandLine"); c && c->is_string()) {
                std::string_view line = c->as_string();
                if (line.rfind("@fake:", 0) == 0) actions = std::string(line.substr(6));
            }
    }
    int code = act(actions, &config.as_object());
    if (dry_run) write_all(1, "Dry run completed. Result: validation passed\n");
    return code;
}
