#pragma once

#include "core/engine/world.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <initializer_list>
#include <iosfwd>
#include <string>
#include <utility>
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

// Words a step renders only when someone reads them. Operations on the hot path (mprotect's
// merges and splits) record their arguments in one of these and put the text together on
// demand: a benchmark or a long run with history reads no step, and formatting every VMA
// description cost more than the change it described (docs/benchmarks.md).
class TraceDeferred
{
public:
    virtual ~TraceDeferred() = default;
    // Appends part `part` of the step's text (0 what, 1 rule; kernelFn is 2 when it is held here).
    virtual void render(int part, std::string& out) const = 0;
    // The part as a stored string, when it is one (saves a copy when reading).
    virtual const std::string* stored(int) const { return nullptr; }

private:
    friend class TraceText;
    friend class Tracer;
    mutable std::atomic<std::uint32_t> m_refs { 0 }; // TraceTexts that point here
};

// A step's text: a string literal, or a part of a TraceDeferred (owned words are one too).
// Reads like a std::string (it converts to one), so readers need not know which it holds.
// 16 bytes, so a step stays small in a history of a million steps.
class TraceText
{
public:
    TraceText() = default;
    TraceText(std::string text);
    TraceText(const char* text)
        : TraceText(std::string(text))
    {
    }
    TraceText(const TraceText& o)
        : m_p(o.m_p)
        , m_part(o.m_part)
    {
        retain();
    }
    TraceText(TraceText&& o) noexcept
        : m_p(std::exchange(o.m_p, {}))
        , m_part(std::exchange(o.m_part, literalPart))
    {
    }
    TraceText& operator=(TraceText o) noexcept
    {
        std::swap(m_p, o.m_p);
        std::swap(m_part, o.m_part);
        return *this;
    }
    ~TraceText() { release(); }

    // Refers to `text` without copying it: it must live as long as the trace (a literal).
    static TraceText literal(const char* text)
    {
        TraceText t;
        t.m_p.literal = text;
        return t;
    }
    // Part `part` of d, which the texts pointing to it own together (d is new, unowned).
    static TraceText deferred(const TraceDeferred* d, int part)
    {
        TraceText t;
        t.m_p.deferred = d;
        t.m_part = part;
        t.retain();
        return t;
    }

    std::string str() const;
    operator std::string() const { return str(); }
    // The object rendering this text (nullptr for a literal): History finds its calls so.
    const TraceDeferred* source() const { return m_part == literalPart ? nullptr : m_p.deferred; }
    bool empty() const;
    std::size_t size() const { return str().size(); }
    std::size_t find(const std::string& s, std::size_t pos = 0) const { return str().find(s, pos); }
    bool startsWith(const std::string& prefix) const { return str().rfind(prefix, 0) == 0; }

    friend bool operator==(const TraceText& a, const TraceText& b) { return a.str() == b.str(); }
    friend bool operator==(const TraceText& a, const std::string& b) { return a.str() == b; }
    friend bool operator==(const TraceText& a, const char* b);
    friend std::string operator+(const TraceText& a, const std::string& b) { return a.str() + b; }
    friend std::string operator+(const TraceText& a, const char* b) { return a.str() + b; }
    friend std::string operator+(const std::string& a, const TraceText& b) { return a + b.str(); }
    friend std::string operator+(const char* a, const TraceText& b) { return a + b.str(); }
    friend std::ostream& operator<<(std::ostream& os, const TraceText& t);

private:
    friend class Tracer;
    // Part `part` of d without counting the reference: the caller sets d's count once for
    // all the texts it makes (a locked increment each cost more than the rest of a step).
    static TraceText uncounted(const TraceDeferred* d, int part)
    {
        TraceText t;
        t.m_p.deferred = d;
        t.m_part = part;
        return t;
    }
    static constexpr int literalPart = -1;
    void retain() const
    {
        if (m_part != literalPart)
            m_p.deferred->m_refs.fetch_add(1, std::memory_order_relaxed);
    }
    void release()
    {
        if (m_part != literalPart && m_p.deferred->m_refs.fetch_sub(1, std::memory_order_acq_rel) == 1)
            delete m_p.deferred;
    }

    union Ptr {
        const char* literal; // m_part == literalPart (nullptr: empty)
        const TraceDeferred* deferred;
    } m_p { nullptr };
    int m_part = literalPart;
};

// The VMA ids a step names: one or two almost always, so they live inline (a heap vector
// for each of a step's three lists cost a malloc apiece, in a history of a million steps).
// Reads like a std::vector<VmaId> and converts to one.
class IdList
{
public:
    using value_type = VmaId;
    using size_type = std::size_t;
    using const_iterator = const VmaId*;
    using iterator = const VmaId*;

    IdList() = default;
    IdList(std::initializer_list<VmaId> ids) { append(ids.begin(), ids.end()); }
    IdList(const std::vector<VmaId>& ids) { append(ids.data(), ids.data() + ids.size()); }
    IdList(const IdList& o) { append(o.begin(), o.end()); }
    IdList(IdList&& o) noexcept { take(o); }
    IdList& operator=(const IdList& o)
    {
        if (this != &o) {
            m_size = 0;
            append(o.begin(), o.end());
        }
        return *this;
    }
    IdList& operator=(IdList&& o) noexcept
    {
        if (this != &o) {
            release();
            take(o);
        }
        return *this;
    }
    ~IdList() { release(); }

    const VmaId* begin() const { return data(); }
    const VmaId* end() const { return data() + m_size; }
    std::size_t size() const { return m_size; }
    bool empty() const { return m_size == 0; }
    VmaId front() const { return data()[0]; }
    VmaId back() const { return data()[m_size - 1]; }
    VmaId operator[](std::size_t i) const { return data()[i]; }
    void push_back(VmaId id) { append(&id, &id + 1); }
    void clear() { m_size = 0; }
    operator std::vector<VmaId>() const { return std::vector<VmaId>(begin(), end()); }

    friend bool operator==(const IdList& a, const IdList& b) { return std::equal(a.begin(), a.end(), b.begin(), b.end()); }
    friend bool operator==(const IdList& a, const std::vector<VmaId>& b)
    {
        return std::equal(a.begin(), a.end(), b.begin(), b.end());
    }

private:
    static constexpr std::uint32_t kInline = 2;
    const VmaId* data() const { return m_capacity > kInline ? m_heap : m_inline; }
    void append(const VmaId* from, const VmaId* to)
    {
        const auto n = static_cast<std::uint32_t>(to - from);
        if (m_size + n > m_capacity) {
            const std::uint32_t capacity = std::max(m_size + n, 2 * m_capacity);
            auto* grown = new VmaId[capacity];
            std::copy(begin(), end(), grown);
            release();
            m_heap = grown;
            m_capacity = capacity;
        }
        std::copy(from, to, (m_capacity > kInline ? m_heap : m_inline) + m_size);
        m_size += n;
    }
    void take(IdList& o) noexcept
    {
        m_size = o.m_size;
        m_capacity = o.m_capacity;
        if (o.m_capacity > kInline)
            m_heap = o.m_heap;
        else
            std::copy(o.m_inline, o.m_inline + o.m_size, m_inline);
        o.m_size = 0;
        o.m_capacity = kInline;
    }
    void release() noexcept
    {
        if (m_capacity > kInline)
            delete[] m_heap;
        m_capacity = kInline;
    }

    std::uint32_t m_size = 0;
    std::uint32_t m_capacity = kInline;
    union {
        VmaId m_inline[kInline];
        VmaId* m_heap;
    };
};

// One decision or action of the kernel, as data: the GUI steps through these.
struct TraceStep
{
    TraceText kernelFn; // the kernel function this step models, e.g. "vma_merge_new_range"
    TraceText what;     // what happens, in our words
    TraceText rule;     // the rule that decided, in our words ("" when nothing was decided)
    Lock lock = Lock::None;
    // The pages a per-page step covers ([pagesStart, pagesEnd), 0 when not per-page): runs
    // of the same action on consecutive pages are one step.
    Addr pagesStart = 0;
    Addr pagesEnd = 0;
    IdList created; // VMAs by identity (Vma::id)
    IdList changed;
    IdList removed;
};

// Everything one call did: the steps in order and the value the syscall returned.
struct OpTrace
{
    int process = 0;          // scenario process index
    TraceText call;           // "mprotect(0x7fff00010000, 0x2000, 0x1)", formatted when read
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

    // Room for the steps after the first when a second one comes: an mprotect merge has one
    // step, a split four. Reserving five up front cost a merge a second malloc and a move
    // when History trimmed the slack; doubling 1, 2, 4 cost a split three mallocs.
    static constexpr std::size_t kStepsAfterFirst = 3;

    TraceStep& step(std::string kernelFn, std::string what, std::string rule = {}, Lock lock = Lock::None);
    // A step whose three texts are string literals: nothing is copied or allocated.
    TraceStep& literalStep(const char* kernelFn, const char* what, const char* rule = "", Lock lock = Lock::None)
    {
        return add(TraceText::literal(kernelFn), TraceText::literal(what), TraceText::literal(rule), lock);
    }
    // A step whose words `render(what, rule)` appends when the step is read; kernelFn must
    // be a string literal. For the hot path: nothing is formatted unless someone looks.
    template <typename F>
    TraceStep& deferredStep(const char* kernelFn, F render)
    {
        struct Lambda final : TraceDeferred
        {
            explicit Lambda(F f)
                : fn(std::move(f))
            {
            }
            void render(int part, std::string& out) const override
            {
                std::string other;
                part == 0 ? fn(out, other) : fn(other, out);
            }
            F fn;
        };
        const auto* d = new Lambda(std::move(render));
        d->m_refs.store(2, std::memory_order_relaxed); // new: no other thread can see it yet
        return add(TraceText::literal(kernelFn), TraceText::uncounted(d, 0), TraceText::uncounted(d, 1), Lock::None);
    }
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
    TraceStep& add(TraceText kernelFn, TraceText what, TraceText rule, Lock lock);

    OpTrace& m_trace;
    Lock m_lock = Lock::None;
    const World* m_world = nullptr;
    std::vector<World>* m_sink = nullptr;
};

// Text rendering of a trace for `vmalab-cli --trace` (docs/trace.md).
std::string formatTrace(const OpTrace& trace, const std::string& processName, const std::string& file);

std::string hexAddr(std::uint64_t a); // "0x7fff00010000"

} // namespace vmalab
