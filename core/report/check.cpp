#include "core/report/check.h"

#include "core/report/emit.h"
#include "core/scenario/outcome.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <tuple>

namespace vmalab::report {

namespace {

std::string hex(std::uint64_t v)
{
    char buf[24];
    std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
    return buf;
}

Difference makeDifference(const std::string& process, std::optional<Addr> offset, const std::string& where,
    const std::string& field, const std::string& first, const std::string& second, const CheckOptions& options,
    const std::string& detail = "")
{
    Difference d { process, offset, field, first, second, "" };
    d.line = where + ": " + field + ": " + options.firstLabel + ' ' + first + ", " + options.secondLabel + ' ' + second
        + (detail.empty() ? "" : " (" + detail + ")");
    return d;
}

Difference atOffset(const std::string& process, Addr offset, const std::string& field, const std::string& first,
    const std::string& second, const CheckOptions& options, const std::string& detail = "")
{
    return makeDifference(process, offset, process + " +" + hex(offset), field, first, second, options, detail);
}

// A VMA clipped to the window, its range rebased on the arena.
struct ClippedVma
{
    Addr start;
    Addr end;
    const ObservedVma* vma;
    Addr base; // the window start the offsets are relative to
    bool whole; // lies wholly inside the window: its smaps counters are compared
};

std::vector<ClippedVma> clipVmas(const ObservedProcess& process, const Window& w)
{
    std::vector<ClippedVma> out;
    for (const ObservedVma& vma : process.vmas) {
        if (vma.end <= w.start || vma.start >= w.end())
            continue;
        const bool whole = vma.start >= w.start && vma.end <= w.end();
        out.push_back(ClippedVma {
            std::max(vma.start, w.start) - w.start, std::min(vma.end, w.end()) - w.start, &vma, w.start, whole });
    }
    return out;
}

std::string rangeText(Addr start, Addr end)
{
    return hex(start) + '-' + hex(end);
}

const ClippedVma* containing(const std::vector<ClippedVma>& vmas, Addr offset)
{
    for (const ClippedVma& c : vmas)
        if (c.start <= offset && offset < c.end)
            return &c;
    return nullptr;
}

std::string rangeOrNone(const ClippedVma* c)
{
    return c ? rangeText(c->start, c->end) : "none";
}

// maps shows a file offset for file-backed VMAs (shmem included) and 0 for anonymous ones.
std::uint64_t offsetAt(const ClippedVma& c, Addr offset)
{
    const ObservedVma& v = *c.vma;
    const bool fileBacked = v.inode != 0 || v.offset != 0;
    return fileBacked ? v.offset + (c.base + offset - v.start) : v.offset;
}

std::string joined(const std::vector<std::string>& words, const char* sep)
{
    std::string out;
    for (const auto& w : words)
        out += (out.empty() ? "" : sep) + w;
    return out;
}

std::string flagsDetail(const std::vector<std::string>& a, const std::vector<std::string>& b, const CheckOptions& o)
{
    std::vector<std::string> onlyA, onlyB;
    for (const auto& f : a)
        if (std::find(b.begin(), b.end(), f) == b.end())
            onlyA.push_back(f);
    for (const auto& f : b)
        if (std::find(a.begin(), a.end(), f) == a.end())
            onlyB.push_back(f);
    std::string out;
    if (!onlyA.empty())
        out += o.firstLabel + " only: " + joined(onlyA, " ");
    if (!onlyB.empty())
        out += (out.empty() ? "" : "; ") + o.secondLabel + " only: " + joined(onlyB, " ");
    return out.empty() ? "same flags, other order" : out;
}

// Attributes of two overlapping VMAs, compared where they overlap.
void compareVmaPair(const std::string& proc, const ClippedVma& a, const ClippedVma& b, const CheckOptions& o,
    std::vector<Difference>& out)
{
    const Addr at = std::max(a.start, b.start);
    const ObservedVma& va = *a.vma;
    const ObservedVma& vb = *b.vma;
    if (va.perms != vb.perms)
        out.push_back(atOffset(proc, at, "vma perms", va.perms, vb.perms, o));
    if (offsetAt(a, at) != offsetAt(b, at))
        out.push_back(atOffset(proc, at, "vma offset", hex(offsetAt(a, at)), hex(offsetAt(b, at)), o));
    if (comparableName(va.name) != comparableName(vb.name)) {
        const auto shown = [](const std::string& n) { return n.empty() ? std::string("(none)") : comparableName(n); };
        out.push_back(atOffset(proc, at, "vma name", shown(va.name), shown(vb.name), o));
    }
    if (va.vmFlags != vb.vmFlags)
        out.push_back(atOffset(proc, at, "vma flags", joined(va.vmFlags, " "), joined(vb.vmFlags, " "), o,
            flagsDetail(va.vmFlags, vb.vmFlags, o)));
    if (a.start != b.start || a.end != b.end || !a.whole || !b.whole)
        return;
    for (const char* field : { "Rss", "Anonymous", "Locked" })
        if (va.kb(field) != vb.kb(field))
            out.push_back(atOffset(proc, at, std::string("vma ") + field, std::to_string(va.kb(field)) + " kB",
                std::to_string(vb.kb(field)) + " kB", o));
}

// Ranges that exist on one side only: one line per start address that differs.
void compareRanges(const std::string& proc, const std::vector<ClippedVma>& a, const std::vector<ClippedVma>& b,
    const CheckOptions& o, std::vector<Difference>& out)
{
    std::set<std::pair<Addr, Addr>> rangesA, rangesB;
    for (const ClippedVma& c : a)
        rangesA.insert({ c.start, c.end });
    for (const ClippedVma& c : b)
        rangesB.insert({ c.start, c.end });
    std::set<Addr> reported;
    for (const ClippedVma& c : a)
        if (!rangesB.count({ c.start, c.end })) {
            out.push_back(atOffset(
                proc, c.start, "vma range", rangeText(c.start, c.end), rangeOrNone(containing(b, c.start)), o));
            reported.insert(c.start);
        }
    for (const ClippedVma& c : b)
        if (!rangesA.count({ c.start, c.end }) && !reported.count(c.start))
            out.push_back(atOffset(
                proc, c.start, "vma range", rangeOrNone(containing(a, c.start)), rangeText(c.start, c.end), o));
}

struct PagePiece
{
    Addr start;
    Addr end;
    std::string state; // as `pages` prints it, extras left out
};

std::vector<PagePiece> clipPages(const ObservedProcess& process, const Window& w)
{
    std::vector<PagePiece> out;
    for (const PageRun& run : process.pages) {
        if (run.end <= w.start || run.start >= w.end())
            continue;
        out.push_back(PagePiece { std::max(run.start, w.start) - w.start, std::min(run.end, w.end()) - w.start,
            std::string(pageStateName(run.state)) + (run.uffdWp ? ",uffd-wp" : "") });
    }
    return out;
}

// Pages mapped on both sides whose states differ, one line per run of pages with the
// same pair of states. Pages mapped on one side only show up as `vma range` already.
void comparePages(const std::string& proc, const std::vector<PagePiece>& a, const std::vector<PagePiece>& b,
    const CheckOptions& o, std::vector<Difference>& out)
{
    struct Piece
    {
        Addr start, end;
        const std::string* first;
        const std::string* second;
    };
    std::vector<Piece> pieces;
    for (std::size_t i = 0, j = 0; i < a.size() && j < b.size();) {
        const Addr lo = std::max(a[i].start, b[j].start);
        const Addr hi = std::min(a[i].end, b[j].end);
        if (lo < hi && a[i].state != b[j].state) {
            if (!pieces.empty() && pieces.back().end == lo && *pieces.back().first == a[i].state
                && *pieces.back().second == b[j].state)
                pieces.back().end = hi;
            else
                pieces.push_back(Piece { lo, hi, &a[i].state, &b[j].state });
        }
        if (a[i].end < b[j].end)
            ++i;
        else
            ++j;
    }
    for (const Piece& p : pieces) {
        const Addr n = (p.end - p.start) / pageSize;
        out.push_back(atOffset(proc, p.start, "page state", *p.first, *p.second, o,
            std::to_string(n) + (n == 1 ? " page" : " pages") + ", to +" + hex(p.end)));
    }
}

// What `check` compares of a variable's value; nullopt where the value is not compared.
std::optional<std::string> comparedValue(const scenario::VarRecord& var, const Window& w)
{
    if (isErrorValue(var.value))
        return std::to_string(var.value);
    if (var.kind != scenario::VarKind::Plain)
        return std::nullopt;
    if (var.value >= 0 && var.value <= 4095)
        return std::to_string(var.value);
    if (w.contains(static_cast<Addr>(var.value)))
        return "arena+" + hex(static_cast<Addr>(var.value) - w.start);
    return std::nullopt;
}

std::string shownValue(const scenario::VarRecord* var, const Window& w)
{
    if (!var)
        return "unset";
    if (auto v = comparedValue(*var, w))
        return *v;
    if (var->kind == scenario::VarKind::Handle)
        return std::to_string(var->value) + " (handle)";
    if (var->kind == scenario::VarKind::Pid)
        return std::to_string(var->value) + " (pid)";
    return hexValue(var->value) + " (outside the window)";
}

void compareVar(const std::string& name, const scenario::RunOutcome& first, const Window& wa,
    const scenario::RunOutcome& second, const Window& wb, const CheckOptions& o, std::vector<Difference>& out)
{
    const scenario::VarRecord* a = findVar(first, name);
    const scenario::VarRecord* b = findVar(second, name);
    // A handle on either side is treated as a handle: only errors are compared.
    std::optional<scenario::VarRecord> va, vb;
    if (a)
        va = *a;
    if (b)
        vb = *b;
    if (va && vb && (va->kind != scenario::VarKind::Plain || vb->kind != scenario::VarKind::Plain)) {
        const scenario::VarKind kind = va->kind != scenario::VarKind::Plain ? va->kind : vb->kind;
        va->kind = kind;
        vb->kind = kind;
    }
    const std::optional<std::string> ca = va ? comparedValue(*va, wa) : std::nullopt;
    const std::optional<std::string> cb = vb ? comparedValue(*vb, wb) : std::nullopt;
    if (!ca && !cb)
        return;
    if (ca && cb && *ca == *cb)
        return;
    const std::string sa = shownValue(va ? &*va : nullptr, wa);
    const std::string sb = shownValue(vb ? &*vb : nullptr, wb);
    out.push_back(makeDifference("", std::nullopt, "vars", "var " + name, sa, sb, o));
}

const char* verdict(const scenario::ExpectRecord* e)
{
    return !e ? "not run" : e->passed ? "passed" : "failed";
}

using ExpectKey = std::tuple<std::string, int, int, int>; // process, line, col, occurrence

std::vector<ExpectKey> expectKeys(const std::vector<scenario::ExpectRecord>& expects)
{
    std::map<std::tuple<std::string, int, int>, int> seen;
    std::vector<ExpectKey> keys;
    for (const auto& e : expects) {
        const int n = seen[{ e.process, e.loc.line, e.loc.col }]++;
        keys.emplace_back(e.process, e.loc.line, e.loc.col, n);
    }
    return keys;
}

Difference expectDifference(const scenario::ExpectRecord* a, const scenario::ExpectRecord* b, const CheckOptions& o)
{
    const scenario::ExpectRecord& e = a ? *a : *b;
    std::string detail = e.lhsText + (e.equal ? " == " : " != ") + e.rhsText;
    const auto values = [](const scenario::ExpectRecord* r) {
        return r ? hexValue(r->lhs) + " vs " + hexValue(r->rhs) : std::string("-");
    };
    detail += "; " + o.firstLabel + ' ' + values(a) + ", " + o.secondLabel + ' ' + values(b);
    const std::string where = e.process + ' ' + std::to_string(e.loc.line) + ':' + std::to_string(e.loc.col);
    return makeDifference(e.process, std::nullopt, where, "expect", verdict(a), verdict(b), o, detail);
}

void addSideNotes(
    const scenario::RunOutcome& run, const std::string& label, const std::string& file, std::vector<std::string>& notes)
{
    for (const auto& note : run.notes)
        notes.push_back(label + ": " + note);
    for (const Diagnostic& d : run.errors)
        notes.push_back(label + ": " + d.format());
    for (const auto& e : run.expects)
        if (!e.passed)
            notes.push_back(label + ": " + expectFailureLine(file, e));
}

bool anyExpectFailed(const scenario::RunOutcome& run)
{
    return run.exitStatus == 1
        || std::any_of(run.expects.begin(), run.expects.end(), [](const auto& e) { return !e.passed; });
}

} // namespace

std::vector<std::string> CheckResult::lines() const
{
    std::vector<std::string> out;
    for (const Difference& d : differences)
        out.push_back(d.line);
    return out;
}

std::string comparableName(const std::string& name)
{
    if (name.empty() || name[0] != '/')
        return name;
    for (const char* special : { "/memfd:", "/dev/zero", "/SYSV" })
        if (name.rfind(special, 0) == 0)
            return name;
    return name.substr(name.rfind('/') + 1);
}

std::vector<Difference> processDifferences(const ObservedProcess& first, const Window& firstWindow,
    const ObservedProcess& second, const Window& secondWindow, const CheckOptions& options)
{
    std::vector<Difference> out;
    const std::string& proc = first.name;
    const std::vector<ClippedVma> a = clipVmas(first, firstWindow);
    const std::vector<ClippedVma> b = clipVmas(second, secondWindow);
    compareRanges(proc, a, b, options, out);
    std::size_t j = 0;
    for (const ClippedVma& ca : a) {
        while (j < b.size() && b[j].end <= ca.start)
            ++j;
        for (std::size_t k = j; k < b.size() && b[k].start < ca.end; ++k)
            compareVmaPair(proc, ca, b[k], options, out);
    }
    comparePages(proc, clipPages(first, firstWindow), clipPages(second, secondWindow), options, out);
    // Line order by offset, then as found, so a reader walks the window once.
    std::stable_sort(out.begin(), out.end(),
        [](const Difference& x, const Difference& y) { return x.offset.value_or(0) < y.offset.value_or(0); });
    return out;
}

std::vector<Difference> varDifferences(const scenario::RunOutcome& first, const Window& firstWindow,
    const scenario::RunOutcome& second, const Window& secondWindow, const CheckOptions& options)
{
    std::vector<Difference> out;
    // arena_len is the window itself: a different window makes every offset suspect.
    if (firstWindow.len != secondWindow.len)
        out.push_back(makeDifference(
            "", std::nullopt, "vars", "var arena_len", hex(firstWindow.len), hex(secondWindow.len), options));
    for (const auto& var : first.vars)
        compareVar(var.name, first, firstWindow, second, secondWindow, options, out);
    for (const auto& var : second.vars)
        if (!findVar(first, var.name))
            compareVar(var.name, first, firstWindow, second, secondWindow, options, out);
    return out;
}

std::vector<Difference> expectDifferences(
    const scenario::RunOutcome& first, const scenario::RunOutcome& second, const CheckOptions& options)
{
    std::vector<Difference> out;
    const std::vector<ExpectKey> keysA = expectKeys(first.expects);
    const std::vector<ExpectKey> keysB = expectKeys(second.expects);
    std::map<ExpectKey, std::size_t> indexB;
    for (std::size_t i = 0; i < keysB.size(); ++i)
        indexB[keysB[i]] = i;
    std::set<std::size_t> matchedB;
    for (std::size_t i = 0; i < keysA.size(); ++i) {
        const auto it = indexB.find(keysA[i]);
        const scenario::ExpectRecord* b = it == indexB.end() ? nullptr : &second.expects[it->second];
        if (b)
            matchedB.insert(it->second);
        if (!b || b->passed != first.expects[i].passed)
            out.push_back(expectDifference(&first.expects[i], b, options));
    }
    for (std::size_t i = 0; i < keysB.size(); ++i)
        if (!matchedB.count(i))
            out.push_back(expectDifference(nullptr, &second.expects[i], options));
    return out;
}

std::vector<Difference> windowDifferences(const scenario::RunOutcome& first, const Window& firstWindow,
    const scenario::RunOutcome& second, const Window& secondWindow, const CheckOptions& options)
{
    std::vector<Difference> out;
    std::vector<bool> used(second.processes.size(), false);
    for (const ObservedProcess& pa : first.processes) {
        std::size_t k = 0;
        while (k < second.processes.size() && (used[k] || second.processes[k].name != pa.name))
            ++k;
        if (k == second.processes.size()) {
            out.push_back(makeDifference(pa.name, std::nullopt, pa.name, "process", "present", "missing", options));
            continue;
        }
        used[k] = true;
        const auto diffs = processDifferences(pa, firstWindow, second.processes[k], secondWindow, options);
        out.insert(out.end(), diffs.begin(), diffs.end());
    }
    for (std::size_t k = 0; k < second.processes.size(); ++k)
        if (!used[k]) {
            const std::string& name = second.processes[k].name;
            out.push_back(makeDifference(name, std::nullopt, name, "process", "missing", "present", options));
        }
    const auto vars = varDifferences(first, firstWindow, second, secondWindow, options);
    out.insert(out.end(), vars.begin(), vars.end());
    const auto expects = expectDifferences(first, second, options);
    out.insert(out.end(), expects.begin(), expects.end());
    return out;
}

std::string differenceSignature(const std::vector<Difference>& differences)
{
    std::set<std::string> fields;
    for (const Difference& d : differences)
        fields.insert(d.field);
    std::string out;
    for (const auto& f : fields)
        out += (out.empty() ? "" : ";") + f;
    return out;
}

CheckResult compareRuns(
    const scenario::RunOutcome& first, const scenario::RunOutcome& second, const CheckOptions& options)
{
    CheckResult result;
    const bool sameErrors = !first.errors.empty() && first.errors.size() == second.errors.size()
        && std::equal(first.errors.begin(), first.errors.end(), second.errors.begin(),
            [](const Diagnostic& x, const Diagnostic& y) { return x.format() == y.format(); });
    if (sameErrors) {
        // A malformed scenario: both sides found the same errors before running.
        for (const Diagnostic& d : first.errors)
            result.notes.push_back(d.format());
        scenario::RunOutcome a = first, b = second;
        a.errors.clear();
        b.errors.clear();
        addSideNotes(a, options.firstLabel, options.file, result.notes);
        addSideNotes(b, options.secondLabel, options.file, result.notes);
    } else {
        addSideNotes(first, options.firstLabel, options.file, result.notes);
        addSideNotes(second, options.secondLabel, options.file, result.notes);
    }
    if (first.exitStatus == 2 || second.exitStatus == 2) {
        result.exitStatus = 2;
        return result;
    }
    if (first.exitStatus == 77 || second.exitStatus == 77) {
        result.notes.push_back("skipped: " + (first.exitStatus == 77 ? first.skipReason : second.skipReason));
        result.exitStatus = 77;
        return result;
    }
    const Result<Window> wa = findWindow(first);
    const Result<Window> wb = findWindow(second);
    if (!wa || !wb) {
        const bool missing = !findVar(first, "arena") || !findVar(first, "arena_len") || !findVar(second, "arena")
            || !findVar(second, "arena_len");
        if (missing)
            result.notes.push_back(options.file + " has no arena/arena_len: check needs a window");
        if (!missing && !wa)
            result.notes.push_back(options.file + ": " + options.firstLabel + ": " + wa.error().front().message);
        if (!missing && !wb)
            result.notes.push_back(options.file + ": " + options.secondLabel + ": " + wb.error().front().message);
        result.exitStatus = 2;
        return result;
    }
    result.differences = windowDifferences(first, *wa, second, *wb, options);
    const bool failed = anyExpectFailed(first) || anyExpectFailed(second);
    result.exitStatus = result.differences.empty() && !failed ? 0 : 1;
    return result;
}

} // namespace vmalab::report
