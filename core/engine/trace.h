#pragma once

#include "core/engine/world.h"

#include <cstdint>
#include <string>
#include <vector>

namespace vmalab {

// Which lock an engine step runs under (kernel-model.md §14).
enum class Lock
{
    None,
    MmapWrite, // mmap_write_lock(); VMAs modified are also vma_start_write()-locked
    MmapRead,  // mmap_read_lock()
    VmaRead,   // per-VMA read lock (lock_vma_under_rcu())
};

const char* lockName(Lock lock);

// One decision or action of the kernel, as data: the GUI steps through these.
struct TraceStep
{
    std::string kernelFn; // the kernel function this step models, e.g. "vma_merge_new_range"
    std::string what;     // what happens, in our words
    std::string rule;     // the rule that decided, in our words ("" when nothing was decided)
    Lock lock = Lock::None;
    // The pages a per-page step covers ([pagesStart, pagesEnd), 0 when not per-page): runs
    // of the same action on consecutive pages are one step.
    Addr pagesStart = 0;
    Addr pagesEnd = 0;
    std::vector<VmaId> created; // VMAs by identity (Vma::id)
    std::vector<VmaId> changed;
    std::vector<VmaId> removed;
};

// Everything one call did: the steps in order and the value the syscall returned.
struct OpTrace
{
    int process = 0;          // scenario process index
    std::string call;         // "mprotect(0x7fff00010000, 0x2000, 0x1)"
    int line = 0;             // where the call is written in the scenario (1-based; 0 unknown)
    int col = 0;
    std::int64_t ret = 0;     // raw result or -errno; touch: 0, SIGSEGV or SIGBUS
    std::vector<TraceStep> steps;
};

// The recorder an operation writes its steps into.
class Tracer
{
public:
    explicit Tracer(OpTrace& trace)
        : m_trace(trace)
    {
    }

    TraceStep& step(std::string kernelFn, std::string what, std::string rule = {}, Lock lock = Lock::None);
    // A step about one page; it joins the previous step when that did the same to the page
    // before. `one` reads "maps a new anonymous page", `many` "maps new anonymous pages";
    // the address or range is appended.
    TraceStep& pageStep(std::string kernelFn, const std::string& one, const std::string& many, Addr page,
                        std::string rule = {});
    // The step most recently added (adds an empty one if there is none).
    TraceStep& last();
    // The lock the operation holds; steps added later default to it.
    void holding(Lock lock) { m_lock = lock; }
    Lock lock() const { return m_lock; }
    // With a sink, every step keeps a copy of the world as it is when the step is recorded
    // (operations record a step after the change it describes), for time travel.
    void recordWorlds(const World* world, std::vector<World>* sink)
    {
        m_world = world;
        m_sink = sink;
    }

private:
    OpTrace& m_trace;
    Lock m_lock = Lock::None;
    const World* m_world = nullptr;
    std::vector<World>* m_sink = nullptr;
};

// Text rendering of a trace for `vmalab-cli --trace` (docs/trace.md).
std::string formatTrace(const OpTrace& trace, const std::string& processName, const std::string& file);

std::string hexAddr(std::uint64_t a); // "0x7fff00010000"

} // namespace vmalab
