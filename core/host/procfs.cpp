#include "core/host/procfs.h"

#include "core/host/sys_util.h"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

namespace vmalab::host {

namespace {

// The kernel pads a maps line so that the name starts at this 0-based column
// (show_map_vma(): seq_setwidth() to 72, then seq_pad() adds one separator).
constexpr std::size_t kNameColumn = 73;
// Stop collecting diagnostics after this many: a file that is not smaps at all would
// otherwise produce one per line.
constexpr std::size_t kMaxDiagnostics = 20;

bool isHex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool isDigit(char c)
{
    return c >= '0' && c <= '9';
}
bool isBlank(char c)
{
    return c == ' ' || c == '\t';
}

// A cursor over one line that records where parsing stopped, for diagnostics.
class LineCursor
{
public:
    explicit LineCursor(std::string_view line)
        : m_line(line)
    {
    }
    std::size_t pos() const { return m_pos; }
    bool atEnd() const { return m_pos >= m_line.size(); }
    std::string_view rest() const { return m_line.substr(std::min(m_pos, m_line.size())); }

    bool number(int base, std::uint64_t* out)
    {
        const std::size_t begin = m_pos;
        std::uint64_t v = 0;
        while (m_pos < m_line.size() && (base == 16 ? isHex(m_line[m_pos]) : isDigit(m_line[m_pos]))) {
            const char c = m_line[m_pos];
            const unsigned d = isDigit(c) ? unsigned(c - '0') : unsigned((c | 0x20) - 'a' + 10);
            const std::uint64_t limit = (~std::uint64_t { 0 } - d) / unsigned(base);
            if (v > limit)
                return false; // does not fit in 64 bits
            v = v * unsigned(base) + d;
            ++m_pos;
        }
        *out = v;
        return m_pos > begin;
    }
    bool literal(char c)
    {
        if (m_pos < m_line.size() && m_line[m_pos] == c) {
            ++m_pos;
            return true;
        }
        return false;
    }
    bool blanks()
    {
        const std::size_t begin = m_pos;
        while (m_pos < m_line.size() && isBlank(m_line[m_pos]))
            ++m_pos;
        return m_pos > begin;
    }
    std::string_view take(std::size_t n)
    {
        const std::string_view s = m_line.substr(m_pos, n);
        m_pos += s.size();
        return s;
    }

private:
    std::string_view m_line;
    std::size_t m_pos = 0;
};

struct SmapsParser
{
    const std::string& file;
    std::vector<ObservedVma> vmas;
    Diagnostics errors;
    bool haveVma = false; // a header was read and its block is open
    bool blockHasFlags = false; // the open block saw its VmFlags line (always the last one)
    int headerLine = 0;

    void error(int line, std::size_t col, std::string message)
    {
        if (errors.size() < kMaxDiagnostics)
            errors.push_back({ file, line, int(col) + 1, std::move(message) });
    }

    void closeBlock(int line)
    {
        if (haveVma && !blockHasFlags)
            error(line, 0,
                "truncated smaps: the VMA that starts on line " + std::to_string(headerLine) + " has no VmFlags line");
        haveVma = false;
    }

    void header(std::string_view text, int line);
    void field(std::string_view text, int line);
};

// "start-end perms offset major:minor inode   name" (kernel-model.md §15.1).
void SmapsParser::header(std::string_view text, int line)
{
    closeBlock(line);
    LineCursor c(text);
    ObservedVma v;
    std::uint64_t major = 0, minor = 0;
    auto fail = [&](const char* what) { error(line, c.pos(), std::string("malformed smaps header: ") + what); };
    if (!c.number(16, &v.start) || !c.literal('-'))
        return fail("expected START-END in hex");
    if (!c.number(16, &v.end))
        return fail("expected the end address in hex");
    if (!c.literal(' '))
        return fail("expected a space after the address range");
    const std::string_view perms = c.take(4);
    if (perms.size() != 4 || perms.find(' ') != std::string_view::npos)
        return fail("expected four permission characters such as rw-p");
    v.perms = std::string(perms);
    if (!c.literal(' ') || !c.number(16, &v.offset))
        return fail("expected the offset in hex");
    if (!c.literal(' ') || !c.number(16, &major) || !c.literal(':') || !c.number(16, &minor))
        return fail("expected the device as MAJOR:MINOR in hex");
    if (!c.literal(' ') || !c.number(10, &v.inode))
        return fail("expected the inode number");
    if (!c.atEnd() && !isBlank(text[c.pos()]))
        return fail("expected a blank after the inode number");
    if (v.end < v.start || !pageAligned(v.start) || !pageAligned(v.end))
        return error(line, 0, "malformed smaps header: the range is not page aligned or ends before it starts");
    if (!vmas.empty() && v.start < vmas.back().end)
        return error(line, 0, "smaps VMAs overlap or are out of order");
    v.devMajor = unsigned(major);
    v.devMinor = unsigned(minor);
    // The name normally starts at column 73, so a name that itself begins with blanks is
    // kept whole; lines not padded that way (long headers, hand-written files) start the
    // name after the blanks that follow the inode.
    const std::size_t afterInode = c.pos();
    const bool padded = afterInode < kNameColumn && text.size() > kNameColumn
        && text.substr(afterInode, kNameColumn - afterInode).find_first_not_of(' ') == std::string_view::npos;
    if (padded) {
        v.name = std::string(text.substr(kNameColumn));
    } else {
        c.blanks();
        v.name = std::string(c.rest());
    }
    vmas.push_back(std::move(v));
    haveVma = true;
    blockHasFlags = false;
    headerLine = line;
}

// "Name:   N kB", "THPeligible:    0", "VmFlags: rd wr mr ".
void SmapsParser::field(std::string_view text, int line)
{
    const std::size_t colon = text.find(':');
    if (colon == std::string_view::npos || colon == 0)
        return error(line, 0, "malformed smaps line: expected a VMA header or a `Field:` line");
    if (!haveVma)
        return error(line, 0, "smaps field before the first VMA header");
    if (blockHasFlags)
        return error(line, 0, "smaps field after VmFlags, which ends a VMA");
    const std::string name(text.substr(0, colon));
    if (name.find_first_of(" \t") != std::string::npos)
        return error(line, 0, "malformed smaps field name");
    LineCursor c(text);
    c.take(colon + 1);
    ObservedVma& v = vmas.back();
    if (name == "VmFlags") {
        while (c.blanks() || !c.atEnd()) {
            const std::string_view rest = c.rest();
            const std::size_t n = std::min(rest.find_first_of(" \t"), rest.size());
            if (n > 0)
                v.vmFlags.emplace_back(c.take(n));
        }
        blockHasFlags = true;
        return;
    }
    c.blanks();
    std::uint64_t value = 0;
    if (!c.number(10, &value))
        return error(line, c.pos(), "malformed smaps field: expected a number after `" + name + ":`");
    if (c.atEnd())
        return; // THPeligible, ProtectionKey and other unit-less values: not kB, not kept
    const std::size_t unitCol = c.pos();
    if (!c.blanks() || c.take(2) != "kB" || (c.blanks(), !c.atEnd()))
        return error(line, unitCol, "malformed smaps field: expected `kB` after the number");
    v.smapsKb.emplace_back(name, value);
}

bool looksLikeHeader(std::string_view line)
{
    std::size_t i = 0;
    while (i < line.size() && isHex(line[i]))
        ++i;
    return i > 0 && i < line.size() && line[i] == '-';
}

} // namespace

Result<std::vector<ObservedVma>> parseSmaps(std::string_view text, const std::string& sourceName)
{
    SmapsParser p { sourceName, {}, {}, false, false, 0 };
    int lineNo = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
        ++lineNo;
        const std::size_t nl = text.find('\n', pos);
        const std::string_view line =
            text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
        if (nl == std::string_view::npos) {
            // The kernel ends every line; without the newline the last line may be cut short.
            p.error(lineNo, line.size(), "truncated smaps: the last line has no newline");
            break;
        }
        pos = nl + 1;
        if (looksLikeHeader(line))
            p.header(line, lineNo);
        else
            p.field(line, lineNo);
    }
    p.closeBlock(lineNo + 1);
    if (!p.errors.empty())
        return p.errors;
    return std::move(p.vmas);
}

PageRun pageFromEntry(Addr addr, std::uint64_t entry)
{
    PageRun r;
    r.start = addr;
    r.end = addr + pageSize;
    if (entry & kPmPresent)
        r.state = PageState::Present;
    else if (entry & kPmGuard)
        r.state = PageState::Guard;
    else if (entry & kPmSwap)
        r.state = PageState::Swap;
    r.uffdWp = (entry & kPmUffdWp) != 0;
    r.exclusive = (entry & kPmExclusive) != 0;
    r.file = (entry & kPmFile) != 0;
    return r;
}

namespace {

bool sameState(const PageRun& a, const PageRun& b)
{
    return a.state == b.state && a.uffdWp == b.uffdWp && a.exclusive == b.exclusive && a.file == b.file;
}

// Appends one run, joining it to the last one when contiguous, in the same state and not
// across `boundary` (the start of the VMA it belongs to).
void appendRun(std::vector<PageRun>& runs, const PageRun& r, Addr boundary)
{
    if (!runs.empty() && runs.back().end == r.start && r.start != boundary && sameState(runs.back(), r)) {
        runs.back().end = r.end;
        return;
    }
    runs.push_back(r);
}

} // namespace

std::vector<PageRun> runsFromEntries(Addr start, const std::uint64_t* entries, std::size_t n)
{
    std::vector<PageRun> runs;
    for (std::size_t i = 0; i < n; ++i)
        appendRun(runs, pageFromEntry(start + i * pageSize, entries[i]), start);
    return runs;
}

std::vector<PageRun> pageRunsFromPagemap(const std::vector<ObservedVma>& vmas, int pagemapFd)
{
    constexpr std::size_t kChunk = 4096; // entries per pread: 16 MiB of address space
    std::vector<std::uint64_t> buf(kChunk);
    std::vector<PageRun> runs;
    for (const ObservedVma& v : vmas) {
        for (Addr a = v.start; a < v.end;) {
            const std::size_t want = std::size_t(std::min<Addr>((v.end - a) / pageSize, kChunk));
            std::size_t got = 0;
            const off_t off = off_t((a / pageSize) * sizeof(std::uint64_t));
            while (got < want) {
                const ssize_t r = ::pread(pagemapFd, buf.data() + got, (want - got) * sizeof(std::uint64_t),
                    off + off_t(got * sizeof(std::uint64_t)));
                if (r < 0 && errno == EINTR)
                    continue;
                if (r <= 0)
                    break; // beyond the user address range ([vsyscall]) or unreadable: none
                got += std::size_t(r) / sizeof(std::uint64_t);
            }
            std::fill(buf.begin() + std::ptrdiff_t(got), buf.begin() + std::ptrdiff_t(want), 0);
            for (std::size_t i = 0; i < want; ++i)
                appendRun(runs, pageFromEntry(a + i * pageSize, buf[i]), v.start);
            a += want * pageSize;
        }
    }
    return runs;
}

namespace {

Diagnostic processError(pid_t pid, const std::string& path, int err)
{
    const std::string p = std::to_string(pid);
    if (err == ENOENT || err == ESRCH)
        return { path, 0, 0, "process " + p + " no longer exists" };
    if (err == EACCES || err == EPERM)
        return { path, 0, 0,
            "permission denied reading " + path + ": run as the same user as process " + p
                + " or with CAP_SYS_PTRACE" };
    return { path, 0, 0, "cannot read " + path + ": " + errnoText(err) };
}

// A zombie still has /proc/PID, but its smaps is empty: tell that apart from a process
// that really has no VMAs (a kernel thread).
bool hasExited(pid_t pid)
{
    auto stat = readFileText("/proc/" + std::to_string(pid) + "/stat");
    if (!stat)
        return true;
    const auto paren = stat->rfind(')');
    return paren == std::string::npos || paren + 2 >= stat->size() || (*stat)[paren + 2] == 'Z'
        || (*stat)[paren + 2] == 'X';
}

} // namespace

Result<ObservedProcess> readProcess(pid_t pid)
{
    const std::string dir = "/proc/" + std::to_string(pid);
    const std::string smapsPath = dir + "/smaps";
    auto text = readFileText(smapsPath);
    if (!text)
        return processError(pid, smapsPath, errno);
    if (text->empty() && hasExited(pid))
        return processError(pid, smapsPath, ESRCH);
    auto vmas = parseSmaps(*text, smapsPath);
    if (!vmas)
        return vmas.error();
    const std::string pagemapPath = dir + "/pagemap";
    const int fd = ::open(pagemapPath.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return processError(pid, pagemapPath, errno);
    ObservedProcess p;
    p.pid = pid;
    p.pages = pageRunsFromPagemap(*vmas, fd);
    ::close(fd);
    p.vmas = std::move(*vmas);
    return p;
}

} // namespace vmalab::host

namespace vmalab::host {

std::optional<std::uint64_t> parseStartBrk(std::string_view statText)
{
    // Fields after the comm's closing parenthesis start with field 3 (the state).
    const auto paren = statText.rfind(')');
    if (paren == std::string_view::npos)
        return std::nullopt;
    std::string_view rest = statText.substr(paren + 1);
    int field = 2;
    while (!rest.empty()) {
        const auto start = rest.find_first_not_of(" \n");
        if (start == std::string_view::npos)
            break;
        rest.remove_prefix(start);
        const auto end = std::min(rest.find_first_of(" \n"), rest.size());
        if (++field == 47) {
            std::uint64_t value = 0;
            for (char ch : rest.substr(0, end)) {
                if (ch < '0' || ch > '9')
                    return std::nullopt;
                value = value * 10 + static_cast<std::uint64_t>(ch - '0');
            }
            return value;
        }
        rest.remove_prefix(end);
    }
    return std::nullopt;
}

std::uint64_t readStartBrk(pid_t pid)
{
    const auto stat = readFileText("/proc/" + std::to_string(pid) + "/stat");
    return stat ? parseStartBrk(*stat).value_or(0) : 0;
}

} // namespace vmalab::host
