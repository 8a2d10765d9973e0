#include "core/report/ascii.h"

#include "core/scenario/outcome.h"

#include <algorithm>
#include <cstdio>
#include <vector>

namespace vmalab::report {

namespace {

// A stretch of the window drawn with one VMA letter and one page-state character;
// gaps between VMAs are segments of spaces.
struct Segment
{
    Addr start;
    Addr end;
    char letter;
    char state;
};

char vmaLetter(std::size_t index)
{
    static constexpr char kLetters[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    return kLetters[index % (sizeof kLetters - 1)];
}

// pagemap reads a uffd-wp marker as "swap" with the uffd-wp bit (kernel-model.md §15.3).
char stateChar(const PageRun& run)
{
    switch (run.state) {
    case PageState::Present:
        return run.uffdWp ? 'w' : 'P';
    case PageState::Guard:
        return 'G';
    case PageState::Swap:
        return run.uffdWp ? 'W' : 'S';
    case PageState::None:
        return run.uffdWp ? 'W' : '.';
    }
    return '?';
}

std::string hex08(Addr a)
{
    char buf[24];
    std::snprintf(buf, sizeof buf, "%08llx", static_cast<unsigned long long>(a));
    return buf;
}

void pushSegment(std::vector<Segment>& segs, Segment s)
{
    if (s.start >= s.end)
        return;
    if (!segs.empty() && segs.back().end == s.start && segs.back().letter == s.letter && segs.back().state == s.state) {
        segs.back().end = s.end;
        return;
    }
    segs.push_back(s);
}

std::string legendLine(char letter, const ObservedVma& vma)
{
    std::string flags;
    for (const auto& f : vma.vmFlags)
        flags += (flags.empty() ? "" : ",") + f;
    std::string line = std::string(1, letter) + ' ' + hex08(vma.start) + '-' + hex08(vma.end) + ' ' + vma.perms + ' '
        + (flags.empty() ? "-" : flags);
    return vma.name.empty() ? line : line + ' ' + vma.name;
}

// Segments covering the whole window, plus the legend of the VMAs met, in address order.
std::vector<Segment> buildSegments(const ObservedProcess& process, const Window& w, std::string& legend)
{
    std::vector<Segment> segs;
    Addr cursor = w.start;
    std::size_t letters = 0;
    std::size_t run = 0;
    for (const ObservedVma& vma : process.vmas) {
        if (vma.end <= w.start || vma.start >= w.end())
            continue;
        const Addr s = std::max(vma.start, w.start);
        const Addr e = std::min(vma.end, w.end());
        pushSegment(segs, Segment { cursor, s, ' ', ' ' });
        const char letter = vmaLetter(letters++);
        legend += legendLine(letter, vma) + '\n';
        Addr c = s;
        while (run < process.pages.size() && process.pages[run].end <= c)
            ++run;
        for (std::size_t r = run; r < process.pages.size() && process.pages[r].start < e; ++r) {
            const PageRun& pr = process.pages[r];
            const Addr rs = std::max(pr.start, c);
            const Addr re = std::min(pr.end, e);
            if (re <= rs)
                continue;
            pushSegment(segs, Segment { c, rs, letter, '?' }); // pages no run covers
            pushSegment(segs, Segment { rs, re, letter, stateChar(pr) });
            c = re;
        }
        pushSegment(segs, Segment { c, e, letter, '?' });
        cursor = e;
    }
    pushSegment(segs, Segment { cursor, w.end(), ' ', ' ' });
    return segs;
}

std::string rstrip(std::string s)
{
    while (!s.empty() && s.back() == ' ')
        s.pop_back();
    return s;
}

struct Row
{
    std::string letters;
    std::string states;
};

Row renderRow(const std::vector<Segment>& segs, std::size_t& seg, Addr from, Addr to)
{
    Row row;
    for (Addr a = from; a < to; a += pageSize) {
        while (seg < segs.size() && segs[seg].end <= a)
            ++seg;
        const bool in = seg < segs.size() && segs[seg].start <= a;
        row.letters += in ? segs[seg].letter : ' ';
        row.states += in ? segs[seg].state : ' ';
    }
    return row;
}

std::string ruler(Addr pages)
{
    std::string out;
    for (Addr i = 0; i < pages; ++i)
        out += static_cast<char>('0' + i % 10);
    return out;
}

// Rows of kAsciiRowPages pages. A run of rows lying wholly inside one segment prints once,
// followed by a `*` line, as hexdump does, so a huge window costs a few lines per segment.
std::string drawRows(const std::vector<Segment>& segs, const Window& w)
{
    const Addr rowBytes = kAsciiRowPages * pageSize;
    int width = 8;
    char probe[24];
    width = std::max(width, std::snprintf(probe, sizeof probe, "%llx", static_cast<unsigned long long>(w.end() - 1)));
    const std::string indent(static_cast<std::size_t>(width) + 1, ' ');
    std::string out = indent + ruler(kAsciiRowPages) + '\n';
    std::size_t seg = 0;
    for (Addr p = w.start; p < w.end();) {
        const Addr rowStart = p;
        const Addr q = std::min(p + rowBytes, w.end());
        const Row row = renderRow(segs, seg, p, q);
        char prefix[32];
        std::snprintf(prefix, sizeof prefix, "%0*llx ", width, static_cast<unsigned long long>(p));
        out += rstrip(prefix + row.letters) + '\n';
        const std::string states = rstrip(indent + row.states);
        if (!states.empty()) // a row of nothing but gap needs no state line
            out += states + '\n';
        p = q;
        // renderRow() left `seg` on the segment of the row's last page; if that segment
        // holds the whole row, every following row wholly inside it looks the same.
        const bool uniform = seg < segs.size() && segs[seg].start <= rowStart && q - rowStart == rowBytes;
        if (uniform && p < w.end()) {
            const Addr repeats = (segs[seg].end - p) / rowBytes;
            if (repeats > 0) {
                out += "*\n";
                p += repeats * rowBytes;
            }
        }
    }
    return out;
}

} // namespace

bool isDefaultLayoutVma(const ObservedVma& vma)
{
    static constexpr const char* kSpecial[] = { "[heap]", "[stack]", "[vdso]", "[vvar]", "[vvar_vclock]", "[vsyscall]",
        "[uprobes]" };
    for (const char* name : kSpecial)
        if (vma.name == name)
            return true;
    return vma.name.rfind("/usr/", 0) == 0 || vma.name.rfind("/lib", 0) == 0;
}

std::optional<AsciiWindow> asciiWindowFor(const scenario::RunOutcome& run, const ObservedProcess& process)
{
    if (const Result<Window> arena = findWindow(run))
        return AsciiWindow { *arena, true };
    std::optional<Window> span;
    for (const ObservedVma& vma : process.vmas) {
        if (isDefaultLayoutVma(vma))
            continue;
        if (!span)
            span = Window { vma.start, 0 };
        span->len = vma.end - span->start; // vmas are sorted by address
    }
    if (!span)
        return std::nullopt;
    span->start = pageAlignDown(span->start);
    span->len = pageAlignUp(span->len);
    return AsciiWindow { *span, false };
}

std::string asciiPicture(const ObservedProcess& process, const AsciiWindow& aw)
{
    const Window& w = aw.window;
    const Addr pages = (w.len + pageSize - 1) / pageSize;
    std::string out = "# window " + hex08(w.start) + '-' + hex08(w.end()) + " (" + std::to_string(pages)
        + (pages == 1 ? " page, " : " pages, ")
        + (aw.fromArena ? "arena" : "span of the VMAs outside the default layout") + ")\n";
    std::string legend;
    const std::vector<Segment> segs = buildSegments(process, w, legend);
    if (pages <= kAsciiSingleRowMaxPages) {
        std::size_t seg = 0;
        const Row row = renderRow(segs, seg, w.start, w.start + pages * pageSize);
        out += ruler(pages) + '\n' + rstrip(row.letters) + '\n' + rstrip(row.states) + '\n';
    } else {
        out += drawRows(segs, w);
    }
    return out + legend;
}

std::string asciiBlock(const scenario::RunOutcome& run, const ObservedProcess& process)
{
    const std::optional<AsciiWindow> window = asciiWindowFor(run, process);
    if (!window)
        return "# no window: no arena/arena_len and no VMA outside the default layout\n";
    return asciiPicture(process, *window);
}

} // namespace vmalab::report
