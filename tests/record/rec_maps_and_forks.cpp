// A program for the recorder's tests: maps, protects, remaps, advises, unmaps, maps a file,
// forks a child that unmaps, and exits. Each step is one system call the test looks for.
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int, char** argv)
{
    const size_t page = 4096;
    auto* a = static_cast<char*>(mmap(nullptr, 16 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    if (a == MAP_FAILED)
        return 1;
    std::memset(a, 1, 2 * page); // pages 0 and 1 become anon: observed before the next call
    mprotect(a + 4 * page, 4 * page, PROT_READ);
    madvise(a, page, MADV_DONTNEED);
    mremap(a + 12 * page, 4 * page, 8 * page, MREMAP_MAYMOVE);
    munmap(a + 8 * page, 2 * page);
    munmap(a + 1, page); // misaligned: -EINVAL
    const int fd = open(argv[0], O_RDONLY);
    void* f = mmap(nullptr, page, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    const pid_t child = fork();
    if (child == 0) {
        a[page] = 2;
        munmap(a + 2 * page, page);
        _exit(0);
    }
    waitpid(child, nullptr, 0);
    munmap(f, page);
    return 0;
}
