#pragma once

#include "core/assert.h"

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <utility>

namespace vmalab {

// An ordered map whose copies share every node they have not changed: copying is O(1),
// and a change copies only the O(log n) nodes on its path (a treap with path copying).
// History keeps a World per operation this way (docs/history.md).
//
// It offers the part of std::map the engine uses. Differences: iterators are read-only
// (change values through at()); a reference from at() stays valid until the map is next
// copied or changed structurally (emplace/erase); rekey() moves a key in place when the
// order is unchanged, as VMA starts move when VMAs grow or shrink.
template <typename K, typename V>
class PersistentMap
{
    struct Node;

    // An intrusive reference-counted pointer: 8 bytes per child link.
    class Ref
    {
    public:
        Ref() = default;
        explicit Ref(Node* n)
            : m_p(n)
        {
            if (m_p)
                ++m_p->refs;
        }
        Ref(const Ref& o)
            : Ref(o.m_p)
        {
        }
        Ref(Ref&& o) noexcept
            : m_p(std::exchange(o.m_p, nullptr))
        {
        }
        Ref& operator=(Ref o) noexcept
        {
            std::swap(m_p, o.m_p);
            return *this;
        }
        ~Ref() { release(m_p); }
        Node* get() const { return m_p; }
        Node* operator->() const { return m_p; }
        explicit operator bool() const { return m_p != nullptr; }

    private:
        static void release(Node* n)
        {
            // Iterative along the left spine to keep deep chains off the stack.
            while (n && --n->refs == 0) {
                Node* next = n->left.m_p;
                n->left.m_p = nullptr;
                delete n;
                n = next;
            }
        }
        Node* m_p = nullptr;
    };

    // Values live in boxes of their own, shared by the node copies a path copy makes, so a
    // change copies small nodes and only the one value it changes.
    struct Box
    {
        std::uint32_t refs = 1;
        V value;
    };

    struct Node
    {
        std::uint32_t refs = 0;
        std::uint32_t prio = 0;
        K key;
        Box* box = nullptr;
        Ref left;
        Ref right;
        Node() = default;
        Node(const Node&) = delete;
        ~Node()
        {
            if (box && --box->refs == 0)
                delete box;
        }
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
        Entry operator*() const { return { m_node->key, m_node->box->value }; }
        Arrow operator->() const { return { **this }; }
        const_iterator& operator++()
        {
            m_node = m_map->upperNode(m_node->key);
            return *this;
        }
        const_iterator& operator--()
        {
            m_node = m_node ? m_map->lastBelow(m_node->key) : m_map->maxNode();
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
        bool operator==(const const_iterator& o) const { return m_node == o.m_node; }

    private:
        friend class PersistentMap;
        const_iterator(const PersistentMap* m, const Node* n)
            : m_map(m)
            , m_node(n)
        {
        }
        const PersistentMap* m_map = nullptr;
        const Node* m_node = nullptr;
    };
    using iterator = const_iterator;

    std::size_t size() const { return m_size; }
    bool empty() const { return m_size == 0; }

    const_iterator begin() const { return { this, minNode() }; }
    const_iterator end() const { return { this, nullptr }; }
    const_iterator find(const K& k) const
    {
        const Node* n = m_root.get();
        while (n && n->key != k)
            n = k < n->key ? n->left.get() : n->right.get();
        return { this, n };
    }
    const_iterator lower_bound(const K& k) const { return { this, lowerNode(k) }; }
    const_iterator upper_bound(const K& k) const { return { this, upperNode(k) }; }
    std::size_t count(const K& k) const { return find(k) == end() ? 0 : 1; }

    const V& at(const K& k) const
    {
        auto it = find(k);
        VMALAB_ASSERT(it != end(), "PersistentMap::at() of a missing key");
        return it->second;
    }

    // Mutable access: copies the nodes on the path that are shared with another version.
    V& at(const K& k)
    {
        Ref* slot = &m_root;
        for (;;) {
            VMALAB_ASSERT(*slot, "PersistentMap::at() of a missing key");
            makeUnique(*slot);
            Node* n = slot->get();
            if (n->key == k) {
                if (n->box->refs > 1) {
                    --n->box->refs;
                    n->box = new Box { 1, n->box->value };
                }
                return n->box->value;
            }
            slot = k < n->key ? &n->left : &n->right;
        }
    }

    std::pair<const_iterator, bool> emplace(const K& k, V v)
    {
        if (auto it = find(k); it != end())
            return { it, false };
        Node* n = new Node;
        n->prio = nextPriority();
        n->key = k;
        n->box = new Box { 1, std::move(v) };
        Ref r(n);
        insert(m_root, r);
        ++m_size;
        return { find(k), true };
    }

    std::size_t erase(const K& k)
    {
        if (find(k) == end())
            return 0;
        eraseFrom(m_root, k);
        --m_size;
        return 1;
    }

    // Changes a key in place; the new key must keep the node's place in the order.
    void rekey(const K& oldKey, const K& newKey)
    {
        if (oldKey == newKey)
            return;
        const Node* below = lastBelow(oldKey);
        const Node* above = upperNode(oldKey);
        VMALAB_ASSERT((!below || below->key < newKey) && (!above || newKey < above->key),
                      "PersistentMap::rekey() would change the order");
        Ref* slot = &m_root;
        for (;;) {
            makeUnique(*slot);
            Node* n = slot->get();
            if (n->key == oldKey) {
                n->key = newKey;
                return;
            }
            slot = oldKey < n->key ? &n->left : &n->right;
        }
    }

    void clear()
    {
        m_root = Ref();
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
    std::size_t nodesNotIn(const PersistentMap& other) const
    {
        return countUnshared(m_root.get(), other);
    }

private:
    static void makeUnique(Ref& slot)
    {
        if (slot->refs > 1) {
            Node* copy = new Node;
            copy->prio = slot->prio;
            copy->key = slot->key;
            copy->box = slot->box;
            ++copy->box->refs;
            copy->left = slot->left;
            copy->right = slot->right;
            slot = Ref(copy);
        }
    }

    std::uint32_t nextPriority()
    {
        // splitmix64 of a counter: deterministic, so the same operations build the same tree.
        std::uint64_t z = (m_counter += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return static_cast<std::uint32_t>(z ^ (z >> 31));
    }

    // Links are moved, never copied, so a node owned by one version stays unshared.
    static void rotateRight(Ref& slot) // slot's left child rises
    {
        Ref l = std::move(slot->left);
        makeUnique(l);
        slot->left = std::move(l->right);
        l->right = std::move(slot);
        slot = std::move(l);
    }
    static void rotateLeft(Ref& slot)
    {
        Ref r = std::move(slot->right);
        makeUnique(r);
        slot->right = std::move(r->left);
        r->left = std::move(slot);
        slot = std::move(r);
    }

    static void insert(Ref& slot, const Ref& n)
    {
        if (!slot) {
            slot = n;
            return;
        }
        makeUnique(slot);
        if (n->key < slot->key) {
            insert(slot->left, n);
            if (slot->left->prio > slot->prio)
                rotateRight(slot);
        } else {
            insert(slot->right, n);
            if (slot->right->prio > slot->prio)
                rotateLeft(slot);
        }
    }

    static Ref join(Ref a, Ref b)
    {
        if (!a)
            return b;
        if (!b)
            return a;
        if (a->prio > b->prio) {
            makeUnique(a);
            a->right = join(std::move(a->right), std::move(b));
            return a;
        }
        makeUnique(b);
        b->left = join(std::move(a), std::move(b->left));
        return b;
    }

    static void eraseFrom(Ref& slot, const K& k)
    {
        makeUnique(slot);
        if (slot->key == k) {
            slot = join(std::move(slot->left), std::move(slot->right));
            return;
        }
        eraseFrom(k < slot->key ? slot->left : slot->right, k);
    }

    const Node* minNode() const
    {
        const Node* n = m_root.get();
        while (n && n->left)
            n = n->left.get();
        return n;
    }
    const Node* maxNode() const
    {
        const Node* n = m_root.get();
        while (n && n->right)
            n = n->right.get();
        return n;
    }
    const Node* lowerNode(const K& k) const // first key >= k
    {
        const Node* best = nullptr;
        for (const Node* n = m_root.get(); n;) {
            if (!(n->key < k)) {
                best = n;
                n = n->left.get();
            } else {
                n = n->right.get();
            }
        }
        return best;
    }
    const Node* upperNode(const K& k) const // first key > k
    {
        const Node* best = nullptr;
        for (const Node* n = m_root.get(); n;) {
            if (k < n->key) {
                best = n;
                n = n->left.get();
            } else {
                n = n->right.get();
            }
        }
        return best;
    }
    const Node* lastBelow(const K& k) const // last key < k
    {
        const Node* best = nullptr;
        for (const Node* n = m_root.get(); n;) {
            if (n->key < k) {
                best = n;
                n = n->right.get();
            } else {
                n = n->left.get();
            }
        }
        return best;
    }

    static bool reachable(const Node* root, const Node* target)
    {
        for (const Node* n = root; n;) {
            if (n == target)
                return true;
            n = target->key < n->key ? n->left.get() : n->right.get();
        }
        return false;
    }
    std::size_t countUnshared(const Node* n, const PersistentMap& other) const
    {
        if (!n || reachable(other.m_root.get(), n))
            return 0; // a shared node shares its whole subtree
        return 1 + countUnshared(n->left.get(), other) + countUnshared(n->right.get(), other);
    }

    Ref m_root;
    std::size_t m_size = 0;
    std::uint64_t m_counter = 0;
};

} // namespace vmalab
