#include "core/engine/model_backend.h"

#include "core/engine/abi.h"
#include "core/engine/call_text.h"
#include "core/engine/fault.h"
#include "core/engine/fork.h"
#include "core/engine/layout.h"
#include "core/engine/observe.h"
#include "core/engine/ops.h"
#include "core/engine/snapshot_world.h"
#include "core/engine/uffd.h"

#include <utility>

namespace vmalab {

namespace {

// Marks the trailing argument that carries a recorded result (never a scenario argument).
const char* const recordedArgTag = "@recorded";

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
        m_history = std::make_unique<History>(m_world, m_checkpointEvery);
    return std::nullopt;
}

scenario::CallResult executeCall(OpContext& c, const std::string& name, const std::vector<scenario::Value>& args)
{
    auto n = [&](std::size_t i) { return i < args.size() ? args[i].num : 0; };
    auto u = [&](std::size_t i) { return static_cast<std::uint64_t>(n(i)); };
    auto s = [&](std::size_t i) { return i < args.size() ? args[i].str : std::string(); };

    // A recorded placement rides as a trailing argument, so History runs the call the same way.
    const bool hasRecorded = !args.empty() && args.back().isString && args.back().str == recordedArgTag;
    const Addr recorded = hasRecorded ? static_cast<Addr>(args.back().num) : 0;
    std::int64_t ret = 0;
    if (name == "fork") {
        // fork(child index[, recorded pid]): c.mm is the parent; the child's slot may grow the
        // process vector, so nothing may use c.mm after this.
        const auto parent = static_cast<std::size_t>(&c.mm - c.world.procs.data());
        if (hasRecorded && recorded > 0)
            c.world.nextPid = static_cast<std::int64_t>(recorded); // the child gets the pid the kernel gave it
        return { doFork(c.world, parent, u(0), c.trace), std::nullopt };
    }
    if (name == "mmap")
        ret = doMmap(c, u(0), u(1), n(2), n(3), n(4), n(5), recorded);
    else if (name == "brk")
        ret = doBrk(c, u(0));
    else if (name == "observe" && !parseObservedPageState(s(2)))
        return { 0, "unknown page state \"" + s(2) + "\" (known: none, anon, file, swap, guard)" };
    else if (name == "observe")
        ret = doObservePages(c, u(0), u(1), *parseObservedPageState(s(2)));
    else if (name == "open_mapped")
        ret = doOpenMapped(c, s(0), s(1), u(2), u(3), n(4));
    else if (name == "munmap")
        ret = doMunmap(c, u(0), u(1));
    else if (name == "mprotect")
        ret = doMprotect(c, u(0), u(1), n(2));
    else if (name == "mremap")
        ret = doMremap(c, u(0), u(1), u(2), n(3), args.size() > 4 && !args[4].isString ? u(4) : 0, recorded);
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
    if ((name == "memfd_create" || name == "open_file") && ret >= 0)
        c.mm.fdAccess.erase(static_cast<int>(ret)); // a new open file: read-write
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
    const bool placed = (name == "mmap" && args.size() == 6 && !(args[3].num & (abi::MAP_FIXED | abi::MAP_FIXED_NOREPLACE)))
        || (name == "mremap" && args.size() >= 4 && (args[3].num & abi::MREMAP_MAYMOVE) && !(args[3].num & abi::MREMAP_FIXED));
    std::vector<scenario::Value> runArgs = args;
    if (m_recorded && placed && *m_recorded > 0) {
        scenario::Value tag;
        tag.isString = true;
        tag.str = recordedArgTag;
        tag.num = *m_recorded;
        runArgs.push_back(std::move(tag));
    }
    OpTrace trace;
    trace.process = proc;
    // One copy of the call, for History to run again and for the trace to print (without
    // the recorded placement): formatting it for every call cost more than many calls.
    trace.call = History::callText({ proc, name, std::move(runArgs) }, args.size());
    trace.line = site.line;
    trace.col = site.col;
    Tracer tracer(trace);
    OpContext c { m_world, m_world.procs.at(static_cast<std::size_t>(proc)), tracer };
    const scenario::CallResult r = executeCall(c, name, History::callIn(trace.call)->args);
    if (r.runtimeError) {
        m_worldChangedUnrecorded = true; // it may have changed part of the world before failing
        return r;
    }
    trace.ret = r.value;
    if (m_history)
        m_history->record(std::move(trace), m_world, std::exchange(m_worldChangedUnrecorded, false));
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
    std::vector<scenario::Value> forkArgs { index };
    if (m_recorded && *m_recorded > 0) {
        scenario::Value pid;
        pid.isString = true;
        pid.str = recordedArgTag;
        pid.num = *m_recorded;
        forkArgs.push_back(std::move(pid));
    }
    OpTrace trace;
    trace.process = parent;
    trace.call = History::callText({ parent, "fork", std::move(forkArgs) }, 0, "fork()");
    trace.line = site.line;
    trace.col = site.col;
    Tracer tracer(trace);
    OpContext c { m_world, m_world.procs.at(static_cast<std::size_t>(parent)), tracer };
    const scenario::CallResult r = executeCall(c, "fork", History::callIn(trace.call)->args);
    trace.ret = r.value;
    if (m_history)
        m_history->record(std::move(trace), m_world, std::exchange(m_worldChangedUnrecorded, false));
    else
        m_traces.push_back(std::move(trace));
    return r;
}

std::optional<std::string> ModelBackend::startFromSnapshot(const snapshot::Snapshot& snap)
{
    auto world = worldFromSnapshot(snap, m_world.profile());
    if (!world)
        return "the start snapshot cannot be modelled: " + world.error().front().message;
    startFrom(std::move(*world));
    return std::nullopt;
}

scenario::CallResult ModelBackend::replaceWithSnapshot(scenario::ProcIndex proc, scenario::ProcIndex parent,
                                                       const snapshot::Snapshot& snap, scenario::SourceLoc site,
                                                       const std::string& text, bool keepPid)
{
    auto loaded = worldFromSnapshot(snap, m_world.profile());
    if (!loaded)
        return { 0, "the snapshot cannot be modelled: " + loaded.error().front().message };
    const auto index = static_cast<std::size_t>(proc);
    if (m_world.procs.size() <= index)
        m_world.procs.resize(index + 1);
    Mm& target = m_world.procs[index];
    // exec keeps the process's pid and its open files (no O_CLOEXEC in the model).
    std::size_t from = 0;
    for (std::size_t i = 0; i < loaded->procs.size(); ++i)
        if (keepPid && loaded->procs[i].pid == target.pid)
            from = i;
    Mm fresh = adoptSnapshotProcess(m_world, *loaded, from, index);
    if (keepPid) {
        fresh.pid = target.pid;
        fresh.fds = target.fds;
        fresh.fdAccess = target.fdAccess;
        fresh.uffdFds = target.uffdFds;
    } else {
        // A spawned child inherits its parent's descriptors (the vfork and execve of the program).
        const Mm& parentMm = m_world.procs.at(static_cast<std::size_t>(parent));
        fresh.fds = parentMm.fds;
        fresh.fdAccess = parentMm.fdAccess;
        m_world.nextPid = std::max(m_world.nextPid, fresh.pid + 1);
    }
    target = std::move(fresh);
    OpTrace trace;
    trace.process = proc;
    trace.call = History::callText({ proc, "exec", {} }, 0, text);
    trace.line = site.line;
    trace.col = site.col;
    trace.ret = keepPid ? 0 : target.pid;
    m_worldChangedUnrecorded = false; // History keeps the world after this one
    if (m_history)
        m_history->record(std::move(trace), m_world, true); // exec cannot run again
    else
        m_traces.push_back(std::move(trace));
    return { keepPid ? 0 : target.pid, std::nullopt };
}

scenario::CallResult ModelBackend::exec(scenario::ProcIndex proc, const snapshot::Snapshot& snap, scenario::SourceLoc site)
{
    return replaceWithSnapshot(proc, proc, snap, site, "exec(): the address space becomes the recorded one", true);
}

scenario::CallResult ModelBackend::spawn(scenario::ProcIndex parent, scenario::ProcIndex child,
                                         const snapshot::Snapshot& snap, scenario::SourceLoc site)
{
    return replaceWithSnapshot(child, parent, snap, site, "spawn(): a new process with the recorded address space", false);
}

std::vector<ObservedProcess> ModelBackend::observe()
{
    return observeWorld(m_world);
}

} // namespace vmalab
