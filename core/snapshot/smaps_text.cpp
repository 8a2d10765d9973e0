#include "core/snapshot/smaps_text.h"

#include <cctype>
#include <charconv>

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

// A header line starts with "HEX-"; field lines start with a name and a colon.
bool isHeader(std::string_view line)
{
    std::size_t i = 0;
    while (i < line.size() && std::isxdigit(static_cast<unsigned char>(line[i])))
        ++i;
    return i > 0 && i < line.size() && line[i] == '-';
}

class Parser
{
public:
    explicit Parser(const std::string& source)
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

    const std::string& m_source;
    std::vector<SnapshotVma> m_vmas;
    Diagnostics m_errors;
    bool m_open = false;
    bool m_sawFlags = false;
    int m_headerLine = 0;
};

// "START-END PERMS OFFSET MAJ:MIN INODE [padding] NAME"
void Parser::header(std::string_view text, int lineNo)
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
    SnapshotVma s;
    s.vma = std::move(v);
    m_vmas.push_back(std::move(s));
    m_open = true;
    m_sawFlags = false;
    m_headerLine = lineNo;
}

// "Name:  N kB", "THPeligible:  0", "VmFlags: rd wr mr mw me ac", "Future: anything".
void Parser::field(std::string_view text, int lineNo)
{
    const std::size_t colon = text.find(':');
    if (colon == std::string_view::npos || colon == 0
        || text.substr(0, colon).find_first_of(" \t") != std::string_view::npos)
        return error(lineNo, 0, "malformed smaps line: expected a maps line or `Field: value`");
    if (!m_open)
        return error(lineNo, 0, "smaps field before the first maps line");
    if (m_sawFlags)
        return error(lineNo, 0, "smaps field after VmFlags, which ends a VMA's block");
    SnapshotVma& s = m_vmas.back();
    const std::string name(text.substr(0, colon));
    const std::string_view value = trim(text.substr(colon + 1));
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
    if (readNumber(value, &pos, 10, &n) && pos < value.size() && blank(value[pos]) && trim(value.substr(pos)) == "kB") {
        s.vma.smapsKb.emplace_back(name, n);
        return;
    }
    s.textFields.push_back({ name, std::string(value), s.vma.smapsKb.size() });
}

} // namespace

Result<std::vector<SnapshotVma>> parseSmapsText(std::string_view text, const std::string& sourceName)
{
    Parser p(sourceName);
    int lineNo = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
        ++lineNo;
        const std::size_t nl = text.find('\n', pos);
        if (nl == std::string_view::npos) {
            // The kernel ends every line, so a last line without one was cut short.
            p.error(lineNo, text.size() - pos, "truncated smaps: the last line has no newline");
            break;
        }
        p.line(text.substr(pos, nl - pos), lineNo);
        pos = nl + 1;
    }
    p.finish(lineNo + 1);
    if (!p.errors().empty())
        return std::move(p.errors());
    return std::move(p.vmas());
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
