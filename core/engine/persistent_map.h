#pragma once

#include "core/assert.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <new>
#include <utility>

namespace vmalab {

namespace detail {

// Maps a large pool chunk's pages in one go (madvise(MADV_POPULATE_WRITE); out of line:
// <sys/mman.h> names clash with abi.h).
void prefaultChunk(void* chunk, std::size_t bytes);

// Memory for the nodes and boxes of one map and of every copy made from it (its versions
// in History). Carving them from large chunks instead of one malloc each saves the
// allocator's time and headers, and the pages of a 2 MiB chunk are mapped in one call
// instead of a page fault each (docs/benchmarks.md). Freed objects are reused, never
// returned before the last copy of the map is gone. Not thread-safe, like the node counts.
class MapPool
{
public:
    MapPool(std::size_t nodeBytes, std::size_t boxBytes)
        : m_bytes { roundUp(nodeBytes), roundUp(boxBytes) }
    {
    }
    MapPool(const MapPool&) = delete;
    MapPool& operator=(const MapPool&) = delete;
    ~MapPool()
    {
        while (m_chunks) {
            Chunk* c = m_chunks;
            m_chunks = c->next;
            ::operator delete(static_cast<void*>(c), c->align);
        }
    }

    // kind 0: a node, 1: a box.
    void* allocate(int kind)
    {
        if (void* p = m_free[kind]) {
            m_free[kind] = *static_cast<void**>(p);
            return p;
        }
        const std::size_t n = m_bytes[kind];
        if (static_cast<std::size_t>(m_end - m_next) < n)
            grow(n);
        void* p = m_next;
        m_next += n;
        return p;
    }
    void deallocate(int kind, void* p)
    {
        *static_cast<void**>(p) = m_free[kind];
        m_free[kind] = p;
    }

    std::uint32_t refs = 1; // maps using the pool

private:
    static constexpr std::size_t kAlign = alignof(std::max_align_t);
    static constexpr std::size_t kFirstChunk = 1024; // small maps (files, fds) stay small
    static constexpr std::size_t kHugeChunk = std::size_t(2) << 20; // a transparent huge page
    static std::size_t roundUp(std::size_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

    struct Chunk
    {
        Chunk* next;
        std::align_val_t align;
    };

    void grow(std::size_t need)
    {
        while (m_nextChunk < kHugeChunk && m_nextChunk < roundUp(sizeof(Chunk)) + need)
            m_nextChunk *= 2;
        const std::size_t bytes = std::max(m_nextChunk, roundUp(sizeof(Chunk)) + need);
        if (m_nextChunk < kHugeChunk)
            m_nextChunk *= 2;
        const std::align_val_t align { bytes >= kHugeChunk ? kHugeChunk : kAlign };
        void* mem = ::operator new(bytes, align);
        if (bytes >= kHugeChunk)
            prefaultChunk(mem, bytes);
        m_chunks = new (mem) Chunk { m_chunks, align };
        m_next = static_cast<char*>(mem) + roundUp(sizeof(Chunk));
        m_end = static_cast<char*>(mem) + bytes;
    }

    std::size_t m_bytes[2];
    void* m_free[2] = { nullptr, nullptr };
    char* m_next = nullptr;
    char* m_end = nullptr;
    std::size_t m_nextChunk = kFirstChunk;
    Chunk* m_chunks = nullptr;
};

} // namespace detail

// An ordered map whose copies share every node they have not changed: copying is O(1) (it splits
// one reference weight), and a change copies only the nodes on its path. It is a B+tree with
// path copying: nodes of 16 keep it a few levels deep (5 at 60,000 VMAs, where a treap was
// about 30), so a lookup touches few cache lines and a change copies few small nodes. History
// keeps its checkpoint worlds this way (docs/history.md).
//
// It offers the part of std::map the engine uses. Differences: iterators are read-only
// (change values through at()); a reference from at() stays valid until the map is next
// copied (values live in boxes of their own, so structural changes to other keys do not
// move them); an iterator is valid until the map changes; rekey() moves a key in place when
// the order is unchanged, as VMA starts move when VMAs grow or shrink.
template <typename K, typename V>
class PersistentMap
{
    // Entries per node. 16 measured best for the model-vs-kernel benchmark (5% faster than
    // 8) once History stopped keeping a world per operation: changes to an unshared map
    // happen in place, so only the rarer path copies pay for the wider nodes.
    static constexpr int kMax = 16;
    static constexpr int kMin = kMax / 2; // every node but the root holds at least this many
    static constexpr int kMaxDepth = 24;  // kMin^24 entries: never reached

    // Values live in boxes of their own, shared by the node copies a path copy makes, so a
    // change copies small nodes and only the one value it changes.
    //
    // Sharing is counted by weights, not by one count per reference: each reference (a
    // node's slot, a map's root) holds a weight, and a node or box holds the sum of its
    // references' weights, so a reference is the only one when its weight is the whole.
    // Copying a reference splits its weight between the two copies without touching the
    // target: a path copy after a History checkpoint copied 16-slot nodes whose 16 children
    // each took a cache miss for their counts (12% of a mprotect toggle). The target is
    // touched when a reference is dropped, or when a weight of 1 must be split (it gets
    // kFreshWeight more).
    // 16 bits a slot: refills are rare (a reference copied 14 times over), and wider weights
    // made every node of History's path copies 32 bytes bigger.
    using Weight = std::uint16_t;
    static constexpr Weight kFreshWeight = Weight(1) << 14;

    struct Box
    {
        std::uint64_t weight = kFreshWeight;
        V value;
    };

    struct Node
    {
        std::uint64_t weight = kFreshWeight;
        std::uint16_t count = 0;
        bool leaf = true;
        K keys[kMax]; // in a leaf the entries' keys; in an inner node each child's smallest key
        union Slot { // (not `slots`: Qt defines that word as a macro)
            Box* box;  // leaf
            Node* kid; // inner node
        } items[kMax];
        Weight weights[kMax]; // the weight each slot's reference holds
    };

    struct Pos
    {
        const Node* leaf = nullptr; // nullptr: end()
        int index = 0;
    };

public:
    // What iterators show: references into the map, valid while the iterator is.
    struct Entry
    {
        const K& first;
        const V& second;
        bool operator==(const Entry& o) const { return first == o.first && second == o.second; }
    };
    using value_type = Entry;

    class const_iterator
    {
    public:
        struct Arrow
        {
            Entry e;
            const Entry* operator->() const { return &e; }
        };
        using iterator_category = std::bidirectional_iterator_tag;
        using value_type = Entry;
        using difference_type = std::ptrdiff_t;
        using pointer = Arrow;
        using reference = Entry;

        const_iterator() = default;
        Entry operator*() const { return { m_pos.leaf->keys[m_pos.index], m_pos.leaf->items[m_pos.index].box->value }; }
        Arrow operator->() const { return { **this }; }
        const_iterator& operator++()
        {
            if (m_pos.index + 1 < m_pos.leaf->count)
                ++m_pos.index;
            else
                m_pos = m_map->upperPos(m_pos.leaf->keys[m_pos.index]);
            return *this;
        }
        const_iterator& operator--()
        {
            if (!m_pos.leaf)
                m_pos = m_map->maxPos();
            else if (m_pos.index > 0)
                --m_pos.index;
            else
                m_pos = m_map->belowPos(m_pos.leaf->keys[0]);
            return *this;
        }
        const_iterator operator++(int)
        {
            auto t = *this;
            ++*this;
            return t;
        }
        const_iterator operator--(int)
        {
            auto t = *this;
            --*this;
            return t;
        }
        bool operator==(const const_iterator& o) const
        {
            return m_pos.leaf == o.m_pos.leaf && (!m_pos.leaf || m_pos.index == o.m_pos.index);
        }

    private:
        friend class PersistentMap;
        const_iterator(const PersistentMap* m, Pos p)
            : m_map(m)
            , m_pos(p)
        {
        }
        const PersistentMap* m_map = nullptr;
        Pos m_pos;
    };
    using iterator = const_iterator;

    // A position kept across changes made through it: the path from the root to an entry,
    // so its neighbours, a change of its value or key, and an insert or erase next to it
    // need no new descent (one walk for a whole mprotect instead of one per lookup). Any
    // change made without it (or through another cursor) invalidates it.
    class Cursor
    {
    public:
        bool valid() const { return m_depth > 0; }
        explicit operator bool() const { return valid(); }

    private:
        friend class PersistentMap;
        Node* m_nodes[kMaxDepth]; // [0] the root ... [m_depth - 1] the leaf
        int m_index[kMaxDepth];   // the child taken in an inner node; the entry in the leaf
        int m_depth = 0;
    };

    // The last entry whose key is <= k, or an invalid cursor.
    Cursor floor(const K& k) const
    {
        Cursor c;
        const Node* n = m_root;
        while (n) {
            VMALAB_ASSERT(c.m_depth < kMaxDepth, "PersistentMap deeper than expected");
            const int i = n->leaf ? lowerIndex(n, k) : childIndex(n, k);
            c.m_nodes[c.m_depth] = const_cast<Node*>(n);
            c.m_index[c.m_depth++] = i;
            if (n->leaf) {
                if (i < n->count && n->keys[i] == k)
                    return c;
                if (i > 0) {
                    --c.m_index[c.m_depth - 1];
                    return c;
                }
                return toPrevLeaf(c) ? c : Cursor {};
            }
            n = n->items[i].kid;
        }
        return c;
    }
    // The first entry, or an invalid cursor.
    Cursor first() const
    {
        Cursor c;
        for (const Node* n = m_root; n; n = n->leaf ? nullptr : n->items[0].kid) {
            c.m_nodes[c.m_depth] = const_cast<Node*>(n);
            c.m_index[c.m_depth++] = 0;
        }
        return c.valid() && c.m_nodes[c.m_depth - 1]->count > 0 ? c : Cursor {};
    }
    const K& key(const Cursor& c) const { return leafOf(c)->keys[c.m_index[c.m_depth - 1]]; }
    const V& value(const Cursor& c) const { return leafOf(c)->items[c.m_index[c.m_depth - 1]].box->value; }
    // The value of the entry before / after the cursor's, or nullptr; the cursor stays.
    const V* peekPrev(const Cursor& c) const
    {
        const int i = c.m_index[c.m_depth - 1];
        if (i > 0)
            return &leafOf(c)->items[i - 1].box->value;
        Cursor t = c;
        return toPrevLeaf(t) ? &value(t) : nullptr;
    }
    const V* peekNext(const Cursor& c) const
    {
        const Node* leaf = leafOf(c);
        const int i = c.m_index[c.m_depth - 1];
        if (i + 1 < leaf->count)
            return &leaf->items[i + 1].box->value;
        Cursor t = c;
        return toNextLeaf(t) ? &value(t) : nullptr;
    }
    // Moves to the entry before / after; false (the cursor unchanged) when there is none.
    bool prev(Cursor& c) const
    {
        if (c.m_index[c.m_depth - 1] > 0) {
            --c.m_index[c.m_depth - 1];
            return true;
        }
        return toPrevLeaf(c);
    }
    bool next(Cursor& c) const
    {
        if (c.m_index[c.m_depth - 1] + 1 < leafOf(c)->count) {
            ++c.m_index[c.m_depth - 1];
            return true;
        }
        return toNextLeaf(c);
    }
    // The cursor's value to change, as at() gives it.
    V& valueForWrite(Cursor& c)
    {
        makePathUnique(c);
        return uniqueValue(c.m_nodes[c.m_depth - 1], c.m_index[c.m_depth - 1]);
    }
    // Changes the cursor's key in place; the new key must keep the entry's place in the order.
    V& rekey(Cursor& c, const K& newKey)
    {
        if (!(key(c) == newKey)) {
            Cursor t = c;
            const bool afterBelow = !prev(t) || key(t) < newKey;
            t = c;
            const bool beforeAbove = !next(t) || newKey < key(t);
            VMALAB_ASSERT(afterBelow && beforeAbove, "PersistentMap::rekey() would change the order");
        }
        makePathUnique(c);
        Node* leaf = c.m_nodes[c.m_depth - 1];
        const int i = c.m_index[c.m_depth - 1];
        leaf->keys[i] = newKey;
        if (i == 0)
            fixSmallestKey(c);
        return uniqueValue(leaf, i);
    }
    // Inserts (k, v), k absent, as the entry right before (`before`) or after the cursor's
    // (the caller knows it falls there). The cursor stays on its entry. Returns the new value.
    V& insertBeside(Cursor& c, bool before, const K& k, V v)
    {
        makePathUnique(c);
        Node* leaf = c.m_nodes[c.m_depth - 1];
        const int i = c.m_index[c.m_depth - 1];
        if (leaf->count < kMax) {
            typename Node::Slot s;
            s.box = newBox(std::move(v));
            insertAt(leaf, before ? i : i + 1, k, s, kFreshWeight);
            ++m_size;
            if (before) {
                ++c.m_index[c.m_depth - 1];
                if (i == 0)
                    fixSmallestKey(c);
            }
            return s.box->value;
        }
        const K at = key(c); // a full leaf splits: insert from the root, then find the entry again
        V& inserted = insertNew(k, std::move(v));
        c = floor(at);
        return inserted;
    }
    // Erases the cursor's entry; the cursor moves to the entry before it (invalid if none).
    void erase(Cursor& c)
    {
        makePathUnique(c);
        Node* leaf = c.m_nodes[c.m_depth - 1];
        const int i = c.m_index[c.m_depth - 1];
        if (c.m_depth > 1 && leaf->count <= kMin) {
            const K k = key(c); // the leaf would underflow: erase from the root, rebalancing
            eraseFromRoot(k);
            c = floor(k);
            return;
        }
        releaseBox(leaf->items[i].box, leaf->weights[i]);
        removeAt(leaf, i);
        --m_size;
        if (leaf->count == 0) { // the root leaf held the last entry
            release(m_root, m_rootWeight);
            m_root = nullptr;
            c = {};
            return;
        }
        if (i == 0) {
            fixSmallestKey(c);
            if (!toPrevLeaf(c))
                c = {};
            return;
        }
        --c.m_index[c.m_depth - 1];
    }

    PersistentMap() = default;
    PersistentMap(const PersistentMap& o)
        : m_root(o.m_root)
        , m_rootWeight(o.m_root ? share(o.m_root, o.m_rootWeight) : 0)
        , m_size(o.m_size)
        , m_pool(o.m_pool)
    {
        if (m_pool)
            ++m_pool->refs;
    }
    PersistentMap(PersistentMap&& o) noexcept
        : m_root(std::exchange(o.m_root, nullptr))
        , m_rootWeight(std::exchange(o.m_rootWeight, 0))
        , m_size(std::exchange(o.m_size, 0))
        , m_pool(std::exchange(o.m_pool, nullptr))
    {
    }
    PersistentMap& operator=(PersistentMap o) noexcept
    {
        std::swap(m_root, o.m_root);
        std::swap(m_rootWeight, o.m_rootWeight);
        std::swap(m_size, o.m_size);
        std::swap(m_pool, o.m_pool);
        return *this;
    }
    ~PersistentMap()
    {
        release(m_root, m_rootWeight);
        if (m_pool && --m_pool->refs == 0)
            delete m_pool;
    }

    std::size_t size() const { return m_size; }
    bool empty() const { return m_size == 0; }

    const_iterator begin() const
    {
        const Node* n = m_root;
        while (n && !n->leaf)
            n = n->items[0].kid;
        return { this, Pos { n, 0 } };
    }
    const_iterator end() const { return { this, Pos {} }; }
    const_iterator find(const K& k) const
    {
        const Node* n = leafFor(k);
        if (n) {
            const int i = lowerIndex(n, k);
            if (i < n->count && n->keys[i] == k)
                return { this, Pos { n, i } };
        }
        return end();
    }
    const_iterator lower_bound(const K& k) const { return { this, lowerPos(k) }; }
    const_iterator upper_bound(const K& k) const { return { this, upperPos(k) }; }
    std::size_t count(const K& k) const { return find(k) == end() ? 0 : 1; }

    const V& at(const K& k) const
    {
        auto it = find(k);
        VMALAB_ASSERT(it != end(), "PersistentMap::at() of a missing key");
        return it->second;
    }

    // Mutable access: copies the nodes on the path, and the value, that are shared with
    // another version.
    V& at(const K& k)
    {
        VMALAB_ASSERT(m_root, "PersistentMap::at() of a missing key");
        Node** slot = &m_root;
        Weight* weight = &m_rootWeight;
        for (;;) {
            makeUnique(*slot, *weight);
            Node* n = *slot;
            if (n->leaf) {
                const int i = lowerIndex(n, k);
                VMALAB_ASSERT(i < n->count && n->keys[i] == k, "PersistentMap::at() of a missing key");
                return uniqueValue(n, i);
            }
            const int i = childIndex(n, k);
            slot = &n->items[i].kid;
            weight = &n->weights[i];
        }
    }

    std::pair<const_iterator, bool> emplace(const K& k, V v)
    {
        if (auto it = find(k); it != end())
            return { it, false };
        insertNew(k, std::move(v));
        return { find(k), true };
    }

    // Inserts a key that must be absent; returns its value, as at() would.
    V& emplaceNew(const K& k, V v)
    {
        Cursor c = floor(k);
        if (!c)
            return insertNew(k, std::move(v));
        VMALAB_ASSERT(!(key(c) == k), "PersistentMap::emplaceNew() of a key already present");
        return insertBeside(c, false, k, std::move(v));
    }

    std::size_t erase(const K& k)
    {
        Cursor c = floor(k);
        if (!c || !(key(c) == k))
            return 0;
        erase(c);
        return 1;
    }

private:
    // Erases k, which is present, rebalancing on the way up.
    void eraseFromRoot(const K& k)
    {
        eraseFrom(m_root, m_rootWeight, k);
        --m_size;
        if (m_root->count == 0) {
            release(m_root, m_rootWeight);
            m_root = nullptr;
        } else if (!m_root->leaf && m_root->count == 1) {
            // The root is unique here (eraseFrom copied it): drop it and keep its child.
            Node* kid = m_root->items[0].kid;
            const Weight kidWeight = m_root->weights[0];
            m_root->count = 0;
            release(m_root, m_rootWeight);
            m_root = kid;
            m_rootWeight = kidWeight;
        }
    }

public:
    // Changes a key in place; the new key must keep the entry's place in the order. Returns
    // the entry's value, as at(newKey) would.
    V& rekey(const K& oldKey, const K& newKey)
    {
        Cursor c = floor(oldKey);
        VMALAB_ASSERT(c && key(c) == oldKey, "PersistentMap::rekey() of a missing key");
        return rekey(c, newKey);
    }

    void clear()
    {
        release(m_root, m_rootWeight);
        m_root = nullptr;
        m_size = 0;
    }

    bool operator==(const PersistentMap& o) const
    {
        if (m_size != o.m_size)
            return false;
        for (auto a = begin(), b = o.begin(); a != end(); ++a, ++b)
            if (!(*a == *b))
                return false;
        return true;
    }

    // Nodes not shared with `other` (what a version costs on top of another), for benchmarks.
    std::size_t nodesNotIn(const PersistentMap& other) const { return countUnshared(m_root, other); }

private:
    static const Node* leafOf(const Cursor& c)
    {
        VMALAB_ASSERT(c.valid(), "PersistentMap: use of an invalid cursor");
        return c.m_nodes[c.m_depth - 1];
    }
    // Copies the shared nodes on the cursor's path, from the root down. Checked on every
    // change, not remembered: a trace step may copy the world (History's step worlds) between
    // two changes through one cursor, sharing the path again.
    void makePathUnique(Cursor& c)
    {
        makeUnique(m_root, m_rootWeight);
        c.m_nodes[0] = m_root;
        for (int d = 1; d < c.m_depth; ++d) {
            Node* parent = c.m_nodes[d - 1];
            Node*& slot = parent->items[c.m_index[d - 1]].kid;
            makeUnique(slot, parent->weights[c.m_index[d - 1]]);
            c.m_nodes[d] = slot;
        }
    }
    // The leaf's smallest key changed: inner nodes keep each child's smallest key.
    static void fixSmallestKey(const Cursor& c)
    {
        const K& smallest = c.m_nodes[c.m_depth - 1]->keys[0];
        for (int d = c.m_depth - 2; d >= 0; --d) {
            c.m_nodes[d]->keys[c.m_index[d]] = smallest;
            if (c.m_index[d] != 0)
                break;
        }
    }
    // Moves to the last entry of the previous leaf / the first of the next; false (the
    // cursor unchanged) at either end.
    static bool toPrevLeaf(Cursor& c)
    {
        for (int d = c.m_depth - 2; d >= 0; --d) {
            if (c.m_index[d] > 0) {
                --c.m_index[d];
                for (int e = d + 1; e < c.m_depth; ++e) {
                    Node* n = c.m_nodes[e - 1]->items[c.m_index[e - 1]].kid;
                    c.m_nodes[e] = n;
                    c.m_index[e] = n->count - 1;
                }
                return true;
            }
        }
        return false;
    }
    static bool toNextLeaf(Cursor& c)
    {
        for (int d = c.m_depth - 2; d >= 0; --d) {
            if (c.m_index[d] + 1 < c.m_nodes[d]->count) {
                ++c.m_index[d];
                for (int e = d + 1; e < c.m_depth; ++e) {
                    c.m_nodes[e] = c.m_nodes[e - 1]->items[c.m_index[e - 1]].kid;
                    c.m_index[e] = 0;
                }
                return true;
            }
        }
        return false;
    }

    Node* newNode() { return new (m_pool->allocate(0)) Node; }
    Node* newNode(const Node& n) { return new (m_pool->allocate(0)) Node(n); }
    template <typename... A>
    Box* newBox(A&&... a)
    {
        return new (m_pool->allocate(1)) Box { kFreshWeight, V(std::forward<A>(a)...) };
    }

    // The weight for a copy of a reference to `target` that holds `weight` (split off it).
    template <typename T>
    static Weight share(T* target, Weight& weight)
    {
        if (weight == 1) { // spent: give the target more to split
            target->weight += kFreshWeight;
            weight = static_cast<Weight>(weight + kFreshWeight);
        }
        const Weight half = static_cast<Weight>(weight / 2);
        weight = static_cast<Weight>(weight - half);
        return half;
    }

    // The value in slot i of the unique leaf, copied first if another version shares it.
    V& uniqueValue(Node* leaf, int i)
    {
        Box*& b = leaf->items[i].box;
        Weight& weight = leaf->weights[i];
        if (weight != b->weight) {
            b->weight -= weight;
            b = newBox(b->value);
            weight = kFreshWeight;
        }
        return b->value;
    }

    V& insertNew(const K& k, V v)
    {
        if (!m_pool)
            m_pool = new detail::MapPool(sizeof(Node), sizeof(Box));
        Box* box = newBox(std::move(v));
        if (!m_root) {
            m_root = newNode();
            m_rootWeight = kFreshWeight;
        }
        typename Node::Slot s;
        s.box = box;
        if (Node* split = insertInto(m_root, m_rootWeight, k, s)) {
            Node* root = newNode();
            root->leaf = false;
            root->count = 2;
            root->keys[0] = m_root->keys[0];
            root->items[0].kid = m_root;
            root->weights[0] = m_rootWeight;
            root->keys[1] = split->keys[0];
            root->items[1].kid = split;
            root->weights[1] = kFreshWeight;
            m_root = root;
            m_rootWeight = kFreshWeight;
        }
        ++m_size;
        return box->value;
    }

    // Index of the child whose key range holds k: the last child whose smallest key is <= k.
    // Both count instead of stopping at the first larger key: the keys are sorted, so the
    // count is the index, and a loop without an early exit has no branch to mispredict at
    // random keys (each walk cost a mispredicted exit per level).
    static int childIndex(const Node* n, const K& k)
    {
        int i = 0;
        for (int j = 1; j < n->count; ++j)
            i += !(k < n->keys[j]);
        return i;
    }
    // First index whose key is >= k (count if none).
    static int lowerIndex(const Node* n, const K& k)
    {
        int i = 0;
        for (int j = 0; j < n->count; ++j)
            i += n->keys[j] < k;
        return i;
    }

    const Node* leafFor(const K& k) const
    {
        const Node* n = m_root;
        while (n && !n->leaf)
            n = n->items[childIndex(n, k)].kid;
        return n;
    }

    struct Path
    {
        const Node* nodes[kMaxDepth];
        int index[kMaxDepth];
        int depth = 0;
    };

    // Descends towards k, recording the inner nodes passed; returns the leaf.
    const Node* descend(const K& k, Path& path) const
    {
        const Node* n = m_root;
        while (n && !n->leaf) {
            VMALAB_ASSERT(path.depth < kMaxDepth, "PersistentMap deeper than expected");
            const int i = childIndex(n, k);
            path.nodes[path.depth] = n;
            path.index[path.depth++] = i;
            n = n->items[i].kid;
        }
        return n;
    }
    // The first entry of the leaf after the one `path` leads to.
    static Pos nextLeaf(const Path& path)
    {
        for (int d = path.depth - 1; d >= 0; --d) {
            if (path.index[d] + 1 < path.nodes[d]->count) {
                const Node* n = path.nodes[d]->items[path.index[d] + 1].kid;
                while (!n->leaf)
                    n = n->items[0].kid;
                return { n, 0 };
            }
        }
        return {};
    }
    // The last entry of the leaf before the one `path` leads to.
    static Pos prevLeaf(const Path& path)
    {
        for (int d = path.depth - 1; d >= 0; --d) {
            if (path.index[d] > 0) {
                const Node* n = path.nodes[d]->items[path.index[d] - 1].kid;
                while (!n->leaf)
                    n = n->items[n->count - 1].kid;
                return { n, n->count - 1 };
            }
        }
        return {};
    }

    Pos lowerPos(const K& k) const // first key >= k
    {
        Path path;
        const Node* leaf = descend(k, path);
        if (!leaf)
            return {};
        const int i = lowerIndex(leaf, k);
        return i < leaf->count ? Pos { leaf, i } : nextLeaf(path);
    }
    Pos upperPos(const K& k) const // first key > k
    {
        Path path;
        const Node* leaf = descend(k, path);
        if (!leaf)
            return {};
        int i = 0;
        while (i < leaf->count && !(k < leaf->keys[i]))
            ++i;
        return i < leaf->count ? Pos { leaf, i } : nextLeaf(path);
    }
    Pos belowPos(const K& k) const // last key < k
    {
        Path path;
        const Node* leaf = descend(k, path);
        if (!leaf)
            return {};
        const int i = lowerIndex(leaf, k) - 1;
        return i >= 0 ? Pos { leaf, i } : prevLeaf(path);
    }
    Pos maxPos() const
    {
        const Node* n = m_root;
        while (n && !n->leaf)
            n = n->items[n->count - 1].kid;
        return n ? Pos { n, n->count - 1 } : Pos {};
    }

    // Drops a reference holding `weight`.
    void releaseBox(Box* b, Weight weight)
    {
        b->weight -= weight;
        if (b->weight == 0) {
            b->~Box();
            m_pool->deallocate(1, b);
        }
    }
    void release(Node* n, Weight weight)
    {
        if (!n)
            return;
        n->weight -= weight;
        if (n->weight != 0)
            return;
        for (int i = 0; i < n->count; ++i) {
            if (n->leaf)
                releaseBox(n->items[i].box, n->weights[i]);
            else
                release(n->items[i].kid, n->weights[i]);
        }
        n->~Node();
        m_pool->deallocate(0, n);
    }

    // Gives `slot`, whose reference holds `weight`, a node of its own, copying a shared one
    // (its children become shared: each slot's weight is split with the copy).
    void makeUnique(Node*& slot, Weight& weight)
    {
        Node* shared = slot;
        if (weight == shared->weight)
            return;
        Node* copy = newNode(*shared);
        copy->weight = kFreshWeight;
        for (int i = 0; i < copy->count; ++i) {
            if (copy->leaf)
                copy->weights[i] = share(shared->items[i].box, shared->weights[i]);
            else
                copy->weights[i] = share(shared->items[i].kid, shared->weights[i]);
        }
        shared->weight -= weight;
        slot = copy;
        weight = kFreshWeight;
    }

    static void moveEntry(Node* to, int j, const Node* from, int i)
    {
        to->keys[j] = from->keys[i];
        to->items[j] = from->items[i];
        to->weights[j] = from->weights[i];
    }

    // Puts (k, s) at index i of the unique node n. When n is full it splits: the upper
    // half moves to a new node, which is returned for the parent to link.
    Node* insertAt(Node* n, int i, const K& k, typename Node::Slot s, Weight weight)
    {
        if (n->count < kMax) {
            for (int j = n->count; j > i; --j)
                moveEntry(n, j, n, j - 1);
            n->keys[i] = k;
            n->items[i] = s;
            n->weights[i] = weight;
            ++n->count;
            return nullptr;
        }
        Node* right = newNode();
        right->leaf = n->leaf;
        constexpr int leftCount = (kMax + 1) / 2;
        // Entries [leftCount, kMax] of the kMax + 1 (with the new one) go right.
        const bool newGoesLeft = i < leftCount;
        const int firstMoved = newGoesLeft ? leftCount - 1 : leftCount;
        for (int j = firstMoved; j < kMax; ++j)
            moveEntry(right, right->count++, n, j);
        n->count = static_cast<std::uint16_t>(firstMoved);
        if (newGoesLeft)
            insertAt(n, i, k, s, weight);
        else
            insertAt(right, i - leftCount, k, s, weight);
        return right;
    }

    Node* insertInto(Node*& slot, Weight& weight, const K& k, typename Node::Slot s)
    {
        makeUnique(slot, weight);
        Node* n = slot;
        if (n->leaf)
            return insertAt(n, lowerIndex(n, k), k, s, kFreshWeight);
        const int i = childIndex(n, k);
        Node* split = insertInto(n->items[i].kid, n->weights[i], k, s);
        n->keys[i] = n->items[i].kid->keys[0]; // k may be the new smallest key
        if (!split)
            return nullptr;
        typename Node::Slot kid;
        kid.kid = split;
        return insertAt(n, i + 1, split->keys[0], kid, kFreshWeight);
    }

    static void removeAt(Node* n, int i)
    {
        for (int j = i; j + 1 < n->count; ++j)
            moveEntry(n, j, n, j + 1);
        --n->count;
    }

    // Child i of the unique inner node n has fallen below kMin entries: join it with a
    // neighbour, or even the two out when together they overfill a node.
    void rebalance(Node* n, int i)
    {
        if (n->count < 2)
            return; // only the root can have one child; erase() collapses it
        const int l = i > 0 ? i - 1 : i;
        const int r = l + 1;
        makeUnique(n->items[l].kid, n->weights[l]);
        makeUnique(n->items[r].kid, n->weights[r]);
        Node* a = n->items[l].kid;
        Node* b = n->items[r].kid;
        if (a->count + b->count <= kMax) {
            for (int j = 0; j < b->count; ++j)
                moveEntry(a, a->count++, b, j);
            b->count = 0; // its children moved to a
            release(b, n->weights[r]);
            removeAt(n, r);
        } else {
            const int total = a->count + b->count;
            const int wantLeft = total / 2;
            if (a->count < wantLeft) {
                const int moving = wantLeft - a->count;
                for (int j = 0; j < moving; ++j)
                    moveEntry(a, a->count++, b, j);
                for (int j = moving; j < b->count; ++j)
                    moveEntry(b, j - moving, b, j);
                b->count = static_cast<std::uint16_t>(b->count - moving);
            } else {
                const int moving = a->count - wantLeft;
                for (int j = b->count - 1; j >= 0; --j)
                    moveEntry(b, j + moving, b, j);
                for (int j = 0; j < moving; ++j)
                    moveEntry(b, j, a, wantLeft + j);
                b->count = static_cast<std::uint16_t>(b->count + moving);
                a->count = static_cast<std::uint16_t>(wantLeft);
            }
            n->keys[r] = b->keys[0];
        }
        n->keys[l] = a->keys[0];
    }

    // Removes k, which is present, from the subtree at slot.
    void eraseFrom(Node*& slot, Weight& weight, const K& k)
    {
        makeUnique(slot, weight);
        Node* n = slot;
        if (n->leaf) {
            const int i = lowerIndex(n, k);
            releaseBox(n->items[i].box, n->weights[i]);
            removeAt(n, i);
            return;
        }
        const int i = childIndex(n, k);
        eraseFrom(n->items[i].kid, n->weights[i], k);
        const Node* c = n->items[i].kid;
        if (c->count > 0)
            n->keys[i] = c->keys[0];
        if (c->count < kMin)
            rebalance(n, i);
    }

    // Whether `node` (a node of another version) is part of `root`'s tree.
    static bool reachable(const Node* root, const Node* node)
    {
        const K& k = node->keys[0];
        for (const Node* n = root; n; n = n->leaf ? nullptr : n->items[childIndex(n, k)].kid)
            if (n == node)
                return true;
        return false;
    }
    std::size_t countUnshared(const Node* n, const PersistentMap& other) const
    {
        if (!n || (n->count > 0 && reachable(other.m_root, n)))
            return 0; // a shared node shares its whole subtree
        std::size_t total = 1;
        if (!n->leaf)
            for (int i = 0; i < n->count; ++i)
                total += countUnshared(n->items[i].kid, other);
        return total;
    }

    Node* m_root = nullptr;
    mutable Weight m_rootWeight = 0; // the root reference's weight (copies split it)
    std::size_t m_size = 0;
    detail::MapPool* m_pool = nullptr; // shared by every copy; set by the first insert
};

} // namespace vmalab
