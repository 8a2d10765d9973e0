#include "core/host/record_writer.h"

#include "core/scenario/uapi.h"

#include <cinttypes>
#include <cstdio>
#include <map>
#include <set>
#include <string_view>

namespace vmalab::host {

namespace {

constexpr std::uint64_t kPageSize = 4096;

std::string hex(std::uint64_t v)
{
    char buf[24];
    std::snprintf(buf, sizeof buf, "0x%" PRIx64, v);
    return buf;
}

// Addresses in hex (0 stays 0); lengths in hex when they are whole pages of 64 KiB or more.
std::string addrText(std::uint64_t v)
{
    return v == 0 ? "0" : hex(v);
}

std::string lenText(std::uint64_t v)
{
    return v >= 0x10000 && v % kPageSize == 0 ? hex(v) : std::to_string(v);
}

// The bits of `value` named by single-bit constants of one family; the rest in hex.
std::string bitsText(std::uint64_t value, std::string_view prefix, const char* zeroName,
    std::initializer_list<std::string_view> skip = {})
{
    std::string out;
    std::uint64_t left = value;
    for (const auto& [name, v] : scenario::uapiTable()) {
        if (name.substr(0, prefix.size()) != prefix || v <= 0 || (std::uint64_t(v) & (std::uint64_t(v) - 1)) != 0)
            continue;
        bool skipped = false;
        for (std::string_view s : skip)
            skipped = skipped || s == name;
        if (skipped || (left & std::uint64_t(v)) == 0)
            continue;
        out += (out.empty() ? "" : "|") + std::string(name);
        left &= ~std::uint64_t(v);
    }
    if (left)
        out += (out.empty() ? "" : "|") + hex(left);
    return out.empty() ? zeroName : out;
}

// The name of `value` in one family of enumerated constants, or the number.
std::string valueText(std::uint64_t value, std::string_view prefix)
{
    for (const auto& [name, v] : scenario::uapiTable())
        if (name.substr(0, prefix.size()) == prefix && std::uint64_t(v) == value)
            return std::string(name);
    return std::to_string(std::int64_t(value));
}

// userfaultfd(2) flags: O_CLOEXEC, O_NONBLOCK and UFFD_USER_MODE_ONLY.
std::string uffdFlagsText(std::uint64_t flags)
{
    std::string out;
    const std::pair<std::uint64_t, const char*> names[] = { { 02000000, "O_CLOEXEC" }, { 04000, "O_NONBLOCK" },
        { 1, "UFFD_USER_MODE_ONLY" } };
    for (const auto& [bit, name] : names)
        if (flags & bit) {
            out += (out.empty() ? "" : "|") + std::string(name);
            flags &= ~bit;
        }
    if (flags)
        out += (out.empty() ? "" : "|") + hex(flags);
    return out.empty() ? "0" : out;
}

std::string resultText(const RecordedEvent& e, bool address)
{
    if (e.result < 0 && e.result >= -4095)
        return scenario::errnoName(e.result);
    return address ? addrText(std::uint64_t(e.result)) : std::to_string(e.result);
}

std::string openModeName(int mode)
{
    return mode == 2 ? "O_RDWR" : mode == 1 ? "O_WRONLY" : "O_RDONLY";
}

std::string devText(const RecordedFile& f)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%02x:%02x", f.devMajor, f.devMinor);
    return buf;
}

std::string quoted(const std::string& s)
{
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\')
            out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out + '"';
}

// Arguments of a call the language does not have, as numbers.
std::string rawCallText(const RecordedEvent& e)
{
    static const std::pair<std::string_view, int> kArgCounts[] = { { "mlockall", 1 }, { "munlockall", 0 },
        { "mseal", 3 }, { "pkey_mprotect", 4 }, { "shmat", 3 }, { "shmdt", 1 }, { "mbind", 6 },
        { "remap_file_pages", 5 }, { "process_madvise", 5 }, { "userfaultfd", 1 }, { "ioctl", 3 },
        { "map_shadow_stack", 3 }, { "fork", 0 }, { "vfork", 0 }, { "clone", 5 }, { "clone3", 2 } };
    int n = 6;
    for (const auto& [name, count] : kArgCounts)
        if (name == e.call)
            n = count;
    std::string out = e.call + "(";
    if (!e.text.empty())
        out += e.text;
    else
        for (int i = 0; i < n; ++i)
            out += (i ? ", " : "")
                + (e.args[std::size_t(i)] < 4096 ? std::to_string(e.args[std::size_t(i)])
                                                 : hex(e.args[std::size_t(i)]));
    out += ")";
    if (e.hasResult)
        out += " = " + resultText(e, e.result > 4096);
    return out;
}

class Writer
{
public:
    explicit Writer(const Recording& r)
        : m_rec(r)
    {
    }
    std::string run();

private:
    void enterBlock(std::int64_t pid);
    void line(const std::string& text, const RecordedEvent* e = nullptr);
    void call(const RecordedEvent& e);
    bool mmapLine(const RecordedEvent& e);
    void inheritDescriptors(std::int64_t parent, std::int64_t child)
    {
        std::vector<std::pair<std::pair<std::int64_t, std::uint64_t>, std::string>> copies;
        for (const auto& [key, handle] : m_uffd)
            if (key.first == parent)
                copies.push_back({ { child, key.second }, handle });
        m_uffd.insert(copies.begin(), copies.end());
    }
    std::string processName(std::int64_t pid) const
    {
        return pid == m_rec.mainPid ? "main" : "p" + std::to_string(pid);
    }

    const Recording& m_rec;
    std::string m_out;
    std::int64_t m_block = 0; // the pid of the open `in` block, 0: top level
    std::set<std::pair<std::int64_t, std::string>> m_handles;
    std::map<std::pair<std::int64_t, std::uint64_t>, std::string> m_uffd; // (process, fd) -> handle
};

void Writer::enterBlock(std::int64_t pid)
{
    const std::int64_t want = pid == m_rec.mainPid ? 0 : pid;
    if (want == m_block)
        return;
    if (m_block)
        m_out += "}\n";
    if (want)
        m_out += "in " + processName(want) + " {\n";
    m_block = want;
}

// One statement, indented inside a block; a call by another thread says which.
void Writer::line(const std::string& text, const RecordedEvent* e)
{
    m_out += m_block ? "  " : "";
    m_out += text;
    if (e && e->tid && e->tid != e->pid)
        m_out += "  // tid " + std::to_string(e->tid);
    m_out += '\n';
}

bool Writer::mmapLine(const RecordedEvent& e)
{
    const auto& a = e.args;
    std::string fd = "-1";
    if (!(a[3] & 0x20)) {
        if (!e.file || !e.file->mappable)
            return false;
        const RecordedFile& f = *e.file;
        fd = fileHandleName(f);
        // Descriptors are per process: each process opens its own handle.
        if (m_handles.insert({ e.pid, fd }).second) {
            if (!f.known)
                line("// " + fd + ": only the descriptor number is known, not the file");
            line(fd + " = open_mapped(" + quoted(f.path) + ", \"" + devText(f) + "\", " + std::to_string(f.inode) + ", "
                + std::to_string(f.size) + ", " + openModeName(f.accessMode) + ")");
        }
    }
    line("mmap(" + addrText(a[0]) + ", " + lenText(a[1]) + ", " + protText(a[2]) + ", " + mapFlagsText(a[3]) + ", " + fd
            + ", " + (a[5] ? hex(a[5]) : "0") + ") -> " + resultText(e, true),
        &e);
    return true;
}

void Writer::call(const RecordedEvent& e)
{
    const auto& a = e.args;
    const std::string& c = e.call;
    const std::string arrow = e.hasResult ? " -> " : "";
    auto res = [&](bool address) { return e.hasResult ? arrow + resultText(e, address) : std::string(); };
    if (c == "mmap" && e.hasResult && mmapLine(e))
        return;
    if (c == "userfaultfd" && e.hasResult) {
        if (e.result < 0) {
            line("userfaultfd(" + uffdFlagsText(a[0]) + ") -> " + resultText(e, false), &e);
            return;
        }
        const std::string handle = "uffd_" + std::to_string(e.pid) + "_" + std::to_string(e.result);
        m_uffd[{ e.pid, std::uint64_t(e.result) }] = handle;
        // A handle's value is the model's own: the kernel's descriptor number is only noted.
        line(handle + " = userfaultfd(" + uffdFlagsText(a[0]) + ")  // fd " + std::to_string(e.result), &e);
        return;
    }
    if (c.rfind("uffdio_", 0) == 0) {
        auto h = m_uffd.find({ e.pid, a[0] });
        if (h == m_uffd.end()) {
            line("// not modelled: " + c + " on descriptor " + std::to_string(a[0]) + ", not a recorded userfaultfd"
                    + (e.hasResult ? " = " + resultText(e, false) : ""),
                &e);
            return;
        }
        std::string args = h->second;
        if (c == "uffdio_api")
            args += ", " + bitsText(a[1], "UFFD_FEATURE_", "0");
        else
            args += ", " + addrText(a[1]) + ", " + lenText(a[2]);
        if (c == "uffdio_register")
            args += ", " + bitsText(a[3], "UFFDIO_REGISTER_MODE_", "0");
        else if (c == "uffdio_writeprotect")
            args += ", " + bitsText(a[3], "UFFDIO_WRITEPROTECT_MODE_", "0");
        line(c + "(" + args + ")" + res(false), &e);
        return;
    }
    if (c == "munmap" || c == "mlock" || c == "munlock")
        line(c + "(" + addrText(a[0]) + ", " + lenText(a[1]) + ")" + res(false), &e);
    else if (c == "mprotect")
        line("mprotect(" + addrText(a[0]) + ", " + lenText(a[1]) + ", " + protText(a[2]) + ")" + res(false), &e);
    else if (c == "madvise")
        line("madvise(" + addrText(a[0]) + ", " + lenText(a[1]) + ", " + madviseText(a[2]) + ")" + res(false), &e);
    else if (c == "mlock2")
        line("mlock2(" + addrText(a[0]) + ", " + lenText(a[1]) + ", "
                + (a[2] == 1 ? "MLOCK_ONFAULT" : std::to_string(a[2])) + ")" + res(false),
            &e);
    else if (c == "mremap") {
        std::string args = addrText(a[0]) + ", " + lenText(a[1]) + ", " + lenText(a[2]) + ", " + mremapFlagsText(a[3]);
        if (a[3] & 2) // MREMAP_FIXED: the new address is the fifth argument
            args += ", " + addrText(a[4]);
        line("mremap(" + args + ")" + res(true), &e);
    } else if (c == "brk")
        line("brk(" + addrText(a[0]) + ")" + res(true), &e);
    else
        line("// not modelled: " + rawCallText(e), &e);
}

std::string Writer::run()
{
    std::size_t calls = 0;
    std::set<std::int64_t> processes { m_rec.mainPid };
    for (const RecordedEvent& e : m_rec.events) {
        calls += e.kind == RecordedKind::Call;
        if (e.pid)
            processes.insert(e.pid);
        if (e.child && e.kind != RecordedKind::Note)
            processes.insert(e.child);
    }
    m_out = "// vmalab recording of: " + m_rec.program + "\n";
    m_out += "// recorded " + m_rec.date + " on Linux " + m_rec.kernel + "; " + std::to_string(calls) + " memory call"
        + (calls == 1 ? "" : "s") + ", " + std::to_string(processes.size()) + " process"
        + (processes.size() == 1 ? "" : "es") + "\n";
    for (const std::string& n : m_rec.headerNotes)
        m_out += "// " + n + "\n";
    m_out += "profile \"host\"\n";
    if (!m_rec.startSnapshot.empty())
        m_out += "start_from " + quoted(m_rec.startSnapshot) + "\n";
    if (!m_rec.endSnapshot.empty())
        m_out += "recorded_end " + quoted(m_rec.endSnapshot) + "\n";
    m_out += "\n";
    for (const RecordedEvent& e : m_rec.events) {
        enterBlock(e.pid);
        switch (e.kind) {
        case RecordedKind::Call:
            call(e);
            break;
        case RecordedKind::Observe:
            line("observe(" + hex(e.addr) + ", " + hex(e.len) + ", \"" + e.state + "\")");
            break;
        case RecordedKind::Fork:
            inheritDescriptors(e.pid, e.child);
            line(processName(e.child) + " = fork() -> " + std::to_string(e.child), &e);
            break;
        case RecordedKind::Exec:
            line("exec(" + quoted(e.snapshotFile) + ")", &e);
            break;
        case RecordedKind::Spawn:
            line(processName(e.child) + " = spawn(" + quoted(e.snapshotFile) + ")");
            break;
        case RecordedKind::Note:
            line((e.narrate ? "/// " : "// ") + e.text);
            break;
        }
    }
    enterBlock(m_rec.mainPid);
    return m_out;
}

} // namespace

std::string protText(std::uint64_t prot)
{
    return bitsText(prot, "PROT_", "PROT_NONE");
}

std::string mapFlagsText(std::uint64_t flags)
{
    // The mapping type is a 4-bit value (MAP_TYPE), not bits; the huge page size sits above bit 26.
    std::string type = valueText(flags & 0xf, "MAP_");
    if (type == "MAP_FILE" || type == "MAP_TYPE")
        type = hex(flags & 0xf);
    std::string out = (flags & 0xf) ? type : "";
    std::uint64_t rest = flags & ~std::uint64_t(0xf);
    if ((rest >> 26) == 21 || (rest >> 26) == 30) {
        out += (out.empty() ? "" : "|") + std::string((rest >> 26) == 21 ? "MAP_HUGE_2MB" : "MAP_HUGE_1GB");
        rest &= (std::uint64_t(1) << 26) - 1;
    }
    if (rest) {
        const std::string bits = bitsText(rest, "MAP_", "0",
            { "MAP_SHARED", "MAP_PRIVATE", "MAP_DROPPABLE", "MAP_ANON", "MAP_HUGE_SHIFT", "MAP_HUGE_MASK" });
        out += (out.empty() ? "" : "|") + bits;
    }
    return out.empty() ? "0" : out;
}

std::string madviseText(std::uint64_t advice)
{
    return valueText(advice, "MADV_");
}

std::string mremapFlagsText(std::uint64_t flags)
{
    return bitsText(flags, "MREMAP_", "0");
}

std::string fileHandleName(const RecordedFile& file)
{
    char buf[64];
    std::snprintf(buf, sizeof buf, "f_%x%02x_%" PRIu64, file.devMajor, file.devMinor, file.inode);
    std::string name = file.handle.empty() ? std::string(buf) : file.handle;
    if (file.accessMode == 2)
        name += "_rw";
    else if (file.accessMode == 1)
        name += "_wr";
    return name;
}

std::string writeRecording(const Recording& recording)
{
    return Writer(recording).run();
}

} // namespace vmalab::host
