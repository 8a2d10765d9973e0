// A program for the recorder's tests: two threads that each map, touch and unmap memory.
#include <cstring>
#include <pthread.h>
#include <sys/mman.h>

namespace {

void* work(void*)
{
    const size_t len = 4 * 4096;
    auto* p = static_cast<char*>(mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    if (p != MAP_FAILED) {
        std::memset(p, 1, len);
        mprotect(p, 4096, PROT_READ);
        munmap(p, len);
    }
    return nullptr;
}

} // namespace

int main()
{
    pthread_t t[2];
    for (pthread_t& th : t)
        pthread_create(&th, nullptr, work, nullptr);
    for (pthread_t& th : t)
        pthread_join(th, nullptr);
    return 0;
}
