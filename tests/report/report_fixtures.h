#pragma once

#include "core/observed.h"
#include "core/scenario/outcome.h"

#include <string>
#include <utility>
#include <vector>

// Small builders shared by the report tests: VMAs, page runs and outcomes written by hand.
namespace vmalab::report::testing {

inline ObservedVma makeVma(Addr start, Addr end, const std::string& perms, const std::string& name = "",
    std::vector<std::string> flags = { "rd", "wr", "mr", "mw", "me", "ac" })
{
    ObservedVma v;
    v.start = start;
    v.end = end;
    v.perms = perms;
    v.name = name;
    v.smapsKb = { { "Size", (end - start) / 1024 }, { "Rss", 0 }, { "Anonymous", 0 }, { "Locked", 0 } };
    v.vmFlags = std::move(flags);
    return v;
}

inline void setKb(ObservedVma& v, const std::string& field, std::uint64_t kb)
{
    for (auto& [name, value] : v.smapsKb)
        if (name == field)
            value = kb;
}

inline PageRun makeRun(Addr start, Addr end, PageState state, bool uffdWp = false)
{
    PageRun r;
    r.start = start;
    r.end = end;
    r.state = state;
    r.uffdWp = uffdWp;
    return r;
}

// A process whose pages are all `none`, one run per VMA.
inline ObservedProcess makeProcess(const std::string& name, std::vector<ObservedVma> vmas)
{
    ObservedProcess p;
    p.name = name;
    p.vmas = std::move(vmas);
    for (const auto& v : p.vmas)
        p.pages.push_back(makeRun(v.start, v.end, PageState::None));
    return p;
}

inline scenario::VarRecord makeVar(
    const std::string& name, std::int64_t value, scenario::VarKind kind = scenario::VarKind::Plain)
{
    scenario::VarRecord r;
    r.name = name;
    r.value = value;
    r.kind = kind;
    return r;
}

inline scenario::ExpectRecord makeExpect(int line, bool passed, const std::string& process = "main")
{
    scenario::ExpectRecord e;
    e.loc = { line, 1 };
    e.process = process;
    e.lhsText = "touch(p, page_size, PROT_READ)";
    e.rhsText = "0";
    e.lhs = passed ? 0 : 11;
    e.rhs = 0;
    e.passed = passed;
    return e;
}

} // namespace vmalab::report::testing
