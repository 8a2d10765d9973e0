#pragma once

#include <csignal>
#include <functional>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

// Helper processes for the capture tests: a forked child builds its mappings, reports, and
// waits until the test kills it.
namespace vmalab::host::testing {

// What the helper's builder reports back: ready, a feature the kernel lacks, or a failure.
enum class Outcome
{
    Ready,
    Unsupported,
    Failed,
};

// A child that runs `build` (its mappings), reports, then waits until the test kills it.
class Helper
{
public:
    explicit Helper(const std::function<Outcome()>& build)
    {
        int fds[2];
        if (::pipe(fds) != 0)
            return;
        m_pid = ::fork();
        if (m_pid == 0) {
            ::close(fds[0]);
            const Outcome o = build();
            const char c = o == Outcome::Ready ? 'k' : o == Outcome::Unsupported ? 's' : 'x';
            (void)::write(fds[1], &c, 1);
            for (;;)
                ::pause();
        }
        ::close(fds[1]);
        char c = 0;
        if (::read(fds[0], &c, 1) == 1)
            m_outcome = c == 'k' ? Outcome::Ready : c == 's' ? Outcome::Unsupported : Outcome::Failed;
        ::close(fds[0]);
    }
    ~Helper()
    {
        if (m_pid > 0) {
            ::kill(m_pid, SIGKILL);
            ::waitpid(m_pid, nullptr, 0);
        }
    }
    pid_t pid() const { return m_pid; }
    Outcome outcome() const { return m_outcome; }

private:
    pid_t m_pid = -1;
    Outcome m_outcome = Outcome::Failed;
};

} // namespace vmalab::host::testing
