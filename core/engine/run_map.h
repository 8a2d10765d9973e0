#pragma once

#include "core/engine/persistent_map.h"
#include "core/types.h"

#include <cstdint>
#include <iterator>
#include <vector>

namespace vmalab {

// An interval map from [start, end) keys to values, stored as maximal runs: adjacent
// runs with equal values are joined, so a 64 GiB mapping touched page by page in order
// is one record, never one object per page. Keys are page indices or addresses; the
// map never interprets them. Absent keys have no value. Copies share their runs
// (PersistentMap), so history keeps page tables cheaply.
template <typename V>
class RunMap
{
    struct Entry
    {
        std::uint64_t end;
        V value;
        bool operator==(const Entry&) const = default;
    };
    using Runs = PersistentMap<std::uint64_t, Entry>;

public:
    bool empty() const { return m_runs.empty(); }
    std::size_t runCount() const { return m_runs.size(); }

    // Value at key, or nullptr.
    const V* find(std::uint64_t key) const
    {
        auto it = containing(key);
        return it == m_runs.end() ? nullptr : &it->second.value;
    }

    void assign(std::uint64_t start, std::uint64_t end, const V& value)
    {
        if (start >= end)
            return;
        erase(start, end);
        // Join with an equal run ending at start and one beginning at end.
        std::uint64_t from = start, to = end;
        auto prev = m_runs.lower_bound(start);
        if (prev != m_runs.begin()) {
            --prev;
            if (prev->second.end == start && prev->second.value == value)
                from = prev->first;
        }
        auto next = m_runs.find(end);
        if (next != m_runs.end() && next->second.value == value) {
            to = next->second.end;
            m_runs.erase(end);
        }
        if (from != start)
            m_runs.at(from).end = to;
        else
            m_runs.emplace(start, Entry { to, value });
    }

    void erase(std::uint64_t start, std::uint64_t end)
    {
        if (start >= end)
            return;
        splitAt(start);
        splitAt(end);
        std::vector<std::uint64_t> keys;
        for (auto it = m_runs.lower_bound(start); it != m_runs.end() && it->first < end; ++it)
            keys.push_back(it->first);
        for (std::uint64_t k : keys)
            m_runs.erase(k);
    }

    // Moves the values of [start, end) to begin at newStart (mremap moves page tables so).
    void move(std::uint64_t start, std::uint64_t end, std::uint64_t newStart)
    {
        RunMap moved;
        forEach(start, end, [&](std::uint64_t s, std::uint64_t e, const V& v) {
            moved.assign(s - start + newStart, e - start + newStart, v);
        });
        erase(start, end);
        moved.forEachAll([&](std::uint64_t s, std::uint64_t e, const V& v) { assign(s, e, v); });
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
        std::vector<std::pair<std::uint64_t, std::uint64_t>> runs;
        std::vector<V> values;
        forEach(start, end, [&](std::uint64_t s, std::uint64_t e, const V& v) {
            runs.emplace_back(s, e);
            values.push_back(g(v));
        });
        for (std::size_t i = 0; i < runs.size(); ++i)
            assign(runs[i].first, runs[i].second, values[i]);
    }

    bool anyIn(std::uint64_t start, std::uint64_t end) const
    {
        bool any = false;
        forEach(start, end, [&](std::uint64_t, std::uint64_t, const V&) { any = true; });
        return any;
    }

    bool operator==(const RunMap& o) const { return m_runs == o.m_runs; }

    // Runs not shared with another version of this map (benchmarks).
    std::size_t runsNotIn(const RunMap& other) const { return m_runs.nodesNotIn(other.m_runs); }

private:
    typename Runs::const_iterator containing(std::uint64_t key) const
    {
        auto it = m_runs.upper_bound(key);
        if (it == m_runs.begin())
            return m_runs.end();
        --it;
        return key < it->second.end ? it : m_runs.end();
    }

    void splitAt(std::uint64_t key)
    {
        auto it = containing(key);
        if (it == m_runs.end() || it->first == key)
            return;
        const Entry tail { it->second.end, it->second.value };
        m_runs.at(it->first).end = key;
        m_runs.emplace(key, tail);
    }

    Runs m_runs;
};

} // namespace vmalab
