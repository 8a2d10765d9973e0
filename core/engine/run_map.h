#pragma once

#include "core/assert.h"
#include "core/types.h"

#include <cstdint>
#include <iterator>
#include <map>

namespace vmalab {

// An interval map from [start, end) keys to values, stored as maximal runs: adjacent
// runs with equal values are joined, so a 64 GiB mapping touched page by page in order
// is one record, never one object per page. Keys are page indices or addresses; the
// map never interprets them. Absent keys have no value.
template <typename V>
class RunMap
{
public:
    struct Run
    {
        std::uint64_t start;
        std::uint64_t end;
        V value;
    };

    bool empty() const { return m_runs.empty(); }
    std::size_t runCount() const { return m_runs.size(); }

    // Value at key, or nullptr.
    const V* find(std::uint64_t key) const
    {
        auto it = m_runs.upper_bound(key);
        if (it == m_runs.begin())
            return nullptr;
        --it;
        return key < it->second.end ? &it->second.value : nullptr;
    }

    void assign(std::uint64_t start, std::uint64_t end, const V& value)
    {
        if (start >= end)
            return;
        erase(start, end);
        auto it = m_runs.emplace(start, Entry { end, value }).first;
        joinWithNeighbours(it);
    }

    void erase(std::uint64_t start, std::uint64_t end)
    {
        if (start >= end)
            return;
        splitAt(start);
        splitAt(end);
        m_runs.erase(m_runs.lower_bound(start), m_runs.lower_bound(end));
    }

    // Moves the values of [start, end) by `delta` (mremap moves page tables this way).
    void move(std::uint64_t start, std::uint64_t end, std::uint64_t newStart)
    {
        RunMap moved;
        forEach(start, end, [&](std::uint64_t s, std::uint64_t e, const V& v) {
            moved.assign(s - start + newStart, e - start + newStart, v);
        });
        erase(start, end);
        for (const auto& [s, entry] : moved.m_runs)
            assign(s, entry.end, entry.value);
    }

    // Calls f(start, end, value) for each run clipped to [start, end), in order.
    template <typename F>
    void forEach(std::uint64_t start, std::uint64_t end, F&& f) const
    {
        auto it = m_runs.upper_bound(start);
        if (it != m_runs.begin() && std::prev(it)->second.end > start)
            --it;
        for (; it != m_runs.end() && it->first < end; ++it) {
            const std::uint64_t s = it->first < start ? start : it->first;
            const std::uint64_t e = it->second.end > end ? end : it->second.end;
            if (s < e)
                f(s, e, it->second.value);
        }
    }

    template <typename F>
    void forEachAll(F&& f) const
    {
        for (const auto& [s, entry] : m_runs)
            f(s, entry.end, entry.value);
    }

    // Applies g(value) -> value to every existing run inside [start, end).
    template <typename G>
    void update(std::uint64_t start, std::uint64_t end, G&& g)
    {
        splitAt(start);
        splitAt(end);
        for (auto it = m_runs.lower_bound(start); it != m_runs.end() && it->first < end; ++it)
            it->second.value = g(it->second.value);
        // Re-join what became equal.
        auto it = m_runs.lower_bound(start);
        if (it != m_runs.begin())
            --it;
        while (it != m_runs.end() && it->first <= end) {
            auto next = std::next(it);
            if (next != m_runs.end() && it->second.end == next->first && it->second.value == next->second.value) {
                it->second.end = next->second.end;
                m_runs.erase(next);
            } else {
                it = next;
            }
        }
    }

    bool anyIn(std::uint64_t start, std::uint64_t end) const
    {
        bool any = false;
        forEach(start, end, [&](std::uint64_t, std::uint64_t, const V&) { any = true; });
        return any;
    }

    bool operator==(const RunMap& o) const { return m_runs == o.m_runs; }

private:
    struct Entry
    {
        std::uint64_t end;
        V value;
        bool operator==(const Entry&) const = default;
    };

    void splitAt(std::uint64_t key)
    {
        auto it = m_runs.upper_bound(key);
        if (it == m_runs.begin())
            return;
        --it;
        if (it->first < key && key < it->second.end) {
            Entry tail { it->second.end, it->second.value };
            it->second.end = key;
            m_runs.emplace(key, tail);
        }
    }

    void joinWithNeighbours(typename std::map<std::uint64_t, Entry>::iterator it)
    {
        auto next = std::next(it);
        if (next != m_runs.end() && it->second.end == next->first && it->second.value == next->second.value) {
            it->second.end = next->second.end;
            m_runs.erase(next);
        }
        if (it != m_runs.begin()) {
            auto prev = std::prev(it);
            if (prev->second.end == it->first && prev->second.value == it->second.value) {
                prev->second.end = it->second.end;
                m_runs.erase(it);
            }
        }
    }

    std::map<std::uint64_t, Entry> m_runs;
};

} // namespace vmalab
