#pragma once

#include "core/snapshot/snapshot.h"
#include "core/types.h"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

// Page sampling for the recorder: the page states last seen in one address space, and the
// runs where pagemap now shows something else (docs/recording.md, "How it is recorded").
namespace vmalab::host {

// One line of /proc/PID/maps, as much as the recorder needs.
struct MapsVma
{
    Addr start = 0;
    Addr end = 0;
    std::string name;
};

std::vector<MapsVma> parseMapsText(std::string_view text);

// "none", "anon", "file", "swap" or "guard" for a pagemap run.
const char* observedState(const PageRun& run);

struct ObservedRun
{
    Addr start = 0;
    Addr end = 0;
    std::string state;
};

// The states last seen, as non-overlapping runs; pages never seen are "none".
class PageMirror
{
public:
    void set(Addr start, Addr end, const std::string& state);
    // The parts of `seen` whose state differs from the mirror, joined where they touch.
    std::vector<ObservedRun> differences(const std::vector<ObservedRun>& seen) const;
    void reset(const std::vector<snapshot::SnapshotPageRun>& pages);

private:
    struct Run
    {
        Addr end;
        std::string state;
    };
    std::map<Addr, Run> m_runs; // by start
};

// The pagemap runs of [start, end) within the VMAs of `maps` (pages outside every VMA are
// left out), from an open /proc/PID/pagemap.
std::vector<ObservedRun> readObservedRuns(const std::vector<MapsVma>& maps, Addr start, Addr end, int pagemapFd);

// The indices of the VMAs overlapping [start, end) and one neighbour on each side (the VMAs
// around the gap when none overlaps).
std::vector<std::size_t> touchedWithNeighbours(const std::vector<MapsVma>& maps, Addr start, Addr end);

} // namespace vmalab::host
