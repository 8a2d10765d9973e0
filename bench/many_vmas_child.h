#pragma once

#include <csignal>
#include <cstddef>
#include <sys/mman.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

namespace vmalab::bench {

// A child process holding `vmas` one-page VMAs (mprotect of every other page of one
// mapping: alternately rw-p and r--p), every fourth page written; it waits to be killed.
// Returns its pid once they exist, or -1 (vm.max_map_count too low?) with the child reaped.
inline pid_t startManyVmasChild(std::size_t vmas)
{
    constexpr std::size_t page = 4096;
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    const pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        char* p = static_cast<char*>(
            mmap(nullptr, vmas * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0));
        bool ok = p != MAP_FAILED;
        for (std::size_t i = 1; ok && i < vmas; i += 2)
            ok = mprotect(p + i * page, page, PROT_READ) == 0;
        for (std::size_t i = 0; ok && i < vmas; i += 4)
            p[i * page] = 1;
        const char c = ok ? 'k' : 'x';
        if (write(fds[1], &c, 1) != 1)
            _exit(1);
        for (;;)
            pause();
    }
    close(fds[1]);
    char c = 0;
    const bool ready = pid > 0 && read(fds[0], &c, 1) == 1 && c == 'k';
    close(fds[0]);
    if (!ready && pid > 0) {
        kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
    }
    return ready ? pid : -1;
}

} // namespace vmalab::bench
