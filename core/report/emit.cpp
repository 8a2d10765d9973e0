#include "core/report/emit.h"

#include "core/report/ascii.h"
#include "core/report/run_json.h"
#include "core/scenario/outcome.h"

#include <algorithm>
#include <cstdio>
#include <set>

namespace vmalab::report {

namespace {

constexpr const char* kKindNames[] = { "maps", "smaps", "pages", "stats", "ascii", "vars", "json" };
constexpr unsigned kKindCount = sizeof kKindNames / sizeof kKindNames[0];

// The label column of smaps: the kernel pads `Name:` to 16 columns and right-aligns the
// value in 8 (show_val_kb()/SEQ_PUT_DEC()); its one 16-character label,
// `Private_Hugetlb:`, gets one space and a 7-column value, so values always end in column 24.
std::string smapsField(const std::string& name, std::uint64_t value)
{
    std::string label = name + ':';
    const std::size_t labelWidth = std::max<std::size_t>(16, label.size() + 1);
    const int valueWidth = static_cast<int>(labelWidth < 24 ? 24 - labelWidth : 1);
    label.resize(labelWidth, ' ');
    char buf[32];
    std::snprintf(buf, sizeof buf, "%*llu", valueWidth, static_cast<unsigned long long>(value));
    return label + buf;
}

// smaps lines without a " kB" unit; the kernel prints them after all kB fields.
bool isUnitless(const std::string& field)
{
    return field == "THPeligible" || field == "ProtectionKey";
}

std::string trimmed(std::string_view s)
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return std::string(s);
}

} // namespace

const char* emitKindName(EmitKind kind)
{
    const auto i = static_cast<unsigned>(kind);
    return i < kKindCount ? kKindNames[i] : "?";
}

Result<EmitOptions> parseEmitList(std::string_view list)
{
    EmitOptions options;
    Diagnostics errors;
    std::size_t pos = 0;
    while (pos <= list.size()) {
        const std::size_t comma = std::min(list.find(',', pos), list.size());
        const std::string item = trimmed(list.substr(pos, comma - pos));
        pos = comma + 1;
        unsigned k = 0;
        while (k < kKindCount && item != kKindNames[k])
            ++k;
        if (k < kKindCount) {
            options.add(static_cast<EmitKind>(k));
            continue;
        }
        std::string known;
        for (unsigned i = 0; i < kKindCount; ++i)
            known += std::string(i ? ", " : "") + kKindNames[i];
        errors.push_back(Diagnostic { "", 0, 0,
            item.empty() ? "--emit: empty kind in '" + std::string(list) + "' (known: " + known + ")"
                         : "--emit: unknown kind '" + item + "' (known: " + known + ")" });
    }
    if (!errors.empty())
        return errors;
    return options;
}

std::string mapsLine(const ObservedVma& vma)
{
    char buf[160];
    const int n = std::snprintf(buf, sizeof buf, "%08llx-%08llx %s %08llx %02x:%02x %llu ",
        static_cast<unsigned long long>(vma.start), static_cast<unsigned long long>(vma.end), vma.perms.c_str(),
        static_cast<unsigned long long>(vma.offset), vma.devMajor, vma.devMinor,
        static_cast<unsigned long long>(vma.inode));
    std::string line(buf, static_cast<std::size_t>(std::max(n, 0)));
    if (vma.name.empty())
        return line;
    // seq_setwidth(25 + 6 * sizeof(void*) - 1) before the header, seq_pad(' ') after it.
    constexpr std::size_t padUntil = 25 + 6 * 8 - 1;
    if (line.size() < padUntil)
        line.resize(padUntil, ' ');
    line += ' ';
    return line + vma.name;
}

std::string smapsBlock(const ObservedVma& vma)
{
    std::string out = mapsLine(vma) + '\n';
    for (const auto& [name, value] : vma.smapsKb)
        if (!isUnitless(name))
            out += smapsField(name, value) + " kB\n";
    for (const auto& [name, value] : vma.smapsKb)
        if (isUnitless(name))
            out += smapsField(name, value) + '\n';
    out += "VmFlags: ";
    for (const auto& flag : vma.vmFlags)
        out += flag + ' ';
    return out + '\n';
}

std::string pagesBlock(const ObservedProcess& process, bool extras)
{
    // One line per run of pages that print alike; runs never cross a VMA boundary.
    std::set<Addr> vmaStarts;
    for (const ObservedVma& v : process.vmas)
        vmaStarts.insert(v.start);
    struct Line
    {
        Addr start;
        Addr end;
        std::string label;
    };
    std::vector<Line> lines;
    for (const PageRun& run : process.pages) {
        std::string label = pageStateName(run.state);
        if (run.uffdWp)
            label += ",uffd-wp";
        if (extras && run.exclusive)
            label += ",excl";
        if (extras && run.file)
            label += ",file";
        if (!lines.empty() && lines.back().end == run.start && lines.back().label == label && !vmaStarts.count(run.start))
            lines.back().end = run.end;
        else
            lines.push_back({ run.start, run.end, std::move(label) });
    }
    std::string out;
    for (const Line& l : lines) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%08llx-%08llx ", static_cast<unsigned long long>(l.start),
            static_cast<unsigned long long>(l.end));
        out += buf + l.label + '\n';
    }
    return out;
}

std::string hexValue(std::int64_t v)
{
    char buf[24];
    std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
    return buf;
}

std::string varsBlock(const std::vector<scenario::VarRecord>& vars)
{
    std::string out;
    for (const auto& var : vars)
        out += "# var " + var.name + " = " + hexValue(var.value) + '\n';
    return out;
}

std::string statsBlock(const ObservedProcess& process)
{
    std::string out;
    for (const auto& [name, value] : process.stats)
        out += "# stat " + name + " = " + std::to_string(value) + '\n';
    return out;
}

std::string emitRun(const scenario::RunOutcome& run, const EmitOptions& options)
{
    if (options.has(EmitKind::Json))
        return runJson(run, options.modelRun);
    std::string out;
    for (const ObservedProcess& process : run.processes) {
        out += "# process " + process.name + '\n';
        if (options.has(EmitKind::Maps)) {
            out += "## maps\n";
            for (const ObservedVma& vma : process.vmas)
                out += mapsLine(vma) + '\n';
        }
        if (options.has(EmitKind::Smaps)) {
            out += "## smaps\n";
            for (const ObservedVma& vma : process.vmas)
                out += smapsBlock(vma);
        }
        if (options.has(EmitKind::Pages))
            out += "## pages\n" + pagesBlock(process, options.pageExtras);
        // The contract: replay prints nothing for stats, not even the heading.
        if (options.has(EmitKind::Stats) && options.modelRun)
            out += "## stats\n" + statsBlock(process);
        if (options.has(EmitKind::Ascii))
            out += "## ascii\n" + asciiBlock(run, process);
    }
    if (options.has(EmitKind::Vars))
        out += "## vars\n" + varsBlock(run.vars);
    return out;
}

std::string expectFailureLine(const std::string& file, const scenario::ExpectRecord& expect)
{
    std::string out = expect.process.empty() || expect.process == "main" ? "" : expect.process + ": ";
    out += file + ':' + std::to_string(expect.loc.line) + ": expect failed: " + expect.lhsText
        + (expect.equal ? " == " : " != ") + expect.rhsText;
    return out + " (" + hexValue(expect.lhs) + " vs " + hexValue(expect.rhs) + ")";
}

} // namespace vmalab::report
