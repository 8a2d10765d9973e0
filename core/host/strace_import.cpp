#include "core/host/strace_import.h"

#include "core/host/sys_util.h"
#include "core/scenario/uapi.h"

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <vector>

namespace vmalab::host {

namespace {

constexpr std::uint64_t kMapFixed = 0x10, kMapAnonymous = 0x20, kMapShared = 0x01;

// The calls of strace's memory class that the recorder writes; others of the class (mincore,
// msync, set_mempolicy...) leave the address space alone and are skipped.
const std::set<std::string, std::less<>> kMemoryCalls = { "mmap", "munmap", "mprotect", "mremap", "madvise", "brk",
    "mlock", "mlock2", "munlock", "mlockall", "munlockall", "mseal", "pkey_mprotect", "shmat", "shmdt", "mbind",
    "remap_file_pages", "process_madvise", "map_shadow_stack" };

struct Arg
{
    std::string text;
    std::size_t col = 0; // 1-based
};

// A line's call once prefixes are gone: NAME(ARGS) = RESULT.
struct ParsedCall
{
    std::string name;
    std::vector<Arg> args;
    std::string argsText;
    std::string result;
    std::size_t resultCol = 0;
};

class Importer
{
public:
    explicit Importer(std::string source)
        : m_source(std::move(source))
    {
    }
    Result<Recording> run(std::string_view text);

private:
    void line(std::string text, int lineNo);
    void adoptMainPid(std::int64_t pid);
    void call(std::int64_t pid, const std::string& text, std::size_t offset, int lineNo);
    std::optional<ParsedCall> split(const std::string& text, std::size_t offset, int lineNo);
    std::optional<std::uint64_t> value(const Arg& a, int lineNo);
    std::optional<std::int64_t> result(const ParsedCall& c, int lineNo);
    void error(int lineNo, std::size_t col, const std::string& message)
    {
        m_errors.push_back({ m_source, lineNo, int(col), message });
    }
    RecordedEvent event(std::int64_t pid, RecordedKind kind)
    {
        RecordedEvent e;
        e.kind = kind;
        e.pid = owner(pid);
        e.tid = pid;
        return e;
    }
    std::int64_t owner(std::int64_t pid) const
    {
        auto it = m_owner.find(pid);
        return it == m_owner.end() ? pid : it->second;
    }

    std::string m_source;
    Recording m_rec;
    Diagnostics m_errors;
    bool m_mainKnown = false;
    std::map<std::int64_t, std::pair<std::string, std::size_t>> m_pending; // unfinished calls by pid
    std::map<std::int64_t, std::int64_t> m_owner; // threads and CLONE_VM children: whose address space
    std::set<std::int64_t> m_children; // pids that fork or clone returned
    std::map<std::pair<std::int64_t, std::uint64_t>, std::string> m_fdHandle; // (process, fd) -> handle
    int m_handles = 0;
};

bool startsWith(std::string_view s, std::string_view p)
{
    return s.substr(0, p.size()) == p;
}

bool looksLikeCall(std::string_view s)
{
    std::size_t i = 0;
    while (i < s.size() && (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '_'))
        ++i;
    return i > 0 && i < s.size() && s[i] == '(';
}

// Lines without a prefix belong to the traced program, whose pid shows only once strace starts
// prefixing its lines too (the first prefixed pid that no fork or clone returned).
void Importer::adoptMainPid(std::int64_t pid)
{
    m_rec.mainPid = pid;
    for (RecordedEvent& e : m_rec.events) {
        e.pid = e.pid == 0 ? pid : e.pid;
        e.tid = e.tid == 0 ? pid : e.tid;
    }
    for (auto& [child, owner] : m_owner)
        owner = owner == 0 ? pid : owner;
    auto pending = m_pending.find(0);
    if (pending != m_pending.end()) {
        m_pending[pid] = pending->second;
        m_pending.erase(pending);
    }
}

std::optional<ParsedCall> Importer::split(const std::string& text, std::size_t offset, int lineNo)
{
    ParsedCall c;
    std::size_t i = 0;
    while (i < text.size() && (std::isalnum(static_cast<unsigned char>(text[i])) || text[i] == '_'))
        ++i;
    if (i == 0 || i >= text.size() || text[i] != '(')
        return std::nullopt;
    c.name = text.substr(0, i);
    int depth = 0;
    bool inString = false;
    std::size_t argStart = i + 1;
    for (++i; i < text.size(); ++i) {
        const char ch = text[i];
        if (inString) {
            if (ch == '\\')
                ++i;
            else if (ch == '"')
                inString = false;
            continue;
        }
        if (ch == '"')
            inString = true;
        else if (ch == '(' || ch == '[' || ch == '{')
            ++depth;
        else if ((ch == ')' || ch == ']' || ch == '}') && depth > 0)
            --depth;
        else if ((ch == ',' || ch == ')') && depth == 0) {
            std::size_t s = argStart;
            while (s < i && text[s] == ' ')
                ++s;
            if (i > s || ch == ',')
                c.args.push_back({ text.substr(s, i - s), offset + s + 1 });
            argStart = i + 1;
            if (ch == ')')
                break;
        }
    }
    if (i >= text.size()) {
        error(lineNo, offset + text.size() + 1, "expected ')' to close the arguments of " + c.name);
        return std::nullopt;
    }
    c.argsText = text.substr(c.name.size() + 1, i - c.name.size() - 1);
    const std::size_t eq = text.find(" = ", i);
    if (eq == std::string::npos)
        return std::nullopt;
    c.resultCol = offset + eq + 4;
    c.result = text.substr(eq + 3);
    return c;
}

// A number, NULL, or NAME|NAME|... of the built-in constants.
std::optional<std::uint64_t> Importer::value(const Arg& a, int lineNo)
{
    std::uint64_t v = 0;
    std::size_t pos = 0;
    const std::string& t = a.text;
    while (pos <= t.size()) {
        std::size_t bar = t.find('|', pos);
        if (bar == std::string::npos)
            bar = t.size();
        const std::string part = t.substr(pos, bar - pos);
        if (part.empty()) {
            error(lineNo, a.col + pos, "expected a number or a constant, found \"" + t + "\"");
            return std::nullopt;
        }
        if (std::isdigit(static_cast<unsigned char>(part[0])) || part[0] == '-') {
            char* end = nullptr;
            errno = 0;
            const bool neg = part[0] == '-';
            const std::uint64_t n =
                neg ? std::uint64_t(std::strtoll(part.c_str(), &end, 0)) : std::strtoull(part.c_str(), &end, 0);
            if (!end || *end || errno) {
                error(lineNo, a.col + pos, "expected a number, found \"" + part + "\"");
                return std::nullopt;
            }
            v |= n;
        } else if (auto c = scenario::uapiConstant(part)) {
            v |= std::uint64_t(*c);
        } else {
            error(lineNo, a.col + pos, "unknown constant " + part);
            return std::nullopt;
        }
        pos = bar + 1;
    }
    return v;
}

// "0x7f...", "0", "-1 ENOMEM (Cannot allocate memory)", "?".
std::optional<std::int64_t> Importer::result(const ParsedCall& c, int lineNo)
{
    const std::string& r = c.result;
    if (startsWith(r, "?"))
        return std::nullopt;
    if (startsWith(r, "-1 ")) {
        std::size_t e = 3;
        while (e < r.size() && std::isalnum(static_cast<unsigned char>(r[e])))
            ++e;
        if (auto v = scenario::uapiConstant(r.substr(3, e - 3)))
            return -*v;
        error(lineNo, c.resultCol + 3, "unknown error name " + r.substr(3, e - 3));
        return std::nullopt;
    }
    char* end = nullptr;
    const std::int64_t v = std::int64_t(std::strtoull(r.c_str(), &end, 0));
    if (end == r.c_str()) {
        error(lineNo, c.resultCol, "expected the call's result, found \"" + r + "\"");
        return std::nullopt;
    }
    return v;
}

void Importer::call(std::int64_t pid, const std::string& text, std::size_t offset, int lineNo)
{
    auto c = split(text, offset, lineNo);
    if (!c)
        return;
    const bool memory = kMemoryCalls.count(c->name) > 0;
    const std::size_t errorsBefore = m_errors.size();
    const std::optional<std::int64_t> res = result(*c, lineNo);
    if (m_errors.size() != errorsBefore)
        return;
    const std::string& n = c->name;
    if (n == "execve" || n == "execveat") {
        if (res && *res == 0 && m_mainKnown) {
            RecordedEvent e = event(pid, RecordedKind::Note);
            e.text = "execve(" + c->args.front().text + "): a new address space, unknown to this import";
            m_rec.events.push_back(e);
        }
        m_mainKnown = true;
        return;
    }
    if (n == "clone" || n == "clone3" || n == "fork" || n == "vfork") {
        if (!res || *res <= 0)
            return;
        const bool thread = c->argsText.find("CLONE_THREAD") != std::string::npos;
        const bool vm = n == "vfork" || c->argsText.find("CLONE_VM") != std::string::npos;
        RecordedEvent e = event(pid, thread || vm ? RecordedKind::Note : RecordedKind::Fork);
        e.child = *res;
        m_children.insert(*res);
        if (thread || vm) {
            m_owner[*res] = owner(pid);
            e.text = (thread ? "thread " : "process ") + std::to_string(*res)
                + (thread ? " created" : " shares this address space until it runs execve");
        }
        m_rec.events.push_back(e);
        return;
    }
    if (n == "exit_group") {
        RecordedEvent e = event(pid, RecordedKind::Note);
        e.text = "exit_group(" + c->argsText + ")";
        m_rec.events.push_back(e);
        return;
    }
    if (!memory)
        return;
    RecordedEvent e = event(pid, RecordedKind::Call);
    e.call = n;
    e.hasResult = res.has_value();
    e.result = res.value_or(0);
    const bool modelled = n == "mmap" || n == "munmap" || n == "mprotect" || n == "mremap" || n == "madvise"
        || n == "brk" || n == "mlock" || n == "mlock2" || n == "munlock";
    if (!modelled) {
        e.text = c->argsText;
        m_rec.events.push_back(e);
        return;
    }
    for (std::size_t i = 0; i < c->args.size() && i < 6; ++i) {
        auto v = value(c->args[i], lineNo);
        if (!v)
            return;
        e.args[i] = *v;
    }
    if (n == "mmap" && !(e.args[3] & kMapAnonymous)) {
        // A mapping at a kernel-chosen address starts a new file (ld.so maps each library so);
        // MAP_FIXED ones continue the descriptor's last file.
        auto& handle = m_fdHandle[{ owner(pid), e.args[4] }];
        if (handle.empty() || !(e.args[3] & kMapFixed))
            handle = "fd" + std::to_string(e.args[4]) + "_" + std::to_string(++m_handles);
        RecordedFile f;
        f.path = "fd " + std::to_string(e.args[4]);
        f.devMajor = f.devMinor = 0;
        f.inode = 0;
        f.size = e.args[5] + e.args[1];
        f.known = false;
        f.accessMode = (e.args[3] & 0xf) == kMapShared && (e.args[2] & 2) ? 2 : 0;
        f.handle = handle;
        e.file = f;
    }
    m_rec.events.push_back(e);
}

void Importer::line(std::string text, int lineNo)
{
    // strace's own messages may be glued into a call's line when both go to a terminal.
    for (std::size_t at; (at = text.find("strace: Process ")) != std::string::npos;) {
        std::size_t end = text.find(" attached", at);
        if (end == std::string::npos)
            end = text.find(" detached", at);
        text.erase(at, end == std::string::npos ? std::string::npos : end + 9 - at);
    }
    std::size_t pos = 0;
    std::int64_t pid = m_rec.mainPid;
    bool prefixed = false;
    if (startsWith(text, "[pid ")) {
        pos = 5;
        while (pos < text.size() && text[pos] == ' ')
            ++pos;
        pid = std::strtoll(text.c_str() + pos, nullptr, 10);
        pos = text.find(']', pos);
        if (pos == std::string::npos)
            return error(lineNo, 1, "expected ']' after the pid");
        ++pos;
        prefixed = true;
    } else if (!text.empty() && std::isdigit(static_cast<unsigned char>(text[0]))) {
        std::size_t e = 0;
        while (e < text.size() && std::isdigit(static_cast<unsigned char>(text[e])))
            ++e;
        if (e < text.size() && text[e] == ' ') {
            pid = std::strtoll(text.c_str(), nullptr, 10);
            pos = e;
            prefixed = true;
        }
    }
    if (prefixed && m_rec.mainPid == 0 && !m_children.count(pid))
        adoptMainPid(pid);
    while (pos < text.size() && text[pos] == ' ')
        ++pos;
    // Timestamps (-t, -tt, -ttt, -r): a token of digits, ':' and '.'.
    std::size_t t = pos;
    while (t < text.size() && (std::isdigit(static_cast<unsigned char>(text[t])) || text[t] == ':' || text[t] == '.'))
        ++t;
    if (t > pos && t < text.size() && text[t] == ' ') {
        pos = t;
        while (pos < text.size() && text[pos] == ' ')
            ++pos;
    }
    std::string rest = text.substr(pos);
    if (rest.empty() || startsWith(rest, "+++") || startsWith(rest, "---") || startsWith(rest, "strace:"))
        return;
    if (startsWith(rest, "<... ")) {
        const std::size_t close = rest.find(" resumed>");
        auto pending = m_pending.find(pid);
        if (close == std::string::npos || pending == m_pending.end())
            return; // the start of the call is not in the log
        const std::string joined = pending->second.first + rest.substr(close + 9);
        const std::size_t startCol = pending->second.second;
        m_pending.erase(pending);
        return call(pid, joined, startCol, lineNo);
    }
    // The rest of a call whose line a glued strace message cut.
    auto cut = m_pending.find(pid);
    if (cut != m_pending.end() && !looksLikeCall(rest)) {
        const std::string joined = cut->second.first + rest;
        const std::size_t startCol = cut->second.second;
        m_pending.erase(cut);
        return call(pid, joined, startCol, lineNo);
    }
    const std::size_t unfinished = rest.find(" <unfinished ...>");
    if (unfinished != std::string::npos) {
        m_pending[pid] = { rest.substr(0, unfinished), pos };
        return;
    }
    if (rest.find(") = ") == std::string::npos && rest.find('(') != std::string::npos
        && rest.find(" = ") == std::string::npos) {
        m_pending[pid] = { rest, pos }; // cut by a glued strace message
        return;
    }
    call(pid, rest, pos, lineNo);
}

Result<Recording> Importer::run(std::string_view text)
{
    m_rec.program = "strace log " + m_source;
    m_rec.kernel = "(unknown: imported from strace)";
    m_rec.date = "(unknown)";
    m_rec.headerNotes = { "imported from strace output: the starting state and the page states are unknown, and a "
                          "mapped file is known only by its descriptor number" };
    int lineNo = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t eol = text.find('\n', pos);
        if (eol == std::string_view::npos)
            eol = text.size();
        ++lineNo;
        std::string l(text.substr(pos, eol - pos));
        if (!l.empty() && l.back() == '\r')
            l.pop_back();
        line(std::move(l), lineNo);
        pos = eol + 1;
    }
    if (!m_errors.empty())
        return m_errors;
    if (!m_mainKnown && m_rec.events.empty())
        return Diagnostic { m_source, 0, 0, "no memory or process calls found: is this strace output?" };
    return m_rec;
}

} // namespace

Result<Recording> importStrace(std::string_view text, const std::string& sourceName)
{
    return Importer(sourceName).run(text);
}

Result<Recording> importStraceFile(const std::string& path)
{
    auto text = readFileText(path);
    if (!text)
        return Diagnostic { path, 0, 0, "cannot read " + path + ": " + errnoText(errno) };
    return importStrace(*text, path);
}

} // namespace vmalab::host
