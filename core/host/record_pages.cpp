#include "core/host/record_pages.h"

#include "core/host/capture.h"

#include <algorithm>
#include <cstdlib>

namespace vmalab::host {

std::vector<MapsVma> parseMapsText(std::string_view text)
{
    std::vector<MapsVma> out;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t eol = text.find('\n', pos);
        if (eol == std::string_view::npos)
            eol = text.size();
        const std::string line(text.substr(pos, eol - pos));
        pos = eol + 1;
        char* rest = nullptr;
        MapsVma v;
        v.start = std::strtoull(line.c_str(), &rest, 16);
        if (!rest || *rest != '-')
            continue;
        v.end = std::strtoull(rest + 1, &rest, 16);
        // The name starts after five blank-separated fields (range perms offset dev inode).
        std::size_t i = 0;
        for (int field = 0; field < 5 && i < line.size(); ++field) {
            while (i < line.size() && line[i] != ' ')
                ++i;
            while (i < line.size() && line[i] == ' ')
                ++i;
        }
        v.name = line.substr(std::min(i, line.size()));
        if (v.end > v.start)
            out.push_back(std::move(v));
    }
    return out;
}

const char* observedState(const PageRun& run)
{
    switch (run.state) {
    case PageState::None:
        return "none";
    case PageState::Present:
        return run.file ? "file" : "anon";
    case PageState::Swap:
        return "swap";
    case PageState::Guard:
        return "guard";
    }
    return "none";
}

void PageMirror::set(Addr start, Addr end, const std::string& state)
{
    if (start >= end)
        return;
    // Cut the runs that straddle the edges, then replace everything inside.
    auto it = m_runs.lower_bound(start);
    if (it != m_runs.begin()) {
        auto prev = std::prev(it);
        if (prev->second.end > start) {
            const Run tail { prev->second.end, prev->second.state };
            prev->second.end = start;
            if (tail.end > end)
                m_runs[end] = tail;
        }
    }
    it = m_runs.lower_bound(start);
    while (it != m_runs.end() && it->first < end) {
        if (it->second.end > end)
            m_runs[end] = Run { it->second.end, it->second.state };
        it = m_runs.erase(it);
    }
    if (state != "none")
        m_runs[start] = Run { end, state };
}

std::vector<ObservedRun> PageMirror::differences(const std::vector<ObservedRun>& seen) const
{
    std::vector<ObservedRun> out;
    auto emit = [&out](Addr s, Addr e, const std::string& state) {
        if (s >= e)
            return;
        if (!out.empty() && out.back().end == s && out.back().state == state)
            out.back().end = e;
        else
            out.push_back({ s, e, state });
    };
    for (const ObservedRun& r : seen) {
        Addr cursor = r.start;
        auto it = m_runs.upper_bound(r.start);
        if (it != m_runs.begin())
            --it;
        for (; it != m_runs.end() && it->first < r.end && cursor < r.end; ++it) {
            if (it->second.end <= cursor)
                continue;
            const Addr s = std::max(it->first, cursor), e = std::min(it->second.end, r.end);
            if (r.state != "none")
                emit(cursor, s, r.state); // the gap before this run was none
            if (it->second.state != r.state)
                emit(s, e, r.state);
            cursor = e;
        }
        if (r.state != "none")
            emit(cursor, r.end, r.state);
    }
    return out;
}

void PageMirror::reset(const std::vector<snapshot::SnapshotPageRun>& pages)
{
    m_runs.clear();
    for (const snapshot::SnapshotPageRun& p : pages)
        set(p.run.start, p.run.end, observedState(p.run));
}

std::vector<ObservedRun> readObservedRuns(const std::vector<MapsVma>& maps, Addr start, Addr end, int pagemapFd)
{
    std::vector<snapshot::SnapshotVma> vmas;
    for (const MapsVma& m : maps) {
        const Addr s = std::max(m.start, start), e = std::min(m.end, end);
        if (s >= e)
            continue;
        snapshot::SnapshotVma v;
        v.vma.start = s;
        v.vma.end = e;
        vmas.push_back(std::move(v));
    }
    std::vector<ObservedRun> out;
    if (vmas.empty() || pagemapFd < 0)
        return out;
    bool scanned = false;
    for (const snapshot::SnapshotPageRun& p : capturePageRuns(vmas, pagemapFd, -1, true, &scanned)) {
        const std::string state = observedState(p.run);
        if (!out.empty() && out.back().end == p.run.start && out.back().state == state)
            out.back().end = p.run.end;
        else
            out.push_back({ p.run.start, p.run.end, state });
    }
    return out;
}

std::vector<std::size_t> touchedWithNeighbours(const std::vector<MapsVma>& maps, Addr start, Addr end)
{
    std::vector<std::size_t> out;
    const auto first =
        std::partition_point(maps.begin(), maps.end(), [start](const MapsVma& v) { return v.end <= start; });
    std::size_t lo = std::size_t(first - maps.begin());
    std::size_t hi = lo; // one past the last overlapping
    while (hi < maps.size() && maps[hi].start < end)
        ++hi;
    const std::size_t from = lo > 0 ? lo - 1 : 0;
    const std::size_t to = std::min(maps.size(), hi + 1);
    for (std::size_t i = from; i < to; ++i)
        out.push_back(i);
    return out;
}

} // namespace vmalab::host
