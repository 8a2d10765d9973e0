#include "core/snapshot/smaps_text.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>

namespace vmalab::snapshot {

namespace {

// The kernel pads a maps line so that the name starts at this 0-based column
// (show_map_vma() pads to 73 characters before the name).
constexpr std::size_t kNameColumn = 73;
constexpr std::size_t kMaxDiagnostics = 20;

bool blank(char c)
{
    return c == ' ' || c == '\t';
}

std::string_view trim(std::string_view s)
{
    while (!s.empty() && blank(s.front()))
        s.remove_prefix(1);
    while (!s.empty() && blank(s.back()))
        s.remove_suffix(1);
    return s;
}

// Reads a number in `base` at s[*pos]; false when there is none or it overflows.
bool readNumber(std::string_view s, std::size_t* pos, int base, std::uint64_t* out)
{
    if (*pos >= s.size())
        return false;
    const char* first = s.data() + *pos;
    const auto [ptr, ec] = std::from_chars(first, s.data() + s.size(), *out, base);
    if (ec != std::errc() || ptr == first)
        return false;
    *pos += std::size_t(ptr - first);
    return true;
}

bool expect(std::string_view s, std::size_t* pos, char c)
{
    if (*pos < s.size() && s[*pos] == c) {
        ++*pos;
        return true;
    }
    return false;
}

// " kB" after a number (value is trimmed already, so only leading blanks can be left).
bool isKb(std::string_view rest)
{
    return rest.size() >= 2 && rest.substr(rest.size() - 2) == "kB" && trim(rest.substr(0, rest.size() - 2)).empty();
}

// A header line starts with "HEX-"; field lines start with a name and a colon.
bool isHeader(std::string_view line)
{
    std::size_t i = 0;
    while (i < line.size() && std::isxdigit(static_cast<unsigned char>(line[i])))
        ++i;
    return i > 0 && i < line.size() && line[i] == '-';
}

} // namespace

class SmapsTextParser::Impl
{
public:
    explicit Impl(const std::string& source)
        : m_source(source)
    {
    }

    void line(std::string_view text, int lineNo)
    {
        if (isHeader(text))
            header(text, lineNo);
        else
            field(text, lineNo);
    }
    void finish(int lineNo) { closeBlock(lineNo); }
    void error(int lineNo, std::size_t col, std::string message)
    {
        if (m_errors.size() < kMaxDiagnostics)
            m_errors.push_back({ m_source, lineNo, int(col) + 1, std::move(message) });
    }

    Diagnostics& errors() { return m_errors; }
    std::vector<SnapshotVma>& vmas() { return m_vmas; }

private:
    void closeBlock(int lineNo)
    {
        if (m_open && !m_sawFlags)
            error(lineNo, 0,
                "truncated smaps: the VMA on line " + std::to_string(m_headerLine) + " ends without a VmFlags line");
        m_open = false;
    }
    void header(std::string_view text, int lineNo);
    void field(std::string_view text, int lineNo);

    std::string m_source;
    std::vector<SnapshotVma> m_vmas;
    Diagnostics m_errors;
    bool m_open = false;
    bool m_sawFlags = false;
    int m_headerLine = 0;
};

// "START-END PERMS OFFSET MAJ:MIN INODE [padding] NAME"
void SmapsTextParser::Impl::header(std::string_view text, int lineNo)
{
    closeBlock(lineNo);
    ObservedVma v;
    std::size_t pos = 0;
    std::uint64_t major = 0, minor = 0;
    auto bad = [&](const char* what) { error(lineNo, pos, std::string("malformed maps line in smaps: ") + what); };
    if (!readNumber(text, &pos, 16, &v.start) || !expect(text, &pos, '-') || !readNumber(text, &pos, 16, &v.end))
        return bad("expected START-END in hex");
    if (!expect(text, &pos, ' ') || pos + 4 > text.size())
        return bad("expected permissions after the range");
    v.perms = std::string(text.substr(pos, 4));
    if (v.perms.find_first_of(" \t") != std::string::npos)
        return bad("expected four permission characters such as rw-p");
    pos += 4;
    if (!expect(text, &pos, ' ') || !readNumber(text, &pos, 16, &v.offset))
        return bad("expected the file offset in hex");
    if (!expect(text, &pos, ' ') || !readNumber(text, &pos, 16, &major) || !expect(text, &pos, ':')
        || !readNumber(text, &pos, 16, &minor))
        return bad("expected the device as MAJOR:MINOR in hex");
    if (!expect(text, &pos, ' ') || !readNumber(text, &pos, 10, &v.inode))
        return bad("expected the inode number");
    if (pos < text.size() && !blank(text[pos]))
        return bad("expected a blank after the inode number");
    if (v.end <= v.start || !pageAligned(v.start) || !pageAligned(v.end))
        return error(lineNo, 0, "malformed maps line in smaps: the range is empty, reversed or not page aligned");
    if (!m_vmas.empty() && v.start < m_vmas.back().vma.end)
        return error(lineNo, 0, "smaps VMAs overlap or are out of address order");
    v.devMajor = unsigned(major);
    v.devMinor = unsigned(minor);
    // A name that begins with blanks is kept whole when the line has the kernel's padding;
    // lines without it (a header longer than the pad, hand-written fixtures) start the name
    // after the blanks.
    const bool padded = pos < kNameColumn && text.size() > kNameColumn
        && text.substr(pos, kNameColumn - pos).find_first_not_of(' ') == std::string_view::npos;
    if (padded) {
        v.name = std::string(text.substr(kNameColumn));
    } else {
        while (pos < text.size() && blank(text[pos]))
            ++pos;
        v.name = std::string(text.substr(pos));
    }
    // Every block of one file has about the fields of the one before: size the lists once.
    if (!m_vmas.empty()) {
        const SnapshotVma& prev = m_vmas.back();
        v.smapsKb.reserve(prev.vma.smapsKb.size());
        v.vmFlags.reserve(prev.vma.vmFlags.size() + 2);
    }
    SnapshotVma s;
    s.vma = std::move(v);
    if (!m_vmas.empty())
        s.textFields.reserve(m_vmas.back().textFields.size());
    m_vmas.push_back(std::move(s));
    m_open = true;
    m_sawFlags = false;
    m_headerLine = lineNo;
}

// "Name:  N kB", "THPeligible:  0", "VmFlags: rd wr mr mw me ac", "Future: anything".
void SmapsTextParser::Impl::field(std::string_view text, int lineNo)
{
    // The name runs to the first colon and has no blank (one pass: this runs for every line).
    std::size_t colon = 0;
    while (colon < text.size() && text[colon] != ':' && !blank(text[colon]))
        ++colon;
    if (colon == text.size() || colon == 0 || text[colon] != ':')
        return error(lineNo, 0, "malformed smaps line: expected a maps line or `Field: value`");
    if (!m_open)
        return error(lineNo, 0, "smaps field before the first maps line");
    if (m_sawFlags)
        return error(lineNo, 0, "smaps field after VmFlags, which ends a VMA's block");
    SnapshotVma& s = m_vmas.back();
    const std::string_view name = text.substr(0, colon);
    std::size_t first = colon + 1, last = text.size(); // the value, trimmed (inline: every line)
    while (first < last && blank(text[first]))
        ++first;
    while (last > first && blank(text[last - 1]))
        --last;
    const std::string_view value = text.substr(first, last - first);
    if (name == "VmFlags") {
        std::size_t i = 0;
        while (i < value.size()) {
            while (i < value.size() && blank(value[i]))
                ++i;
            const std::size_t from = i;
            while (i < value.size() && !blank(value[i]))
                ++i;
            if (i > from)
                s.vma.vmFlags.emplace_back(value.substr(from, i - from));
        }
        m_sawFlags = true;
        return;
    }
    // "N kB" goes to the kB list; anything else is kept as text.
    std::size_t pos = 0;
    std::uint64_t n = 0;
    if (readNumber(value, &pos, 10, &n) && pos < value.size() && blank(value[pos]) && isKb(value.substr(pos))) {
        s.vma.smapsKb.emplace_back(std::string(name), n);
        return;
    }
    s.textFields.push_back({ std::string(name), std::string(value), s.vma.smapsKb.size() });
}

namespace {

// A field name the parser reads back as the same field: not a maps line, no colon or blank.
bool plainFieldName(std::string_view name)
{
    return !name.empty() && name != "VmFlags" && name.find_first_of(": \t\n") == std::string_view::npos
        && !isHeader(name);
}

// A text value that the parser keeps as text and does not trim.
bool plainTextValue(std::string_view value)
{
    if (value.find('\n') != std::string_view::npos || trim(value) != value)
        return false;
    std::size_t pos = 0;
    std::uint64_t n = 0;
    return !(readNumber(value, &pos, 10, &n) && pos < value.size() && blank(value[pos]) && isKb(value.substr(pos)));
}

std::size_t headerLength(const ObservedVma& v, char* buf, std::size_t size)
{
    using ull = unsigned long long;
    const int n = std::snprintf(buf, size, "%llx-%llx %s %08llx %02x:%02x %llu", ull(v.start), ull(v.end),
        v.perms.c_str(), ull(v.offset), v.devMajor, v.devMinor, ull(v.inode));
    return n < 0 ? 0 : std::min(std::size_t(n), size - 1);
}

} // namespace

bool smapsTextRoundTrips(const SnapshotVma& s)
{
    const ObservedVma& v = s.vma;
    if (v.perms.size() != 4 || v.perms.find_first_of(std::string_view(" \t\n\0", 4)) != std::string::npos
        || v.end <= v.start || !pageAligned(v.start) || !pageAligned(v.end))
        return false;
    if (v.name.find('\n') != std::string::npos)
        return false;
    char buf[128];
    // A name that begins with a blank survives only behind the kernel's padding.
    if (!v.name.empty() && blank(v.name.front()) && headerLength(v, buf, sizeof buf) >= kNameColumn)
        return false;
    for (const std::string& f : v.vmFlags)
        if (f.empty() || f.find_first_of(" \t\n") != std::string::npos)
            return false;
    for (const auto& [name, kb] : v.smapsKb)
        if (!plainFieldName(name))
            return false;
    std::size_t after = 0;
    for (const TextField& t : s.textFields) {
        if (!plainFieldName(t.name) || !plainTextValue(t.value) || t.afterKb < after || t.afterKb > v.smapsKb.size())
            return false;
        after = t.afterKb;
    }
    return true;
}

void appendSmapsText(std::string& out, const SnapshotVma& s)
{
    const ObservedVma& v = s.vma;
    char buf[128];
    const std::size_t n = headerLength(v, buf, sizeof buf);
    out.append(buf, n);
    if (!v.name.empty()) {
        out.append(n < kNameColumn ? kNameColumn - n : 1, ' ');
        out += v.name;
    }
    out += '\n';
    std::size_t text = 0;
    for (std::size_t kb = 0; kb <= v.smapsKb.size(); ++kb) {
        for (; text < s.textFields.size() && s.textFields[text].afterKb <= kb; ++text) {
            out += s.textFields[text].name;
            out += ": ";
            out += s.textFields[text].value;
            out += '\n';
        }
        if (kb < v.smapsKb.size()) {
            out += v.smapsKb[kb].first;
            out += ": ";
            char num[24];
            const auto r = std::to_chars(num, num + sizeof num, v.smapsKb[kb].second);
            out.append(num, r.ptr);
            out += " kB\n";
        }
    }
    out += "VmFlags:";
    for (const std::string& f : v.vmFlags) {
        out += ' ';
        out += f;
    }
    out += '\n';
}

SmapsTextParser::SmapsTextParser(const std::string& sourceName)
    : m_impl(std::make_unique<Impl>(sourceName))
{
}

SmapsTextParser::~SmapsTextParser() = default;

std::size_t SmapsTextParser::feed(std::string_view text)
{
    std::size_t pos = 0;
    while (pos < text.size()) {
        const std::size_t nl = text.find('\n', pos);
        if (nl == std::string_view::npos)
            break;
        m_impl->line(text.substr(pos, nl - pos), ++m_lineNo);
        pos = nl + 1;
    }
    return pos;
}

Result<std::vector<SnapshotVma>> SmapsTextParser::finish(std::string_view rest)
{
    // The kernel ends every line, so a last line without one was cut short.
    if (!rest.empty())
        m_impl->error(++m_lineNo, rest.size(), "truncated smaps: the last line has no newline");
    m_impl->finish(m_lineNo + 1);
    if (!m_impl->errors().empty())
        return std::move(m_impl->errors());
    return std::move(m_impl->vmas());
}

Result<std::vector<SnapshotVma>> parseSmapsText(std::string_view text, const std::string& sourceName)
{
    SmapsTextParser p(sourceName);
    const std::size_t used = p.feed(text);
    return p.finish(text.substr(used));
}

Result<std::vector<std::pair<std::string, std::string>>> parseStatusText(
    std::string_view text, const std::string& sourceName)
{
    std::vector<std::pair<std::string, std::string>> out;
    int lineNo = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
        ++lineNo;
        std::size_t nl = text.find('\n', pos);
        if (nl == std::string_view::npos)
            nl = text.size();
        const std::string_view line = text.substr(pos, nl - pos);
        pos = nl + 1;
        const std::size_t colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0)
            return Diagnostic { sourceName, lineNo, 1, "malformed status line: expected `Key: value`" };
        out.emplace_back(std::string(line.substr(0, colon)), std::string(trim(line.substr(colon + 1))));
    }
    return out;
}

std::string unescapeName(std::string_view printed)
{
    std::string out;
    out.reserve(printed.size());
    for (std::size_t i = 0; i < printed.size(); ++i) {
        if (printed.substr(i, 4) == "\\012") {
            out += '\n';
            i += 3;
        } else {
            out += printed[i];
        }
    }
    return out;
}

VmaName classifyName(std::string_view printed)
{
    auto labelled = [&](std::string_view prefix) {
        return printed.size() > prefix.size() + 1 && printed.substr(0, prefix.size()) == prefix
            && printed.back() == ']';
    };
    if (printed.empty())
        return { NameKind::None, {} };
    if (labelled("[anon:"))
        return { NameKind::AnonNamed, std::string(printed.substr(6, printed.size() - 7)) };
    if (labelled("[anon_shmem:"))
        return { NameKind::AnonShmemNamed, std::string(printed.substr(12, printed.size() - 13)) };
    if (printed == "[heap]")
        return { NameKind::Heap, std::string(printed) };
    // [stack:TID] is how kernels before 4.5 printed thread stacks.
    if (printed == "[stack]" || labelled("[stack:"))
        return { NameKind::Stack, std::string(printed) };
    if (printed.front() == '[' && printed.back() == ']')
        return { NameKind::Special, std::string(printed) };
    constexpr std::string_view deleted = " (deleted)";
    if (printed.size() > deleted.size() && printed.substr(printed.size() - deleted.size()) == deleted)
        return { NameKind::DeletedFile, unescapeName(printed.substr(0, printed.size() - deleted.size())) };
    return { NameKind::File, unescapeName(printed) };
}

} // namespace vmalab::snapshot
