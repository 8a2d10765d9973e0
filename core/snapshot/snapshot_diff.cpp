#include "core/snapshot/snapshot_diff.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

namespace vmalab::snapshot {

namespace {

VmaRef ref(const SnapshotVma& v)
{
    return { v.vma.start, v.vma.end, v.vma.perms, v.vma.name };
}

bool hasFlag(const ObservedVma& v, const char* mnemonic)
{
    return std::find(v.vmFlags.begin(), v.vmFlags.end(), mnemonic) != v.vmFlags.end();
}

// Ranges of [s, e) not covered by the sorted, disjoint VMAs `by`.
std::vector<std::pair<Addr, Addr>> uncovered(Addr s, Addr e, const std::vector<const SnapshotVma*>& by)
{
    std::vector<std::pair<Addr, Addr>> out;
    Addr cursor = s;
    for (const SnapshotVma* v : by) {
        if (v->vma.end <= cursor || v->vma.start >= e)
            continue;
        if (v->vma.start > cursor)
            out.emplace_back(cursor, v->vma.start);
        cursor = std::max(cursor, v->vma.end);
    }
    if (cursor < e)
        out.emplace_back(cursor, e);
    return out;
}

// The state of every page of [s, e) in sorted runs, visited as maximal segments.
template <typename F>
void walkStates(const std::vector<SnapshotPageRun>& a, const std::vector<SnapshotPageRun>& b, Addr s, Addr e, F&& f)
{
    auto firstAt = [](const std::vector<SnapshotPageRun>& runs, Addr x) {
        return std::lower_bound(
            runs.begin(), runs.end(), x, [](const SnapshotPageRun& r, Addr v) { return r.run.end <= v; });
    };
    auto ia = firstAt(a, s), ib = firstAt(b, s);
    Addr x = s;
    while (x < e) {
        while (ia != a.end() && ia->run.end <= x)
            ++ia;
        while (ib != b.end() && ib->run.end <= x)
            ++ib;
        auto stateAt = [x](auto it, auto end, Addr* next) {
            if (it == end || it->run.start > x) {
                *next = it == end ? ~Addr { 0 } : it->run.start;
                return PageState::None;
            }
            *next = it->run.end;
            return it->run.state;
        };
        Addr na = 0, nb = 0;
        const PageState sa = stateAt(ia, a.end(), &na);
        const PageState sb = stateAt(ib, b.end(), &nb);
        const Addr y = std::min({ na, nb, e });
        f(x, y, sa, sb);
        x = y;
    }
}

std::string flagDelta(const std::set<std::string>& from, const std::set<std::string>& to)
{
    std::string out;
    for (const std::string& f : from)
        if (!to.count(f))
            out += (out.empty() ? "" : " ") + f;
    return out;
}

class ProcessDiff
{
public:
    ProcessDiff(const SnapshotProcess& a, const SnapshotProcess& b, std::vector<DiffEvent>& out)
        : m_a(a)
        , m_b(b)
        , m_out(out)
    {
    }
    void run();

private:
    DiffEvent& event(EventKind k)
    {
        DiffEvent e;
        e.kind = k;
        e.pid = m_b.pid;
        e.comm = m_b.name;
        m_out.push_back(std::move(e));
        return m_out.back();
    }
    void component(const std::vector<const SnapshotVma*>& olds, const std::vector<const SnapshotVma*>& news);
    void attributes(const SnapshotVma& o, const SnapshotVma& n);
    void pages(const std::vector<const SnapshotVma*>& olds, const std::vector<const SnapshotVma*>& news);
    void findMoves(std::size_t first);

    const SnapshotProcess& m_a;
    const SnapshotProcess& m_b;
    std::vector<DiffEvent>& m_out;
};

// VMAs of both snapshots fall into components: maximal groups linked by overlapping
// ranges. Each component is one thing that happened (or nothing).
void ProcessDiff::run()
{
    const std::size_t first = m_out.size();
    std::size_t i = 0, j = 0;
    while (i < m_a.vmas.size() || j < m_b.vmas.size()) {
        std::vector<const SnapshotVma*> olds, news;
        const bool takeOld =
            j >= m_b.vmas.size() || (i < m_a.vmas.size() && m_a.vmas[i].vma.start <= m_b.vmas[j].vma.start);
        Addr end = takeOld ? m_a.vmas[i].vma.end : m_b.vmas[j].vma.end;
        (takeOld ? olds : news).push_back(takeOld ? &m_a.vmas[i++] : &m_b.vmas[j++]);
        for (;;) {
            if (i < m_a.vmas.size() && m_a.vmas[i].vma.start < end) {
                end = std::max(end, m_a.vmas[i].vma.end);
                olds.push_back(&m_a.vmas[i++]);
            } else if (j < m_b.vmas.size() && m_b.vmas[j].vma.start < end) {
                end = std::max(end, m_b.vmas[j].vma.end);
                news.push_back(&m_b.vmas[j++]);
            } else {
                break;
            }
        }
        component(olds, news);
    }
    findMoves(first);
}

void ProcessDiff::component(const std::vector<const SnapshotVma*>& olds, const std::vector<const SnapshotVma*>& news)
{
    if (olds.empty()) {
        DiffEvent& e = event(EventKind::Mapped);
        e.after.push_back(ref(*news.front()));
        e.pages = countPages(m_b.pages, news.front()->vma.start, news.front()->vma.end).present;
        return;
    }
    if (news.empty()) {
        event(EventKind::Unmapped).before.push_back(ref(*olds.front()));
        return;
    }
    std::vector<VmaRef> before, after;
    for (const SnapshotVma* v : olds)
        before.push_back(ref(*v));
    for (const SnapshotVma* v : news)
        after.push_back(ref(*v));
    if (olds.size() > 1 || news.size() > 1) {
        const EventKind k = olds.size() == 1 ? EventKind::Split
            : news.size() == 1               ? EventKind::Merged
                                             : EventKind::Rearranged;
        DiffEvent& e = event(k);
        e.before = before;
        e.after = after;
    }
    // Pages in the new VMAs that no old VMA covered, and the other way round.
    std::vector<std::pair<Addr, Addr>> added;
    for (const SnapshotVma* n : news)
        for (auto r : uncovered(n->vma.start, n->vma.end, olds))
            added.push_back(r);
    if (!added.empty()) {
        DiffEvent& e = event(EventKind::Grew);
        e.before = before;
        e.after = after;
        e.ranges = added;
    }
    std::vector<std::pair<Addr, Addr>> removed;
    for (const SnapshotVma* o : olds)
        for (auto r : uncovered(o->vma.start, o->vma.end, news))
            removed.push_back(r);
    if (!removed.empty()) {
        DiffEvent& e = event(EventKind::Shrank);
        e.before = before;
        e.after = after;
        e.ranges = removed;
    }
    for (const SnapshotVma* o : olds)
        for (const SnapshotVma* n : news)
            if (o->vma.start < n->vma.end && n->vma.start < o->vma.end)
                attributes(*o, *n);
    pages(olds, news);
}

// Appends [s, e) to the last event of kind k with the same from/to when it continues it.
void addRangeEvent(std::vector<DiffEvent>& out, DiffEvent e, Addr s, Addr end)
{
    if (!out.empty()) {
        DiffEvent& last = out.back();
        if (last.kind == e.kind && last.pid == e.pid && last.from == e.from && last.to == e.to && !last.ranges.empty()
            && last.ranges.back().second == s) {
            last.ranges.back().second = end;
            for (const VmaRef& r : e.before)
                if (std::find(last.before.begin(), last.before.end(), r) == last.before.end())
                    last.before.push_back(r);
            for (const VmaRef& r : e.after)
                if (std::find(last.after.begin(), last.after.end(), r) == last.after.end())
                    last.after.push_back(r);
            return;
        }
    }
    e.ranges.emplace_back(s, end);
    out.push_back(std::move(e));
}

void ProcessDiff::attributes(const SnapshotVma& o, const SnapshotVma& n)
{
    const Addr s = std::max(o.vma.start, n.vma.start), e = std::min(o.vma.end, n.vma.end);
    auto make = [&](EventKind k, std::string from, std::string to) {
        DiffEvent d;
        d.kind = k;
        d.pid = m_b.pid;
        d.comm = m_b.name;
        d.before.push_back(ref(o));
        d.after.push_back(ref(n));
        d.from = std::move(from);
        d.to = std::move(to);
        addRangeEvent(m_out, std::move(d), s, e);
    };
    if (o.vma.perms != n.vma.perms)
        make(EventKind::ProtectionChanged, o.vma.perms, n.vma.perms);
    if (o.vma.name != n.vma.name)
        make(EventKind::NameChanged, o.vma.name, n.vma.name);
    const bool guardBefore = hasFlag(o.vma, "gu"), guardAfter = hasFlag(n.vma, "gu");
    if (!guardBefore && guardAfter)
        make(EventKind::GuardInstalled, "", "gu");
    if (guardBefore && !guardAfter)
        make(EventKind::GuardRemoved, "gu", "");
    // rd/wr/ex follow the perms, and gu has its own events.
    auto flagSet = [](const ObservedVma& v) {
        std::set<std::string> f(v.vmFlags.begin(), v.vmFlags.end());
        for (const char* skip : { "rd", "wr", "ex", "gu" })
            f.erase(skip);
        return f;
    };
    const auto fo = flagSet(o.vma), fn = flagSet(n.vma);
    if (fo != fn)
        make(EventKind::FlagsChanged, flagDelta(fo, fn), flagDelta(fn, fo));
}

void ProcessDiff::pages(const std::vector<const SnapshotVma*>& olds, const std::vector<const SnapshotVma*>& news)
{
    std::map<EventKind, DiffEvent> found;
    for (const SnapshotVma* o : olds) {
        for (const SnapshotVma* n : news) {
            const Addr s = std::max(o->vma.start, n->vma.start), e = std::min(o->vma.end, n->vma.end);
            if (s >= e)
                continue;
            walkStates(m_a.pages, m_b.pages, s, e, [&](Addr x, Addr y, PageState from, PageState to) {
                if (from == to)
                    return;
                EventKind k;
                if (to == PageState::Guard)
                    k = EventKind::GuardInstalled;
                else if (from == PageState::Guard)
                    k = EventKind::GuardRemoved;
                else if (to == PageState::Present)
                    k = from == PageState::Swap ? EventKind::PagesSwappedIn : EventKind::PagesFaulted;
                else if (to == PageState::Swap)
                    k = EventKind::PagesSwappedOut;
                else
                    k = EventKind::PagesReclaimed;
                DiffEvent& d = found[k];
                d.kind = k;
                d.pages += (y - x) >> pageShift;
                if (!d.ranges.empty() && d.ranges.back().second == x)
                    d.ranges.back().second = y;
                else
                    d.ranges.emplace_back(x, y);
                if (d.after.empty() || !(d.after.back() == ref(*n)))
                    d.after.push_back(ref(*n));
            });
        }
    }
    for (auto& [k, d] : found) {
        d.pid = m_b.pid;
        d.comm = m_b.name;
        d.from = k == EventKind::GuardInstalled || k == EventKind::GuardRemoved ? "pages" : "";
        m_out.push_back(std::move(d));
    }
}

// An unmapped VMA and a mapped one with the same size and mapping are one mremap() move.
void ProcessDiff::findMoves(std::size_t first)
{
    auto vmaOf = [](const SnapshotProcess& p, const VmaRef& r) -> const ObservedVma* {
        auto it = std::lower_bound(
            p.vmas.begin(), p.vmas.end(), r.start, [](const SnapshotVma& v, Addr a) { return v.vma.start < a; });
        return it != p.vmas.end() && it->vma.start == r.start ? &it->vma : nullptr;
    };
    for (std::size_t i = first; i < m_out.size(); ++i) {
        if (m_out[i].kind != EventKind::Unmapped)
            continue;
        const ObservedVma* o = vmaOf(m_a, m_out[i].before.front());
        for (std::size_t j = first; o && j < m_out.size(); ++j) {
            if (m_out[j].kind != EventKind::Mapped)
                continue;
            const ObservedVma* n = vmaOf(m_b, m_out[j].after.front());
            if (!n || n->end - n->start != o->end - o->start || n->perms != o->perms || n->name != o->name
                || n->inode != o->inode || n->devMajor != o->devMajor || n->devMinor != o->devMinor
                || (n->inode != 0 && n->offset != o->offset))
                continue;
            m_out[i].kind = EventKind::Moved;
            m_out[i].after = m_out[j].after;
            m_out[i].pages = countPages(m_b.pages, n->start, n->end).present;
            m_out.erase(m_out.begin() + std::ptrdiff_t(j));
            break;
        }
    }
    // Keep the events in address order of the first range they name.
    auto key = [](const DiffEvent& e) {
        if (!e.ranges.empty())
            return e.ranges.front().first;
        return !e.before.empty() ? e.before.front().start : e.after.empty() ? 0 : e.after.front().start;
    };
    std::stable_sort(m_out.begin() + std::ptrdiff_t(first), m_out.end(),
        [&](const DiffEvent& x, const DiffEvent& y) { return key(x) < key(y); });
}

std::string hexAddr(Addr a)
{
    char buf[24];
    std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(a));
    return buf;
}

std::string rangeText(Addr s, Addr e)
{
    return "[" + hexAddr(s) + ", " + hexAddr(e) + ")";
}

std::string vmaText(const VmaRef& r)
{
    std::string out = rangeText(r.start, r.end) + " " + r.perms;
    if (!r.name.empty())
        out += " " + r.name;
    return out;
}

std::string vmaList(const std::vector<VmaRef>& refs)
{
    std::string out;
    for (const VmaRef& r : refs)
        out += (out.empty() ? "" : " | ") + vmaText(r);
    return out;
}

std::string rangeList(const std::vector<std::pair<Addr, Addr>>& ranges)
{
    std::string out;
    for (auto [s, e] : ranges)
        out += (out.empty() ? "" : ", ") + rangeText(s, e);
    return out;
}

std::string eventLine(const DiffEvent& e)
{
    const std::string pages = std::to_string(e.pages) + (e.pages == 1 ? " page" : " pages");
    switch (e.kind) {
    case EventKind::ProcessStarted:
    case EventKind::ProcessExited:
        return "";
    case EventKind::Mapped:
        return vmaText(e.after.front()) + (e.pages ? " (" + pages + " present)" : "");
    case EventKind::Unmapped:
        return vmaText(e.before.front());
    case EventKind::Moved:
        return vmaText(e.before.front()) + " -> " + rangeText(e.after.front().start, e.after.front().end);
    case EventKind::Split:
    case EventKind::Merged:
    case EventKind::Rearranged:
        return vmaList(e.before) + " -> " + vmaList(e.after);
    case EventKind::Grew:
        return "by " + rangeList(e.ranges) + ": " + vmaList(e.before) + " -> " + vmaList(e.after);
    case EventKind::Shrank:
        return "by " + rangeList(e.ranges) + ": " + vmaList(e.before) + " -> " + vmaList(e.after);
    case EventKind::ProtectionChanged:
        return rangeList(e.ranges) + " " + e.from + " -> " + e.to;
    case EventKind::FlagsChanged:
        return rangeList(e.ranges) + (e.to.empty() ? "" : " +" + e.to) + (e.from.empty() ? "" : " -" + e.from);
    case EventKind::NameChanged:
        return rangeList(e.ranges) + " \"" + e.from + "\" -> \"" + e.to + "\"";
    case EventKind::GuardInstalled:
    case EventKind::GuardRemoved:
        return e.from == "pages" ? pages + " in " + rangeList(e.ranges) : rangeList(e.ranges) + " (VmFlags gu)";
    case EventKind::PagesFaulted:
    case EventKind::PagesReclaimed:
    case EventKind::PagesSwappedOut:
    case EventKind::PagesSwappedIn:
        return pages + " in " + rangeList(e.ranges);
    }
    return "";
}

} // namespace

const char* eventKindName(EventKind k)
{
    switch (k) {
    case EventKind::ProcessStarted:
        return "started";
    case EventKind::ProcessExited:
        return "exited";
    case EventKind::Mapped:
        return "mapped";
    case EventKind::Unmapped:
        return "unmapped";
    case EventKind::Moved:
        return "moved";
    case EventKind::Split:
        return "split";
    case EventKind::Merged:
        return "merged";
    case EventKind::Rearranged:
        return "rearranged";
    case EventKind::Grew:
        return "grew";
    case EventKind::Shrank:
        return "shrank";
    case EventKind::ProtectionChanged:
        return "protection";
    case EventKind::FlagsChanged:
        return "flags";
    case EventKind::NameChanged:
        return "renamed";
    case EventKind::GuardInstalled:
        return "guard-installed";
    case EventKind::GuardRemoved:
        return "guard-removed";
    case EventKind::PagesFaulted:
        return "faulted";
    case EventKind::PagesReclaimed:
        return "reclaimed";
    case EventKind::PagesSwappedOut:
        return "swapped-out";
    case EventKind::PagesSwappedIn:
        return "swapped-in";
    }
    return "?";
}

std::vector<DiffEvent> diffSnapshots(const Snapshot& a, const Snapshot& b)
{
    std::vector<DiffEvent> out;
    // Two captures of one process each are compared whatever their pids: the same program
    // started again is the usual reason for a new pid.
    if (a.processes.size() == 1 && b.processes.size() == 1) {
        ProcessDiff(a.processes.front(), b.processes.front(), out).run();
        return out;
    }
    std::map<std::int64_t, const SnapshotProcess*> before;
    for (const SnapshotProcess& p : a.processes)
        before[p.pid] = &p;
    std::set<std::int64_t> seen;
    for (const SnapshotProcess& p : b.processes) {
        seen.insert(p.pid);
        auto it = before.find(p.pid);
        if (it == before.end()) {
            DiffEvent e;
            e.kind = EventKind::ProcessStarted;
            e.pid = p.pid;
            e.comm = p.name;
            out.push_back(std::move(e));
            continue;
        }
        ProcessDiff(*it->second, p, out).run();
    }
    for (const SnapshotProcess& p : a.processes) {
        if (seen.count(p.pid))
            continue;
        DiffEvent e;
        e.kind = EventKind::ProcessExited;
        e.pid = p.pid;
        e.comm = p.name;
        out.push_back(std::move(e));
    }
    return out;
}

std::string formatDiff(const std::vector<DiffEvent>& events)
{
    if (events.empty())
        return "no changes\n";
    std::string out;
    std::int64_t pid = -1;
    for (const DiffEvent& e : events) {
        if (e.pid != pid) {
            pid = e.pid;
            out += "pid " + std::to_string(e.pid) + " (" + e.comm + "):\n";
        }
        char kind[24];
        std::snprintf(kind, sizeof kind, "  %-16s", eventKindName(e.kind));
        std::string line = std::string(kind) + eventLine(e);
        while (!line.empty() && line.back() == ' ')
            line.pop_back();
        out += line + "\n";
    }
    return out;
}

std::string describeEvent(const DiffEvent& e)
{
    return eventLine(e);
}

std::string diffToJson(const std::vector<DiffEvent>& events)
{
    using Json = nlohmann::ordered_json;
    auto vmas = [](const std::vector<VmaRef>& refs) {
        Json a = Json::array();
        for (const VmaRef& r : refs)
            a.push_back(
                { { "start", hexAddr(r.start) }, { "end", hexAddr(r.end) }, { "perms", r.perms }, { "name", r.name } });
        return a;
    };
    Json list = Json::array();
    for (const DiffEvent& e : events) {
        Json j;
        j["event"] = eventKindName(e.kind);
        j["pid"] = e.pid;
        j["process"] = e.comm;
        j["before"] = vmas(e.before);
        j["after"] = vmas(e.after);
        Json ranges = Json::array();
        for (auto [s, end] : e.ranges)
            ranges.push_back(Json::array({ hexAddr(s), hexAddr(end) }));
        j["ranges"] = std::move(ranges);
        if (e.pages)
            j["pages"] = e.pages;
        if (!e.from.empty())
            j["from"] = e.from;
        if (!e.to.empty())
            j["to"] = e.to;
        list.push_back(std::move(j));
    }
    Json doc;
    doc["events"] = std::move(list);
    return doc.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

} // namespace vmalab::snapshot
