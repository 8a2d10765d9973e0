#include "core/report/recording_check.h"

#include "core/report/json_writer.h"
#include "core/scenario/interpreter.h"
#include "core/scenario/recording_files.h"
#include "core/snapshot/snapshot.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <map>
#include <optional>
#include <set>

namespace vmalab::report {

namespace {

using scenario::Expr;
using scenario::Stmt;

constexpr Addr taskSize = 0x7ffffffff000; // the model leaves out mappings above it ([vsyscall])
constexpr std::uint64_t maxComparedPages = std::uint64_t { 1 } << 20; // per observed range

std::string hex(Addr a)
{
    char buf[24];
    std::snprintf(buf, sizeof buf, "0x%" PRIx64, a);
    return buf;
}

std::string rangeText(Addr s, Addr e)
{
    return hex(s) + "-" + hex(e);
}

// Recordings write literal addresses; a value that needs variables is not compared.
std::optional<std::int64_t> constantValue(const Expr& e)
{
    if (e.kind == Expr::Kind::Number)
        return e.value;
    if (e.kind == Expr::Kind::Binary) {
        const auto l = constantValue(*e.args[0]);
        const auto r = constantValue(*e.args[1]);
        if (!l || !r)
            return std::nullopt;
        if (e.op == "+")
            return static_cast<std::int64_t>(static_cast<std::uint64_t>(*l) + static_cast<std::uint64_t>(*r));
        if (e.op == "*")
            return static_cast<std::int64_t>(static_cast<std::uint64_t>(*l) * static_cast<std::uint64_t>(*r));
    }
    return std::nullopt;
}

using Ranges = std::map<std::string, std::vector<std::pair<Addr, Addr>>>; // by process name

void observedRanges(const std::vector<Stmt>& stmts, const std::string& proc, Ranges& out)
{
    for (const Stmt& s : stmts) {
        if (s.kind == Stmt::Kind::In)
            observedRanges(s.body, s.name, out);
        const Expr* e = s.expr.get();
        if (s.kind != Stmt::Kind::Call || !e || e->kind != Expr::Kind::Call || e->text != "observe"
            || e->args.size() != 3)
            continue;
        const auto addr = constantValue(*e->args[0]);
        const auto len = constantValue(*e->args[1]);
        if (addr && len && *len > 0)
            out[proc].emplace_back(static_cast<Addr>(*addr) & ~Addr { 4095 },
                (static_cast<Addr>(*addr) + static_cast<Addr>(*len) + 4095) & ~Addr { 4095 });
    }
}

const PageRun* runAt(const std::vector<PageRun>& runs, Addr a)
{
    auto it = std::upper_bound(runs.begin(), runs.end(), a, [](Addr v, const PageRun& r) { return v < r.end; });
    return it != runs.end() && it->start <= a ? &*it : nullptr;
}

const ObservedVma* vmaAt(const std::vector<ObservedVma>& vmas, Addr a)
{
    auto it = std::upper_bound(vmas.begin(), vmas.end(), a, [](Addr v, const ObservedVma& x) { return v < x.end; });
    return it != vmas.end() && it->start <= a ? &*it : nullptr;
}

std::string joined(const std::vector<std::string>& words)
{
    std::string out;
    for (const std::string& w : words)
        out += (out.empty() ? "" : " ") + w;
    return out.empty() ? "-" : out;
}

class ProcessComparer
{
public:
    ProcessComparer(RecordingProcessCheck& out)
        : m_out(out)
    {
    }

    void vmas(const std::vector<ObservedVma>& kernel, const std::vector<ObservedVma>& model)
    {
        std::map<std::pair<Addr, Addr>, const ObservedVma*> byRange;
        for (const ObservedVma& v : model)
            byRange[{ v.start, v.end }] = &v;
        std::set<std::pair<Addr, Addr>> matched;
        for (const ObservedVma& k : kernel) {
            ++m_out.kernelVmas;
            const auto it = byRange.find({ k.start, k.end });
            if (it == byRange.end()) {
                add("missing",
                    rangeText(k.start, k.end) + " " + k.perms + " " + k.name
                        + ": the kernel has it, the model does not");
                continue;
            }
            matched.insert(it->first);
            if (fields(k, *it->second))
                ++m_out.exact;
        }
        for (const ObservedVma& v : model) {
            ++m_out.modelVmas;
            if (!matched.count({ v.start, v.end }))
                add("extra",
                    rangeText(v.start, v.end) + " " + v.perms + " " + v.name
                        + ": the model has it, the kernel does not");
        }
    }

    // Pages in the observed ranges where both sides map a VMA; runs of differing pages join.
    void pages(
        const std::vector<std::pair<Addr, Addr>>& ranges, const ObservedProcess& kernel, const ObservedProcess& model)
    {
        for (const auto& [start, end] : ranges) {
            Addr runStart = 0;
            bool inRun = false;
            std::string what;
            auto flush = [&](Addr at) {
                if (inRun)
                    add("pages", rangeText(runStart, at) + ": " + what);
                inRun = false;
            };
            const Addr last = std::min(end, start + maxComparedPages * 4096);
            for (Addr a = start; a < last; a += 4096) {
                const bool mapped = vmaAt(kernel.vmas, a) && vmaAt(model.vmas, a);
                const PageRun* k = runAt(kernel.pages, a);
                const PageRun* m = runAt(model.pages, a);
                const PageState ks = k ? k->state : PageState::None;
                const PageState ms = m ? m->state : PageState::None;
                const std::string now = std::string("model ") + pageStateName(ms) + ", kernel " + pageStateName(ks);
                if (!mapped || ks == ms || (inRun && now != what)) {
                    flush(a);
                    if (!mapped || ks == ms)
                        continue;
                }
                if (!inRun) {
                    inRun = true;
                    runStart = a;
                    what = now;
                }
            }
            flush(last);
        }
    }

private:
    void add(const char* kind, std::string line) { m_out.differences.push_back({ kind, std::move(line) }); }

    // true when every compared field agrees.
    bool fields(const ObservedVma& k, const ObservedVma& m)
    {
        const std::string at = rangeText(k.start, k.end) + ": ";
        bool same = true;
        auto differ = [&](const char* kind, const std::string& what) {
            add(kind, at + what);
            same = false;
        };
        if (k.perms != m.perms)
            differ("perms", "model " + m.perms + ", kernel " + k.perms);
        if (k.offset != m.offset)
            differ("offset", "model " + hex(m.offset) + ", kernel " + hex(k.offset));
        if (k.name != m.name)
            differ("name", "model \"" + m.name + "\", kernel \"" + k.name + "\"");
        if (k.devMajor != m.devMajor || k.devMinor != m.devMinor || k.inode != m.inode) {
            char buf[128];
            std::snprintf(buf, sizeof buf, "file: model %02x:%02x %" PRIu64 ", kernel %02x:%02x %" PRIu64, m.devMajor,
                m.devMinor, m.inode, k.devMajor, k.devMinor, k.inode);
            differ("name", buf);
        }
        std::vector<std::string> lacks, extra;
        for (const std::string& f : k.vmFlags)
            if (std::find(m.vmFlags.begin(), m.vmFlags.end(), f) == m.vmFlags.end())
                lacks.push_back(f);
        for (const std::string& f : m.vmFlags)
            if (std::find(k.vmFlags.begin(), k.vmFlags.end(), f) == k.vmFlags.end())
                extra.push_back(f);
        if (!lacks.empty() || !extra.empty())
            differ("flags",
                "the model lacks " + joined(lacks) + ", has in excess " + joined(extra)
                    + " (kernel: " + joined(k.vmFlags) + ")");
        return same;
    }

    RecordingProcessCheck& m_out;
};

const char* const kindOrder[] = { "missing", "extra", "perms", "flags", "name", "offset", "pages" };

std::size_t notModelledCount(const std::string& text)
{
    std::size_t count = 0;
    for (std::size_t pos = 0; pos < text.size();) {
        const std::size_t eol = std::min(text.find('\n', pos), text.size());
        const std::size_t first = text.find_first_not_of(" \t", pos);
        if (first < eol && text.compare(first, 16, "// not modelled:") == 0)
            ++count;
        pos = eol + 1;
    }
    return count;
}

} // namespace

RecordingCheck checkRecording(
    const scenario::Scenario& recording, const std::string& text, const scenario::RunOutcome& model)
{
    RecordingCheck out;
    out.notModelled = notModelledCount(text);
    for (const Diagnostic& d : model.divergences)
        out.divergences.push_back(scenario::formatDivergence(d));
    const auto endPath = scenario::recordedEndPath(recording);
    const auto startPath = scenario::startFromPath(recording);
    auto fileOf = [&](const std::optional<std::string>& p) -> const std::vector<snapshot::Snapshot>* {
        if (!p)
            return nullptr;
        const auto it = recording.snapshotFiles.find(*p);
        return it == recording.snapshotFiles.end() || !it->second ? nullptr : it->second.get();
    };
    const auto* end = fileOf(endPath);
    const auto* start = fileOf(startPath);
    if (!end || !start) {
        out.errors.push_back(Diagnostic { recording.file, 0, 0,
            "check-recording needs a recording: 'start_from' and 'recorded_end' with their snapshot files" });
        out.exitStatus = 2;
        return out;
    }
    std::map<std::int64_t, const snapshot::SnapshotProcess*> kernel; // the last state of each pid
    for (const snapshot::Snapshot& snap : *end)
        for (const snapshot::SnapshotProcess& p : snap.processes)
            kernel[p.pid] = &p;
    Ranges observed;
    observedRanges(recording.stmts, "main", observed);
    const std::int64_t mainPid = start->back().processes.front().pid;
    for (const ObservedProcess& m : model.processes) {
        RecordingProcessCheck pc;
        pc.name = m.name;
        pc.pid = m.name == "main" ? mainPid : m.pid;
        if (m.name.size() > 1 && m.name[0] == 'p' && m.name.find_first_not_of("0123456789", 1) == std::string::npos)
            pc.pid = std::stoll(m.name.substr(1));
        const auto k = kernel.find(pc.pid);
        if (k == kernel.end()) {
            pc.inKernel = false;
            out.processes.push_back(std::move(pc));
            continue;
        }
        ObservedProcess kp = k->second->observed();
        kp.vmas.erase(
            std::remove_if(kp.vmas.begin(), kp.vmas.end(), [](const ObservedVma& v) { return v.end > taskSize; }),
            kp.vmas.end());
        ProcessComparer cmp(pc);
        cmp.vmas(kp.vmas, m.vmas);
        cmp.pages(observed[m.name], kp, m);
        std::stable_sort(pc.differences.begin(), pc.differences.end(),
            [](const RecordingDifference& a, const RecordingDifference& b) {
                auto rank = [](const std::string& kind) {
                    return std::find(std::begin(kindOrder), std::end(kindOrder), kind) - std::begin(kindOrder);
                };
                return rank(a.kind) < rank(b.kind);
            });
        out.processes.push_back(std::move(pc));
    }
    for (const RecordingProcessCheck& pc : out.processes)
        if (!pc.differences.empty())
            out.exitStatus = 1;
    if (!out.divergences.empty())
        out.exitStatus = 1;
    return out;
}

std::string formatRecordingCheck(const RecordingCheck& check)
{
    std::string out;
    for (const RecordingProcessCheck& p : check.processes) {
        out += "# process " + p.name + " (pid " + std::to_string(p.pid) + ")\n";
        if (!p.inKernel) {
            out += "  the recording's end snapshot has no process " + std::to_string(p.pid) + ": not compared\n";
            continue;
        }
        out += "  VMAs: " + std::to_string(p.kernelVmas) + " in the kernel, " + std::to_string(p.modelVmas)
            + " in the model, " + std::to_string(p.exact) + " exactly right\n";
        for (const char* kind : kindOrder) {
            std::size_t n = 0;
            for (const RecordingDifference& d : p.differences)
                n += d.kind == kind;
            if (!n)
                continue;
            out += "  " + std::string(kind) + " (" + std::to_string(n) + "):\n";
            for (const RecordingDifference& d : p.differences)
                if (d.kind == kind)
                    out += "    " + d.line + "\n";
        }
    }
    out += "divergences: " + std::to_string(check.divergences.size()) + "\n";
    for (const std::string& d : check.divergences)
        out += "  " + d + "\n";
    out += "calls not modelled: " + std::to_string(check.notModelled) + "\n";
    return out;
}

std::string recordingCheckJson(const RecordingCheck& check)
{
    JsonWriter w;
    w.beginObject();
    w.field("exit_status", check.exitStatus);
    w.key("processes");
    w.beginArray();
    for (const RecordingProcessCheck& p : check.processes) {
        w.beginObject();
        w.field("name", std::string_view(p.name));
        w.field("pid", p.pid);
        w.field("in_kernel", p.inKernel);
        w.field("kernel_vmas", static_cast<std::uint64_t>(p.kernelVmas));
        w.field("model_vmas", static_cast<std::uint64_t>(p.modelVmas));
        w.field("exact", static_cast<std::uint64_t>(p.exact));
        w.key("differences");
        w.beginArray();
        for (const RecordingDifference& d : p.differences) {
            w.beginObject(true);
            w.field("kind", std::string_view(d.kind));
            w.field("line", std::string_view(d.line));
            w.endObject();
        }
        w.endArray();
        w.endObject();
    }
    w.endArray();
    w.key("divergences");
    w.beginArray();
    for (const std::string& d : check.divergences)
        w.value(std::string_view(d));
    w.endArray();
    w.field("not_modelled", static_cast<std::uint64_t>(check.notModelled));
    w.endObject();
    return w.text() + "\n";
}

} // namespace vmalab::report
