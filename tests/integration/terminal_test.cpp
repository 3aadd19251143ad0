// SPDX-License-Identifier: MIT
// `cordon run` under a real pseudo-terminal (the operator's): the workload cannot write to it
// through /dev/tty nor push input into it (TIOCSTI), with a setpgid-only control that can; and
// --interactive gives the workload a terminal of its own. Oracle: what the operator's pty received.
// Also each claim docs/cli.md makes about stdin, streaming and interactive use, under a real pty.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <optional>
#include <thread>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "../support/process_gone.hpp"
#include "../support/run_command.hpp"
#include "../support/test_user.hpp"
#include "cordon/executor.hpp"

using cordon::test::required_env;

namespace {

using Clock = std::chrono::steady_clock;

// perl is in every Debian base system; 0x5412 is TIOCSTI. Each probe reports what it managed.
const std::string inject_via_tty =
    "perl -e 'if (open(my $t, \"+<\", \"/dev/tty\")) { my $n = 0; for (split //, \"echo INJECTED\\n\") "
    "{ $n++ if ioctl($t, 0x5412, $_) } print \"tty-open injected=$n\\n\" } else { print \"no-tty: $!\\n\" }'";
const std::string inject_via_stdio =
    "perl -e 'for my $fd (0, 1, 2) { my $c = \"X\"; open(my $h, \"+<&=\", $fd) or next; print ioctl($h, 0x5412, $c) "
    "? \"fd$fd-injected\\n\" : \"fd$fd-refused\\n\" }'";
const std::string write_tty = "(echo LEAK-TTY > /dev/tty) 2>/dev/null && echo wrote-tty || echo no-tty-write";

// The operator: a pty whose slave is the controlling terminal, stdin, stdout and stderr of `argv`.
struct OperatorRun {
    std::string shown;     ///< everything the operator's terminal displayed (read from the master)
    std::string queued;    ///< input left in the operator's terminal after the run (what a shell would read)
    int exit_code = -1;
    termios before{}, after{};
};

OperatorRun on_operator_terminal(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                                 const std::string& typed = "") {
    int master = -1, slave = -1;
    REQUIRE(::openpty(&master, &slave, nullptr, nullptr, nullptr) == 0);
    OperatorRun run;
    REQUIRE(::tcgetattr(slave, &run.before) == 0);
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::setsid();
        ::ioctl(slave, TIOCSCTTY, 0);
        ::dup2(slave, 0);
        ::dup2(slave, 1);
        ::dup2(slave, 2);
        ::close(master);
        if (slave > 2) ::close(slave);
        for (const auto& kv : env) ::putenv(const_cast<char*>(kv.c_str()));
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execvp(args[0], args.data());
        ::_exit(127);
    }
    if (!typed.empty()) REQUIRE(::write(master, typed.data(), typed.size()) == static_cast<ssize_t>(typed.size()));
    int status = 0;
    bool exited = false;
    auto until = Clock::now() + std::chrono::seconds(120);
    char buf[4096];
    while (Clock::now() < until) {
        pollfd p{master, POLLIN, 0};
        if (::poll(&p, 1, 50) > 0) {
            ssize_t n = ::read(master, buf, sizeof buf);
            if (n > 0) run.shown.append(buf, static_cast<std::size_t>(n));
        } else if (exited) {
            break;  // nothing more to show
        }
        if (!exited && ::waitpid(pid, &status, WNOHANG) == pid) exited = true;
    }
    if (!exited) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
    }
    run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    REQUIRE(::tcgetattr(slave, &run.after) == 0);
    // What the operator's shell would read next: the terminal's pending input (complete lines).
    ::fcntl(slave, F_SETFL, O_NONBLOCK);
    for (;;) {
        pollfd p{slave, POLLIN, 0};
        if (::poll(&p, 1, 200) <= 0) break;
        ssize_t n = ::read(slave, buf, sizeof buf);
        if (n <= 0) break;
        run.queued.append(buf, static_cast<std::size_t>(n));
    }
    ::close(master);
    ::close(slave);
    return run;
}

std::vector<std::string> cordon_run(std::vector<std::string> options, const std::string& command) {
    std::vector<std::string> argv{required_env("CORDON_EXE"), "run"};
    argv.insert(argv.end(), options.begin(), options.end());
    argv.insert(argv.end(), {"--", "sh", "-c", command});
    return argv;
}

// The environment ceiling; as root it names the test user as the sandbox's user.
const std::vector<std::string> ceiling_env = [] {
    std::vector<std::string> vars{"CORDON_TIMEOUT_MS=60000"};
    if (::geteuid() == 0) vars.push_back("CORDON_RUN_AS=" + cordon::test::test_user().value().name);
    return vars;
}();

bool contains(const std::string& s, const std::string& what) { return s.find(what) != std::string::npos; }

bool same_modes(const termios& a, const termios& b) {
    return a.c_iflag == b.c_iflag && a.c_oflag == b.c_oflag && a.c_lflag == b.c_lflag && a.c_cflag == b.c_cflag;
}

}  // namespace

TEST_CASE("the workload has no controlling terminal: /dev/tty and TIOCSTI do not reach the operator's") {
    auto r = on_operator_terminal(cordon_run({}, write_tty + "; " + inject_via_tty + "; " + inject_via_stdio +
                                                     "; test -t 0 || echo stdin-not-a-tty"),
                                  ceiling_env);
    INFO("shown: " << r.shown << "\nqueued: " << r.queued);
    CHECK(r.exit_code == 0);
    CHECK(contains(r.shown, "no-tty-write"));
    CHECK(contains(r.shown, "no-tty: No such device or address"));
    CHECK(contains(r.shown, "stdin-not-a-tty"));  // a terminal stdin is not handed over (--stdin auto)
    CHECK_FALSE(contains(r.shown, "LEAK-TTY"));
    CHECK(contains(r.shown, "fd0-refused"));  // its stdio is /dev/null and pipes, not a terminal
    CHECK(contains(r.shown, "fd1-refused"));
    CHECK(contains(r.shown, "fd2-refused"));
    CHECK_FALSE(contains(r.shown, "-injected"));
    CHECK_FALSE(contains(r.shown, "INJECTED"));
    CHECK(r.queued.empty());  // nothing for the operator's shell to read after cordon exits
    CHECK(same_modes(r.before, r.after));
}

TEST_CASE("control: the same probes from a plain fork that only leaves the process group reach the operator") {
    // What the runner did before: fork, setpgid(0, 0), exec; same session, same controlling terminal.
    const std::string probe = write_tty + "; " + inject_via_tty;
    auto r = on_operator_terminal({"perl", "-e", "setpgrp(0, 0); exec('/bin/sh', '-c', $ARGV[0])", probe}, {});
    INFO("shown: " << r.shown << "\nqueued: " << r.queued);
    CHECK(contains(r.shown, "LEAK-TTY"));
    CHECK(contains(r.shown, "tty-open injected=14"));
    CHECK(contains(r.queued, "echo INJECTED"));  // the operator's shell would run it
}

TEST_CASE("--interactive: a terminal of the run's own; TIOCSTI stays in it, the operator's input is untouched") {
    const std::string probe = "test -t 0 && test -t 1 && test -t 2 && echo ALL-TTY; read line; echo got:$line; " +
                              inject_via_tty + "; " + write_tty;
    auto r = on_operator_terminal(cordon_run({"--interactive"}, probe), ceiling_env, "hello\n");
    INFO("shown: " << r.shown << "\nqueued: " << r.queued);
    CHECK(r.exit_code == 0);
    CHECK(contains(r.shown, "ALL-TTY"));
    CHECK(contains(r.shown, "got:hello"));                // typed input reached the workload
    CHECK(contains(r.shown, "tty-open injected=14"));     // it may push input into its own terminal ...
    CHECK(contains(r.shown, "wrote-tty"));                // ... and write to it (the operator sees that)
    CHECK_FALSE(contains(r.queued, "INJECTED"));          // ... but nothing reaches the operator's input
    CHECK(r.queued.empty());
    CHECK(same_modes(r.before, r.after));                 // raw mode is undone
}

TEST_CASE("--interactive refuses --json: the terminal gets the output") {
    auto r = cordon::test::run_command(cordon_run({"--interactive", "--json"}, "true"), "", ceiling_env);
    CHECK(r.exit_code == 125);
    CHECK(contains(r.out, R"({"error":{"code":"usage","message":"--interactive cannot be combined with --json)"));
}

namespace {

// The operator's terminal while the run goes on: what it showed and when, what is typed into it,
// its window size, and closing it (a hang-up).
class LiveTerminal {
public:
    LiveTerminal(const std::vector<std::string>& argv, const std::vector<std::string>& env, winsize size = {24, 80, 0, 0}) {
        REQUIRE(::openpty(&master_, &slave_, nullptr, nullptr, &size) == 0);
        pid_ = ::fork();
        REQUIRE(pid_ >= 0);
        if (pid_ == 0) {
            ::setsid();
            ::ioctl(slave_, TIOCSCTTY, 0);
            for (int fd : {0, 1, 2}) ::dup2(slave_, fd);
            ::close(master_);
            if (slave_ > 2) ::close(slave_);
            for (const auto& kv : env) ::putenv(const_cast<char*>(kv.c_str()));
            std::vector<char*> args;
            for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
            args.push_back(nullptr);
            ::execvp(args[0], args.data());
            ::_exit(127);
        }
        ::close(slave_);  // only the run holds the slave: closing the master is then a hang-up
        slave_ = -1;
        start_ = Clock::now();
    }
    ~LiveTerminal() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
        if (master_ >= 0) ::close(master_);
    }
    void type(const std::string& keys) {
        REQUIRE(::write(master_, keys.data(), keys.size()) == static_cast<ssize_t>(keys.size()));
    }
    /// Reads what the terminal shows until `what` appeared; when (since the start), or nullopt.
    std::optional<long long> shown_at(const std::string& what, int seconds = 60) {
        auto until = Clock::now() + std::chrono::seconds(seconds);
        while (shown.find(what) == std::string::npos) {
            if (Clock::now() > until) return std::nullopt;
            read_some(50);
        }
        return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start_).count();
    }
    /// Reads until the run exits (at most `seconds`); its exit status, or -1 when it did not end.
    int finish(int seconds = 60) {
        auto until = Clock::now() + std::chrono::seconds(seconds);
        int status = 0;
        while (Clock::now() < until) {
            read_some(20);
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                while (read_some(50)) {}
                return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            }
        }
        return -1;
    }
    /// Closes the terminal (the operator closes the window).
    void hang_up() {
        ::close(master_);
        master_ = -1;
    }
    int wait_exit(int seconds = 30) {
        auto until = Clock::now() + std::chrono::seconds(seconds);
        int status = 0;
        while (Clock::now() < until) {
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return -1;
    }

    std::string shown;

private:
    bool read_some(int ms) {
        if (master_ < 0) return false;
        pollfd p{master_, POLLIN, 0};
        if (::poll(&p, 1, ms) <= 0) return false;
        char buf[4096];
        ssize_t n = ::read(master_, buf, sizeof buf);
        if (n <= 0) return false;
        shown.append(buf, static_cast<std::size_t>(n));
        return true;
    }

    int master_ = -1, slave_ = -1;
    pid_t pid_ = -1;
    Clock::time_point start_;
};

using cordon::test::sleeps_with;

std::vector<int> wait_for_sleeps(const std::string& marker) {
    std::vector<int> pids;
    for (auto until = Clock::now() + std::chrono::seconds(30); pids.empty() && Clock::now() < until;) {
        pids = sleeps_with(marker);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return pids;
}

}  // namespace

// docs/cli.md, "stdin": --stdin pass sends terminal lines; the terminal's EOF (^D) ends them.
TEST_CASE("--stdin pass on a terminal: typed lines reach the command, ^D is its end of input") {
    LiveTerminal t(cordon_run({"--stdin", "pass"}, "cat; echo cat-ended"), ceiling_env);
    t.type("typed line\n");
    REQUIRE(t.shown_at("typed line\r\ntyped line"));  // the terminal's echo, then cat's copy
    t.type("\x04");
    CHECK(t.shown_at("cat-ended"));
    CHECK(t.finish() == 0);
}

// docs/cli.md, "Output": output streams to the operator's terminal as it comes.
TEST_CASE("on a terminal, output streams: a line printed at once shows long before the command ends") {
    LiveTerminal t(cordon_run({}, "echo early; sleep 3; echo late"), ceiling_env);
    auto early = t.shown_at("early");
    auto late = t.shown_at("late");
    REQUIRE(early);
    REQUIRE(late);
    CHECK(*late - *early >= 2500);  // generous bounds: behaviour, not a benchmark
    CHECK(t.finish() == 0);
}

TEST_CASE("`cordon run -- yes | head -1` in a terminal's shell ends: the reader going away closes the command's pipe") {
    std::string pipeline;
    for (const auto& a : cordon_run({}, "yes")) pipeline += "'" + a + "' ";
    LiveTerminal t({"sh", "-c", pipeline + "| head -1; echo pipeline-done"}, ceiling_env);
    CHECK(t.shown_at("y\r\npipeline-done", 60));
    CHECK(t.finish() == 0);
}

// docs/cli.md, "Interactive use": the window size, the cap, ^C and the end of input.
TEST_CASE("--interactive: the run's terminal starts with the operator's window size") {
    LiveTerminal t(cordon_run({"--interactive"}, "stty size"), ceiling_env, winsize{33, 101, 0, 0});
    CHECK(t.finish() == 0);
    CHECK(contains(t.shown, "33 101"));
}

TEST_CASE("--interactive gives up the output cap; without it the cap holds and is reported") {
    const std::string fifty(50, '0');
    LiveTerminal open(cordon_run({"--interactive", "--output-limit", "10"}, "printf '%050d\\n' 0"), ceiling_env);
    CHECK(open.finish() == 0);
    CHECK(contains(open.shown, fifty));
    LiveTerminal capped(cordon_run({"--output-limit", "10"}, "printf '%050d\\n' 0"), ceiling_env);
    CHECK(capped.finish() == 0);
    CHECK_FALSE(contains(capped.shown, std::string(11, '0')));
    CHECK(contains(capped.shown, "cordon run: output truncated: 41 stdout"));
}

TEST_CASE("--interactive: ^C interrupts the command inside, not cordon") {
    LiveTerminal t(cordon_run({"--interactive"}, "echo ready; sleep 30; echo not-interrupted"), ceiling_env);
    REQUIRE(t.shown_at("ready"));
    t.type("\x03");
    const int status = t.finish(20);
    INFO("shown: " << t.shown);
    CHECK(status != -1);                                // it ended within the bound
    CHECK(status != 0);
    CHECK_FALSE(contains(t.shown, "not-interrupted"));
    CHECK_FALSE(contains(t.shown, "stopped by signal"));  // cordon was not the one interrupted
}

TEST_CASE("--interactive: a typed ^D is the end of input for a line-reading command inside") {
    LiveTerminal t(cordon_run({"--interactive"}, "cat; echo cat-ended"), ceiling_env);
    t.type("abc\n");
    REQUIRE(t.shown_at("abc\r\nabc"));
    t.type("\x04");
    CHECK(t.shown_at("cat-ended"));
    CHECK(t.finish() == 0);
}

// docs/cli.md, "Signals": closing the terminal (SIGHUP) ends the run; the whole tree dies.
TEST_CASE("closing the operator's terminal ends cordon with 129 and kills the command's tree") {
    for (bool interactive : {false, true}) {
        CAPTURE(interactive);
        const std::string marker = "61." + std::to_string(::getpid()) + (interactive ? "1" : "2");
        std::vector<std::string> options;
        if (interactive) options.push_back("--interactive");
        LiveTerminal t(cordon_run(options, "sleep " + marker), ceiling_env);
        auto sleepers = wait_for_sleeps(marker);
        REQUIRE(sleepers.size() == 1);
        t.hang_up();
        CHECK(t.wait_exit() == 128 + SIGHUP);
        CHECK(cordon::test::becomes_gone(sleepers.front()));
    }
}

int main(int argc, char** argv) {
    auto probe = cordon::resolve_executor();
    if (!probe) {
        std::cout << "SKIP: no MXC executor: " << probe.error().message << "\n";
        return std::getenv("CORDON_REQUIRE_EXECUTOR") ? 1 : 77;
    }
    doctest::Context context(argc, argv);
    return context.run();
}
