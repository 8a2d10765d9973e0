#include "core/report/profile_diff.h"

#include "core/engine/model_backend.h"
#include "core/engine/observe.h"
#include "core/report/check.h"
#include "core/scenario/interpreter.h"

#include <algorithm>

namespace vmalab::report {

namespace {

struct Run
{
    std::unique_ptr<ModelBackend> backend;
    scenario::RunOutcome outcome;
};

Run runWithHistory(const scenario::Scenario& s, const Profile& p)
{
    Run r;
    r.backend = std::make_unique<ModelBackend>(p);
    r.backend->keepHistory(true);
    r.outcome = scenario::runScenario(s, *r.backend);
    return r;
}

std::string processName(const scenario::RunOutcome& outcome, std::size_t index)
{
    return index < outcome.processes.size() ? outcome.processes[index].name : "#" + std::to_string(index);
}

std::vector<std::string> statDifferences(const ObservedProcess& a, const ObservedProcess& b, const std::string& first,
                                         const std::string& second)
{
    std::vector<std::string> out;
    for (const auto& stat : a.stats) { // clang-14 lambdas cannot capture structured bindings
        const std::string& name = stat.first;
        auto it = std::find_if(b.stats.begin(), b.stats.end(), [&](const auto& s) { return s.first == name; });
        const std::int64_t other = it == b.stats.end() ? 0 : it->second;
        if (other != stat.second)
            out.push_back(a.name + ": stat " + name + ": " + first + " " + std::to_string(stat.second) + ", " + second
                          + " " + std::to_string(other));
    }
    return out;
}

// Every difference between the two worlds, as check prints them, over the whole address space.
std::vector<std::string> worldDifferences(const World& a, const World& b, const scenario::RunOutcome& names,
                                          const CheckOptions& options)
{
    std::vector<ObservedProcess> pa = observeWorld(a), pb = observeWorld(b);
    std::vector<std::string> out;
    const Window everything { 0, ~Addr { 0 } };
    for (std::size_t i = 0; i < std::max(pa.size(), pb.size()); ++i) {
        if (i >= pa.size() || i >= pb.size()) {
            out.push_back(processName(names, i) + ": exists under " + (i < pa.size() ? options.firstLabel : options.secondLabel)
                          + " only");
            continue;
        }
        pa[i].name = pb[i].name = processName(names, i);
        for (const Difference& d : processDifferences(pa[i], everything, pb[i], everything, options))
            out.push_back(d.line);
        for (std::string& s : statDifferences(pa[i], pb[i], options.firstLabel, options.secondLabel))
            out.push_back(std::move(s));
    }
    return out;
}

} // namespace

ProfileDiff diffProfiles(const scenario::Scenario& scenario, const Profile& first, const Profile& second)
{
    ProfileDiff diff;
    diff.first = first.name;
    diff.second = second.name;
    const Run a = runWithHistory(scenario, first);
    const Run b = runWithHistory(scenario, second);
    for (const auto* r : { &a, &b })
        for (const Diagnostic& d : r->outcome.errors)
            diff.notes.push_back((r == &a ? first.name : second.name) + ": " + d.format());
    const History* ha = a.backend->history();
    const History* hb = b.backend->history();
    if (!ha || !hb)
        return diff;
    diff.ops = std::min(ha->opCount(), hb->opCount());
    if (ha->opCount() != hb->opCount())
        diff.notes.push_back("the runs made " + std::to_string(ha->opCount()) + " and " + std::to_string(hb->opCount())
                             + " operations; the rest of the longer one is not compared");
    CheckOptions options;
    options.firstLabel = first.name;
    options.secondLabel = second.name;
    std::vector<std::string> previous;
    for (std::size_t i = 0; i < diff.ops; ++i) {
        std::vector<std::string> now = worldDifferences(ha->afterOp(i), hb->afterOp(i), a.outcome, options);
        const OpTrace& ta = ha->op(i);
        const OpTrace& tb = hb->op(i);
        if (ta.ret != tb.ret)
            now.insert(now.begin(), "returns " + std::to_string(ta.ret) + " under " + first.name + ", "
                                        + std::to_string(tb.ret) + " under " + second.name);
        if (now == previous)
            continue;
        diff.divergences.push_back({ i, processName(a.outcome, static_cast<std::size_t>(ta.process)), ta.call.str(), ta.line, now });
        previous = std::move(now);
    }
    return diff;
}

std::string formatProfileDiff(const ProfileDiff& diff)
{
    std::string out = "profiles " + diff.first + " and " + diff.second + ", " + std::to_string(diff.ops) + " operations\n";
    if (diff.divergences.empty())
        out += "no difference after any operation\n";
    for (const ProfileDivergence& d : diff.divergences) {
        out += "after operation " + std::to_string(d.op + 1) + " (line " + std::to_string(d.line) + ", " + d.process + "): "
            + d.call + "\n";
        if (d.differences.empty())
            out += "  the two are the same again\n";
        for (const std::string& l : d.differences)
            out += "  " + l + "\n";
    }
    for (const std::string& n : diff.notes)
        out += "note: " + n + "\n";
    return out;
}

} // namespace vmalab::report
