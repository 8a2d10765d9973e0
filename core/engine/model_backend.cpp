#include "core/engine/model_backend.h"

#include "core/engine/call_text.h"
#include "core/engine/fault.h"
#include "core/engine/fork.h"
#include "core/engine/layout.h"
#include "core/engine/observe.h"
#include "core/engine/ops.h"
#include "core/engine/uffd.h"

namespace vmalab {

namespace {

// The call as the trace prints it, formatted only when read: building the text with uapi
// names for every call cost more than many of the calls themselves (docs/benchmarks.md).
class CallText final : public TraceDeferred
{
public:
    CallText(std::string name, std::vector<scenario::Value> args)
        : m_name(std::move(name))
        , m_args(std::move(args))
    {
    }
    void render(int, std::string& out) const override { out += formatCall(m_name, m_args); }

private:
    std::string m_name;
    std::vector<scenario::Value> m_args;
};

} // namespace

ModelBackend::ModelBackend(Profile profile)
{
    m_world.setProfile(std::move(profile));
}

std::string ModelBackend::describe() const
{
    return "model (profile " + m_world.profile().name + ")";
}

std::optional<std::string> ModelBackend::missingFeature(const std::string& feature) const
{
    const MachineConfig& m = m_world.profile().machine;
    const std::string who = "profile " + m_world.profile().name;
    if (feature == "userfaultfd" && !m.userfaultfd)
        return who + " has no CONFIG_USERFAULTFD";
    if (feature == "guard-regions" && !m.guardRegions)
        return who + " has no guard regions (MADV_GUARD_INSTALL)";
    if (feature == "thp" && m.thp == MachineConfig::Thp::Never)
        return who + " has transparent huge pages set to never";
    if (feature == "swap" && !m.swap)
        return who + " has no swap space";
    if (feature == "anon-vma-name" && !m.anonVmaName)
        return who + " has no CONFIG_ANON_VMA_NAME";
    if (feature == "soft-dirty" && !m.softDirty)
        return who + " has no CONFIG_MEM_SOFT_DIRTY";
    return std::nullopt;
}

std::optional<std::string> ModelBackend::start()
{
    if (m_initial) {
        m_world = std::move(*m_initial);
        m_initial.reset();
    } else {
        m_world.procs.push_back(makeDefaultProcess(m_world, m_world.nextPid++));
    }
    if (m_keepHistory)
        m_history = std::make_unique<History>(m_world);
    return std::nullopt;
}

scenario::CallResult executeCall(OpContext& c, const std::string& name, const std::vector<scenario::Value>& args)
{
    auto n = [&](std::size_t i) { return i < args.size() ? args[i].num : 0; };
    auto u = [&](std::size_t i) { return static_cast<std::uint64_t>(n(i)); };
    auto s = [&](std::size_t i) { return i < args.size() ? args[i].str : std::string(); };

    std::int64_t ret = 0;
    if (name == "fork") {
        // fork(child index): c.mm is the parent; the child's slot may grow the process vector,
        // so nothing may use c.mm after this.
        const auto parent = static_cast<std::size_t>(&c.mm - c.world.procs.data());
        return { doFork(c.world, parent, u(0), c.trace), std::nullopt };
    }
    if (name == "mmap")
        ret = doMmap(c, u(0), u(1), n(2), n(3), n(4), n(5));
    else if (name == "munmap")
        ret = doMunmap(c, u(0), u(1));
    else if (name == "mprotect")
        ret = doMprotect(c, u(0), u(1), n(2));
    else if (name == "mremap")
        ret = doMremap(c, u(0), u(1), u(2), n(3), u(4));
    else if (name == "madvise" && !madviseNotModelled(c.world, c.mm, u(0), u(1), n(2)).empty())
        return { 0, madviseNotModelled(c.world, c.mm, u(0), u(1), n(2)) };
    else if (name == "madvise")
        ret = doMadvise(c, u(0), u(1), n(2));
    else if (name == "mlock")
        ret = doMlock(c, u(0), u(1), 0, false);
    else if (name == "mlock2")
        ret = doMlock(c, u(0), u(1), n(2), true);
    else if (name == "munlock")
        ret = doMunlock(c, u(0), u(1));
    else if (name == "prctl" && n(0) == 0x53564d41 && n(1) == 0) // PR_SET_VMA, PR_SET_VMA_ANON_NAME
        ret = doSetAnonName(c, u(2), u(3), s(4));
    else if (name == "touch")
        ret = doTouch(c, u(0), u(1), n(2));
    else if (name == "memfd_create")
        ret = doMemfdCreate(c, s(0), n(1));
    else if (name == "open_file")
        ret = doOpenFile(c, s(0), n(1));
    else if (name == "ftruncate")
        ret = doFtruncate(c, n(0), n(1));
    else if (name == "close")
        ret = doClose(c, n(0));
    else if (name == "userfaultfd")
        ret = doUserfaultfd(c, n(0));
    else if (name == "uffdio_api")
        ret = doUffdioApi(c, n(0), u(1));
    else if (name == "uffdio_register")
        ret = doUffdioRegister(c, n(0), u(1), u(2), u(3));
    else if (name == "uffdio_unregister")
        ret = doUffdioUnregister(c, n(0), u(1), u(2));
    else if (name == "uffdio_writeprotect")
        ret = doUffdioWriteprotect(c, n(0), u(1), u(2), n(3) != 0);
    else
        return { 0, name + "() is not modelled yet by this version of vmalab" };
    if (c.neverReturns)
        return { 0, name + "(" + hexAddr(u(0)) + ", ...) " + *c.neverReturns };
    if (c.userfaultWait) {
        // The replay backend words it the same way: the call cannot finish without a monitor.
        const std::string tail = " waits for a userfaultfd monitor (registered without UFFD_FEATURE_SIGBUS)";
        if (name == "touch")
            return { 0, "touch of " + hexAddr(*c.userfaultWait) + tail };
        return { 0, name + "(" + hexAddr(u(0)) + ", ...)" + tail };
    }
    return { ret, std::nullopt };
}

scenario::CallResult ModelBackend::call(scenario::ProcIndex proc, const std::string& name,
                                        const std::vector<scenario::Value>& args, scenario::SourceLoc site)
{
    OpTrace trace;
    trace.process = proc;
    trace.call = TraceText::deferred(new CallText(name, args), 0);
    trace.line = site.line;
    trace.col = site.col;
    Tracer tracer(trace);
    OpContext c { m_world, m_world.procs.at(static_cast<std::size_t>(proc)), tracer };
    const scenario::CallResult r = executeCall(c, name, args);
    if (r.runtimeError)
        return r;
    trace.ret = r.value;
    if (m_history)
        m_history->record({ proc, name, args }, std::move(trace), m_world);
    else
        m_traces.push_back(std::move(trace));
    return r;
}

scenario::CallResult ModelBackend::fork(scenario::ProcIndex parent, scenario::ProcIndex child, scenario::SourceLoc site)
{
    // Recorded as a call "fork" whose argument is the child's index, so History can run it
    // again; the trace shows it as the program wrote it.
    scenario::Value index;
    index.num = child;
    OpTrace trace;
    trace.process = parent;
    trace.call = TraceText::literal("fork()");
    trace.line = site.line;
    trace.col = site.col;
    Tracer tracer(trace);
    OpContext c { m_world, m_world.procs.at(static_cast<std::size_t>(parent)), tracer };
    const scenario::CallResult r = executeCall(c, "fork", { index });
    trace.ret = r.value;
    if (m_history)
        m_history->record({ parent, "fork", { index } }, std::move(trace), m_world);
    else
        m_traces.push_back(std::move(trace));
    return r;
}

std::vector<ObservedProcess> ModelBackend::observe()
{
    return observeWorld(m_world);
}

} // namespace vmalab
