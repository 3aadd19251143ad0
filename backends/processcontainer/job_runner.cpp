// SPDX-License-Identifier: MIT
// cordon processcontainer backend: Job Object runner (CreateProcessW suspended -> job -> resume, pipes, bounded drain).
#include "job_runner.hpp"

#include <windows.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <vector>

#include "cordon/backend_sdk/win32_handle.hpp"
#include "win32_util.hpp"

namespace cordon::processcontainer::win {
namespace {

using backend_sdk::win32::unique_file;
using backend_sdk::win32::unique_handle;
using backend_sdk::win32::unique_process;

// State shared by a reader thread and run_in_job. Shared ownership, because a reader that cannot be
// cancelled is abandoned, and it must still find its buffer and pipe alive when it wakes up.
struct Reader {
    unique_handle pipe;
    std::size_t limit = 0;
    std::atomic<bool> stop{false};
    std::mutex mutex;
    std::string data;
    std::size_t dropped = 0;
};

DWORD WINAPI reader_main(void* param) {
    std::unique_ptr<std::shared_ptr<Reader>> owner(static_cast<std::shared_ptr<Reader>*>(param));
    Reader& r = **owner;
    std::vector<char> buffer(64 * 1024);
    while (!r.stop.load()) {
        DWORD n = 0;
        // Fails with ERROR_BROKEN_PIPE once every write end is closed (EOF), or ERROR_OPERATION_ABORTED
        // when run_in_job cancels it.
        if (!::ReadFile(r.pipe.get(), buffer.data(), static_cast<DWORD>(buffer.size()), &n, nullptr)) break;
        std::lock_guard<std::mutex> lock(r.mutex);
        std::size_t keep = r.data.size() < r.limit ? (std::min)(static_cast<std::size_t>(n), r.limit - r.data.size()) : 0;
        r.data.append(buffer.data(), keep);
        r.dropped += n - keep;
    }
    return 0;
}

struct ReaderThread {
    std::shared_ptr<Reader> state;
    unique_handle thread;
};

Result<ReaderThread> start_reader(unique_handle pipe, std::size_t limit) {
    ReaderThread t{std::make_shared<Reader>(), {}};
    t.state->pipe = std::move(pipe);
    t.state->limit = limit;
    auto* param = new std::shared_ptr<Reader>(t.state);
    t.thread.reset(::CreateThread(nullptr, 0, reader_main, param, 0, nullptr));
    if (!t.thread) {
        DWORD code = ::GetLastError();
        delete param;
        return win32_error(ErrorCode::execution_failed, "cannot start a pipe reader thread", code);
    }
    return t;
}

// Waits for every reader until `deadline_ms` from now; cancels those still blocked. True if one was forced.
bool drain(std::vector<ReaderThread>& readers, DWORD bound_ms) {
    std::vector<HANDLE> threads;
    for (auto& r : readers) threads.push_back(r.thread.get());
    if (::WaitForMultipleObjects(static_cast<DWORD>(threads.size()), threads.data(), TRUE, bound_ms) != WAIT_TIMEOUT)
        return false;
    for (auto& r : readers) {
        r.state->stop.store(true);
        // Repeat: a cancel issued just before the thread re-enters ReadFile finds nothing to cancel.
        for (int attempt = 0; attempt < 50; ++attempt) {
            if (::WaitForSingleObject(r.thread.get(), 0) == WAIT_OBJECT_0) break;
            ::CancelSynchronousIo(r.thread.get());
            if (::WaitForSingleObject(r.thread.get(), 10) == WAIT_OBJECT_0) break;
        }
        // A thread that still does not end keeps its own reference to the state and is abandoned.
    }
    return true;
}

class AttributeList {
public:
    Status init(HANDLE* handles, std::size_t count) {
        SIZE_T size = 0;
        ::InitializeProcThreadAttributeList(nullptr, 1, 0, &size);
        storage_.resize(size);
        auto* list = reinterpret_cast<LPPROC_THREAD_ATTRIBUTE_LIST>(storage_.data());
        if (!::InitializeProcThreadAttributeList(list, 1, 0, &size))
            return win32_error(ErrorCode::execution_failed, "InitializeProcThreadAttributeList", ::GetLastError());
        initialised_ = true;
        if (!::UpdateProcThreadAttribute(list, 0, PROC_THREAD_ATTRIBUTE_HANDLE_LIST, handles, count * sizeof(HANDLE),
                                         nullptr, nullptr))
            return win32_error(ErrorCode::execution_failed, "UpdateProcThreadAttribute(HANDLE_LIST)", ::GetLastError());
        return {};
    }
    LPPROC_THREAD_ATTRIBUTE_LIST get() { return reinterpret_cast<LPPROC_THREAD_ATTRIBUTE_LIST>(storage_.data()); }
    AttributeList() = default;
    AttributeList(const AttributeList&) = delete;
    AttributeList& operator=(const AttributeList&) = delete;
    ~AttributeList() {
        if (initialised_) ::DeleteProcThreadAttributeList(get());
    }

private:
    std::vector<unsigned char> storage_;
    bool initialised_ = false;
};

Status make_pipe(unique_handle& read_end, unique_handle& write_end) {
    SECURITY_ATTRIBUTES inherit{sizeof(SECURITY_ATTRIBUTES), nullptr, TRUE};
    if (!::CreatePipe(read_end.put(), write_end.put(), &inherit, 0))
        return win32_error(ErrorCode::execution_failed, "CreatePipe", ::GetLastError());
    // Only the child's write end is inheritable; our read end must never leak into it.
    if (!::SetHandleInformation(read_end.get(), HANDLE_FLAG_INHERIT, 0))
        return win32_error(ErrorCode::execution_failed, "SetHandleInformation", ::GetLastError());
    return {};
}

// The child's standard handles: NUL for stdin, a pipe each for stdout and stderr (our read ends
// not inheritable).
struct ChildStdio {
    unique_file in;
    unique_handle out_read, out_write, err_read, err_write;
};

Result<ChildStdio> make_stdio() {
    ChildStdio io;
    SECURITY_ATTRIBUTES inherit{sizeof(SECURITY_ATTRIBUTES), nullptr, TRUE};
    io.in.reset(::CreateFileW(L"NUL", GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, &inherit, OPEN_EXISTING,
                              FILE_ATTRIBUTE_NORMAL, nullptr));
    if (!io.in) return win32_error(ErrorCode::execution_failed, "cannot open NUL for stdin", ::GetLastError());
    if (auto s = make_pipe(io.out_read, io.out_write); !s) return s.error();
    if (auto s = make_pipe(io.err_read, io.err_write); !s) return s.error();
    return io;
}

// A job whose processes all die when its last handle closes (ours, even if cordon crashes).
Result<unique_handle> make_job() {
    unique_handle job(::CreateJobObjectW(nullptr, nullptr));
    if (!job) return win32_error(ErrorCode::execution_failed, "CreateJobObjectW", ::GetLastError());
    JOBOBJECT_EXTENDED_LIMIT_INFORMATION limits{};
    limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE | JOB_OBJECT_LIMIT_DIE_ON_UNHANDLED_EXCEPTION;
    if (!::SetInformationJobObject(job.get(), JobObjectExtendedLimitInformation, &limits, sizeof limits))
        return win32_error(ErrorCode::execution_failed, "SetInformationJobObject", ::GetLastError());
    return job;
}

struct Child {
    unique_process process;
    unique_handle main_thread;
    std::string spawn_error;  ///< CreateProcessW failed: nothing ran
};

// The executor, created suspended with exactly the three stdio handles inheritable, then put in the
// job before it runs a single instruction.
Result<Child> start_suspended_in_job(const LaunchSpec& spec, ChildStdio& io, const unique_handle& job) {
    HANDLE inherited[3] = {io.in.get(), io.out_write.get(), io.err_write.get()};
    AttributeList attributes;
    if (auto s = attributes.init(inherited, 3); !s) return s.error();
    STARTUPINFOEXW startup{};
    startup.StartupInfo.cb = sizeof startup;
    startup.StartupInfo.dwFlags = STARTF_USESTDHANDLES;
    startup.StartupInfo.hStdInput = io.in.get();
    startup.StartupInfo.hStdOutput = io.out_write.get();
    startup.StartupInfo.hStdError = io.err_write.get();
    startup.lpAttributeList = attributes.get();

    std::wstring command_line = spec.command_line;  // CreateProcessW may write into it
    PROCESS_INFORMATION info{};
    const DWORD flags = CREATE_SUSPENDED | CREATE_NO_WINDOW | EXTENDED_STARTUPINFO_PRESENT | CREATE_UNICODE_ENVIRONMENT;
    Child child;
    if (!::CreateProcessW(spec.application.c_str(), command_line.data(), nullptr, nullptr, TRUE, flags,
                          spec.environment ? const_cast<wchar_t*>(spec.environment->c_str()) : nullptr,
                          spec.cwd ? spec.cwd->c_str() : nullptr, &startup.StartupInfo, &info)) {
        child.spawn_error = "cannot start " + narrow(spec.application) + ": " + error_text(::GetLastError());
        return child;
    }
    child.process.reset(info.hProcess);
    child.main_thread.reset(info.hThread);
    if (!::AssignProcessToJobObject(job.get(), child.process.get())) {
        DWORD code = ::GetLastError();
        ::TerminateProcess(child.process.get(), 1);  // still suspended: it never ran a single instruction
        return win32_error(ErrorCode::execution_failed, "AssignProcessToJobObject", code);
    }
    return child;
}

// Reads both pipes, lets the child run, waits for it (or the timeout), kills what is left in the
// job, and collects the bounded output.
Result<LaunchOutcome> supervise(const LaunchSpec& spec, const unique_handle& job, Child& child, ChildStdio& io) {
    LaunchOutcome outcome;
    std::vector<ReaderThread> readers;
    for (auto* pipe : {&io.out_read, &io.err_read}) {
        auto reader = start_reader(std::move(*pipe), spec.output_limit);
        if (!reader) {
            ::TerminateJobObject(job.get(), 1);
            if (!readers.empty()) drain(readers, spec.grace_ms);
            return reader.error();
        }
        readers.push_back(std::move(*reader));
    }
    if (::ResumeThread(child.main_thread.get()) == static_cast<DWORD>(-1)) {
        DWORD code = ::GetLastError();
        ::TerminateJobObject(job.get(), 1);
        drain(readers, spec.grace_ms);
        return win32_error(ErrorCode::execution_failed, "ResumeThread", code);
    }
    child.main_thread.reset();

    DWORD waited = ::WaitForSingleObject(child.process.get(), spec.timeout_ms ? spec.timeout_ms : INFINITE);
    outcome.timed_out = waited == WAIT_TIMEOUT;
    // The executor is done (or out of time): whatever is left in the job is an orphan holding our pipes.
    ::TerminateJobObject(job.get(), outcome.timed_out ? timeout_exit_code : 1);
    ::WaitForSingleObject(child.process.get(), spec.grace_ms);
    DWORD exit_code = 0;
    ::GetExitCodeProcess(child.process.get(), &exit_code);
    outcome.exit_code = exit_code;

    outcome.drain_forced = drain(readers, spec.grace_ms);
    for (std::size_t i = 0; i < readers.size(); ++i) {
        Reader& r = *readers[i].state;
        std::lock_guard<std::mutex> lock(r.mutex);
        (i == 0 ? outcome.out : outcome.err) = r.data;
        (i == 0 ? outcome.out_dropped : outcome.err_dropped) = r.dropped;
    }
    return outcome;
}

}  // namespace

Result<LaunchOutcome> run_in_job(const LaunchSpec& spec) {
    const auto started = std::chrono::steady_clock::now();
    auto io = make_stdio();
    if (!io) return io.error();
    auto job = make_job();
    if (!job) return job.error();
    auto child = start_suspended_in_job(spec, *io, *job);
    if (!child) return child.error();
    if (!child->spawn_error.empty()) {
        LaunchOutcome outcome;
        outcome.spawn_error = std::move(child->spawn_error);
        return outcome;
    }
    // Our copies of the child's ends: closed now, so EOF comes when the job's last writer exits.
    io->out_write.reset();
    io->err_write.reset();
    io->in.reset();
    auto outcome = supervise(spec, *job, *child, *io);
    if (outcome)
        outcome->duration_ms = static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count());
    return outcome;
}

}  // namespace cordon::processcontainer::win
