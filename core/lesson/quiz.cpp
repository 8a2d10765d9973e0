#include "core/lesson/quiz.h"

#include "core/engine/call_text.h"
#include "core/engine/model_backend.h"
#include "core/engine/observe.h"
#include "core/engine/validate.h"
#include "core/engine/vma_merge.h"
#include "core/report/window.h"
#include "core/scenario/interpreter.h"
#include "core/scenario/uapi.h"
#include "core/vm_flags.h"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <optional>
#include <utility>

namespace vmalab::lesson {

namespace {

constexpr std::string_view quizMarker = "quiz:";

std::string trimmed(std::string_view s)
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
        s.remove_suffix(1);
    return std::string(s);
}

void collectQuizPoints(const std::vector<scenario::Stmt>& stmts, std::vector<QuizPoint>& out)
{
    for (const scenario::Stmt& s : stmts) {
        LessonNarration n = splitNarration(s.narration);
        if (!n.question.empty())
            out.push_back(QuizPoint { s.loc, std::move(n.question), std::move(n.text) });
        collectQuizPoints(s.body, out);
    }
}

const scenario::Stmt* findStmt(const std::vector<scenario::Stmt>& stmts, scenario::SourceLoc loc)
{
    for (const scenario::Stmt& s : stmts) {
        if (s.loc.line == loc.line && s.loc.col == loc.col)
            return &s;
        if (const scenario::Stmt* inner = findStmt(s.body, loc))
            return inner;
    }
    return nullptr;
}

int countCalls(const scenario::ExprPtr& e)
{
    if (!e)
        return 0;
    int n = e->kind == scenario::Expr::Kind::Call ? 1 : 0;
    for (const scenario::ExprPtr& a : e->args)
        n += countCalls(a);
    return n;
}

// ---------------------------------------------------------------------------------------------
// Running a scenario up to the quiz step

// What one run recorded of the quiz step.
struct StepRecord
{
    bool reached = false;
    int proc = 0;
    std::string name;
    std::vector<scenario::Value> args;
    World before;
    World after;
    std::int64_t ret = 0;
    std::string runtimeError;
    std::vector<std::string> names; // process names in creation order, after the step
    report::Window window;
    bool hasWindow = false;
};

// The model backend, watched: it keeps the world before and after the quiz statement's call and
// ends the run at the next call, since nothing after the step matters to the quiz.
class StepCapture final : public scenario::Backend, public scenario::StepListener
{
public:
    StepCapture(Profile profile, scenario::SourceLoc at)
        : m_model(std::move(profile))
        , m_at(at)
    {
        m_record.names.push_back("main");
    }

    StepRecord& record() { return m_record; }

    std::string describe() const override { return m_model.describe(); }
    std::optional<std::string> missingFeature(const std::string& f) const override { return m_model.missingFeature(f); }
    std::optional<std::string> start() override { return m_model.start(); }
    std::vector<ObservedProcess> observe() override { return m_model.observe(); }
    void finish() override { m_model.finish(); }

    void beforeStatement(const scenario::Stmt& s, scenario::ProcIndex) override
    {
        m_inStep = s.kind != scenario::Stmt::Kind::In && s.loc.line == m_at.line && s.loc.col == m_at.col;
        m_stmtName = s.kind == scenario::Stmt::Kind::Assign ? s.name : std::string();
    }

    scenario::CallResult call(scenario::ProcIndex proc, const std::string& name,
        const std::vector<scenario::Value>& args, scenario::SourceLoc site) override
    {
        if (m_record.reached)
            return { 0, std::string("stopped after the quiz step") };
        if (!m_inStep)
            return m_model.call(proc, name, args, site);
        return capture(proc, name, args, [&] { return m_model.call(proc, name, args, site); });
    }

    scenario::CallResult fork(scenario::ProcIndex parent, scenario::ProcIndex child, scenario::SourceLoc site) override
    {
        if (m_record.reached)
            return { 0, std::string("stopped after the quiz step") };
        scenario::Value index;
        index.num = child;
        auto run = [&] { return m_model.fork(parent, child, site); };
        const scenario::CallResult r = m_inStep ? capture(parent, "fork", { index }, run) : run();
        if (!r.runtimeError && r.value >= 0)
            m_record.names.push_back(m_stmtName);
        return r;
    }

private:
    template <typename F>
    scenario::CallResult capture(int proc, const std::string& name, const std::vector<scenario::Value>& args, F run)
    {
        m_record.before = m_model.world();
        m_record.proc = proc;
        m_record.name = name;
        m_record.args = args;
        const scenario::CallResult r = run();
        m_record.reached = true;
        m_record.after = m_model.world();
        m_record.ret = r.value;
        m_record.runtimeError = r.runtimeError.value_or(std::string());
        return r;
    }

    ModelBackend m_model;
    scenario::SourceLoc m_at;
    StepRecord m_record;
    bool m_inStep = false;
    std::string m_stmtName;
};

std::optional<StepRecord> runToStep(const scenario::Scenario& scenario, scenario::SourceLoc at, const Profile& p)
{
    StepCapture capture(p, at);
    const scenario::RunOutcome run = scenario::runScenario(scenario, capture, &capture);
    StepRecord& r = capture.record();
    if (!r.reached)
        return std::nullopt;
    if (Result<report::Window> w = report::findWindow(run)) {
        r.window = *w;
        r.hasWindow = true;
    }
    return std::move(r);
}

// One step run again on a world of our choosing (the engine is deterministic).
struct StepRun
{
    World after;
    std::int64_t ret = 0;
    std::string runtimeError;
};

StepRun runStepOn(World world, const StepRecord& step, const std::vector<scenario::Value>& args)
{
    OpTrace trace;
    Tracer tracer(trace);
    OpContext c { world, world.procs.at(static_cast<std::size_t>(step.proc)), tracer };
    const scenario::CallResult r = executeCall(c, step.name, args);
    return { std::move(world), r.value, r.runtimeError.value_or(std::string()) };
}

// ---------------------------------------------------------------------------------------------
// What the step's arguments name

std::int64_t uapi(std::string_view name)
{
    const std::optional<std::int64_t> v = scenario::uapiConstant(name);
    VMALAB_ASSERT(v.has_value(), "a uapi constant the quiz needs is missing from the table");
    return *v;
}

struct Range
{
    Addr start = 0;
    Addr end = 0;
};

// Which argument of the step is its address, length and protection (-1: none), so variations
// can nudge them and regions can start from them.
struct ArgSlots
{
    int addr = -1;
    int len = -1;
    int prot = -1;
};

bool isOneOf(const std::string& name, std::initializer_list<const char*> names)
{
    return std::any_of(names.begin(), names.end(), [&](const char* n) { return name == n; });
}

std::int64_t argAt(const std::vector<scenario::Value>& args, int i)
{
    return i >= 0 && static_cast<std::size_t>(i) < args.size() ? args[static_cast<std::size_t>(i)].num : 0;
}

ArgSlots argSlots(const std::string& name, const std::vector<scenario::Value>& args)
{
    if (name == "mmap")
        return { argAt(args, 0) != 0 ? 0 : -1, 1, 2 };
    if (name == "mprotect" || name == "touch")
        return { 0, 1, 2 };
    if (isOneOf(name, { "munmap", "madvise", "mlock", "mlock2", "munlock" }))
        return { 0, 1, -1 };
    if (name == "mremap")
        return { (argAt(args, 3) & uapi("MREMAP_FIXED")) ? 4 : -1, 2, -1 };
    if (isOneOf(name, { "uffdio_register", "uffdio_unregister", "uffdio_writeprotect" }))
        return { 1, 2, -1 };
    return {};
}

// The page ranges the step names: [addr, addr + len), and for mremap the old range grown to the
// new length and the place it moves to.
std::vector<Range> callRanges(const std::string& name, const std::vector<scenario::Value>& args)
{
    std::vector<Range> out;
    auto add = [&](std::int64_t addr, std::int64_t len) {
        const Addr a = static_cast<Addr>(addr);
        const Addr l = static_cast<Addr>(len);
        if (l > 0 && a + l > a)
            out.push_back({ pageAlignDown(a), pageAlignUp(a + l) });
    };
    if (name == "mremap") {
        add(argAt(args, 0), std::max(argAt(args, 1), argAt(args, 2)));
        if (argAt(args, 3) & uapi("MREMAP_FIXED"))
            add(argAt(args, 4), argAt(args, 2));
        return out;
    }
    const ArgSlots slots = argSlots(name, args);
    if (slots.addr >= 0 && slots.len >= 0)
        add(argAt(args, slots.addr), argAt(args, slots.len));
    return out;
}

// ---------------------------------------------------------------------------------------------
// Regions

bool isReservation(const ObservedVma& v)
{
    return v.perms == "---p" && v.name.empty();
}

bool sameVma(const ObservedVma& a, const ObservedVma& b)
{
    return a.start == b.start && a.end == b.end && a.perms == b.perms && a.offset == b.offset && a.name == b.name
        && a.vmFlags == b.vmFlags;
}

struct Span
{
    Addr lo = ~Addr { 0 };
    Addr hi = 0;
    void add(Addr s, Addr e)
    {
        lo = std::min(lo, s);
        hi = std::max(hi, e);
    }
    bool empty() const { return lo >= hi; }
};

// Widens `span` over what differs between a process before and after: VMAs and page runs that
// are in one and not in the other.
void addChanges(const ObservedProcess& after, const ObservedProcess& before, Span& span)
{
    // The window's reservation changes whenever something is mapped into it, and a none run
    // changes whenever a VMA does: neither says where to look.
    auto vmasOneWay = [&](const ObservedProcess& x, const ObservedProcess& y) {
        for (const ObservedVma& v : x.vmas)
            if (!isReservation(v)
                && std::none_of(y.vmas.begin(), y.vmas.end(), [&](const ObservedVma& w) { return sameVma(v, w); }))
                span.add(v.start, v.end);
    };
    auto pagesOneWay = [&](const ObservedProcess& x, const ObservedProcess& y) {
        for (const PageRun& r : x.pages)
            if ((r.state != PageState::None || r.uffdWp)
                && std::find(y.pages.begin(), y.pages.end(), r) == y.pages.end())
                span.add(r.start, r.end);
    };
    vmasOneWay(after, before);
    vmasOneWay(before, after);
    pagesOneWay(after, before);
    pagesOneWay(before, after);
}

// One possible outcome of the step, before it is rendered.
struct Candidate
{
    Variation variation = Variation::None;
    std::string varied;
    std::string profile;
    World before;
    World after;
    std::int64_t ret = 0;
    std::string runtimeError;
    std::vector<std::string> names;
    std::string hiddenFlag; // a mnemonic the variation added as a means, not shown
};

void addCandidateChanges(const Candidate& c, std::size_t stepProc, Span& span)
{
    const std::vector<ObservedProcess> before = observeWorld(c.before);
    const std::vector<ObservedProcess> after = observeWorld(c.after);
    for (std::size_t i = 0; i < after.size(); ++i) {
        // A process the step created is compared with the one that forked it.
        const std::size_t from = i < before.size() ? i : stepProc;
        if (from < before.size())
            addChanges(after[i], before[from], span);
    }
}

void widenOverVmas(const World& world, Span& span)
{
    for (const ObservedProcess& p : observeWorld(world))
        for (const ObservedVma& v : p.vmas)
            if (!isReservation(v) && v.start < span.hi && span.lo < v.end)
                span.add(v.start, v.end);
}

QuizRegion computeRegion(const std::vector<const Candidate*>& all, const StepRecord& step)
{
    Span span;
    for (const Candidate* c : all)
        addCandidateChanges(*c, static_cast<std::size_t>(step.proc), span);
    for (const Range& r : callRanges(step.name, step.args))
        span.add(r.start, r.end);
    const Span changed = span;
    for (const Candidate* c : all) {
        widenOverVmas(c->before, span);
        widenOverVmas(c->after, span);
    }
    QuizRegion region;
    region.hasWindow = step.hasWindow;
    region.window = step.window.start;
    if (step.hasWindow) {
        span.lo = std::max(span.lo, step.window.start);
        span.hi = std::min(span.hi, step.window.end());
        if (span.empty() || changed.empty()) {
            // Nothing to look at: the mappings the lesson made, wherever they are in the window.
            span = Span {};
            for (const ObservedProcess& p : observeWorld(all.front()->after))
                for (const ObservedVma& v : p.vmas)
                    if (!isReservation(v) && step.window.contains(v.start))
                        span.add(v.start, std::min(v.end, step.window.end()));
        }
        if (span.empty())
            span = Span { step.window.start, step.window.end() };
    }
    if (!span.empty()) {
        region.start = span.lo;
        region.end = span.hi;
    }
    return region;
}

// ---------------------------------------------------------------------------------------------
// Rendering

std::string pageText(Addr a, const QuizRegion& r)
{
    return r.hasWindow ? std::to_string((a - r.window) >> pageShift) : hexAddr(a);
}

std::string rangeText(Addr start, Addr end, const QuizRegion& r)
{
    if (!r.hasWindow)
        return hexAddr(start) + "-" + hexAddr(end);
    if (end - start == pageSize)
        return "page " + pageText(start, r);
    return "pages " + pageText(start, r) + "-" + pageText(end - pageSize, r);
}

std::string resultText(const std::string& callName, std::int64_t ret, const QuizRegion& r)
{
    if (report::isErrorValue(ret))
        return scenario::errnoName(ret);
    if (callName == "touch" && ret != 0)
        return ret == uapi("SIGSEGV") ? "SIGSEGV" : ret == uapi("SIGBUS") ? "SIGBUS" : std::to_string(ret);
    if (callName == "fork")
        return "the child's pid";
    const Addr a = static_cast<Addr>(ret);
    if ((callName == "mmap" || callName == "mremap") && r.hasWindow && a >= r.window && pageAligned(a))
        return "the address of page " + pageText(a, r);
    if (callName == "mmap" || callName == "mremap")
        return hexAddr(a);
    return std::to_string(ret);
}

std::string joined(const std::vector<std::string>& words)
{
    std::string out;
    for (const std::string& w : words)
        out += (out.empty() ? "" : " ") + w;
    return out;
}

// The contract's page state and uffd-wp bit, and "shared" for a present page mapped by more than one
// process (pagemap's exclusive bit clear): after fork that is what tells a copied page from a
// page still shared copy-on-write.
std::string pageLabel(const PageRun& run)
{
    std::string label = pageStateName(run.state);
    if (run.state == PageState::Present && !run.exclusive)
        label += ",shared";
    if (run.uffdWp)
        label += ",uffd-wp";
    return label;
}

void renderProcess(const ObservedProcess& p, const QuizRegion& r, std::string& out)
{
    out += p.name + "\n";
    for (const ObservedVma& v : p.vmas) {
        out += "  " + rangeText(v.start, v.end, r) + " " + v.perms + " [" + joined(v.vmFlags) + "]";
        out += v.name.empty() ? "\n" : " " + v.name + "\n";
        // Runs the label does not tell apart (pagemap bits it leaves out) are shown as one.
        std::vector<std::pair<Range, std::string>> runs;
        for (const PageRun& run : p.pages) {
            if (run.start < v.start || run.start >= v.end)
                continue;
            const std::string label = pageLabel(run);
            if (!runs.empty() && runs.back().first.end == run.start && runs.back().second == label)
                runs.back().first.end = run.end;
            else
                runs.push_back({ { run.start, run.end }, label });
        }
        for (const auto& [range, label] : runs)
            out += "    " + rangeText(range.start, range.end, r) + " " + label + "\n";
    }
    for (const auto& [stat, value] : p.stats)
        out += "  " + stat + " = " + std::to_string(value) + "\n";
}

// ---------------------------------------------------------------------------------------------
// Variations

std::optional<Candidate> profileCandidate(const scenario::Scenario& scenario, const QuizPoint& point, const Profile& p)
{
    std::optional<StepRecord> step = runToStep(scenario, point.loc, p);
    if (!step)
        return std::nullopt;
    Candidate c;
    c.variation = Variation::Profile;
    c.varied = "if the kernel behaved as profile " + p.name + (p.description.empty() ? "" : ": " + p.description);
    c.profile = p.name;
    c.before = std::move(step->before);
    c.after = std::move(step->after);
    c.ret = step->ret;
    c.runtimeError = std::move(step->runtimeError);
    c.names = std::move(step->names);
    return c;
}

// The step again, on the world before it as `tweak` changes it (false: the tweak does not apply
// here) and with `args`. Worlds the engine's own checks reject are not offered.
std::optional<Candidate> stepCandidate(const StepRecord& step, const std::string& profile, Variation v,
    std::string varied, const std::function<bool(World&)>& tweak, const std::vector<scenario::Value>& args)
{
    World before = step.before;
    if (tweak && (!tweak(before) || !validateWorld(before).empty()))
        return std::nullopt;
    StepRun run = runStepOn(before, step, args);
    if (!validateWorld(run.after).empty())
        return std::nullopt;
    Candidate c;
    c.variation = v;
    c.varied = std::move(varied);
    c.profile = profile;
    c.before = std::move(before);
    c.after = std::move(run.after);
    c.ret = run.ret;
    c.runtimeError = std::move(run.runtimeError);
    c.names = step.names;
    return c;
}

// Start addresses of the VMAs of `mm` that overlap or touch one of `ranges` (touchOnly: that
// touch one without overlapping any).
std::vector<Addr> vmasAround(const Mm& mm, const std::vector<Range>& ranges, bool touchOnly)
{
    std::vector<Addr> out;
    for (const auto& entry : mm.vmas) {
        const Vma& v = entry.second;
        bool overlaps = false;
        bool touches = false;
        for (const Range& r : ranges) {
            overlaps = overlaps || (v.vm_start < r.end && r.start < v.vm_end);
            touches = touches || v.vm_end == r.start || v.vm_start == r.end;
        }
        if (touchOnly ? (touches && !overlaps) : (touches || overlaps))
            out.push_back(v.vm_start);
    }
    return out;
}

// is_mergeable_anon_vma() switched off: every VMA around the range gets the anon_vma of the first.
bool shareAnonVma(World& w, const StepRecord& step, const std::vector<Range>& ranges)
{
    Mm& mm = w.procs.at(static_cast<std::size_t>(step.proc));
    std::vector<Addr> starts;
    AnonVmaId first = noAnonVma;
    bool differ = false;
    for (Addr s : vmasAround(mm, ranges, false)) {
        const AnonVmaId id = std::as_const(mm.vmas).at(s).anon_vma;
        if (id == noAnonVma)
            continue;
        differ = differ || (first != noAnonVma && id != first);
        first = first == noAnonVma ? id : first;
        starts.push_back(s);
    }
    if (!differ)
        return false;
    for (Addr s : starts)
        mm.vmas.at(s).anon_vma = first;
    return true;
}

// The VMAs next to the range, but not in it, get VM_SEQ_READ (as MADV_SEQUENTIAL would set it):
// their flags no longer equal the range's.
bool flagNeighbours(World& w, const StepRecord& step, const std::vector<Range>& ranges)
{
    Mm& mm = w.procs.at(static_cast<std::size_t>(step.proc));
    // The flag is hidden when the outcome is shown, which is only sound where no VMA had it.
    for (const auto& entry : mm.vmas)
        if (entry.second.vm_flags & VM_SEQ_READ)
            return false;
    bool any = false;
    for (Addr s : vmasAround(mm, ranges, true)) {
        Vma& v = mm.vmas.at(s);
        if ((v.vm_flags & (VM_READ | VM_WRITE | VM_EXEC)) == 0 || (v.vm_flags & VM_SEQ_READ))
            continue;
        v.vm_flags |= VM_SEQ_READ;
        any = true;
    }
    return any;
}

// The private anonymous VMAs in the range as if never written: no pages, no anon_vma, so that
// what an anon_vma decides (merging, the pgoff a move keeps) goes the other way.
bool forgetWrites(World& w, const StepRecord& step, const std::vector<Range>& ranges)
{
    Mm& mm = w.procs.at(static_cast<std::size_t>(step.proc));
    std::vector<Addr> starts;
    for (const auto& entry : mm.vmas) {
        const Vma& v = entry.second;
        const bool inRange = std::any_of(
            ranges.begin(), ranges.end(), [&](const Range& r) { return v.vm_start < r.end && r.start < v.vm_end; });
        if (inRange && v.isAnonymous() && !(v.vm_flags & VM_SHARED) && v.anon_vma != noAnonVma)
            starts.push_back(entry.first);
    }
    // Memory fork shares with another process cannot be unwritten in one of them alone.
    for (Addr s : starts) {
        const Vma& v = std::as_const(mm.vmas).at(s);
        bool shared = v.anonVmaChain > 1;
        for (const auto& link : w.anonVmaParent)
            shared = shared || link.first == v.anon_vma || link.second == v.anon_vma;
        mm.ptes.forEach(v.vm_start >> pageShift, v.vm_end >> pageShift,
            [&](std::uint64_t, std::uint64_t, const Pte& p) { shared = shared || p.cowShared; });
        if (shared)
            return false;
    }
    for (Addr s : starts) {
        Vma& v = mm.vmas.at(s);
        mm.ptes.erase(v.vm_start >> pageShift, v.vm_end >> pageShift);
        v.anon_vma = noAnonVma;
        v.anonVmaChain = 0;
    }
    return !starts.empty();
}

bool clearForkFlags(World& w, const StepRecord& step)
{
    Mm& mm = w.procs.at(static_cast<std::size_t>(step.proc));
    std::vector<Addr> starts;
    for (const auto& entry : mm.vmas)
        if (entry.second.vm_flags & (VM_DONTCOPY | VM_WIPEONFORK))
            starts.push_back(entry.first);
    for (Addr s : starts)
        mm.vmas.at(s).vm_flags &= ~(VM_DONTCOPY | VM_WIPEONFORK);
    return !starts.empty();
}

// Gives `flag` (VM_DONTCOPY or VM_WIPEONFORK, as MADV_DONTFORK / MADV_WIPEONFORK would) to every
// private anonymous VMA that has pages (an anon_vma), where no VMA has either flag yet.
bool setForkFlag(World& w, const StepRecord& step, VmFlags flag)
{
    Mm& mm = w.procs.at(static_cast<std::size_t>(step.proc));
    std::vector<Addr> starts;
    for (const auto& entry : mm.vmas) {
        const Vma& v = entry.second;
        if (v.vm_flags & (VM_DONTCOPY | VM_WIPEONFORK))
            return false;
        if (v.isAnonymous() && !(v.vm_flags & VM_SHARED) && v.anon_vma != noAnonVma)
            starts.push_back(entry.first);
    }
    for (Addr s : starts)
        mm.vmas.at(s).vm_flags |= flag;
    return !starts.empty();
}

// Toggles UFFD_FEATURE_EVENT_FORK on the process's userfaultfds; `had` says whether it was set.
bool toggleEventFork(World& w, const StepRecord& step, bool& had)
{
    const auto eventFork = static_cast<std::uint64_t>(uapi("UFFD_FEATURE_EVENT_FORK"));
    std::vector<UffdCtxId> ids;
    for (const auto& entry : w.uffds)
        if (entry.second.owner == static_cast<std::size_t>(step.proc) && entry.second.initialized)
            ids.push_back(entry.first);
    for (UffdCtxId id : ids) {
        UffdCtx& ctx = w.uffds.at(id);
        had = (ctx.features & eventFork) != 0;
        ctx.features ^= eventFork;
    }
    return !ids.empty();
}

bool dropGuardMarkers(World& w, const StepRecord& step, const std::vector<Range>& ranges)
{
    Mm& mm = w.procs.at(static_cast<std::size_t>(step.proc));
    std::vector<Range> guards;
    for (const Range& r : ranges)
        mm.ptes.forEach(r.start >> pageShift, r.end >> pageShift, [&](std::uint64_t s, std::uint64_t e, const Pte& p) {
            if (p.state == PageState::Guard)
                guards.push_back({ s, e });
        });
    for (const Range& g : guards)
        mm.ptes.erase(g.start, g.end);
    return !guards.empty();
}

void addWorldCandidates(const StepRecord& step, const std::string& profile, std::vector<Candidate>& out)
{
    const std::vector<Range> ranges = callRanges(step.name, step.args);
    auto add = [&](Variation v, std::string varied, const std::function<bool(World&)>& tweak) {
        if (std::optional<Candidate> c = stepCandidate(step, profile, v, std::move(varied), tweak, step.args)) {
            if (v == Variation::NeighbourFlags)
                c->hiddenFlag = "sr";
            out.push_back(std::move(*c));
        }
    };
    if (step.name == "fork") {
        add(Variation::ForkFlags,
            "if fork ignored MADV_DONTFORK and MADV_WIPEONFORK (VM_DONTCOPY, VM_WIPEONFORK cleared)",
            [&](World& w) { return clearForkFlags(w, step); });
        add(Variation::ForkFlags, "if the written private memory had been marked MADV_WIPEONFORK",
            [&](World& w) { return setForkFlag(w, step, VM_WIPEONFORK); });
        add(Variation::ForkFlags, "if the written private memory had been marked MADV_DONTFORK",
            [&](World& w) { return setForkFlag(w, step, VM_DONTCOPY); });
        bool had = false;
        World probe = step.before;
        toggleEventFork(probe, step, had);
        add(Variation::UffdEventFork,
            had ? "if the userfaultfd had not asked for UFFD_FEATURE_EVENT_FORK"
                : "if the userfaultfd had asked for UFFD_FEATURE_EVENT_FORK",
            [&](World& w) {
                bool unused = false;
                return toggleEventFork(w, step, unused);
            });
        return;
    }
    add(Variation::SharedAnonVma, "if the kernel ignored anon_vma compatibility (the VMAs around the range shared one)",
        [&](World& w) { return shareAnonVma(w, step, ranges); });
    add(Variation::NeighbourFlags, "if the VMA next to the range had other flags (VM_SEQ_READ, from MADV_SEQUENTIAL)",
        [&](World& w) { return flagNeighbours(w, step, ranges); });
    add(Variation::GuardMarkers, "if the range held no guard markers",
        [&](World& w) { return dropGuardMarkers(w, step, ranges); });
    add(Variation::Unwritten, "if the memory in the range had never been written (no pages, no anon_vma)",
        [&](World& w) { return forgetWrites(w, step, ranges); });
}

std::string protText(std::int64_t prot)
{
    std::vector<std::string> names;
    for (const char* n : { "PROT_READ", "PROT_WRITE", "PROT_EXEC" })
        if (prot & uapi(n))
            names.push_back(n);
    std::string out;
    for (const std::string& n : names)
        out += (out.empty() ? "" : " | ") + n;
    return out.empty() ? "PROT_NONE" : out;
}

void addArgumentCandidates(const StepRecord& step, const std::string& profile, std::vector<Candidate>& out)
{
    const ArgSlots slots = argSlots(step.name, step.args);
    auto add = [&](Variation v, std::string varied, int slot, std::int64_t value) {
        std::vector<scenario::Value> args = step.args;
        args.at(static_cast<std::size_t>(slot)).num = value;
        if (std::optional<Candidate> c = stepCandidate(step, profile, v, std::move(varied), {}, args))
            out.push_back(std::move(*c));
    };
    const auto page = static_cast<std::int64_t>(pageSize);
    if (slots.len >= 0) {
        const std::int64_t len = argAt(step.args, slots.len);
        add(Variation::Length, "if the call covered one page more", slots.len, len + page);
        if (len > page)
            add(Variation::Length, "if the call covered one page less", slots.len, len - page);
    }
    if (slots.prot >= 0) {
        const std::int64_t prot = argAt(step.args, slots.prot);
        const std::int64_t other = prot ^ uapi("PROT_WRITE");
        add(Variation::Prot,
            step.name == "touch"
                ? std::string(other & uapi("PROT_WRITE") ? "if the access were a write" : "if the access were a read")
                : "with " + protText(other) + " instead of " + protText(prot),
            slots.prot, other);
    }
    if (slots.addr >= 0)
        add(Variation::Address, "if the range started one page higher", slots.addr,
            argAt(step.args, slots.addr) + page);
}

QuizOutcome makeOutcome(Candidate& c, const std::string& callName, const QuizRegion& region)
{
    QuizOutcome o;
    o.ret = c.ret;
    o.runtimeError = c.runtimeError;
    o.processes = observeRegion(c.after, c.names, region);
    if (!c.hiddenFlag.empty())
        for (ObservedProcess& p : o.processes)
            for (ObservedVma& v : p.vmas)
                std::erase(v.vmFlags, c.hiddenFlag);
    o.text = renderOutcome(o.processes, callName, o.ret, o.runtimeError, region);
    o.after = std::move(c.after);
    return o;
}

// Round robin over the kinds of variation, so the wrong choices differ in kind where they can;
// a choice that renders like one already taken is left out, and so is one that stops the run
// with an error when the step itself does not.
std::vector<QuizChoice> pickWrong(
    std::vector<std::vector<QuizChoice>>& kinds, const QuizChoice& right, std::size_t maxWrong)
{
    std::vector<QuizChoice> out;
    std::vector<std::string> seen { right.outcome.text };
    for (std::size_t round = 0; out.size() < maxWrong; ++round) {
        bool more = false;
        for (std::vector<QuizChoice>& kind : kinds) {
            if (round >= kind.size() || out.size() >= maxWrong)
                continue;
            more = true;
            QuizChoice& c = kind[round];
            const bool errorOnly = !c.outcome.runtimeError.empty() && right.outcome.runtimeError.empty();
            if (errorOnly || std::find(seen.begin(), seen.end(), c.outcome.text) != seen.end())
                continue;
            seen.push_back(c.outcome.text);
            out.push_back(std::move(c));
        }
        if (!more)
            break;
    }
    return out;
}

std::vector<Profile> otherProfiles(const QuizOptions& options)
{
    if (!options.otherProfiles.empty())
        return options.otherProfiles;
    std::vector<Profile> out;
    for (const std::string& name : builtinProfileNames())
        if (name != options.profile.name)
            if (std::optional<Profile> p = builtinProfile(name, options.profile.machine))
                out.push_back(std::move(*p));
    return out;
}

// Every wrong outcome, by kind, in the order the kinds take turns: profiles, switched-off rules,
// nudged arguments.
std::vector<std::vector<Candidate>> wrongCandidates(
    const scenario::Scenario& scenario, const QuizPoint& point, const QuizOptions& options, const StepRecord& step)
{
    std::vector<std::vector<Candidate>> kinds(3);
    for (const Profile& p : otherProfiles(options))
        if (std::optional<Candidate> c = profileCandidate(scenario, point, p))
            kinds[0].push_back(std::move(*c));
    addWorldCandidates(step, options.profile.name, kinds[1]);
    addArgumentCandidates(step, options.profile.name, kinds[2]);
    return kinds;
}

} // namespace

// ---------------------------------------------------------------------------------------------
// Narration

LessonNarration splitNarration(const std::string& narration)
{
    LessonNarration out;
    if (narration.empty())
        return out;
    std::size_t pos = 0;
    while (pos <= narration.size()) {
        std::size_t end = narration.find('\n', pos);
        if (end == std::string::npos)
            end = narration.size();
        const std::string line = narration.substr(pos, end - pos);
        const std::string t = trimmed(line);
        if (out.question.empty() && t.compare(0, quizMarker.size(), quizMarker) == 0)
            out.question = trimmed(std::string_view(t).substr(quizMarker.size()));
        else
            out.text += (out.text.empty() ? "" : "\n") + line;
        pos = end + 1;
    }
    return out;
}

std::string lessonTitle(std::string_view text)
{
    constexpr std::string_view head = "// Lesson:";
    const std::string_view first = text.substr(0, text.find('\n'));
    if (first.substr(0, head.size()) != head)
        return {};
    std::string title = trimmed(first.substr(head.size()));
    const std::size_t dot = title.find(". ");
    if (dot != std::string::npos)
        title.resize(dot);
    else if (!title.empty() && title.back() == '.')
        title.pop_back();
    return title;
}

std::vector<QuizPoint> findQuizPoints(const scenario::Scenario& scenario)
{
    std::vector<QuizPoint> out;
    collectQuizPoints(scenario.stmts, out);
    return out;
}

const char* variationName(Variation v)
{
    switch (v) {
    case Variation::None:
        return "none";
    case Variation::Profile:
        return "profile";
    case Variation::SharedAnonVma:
        return "shared-anon-vma";
    case Variation::NeighbourFlags:
        return "neighbour-flags";
    case Variation::ForkFlags:
        return "fork-flags";
    case Variation::UffdEventFork:
        return "uffd-event-fork";
    case Variation::GuardMarkers:
        return "guard-markers";
    case Variation::Unwritten:
        return "unwritten";
    case Variation::Length:
        return "length";
    case Variation::Address:
        return "address";
    case Variation::Prot:
        return "prot";
    }
    return "?";
}

std::vector<ObservedProcess> observeRegion(
    const World& world, const std::vector<std::string>& names, const QuizRegion& region)
{
    std::vector<ObservedProcess> all = observeWorld(world);
    auto outside = [&](Addr start, Addr end) { return end <= region.start || region.end <= start; };
    for (std::size_t i = 0; i < all.size(); ++i) {
        ObservedProcess& p = all[i];
        p.name = i < names.size() ? names[i] : "process " + std::to_string(i);
        std::erase_if(p.vmas, [&](const ObservedVma& v) { return outside(v.start, v.end); });
        for (ObservedVma& v : p.vmas) {
            v.start = std::max(v.start, region.start);
            v.end = std::min(v.end, region.end);
        }
        std::erase_if(p.pages, [&](const PageRun& r) { return outside(r.start, r.end); });
        for (PageRun& r : p.pages) {
            r.start = std::max(r.start, region.start);
            r.end = std::min(r.end, region.end);
        }
        // Only fork's counts say something about the step; the rest describe the whole process.
        std::erase_if(p.stats, [&](const auto& stat) { return i == 0 || stat.first.rfind("fork.", 0) != 0; });
    }
    return all;
}

std::string renderOutcome(const std::vector<ObservedProcess>& processes, const std::string& callName, std::int64_t ret,
    const std::string& runtimeError, const QuizRegion& region)
{
    std::string out = runtimeError.empty() ? "returns " + resultText(callName, ret, region) + "\n"
                                           : "stops the run: " + runtimeError + "\n";
    for (const ObservedProcess& p : processes)
        renderProcess(p, region, out);
    return out;
}

Result<Quiz> buildQuiz(const scenario::Scenario& scenario, const QuizPoint& point, const QuizOptions& options)
{
    auto fail = [&](const std::string& why) {
        return Diagnostic { scenario.file, point.loc.line, point.loc.col, why };
    };
    const scenario::Stmt* stmt = findStmt(scenario.stmts, point.loc);
    if (!stmt)
        return fail("no statement starts here for the quiz to stop before");
    if (countCalls(stmt->expr) + countCalls(stmt->rhs) != 1)
        return fail("a quiz statement must make exactly one call");
    std::optional<StepRecord> step = runToStep(scenario, point.loc, options.profile);
    if (!step)
        return fail("the run under profile " + options.profile.name + " does not reach this statement");

    Candidate right;
    right.profile = options.profile.name;
    right.before = step->before;
    right.after = step->after;
    right.ret = step->ret;
    right.runtimeError = step->runtimeError;
    right.names = step->names;
    std::vector<std::vector<Candidate>> kinds = wrongCandidates(scenario, point, options, *step);

    std::vector<const Candidate*> all { &right };
    for (const std::vector<Candidate>& kind : kinds)
        for (const Candidate& c : kind)
            all.push_back(&c);
    Quiz quiz;
    quiz.point = point;
    quiz.process = static_cast<std::size_t>(step->proc) < step->names.size() ? step->names[step->proc] : "main";
    quiz.call = step->name == "fork" ? "fork()" : formatCall(step->name, step->args);
    quiz.region = computeRegion(all, *step);

    QuizChoice correct { true, Variation::None, {}, right.profile, makeOutcome(right, step->name, quiz.region) };
    std::vector<std::vector<QuizChoice>> rendered(kinds.size());
    for (std::size_t k = 0; k < kinds.size(); ++k)
        for (Candidate& c : kinds[k])
            rendered[k].push_back(
                QuizChoice { false, c.variation, c.varied, c.profile, makeOutcome(c, step->name, quiz.region) });
    quiz.choices = pickWrong(rendered, correct, options.maxWrong);
    // Where the right answer sits depends on the statement only, so a quiz asks the same way
    // every time it is shown.
    quiz.correctIndex = static_cast<std::size_t>(point.loc.line) % (quiz.choices.size() + 1);
    quiz.choices.insert(quiz.choices.begin() + static_cast<std::ptrdiff_t>(quiz.correctIndex), std::move(correct));
    return quiz;
}

} // namespace vmalab::lesson
