#include "core/engine/trace.h"

#include "core/engine/call_text.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ostream>

namespace vmalab {

const char* lockName(Lock lock)
{
    switch (lock) {
    case Lock::None:
        return "no lock";
    case Lock::MmapWrite:
        return "mmap write lock";
    case Lock::MmapRead:
        return "mmap read lock";
    case Lock::VmaRead:
        return "per-VMA read lock";
    }
    return "?";
}

namespace {

// Words given as strings, owned by the texts that show them.
class OwnedText final : public TraceDeferred
{
public:
    explicit OwnedText(std::string what, std::string rule = {}, std::string kernelFn = {})
        : m_parts { std::move(what), std::move(rule), std::move(kernelFn) }
    {
    }
    void render(int part, std::string& out) const override { out += m_parts[part]; }
    const std::string* stored(int part) const override { return &m_parts[part]; }

private:
    std::string m_parts[3];
};

} // namespace

TraceText::TraceText(std::string text)
{
    if (text.empty())
        return;
    *this = deferred(new OwnedText(std::move(text)), 0);
}

std::string TraceText::str() const
{
    if (m_part == literalPart)
        return m_p.literal ? m_p.literal : "";
    if (const std::string* text = m_p.deferred->stored(m_part))
        return *text;
    std::string out;
    m_p.deferred->render(m_part, out);
    return out;
}

bool TraceText::empty() const
{
    if (m_part == literalPart)
        return !m_p.literal || !*m_p.literal;
    return str().empty();
}

bool operator==(const TraceText& a, const char* b)
{
    if (a.m_part == TraceText::literalPart)
        return std::strcmp(a.m_p.literal ? a.m_p.literal : "", b) == 0;
    return a.str() == b;
}

std::ostream& operator<<(std::ostream& os, const TraceText& t)
{
    return os << t.str();
}

TraceStep& Tracer::add(TraceText kernelFn, TraceText what, TraceText rule, Lock lock)
{
    std::vector<TraceStep>& steps = m_trace.steps;
    if (steps.size() == steps.capacity())
        steps.reserve(steps.empty() ? 1 : steps.size() + std::max(kStepsAfterFirst, steps.size()));
    TraceStep& s = steps.emplace_back();
    s.kernelFn = std::move(kernelFn);
    s.what = std::move(what);
    s.rule = std::move(rule);
    s.lock = lock == Lock::None ? m_lock : lock;
    if (m_sink)
        m_sink->push_back(*m_world);
    return s;
}

TraceStep& Tracer::step(std::string kernelFn, std::string what, std::string rule, Lock lock)
{
    // One allocation holds all three.
    const auto* words = new OwnedText(std::move(what), std::move(rule), std::move(kernelFn));
    words->m_refs.store(3, std::memory_order_relaxed); // new: no other thread can see it yet
    return add(TraceText::uncounted(words, 2), TraceText::uncounted(words, 0), TraceText::uncounted(words, 1), lock);
}

TraceStep& Tracer::pageStep(std::string kernelFn, const std::string& one, const std::string& many, Addr page,
                            std::string rule)
{
    auto describe = [&](Addr from, Addr to) {
        return to - from == pageSize ? one + " at " + hexAddr(from)
                                     : many + " at [" + hexAddr(from) + "-" + hexAddr(to) + ")";
    };
    if (!m_trace.steps.empty()) {
        TraceStep& prev = m_trace.steps.back();
        if (prev.pagesEnd == page && prev.kernelFn == kernelFn && prev.rule == rule
            && prev.what == describe(prev.pagesStart, prev.pagesEnd)) {
            prev.pagesEnd = page + pageSize;
            prev.what = describe(prev.pagesStart, prev.pagesEnd);
            if (m_sink)
                m_sink->back() = *m_world;
            return prev;
        }
    }
    TraceStep& s = step(std::move(kernelFn), describe(page, page + pageSize), std::move(rule));
    s.pagesStart = page;
    s.pagesEnd = page + pageSize;
    return s;
}

TraceStep& Tracer::last()
{
    if (m_trace.steps.empty())
        return step("", "");
    return m_trace.steps.back();
}

std::string hexAddr(std::uint64_t a)
{
    char buf[24];
    std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(a));
    return buf;
}

namespace {

std::string idList(const char* label, const std::vector<VmaId>& ids)
{
    if (ids.empty())
        return {};
    std::string out = std::string(" ") + label;
    for (std::size_t i = 0; i < ids.size(); ++i)
        out += (i ? ",#" : " #") + std::to_string(ids[i]);
    return out;
}


} // namespace

std::string formatTrace(const OpTrace& trace, const std::string& processName, const std::string& file)
{
    std::string out = "== " + processName + ": " + trace.call;
    if (trace.line > 0)
        out += "  (" + file + ":" + std::to_string(trace.line) + ":" + std::to_string(trace.col) + ")";
    out += " = " + formatResult(trace.ret) + "\n";
    for (const TraceStep& s : trace.steps) {
        out += "   " + s.kernelFn + ": " + s.what;
        out += "  [" + std::string(lockName(s.lock)) + "]";
        out += idList("created", s.created) + idList("changed", s.changed) + idList("removed", s.removed);
        out += "\n";
        const std::string rule = s.rule.str();
        if (!rule.empty())
            out += "      because " + rule + "\n";
    }
    return out;
}

} // namespace vmalab
