#include "core/host/sys_util.h"

#include "core/host/procfs.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

namespace vmalab::host {

std::optional<std::string> readFileText(const std::string& path)
{
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return std::nullopt;
    std::string text;
    char buf[65536];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            const int err = errno;
            ::close(fd);
            errno = err;
            return std::nullopt;
        }
        if (n == 0)
            break;
        text.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    return text;
}

std::optional<std::string> readFirstLine(const std::string& path)
{
    auto text = readFileText(path);
    if (!text)
        return std::nullopt;
    std::string line = text->substr(0, text->find('\n'));
    const auto first = line.find_first_not_of(" \t");
    if (first == std::string::npos)
        return std::string();
    const auto last = line.find_last_not_of(" \t\r");
    return line.substr(first, last - first + 1);
}

std::string errnoText(int err)
{
    char buf[256];
    // GNU strerror_r may return a static string instead of filling buf.
    const char* s = strerror_r(err, buf, sizeof buf);
    return s;
}

std::string kernelRelease()
{
    struct utsname u;
    if (::uname(&u) != 0)
        return "unknown";
    return u.release;
}

std::string hexAddr(std::uint64_t v)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
    return buf;
}

int rawUserfaultfd(int flags)
{
    const long r = ::syscall(SYS_userfaultfd, flags);
    return r < 0 ? -errno : static_cast<int>(r);
}

std::string selfVmFlagsAt(std::uint64_t addr)
{
    auto text = readFileText("/proc/self/smaps");
    if (!text)
        return {};
    auto vmas = parseSmaps(*text, "/proc/self/smaps");
    if (!vmas)
        return {};
    for (const auto& v : *vmas) {
        if (v.start <= addr && addr < v.end) {
            std::string out;
            for (const auto& f : v.vmFlags)
                out += (out.empty() ? "" : " ") + f;
            return out;
        }
    }
    return {};
}

} // namespace vmalab::host
