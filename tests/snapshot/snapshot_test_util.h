#pragma once

#include "core/snapshot/snapshot.h"

#include <sstream>
#include <string>
#include <vector>

// Snapshots built by hand for the pure tests.
namespace vmalab::snapshot::testing {

inline SnapshotVma makeVma(Addr start, Addr end, const std::string& perms = "rw-p", const std::string& name = "",
    const std::string& flags = "")
{
    SnapshotVma s;
    s.vma.start = start;
    s.vma.end = end;
    s.vma.perms = perms;
    s.vma.name = name;
    std::string f = flags;
    if (f.empty()) {
        f = perms[0] == 'r' ? "rd" : "";
        f += perms[1] == 'w' ? " wr" : "";
        f += perms[2] == 'x' ? " ex" : "";
        f += perms[3] == 's' ? " sh mr mw me ms" : " mr mw me";
    }
    std::istringstream in(f);
    for (std::string m; in >> m;)
        s.vma.vmFlags.push_back(m);
    s.vma.smapsKb = { { "Size", (end - start) >> 10 }, { "Rss", 0 }, { "Anonymous", 0 } };
    return s;
}

struct Pages
{
    Addr start;
    Addr end;
    PageState state;
};

// Page runs covering every VMA: `states` where given, none elsewhere; Rss and Anonymous follow.
inline void setPages(SnapshotProcess& p, const std::vector<Pages>& states)
{
    p.pages.clear();
    for (SnapshotVma& v : p.vmas) {
        Addr cursor = v.vma.start;
        std::uint64_t present = 0;
        auto add = [&](Addr s, Addr e, PageState st) {
            if (s < e)
                p.pages.push_back({ PageRun { s, e, st, false, st == PageState::Present, false }, 0 });
        };
        for (const Pages& s : states) {
            const Addr from = std::max(s.start, v.vma.start), to = std::min(s.end, v.vma.end);
            if (from >= to)
                continue;
            add(cursor, from, PageState::None);
            add(from, to, s.state);
            if (s.state == PageState::Present)
                present += (to - from) >> 10;
            cursor = to;
        }
        add(cursor, v.vma.end, PageState::None);
        v.vma.smapsKb[1].second = present;
        v.vma.smapsKb[2].second = v.vma.inode ? 0 : present;
    }
}

inline Snapshot oneProcess(std::vector<SnapshotVma> vmas, const std::vector<Pages>& pages = {}, std::int64_t pid = 42)
{
    Snapshot s;
    SnapshotProcess p;
    p.pid = pid;
    p.name = "test";
    p.vmas = std::move(vmas);
    setPages(p, pages);
    s.processes.push_back(std::move(p));
    return s;
}

} // namespace vmalab::snapshot::testing
