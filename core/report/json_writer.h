#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vmalab::report {

// `s` as a JSON string literal, quotes included. Control characters are escaped
// (\n, \t, ... or \u00XX); every other byte, including non-ASCII ones, passes through
// unchanged, so UTF-8 text stays readable.
std::string jsonQuote(std::string_view s);

// A small streaming JSON writer: pretty-printed with two-space indentation, except that
// a container opened with `compact = true` (and everything inside it) stays on one line,
// which keeps long lists of small records (page runs) readable. The caller pairs every
// begin with its end and puts key() before each value inside an object; misuse is our
// bug and asserts.
class JsonWriter
{
public:
    void beginObject(bool compact = false) { open('{', compact); }
    void endObject() { close('}'); }
    void beginArray(bool compact = false) { open('[', compact); }
    void endArray() { close(']'); }

    void key(std::string_view name);
    void value(std::string_view s);
    void value(const char* s) { value(std::string_view(s)); }
    void value(std::int64_t v);
    void value(std::uint64_t v);
    void value(int v) { value(static_cast<std::int64_t>(v)); }
    void value(bool v);
    void null();

    // key(name) then value(v): one member of an object.
    template <typename T> void field(std::string_view name, const T& v)
    {
        key(name);
        value(v);
    }

    // The document so far; complete once every container is closed.
    const std::string& text() const { return m_out; }
    bool complete() const { return m_levels.empty() && !m_out.empty(); }

private:
    struct Level
    {
        char close;
        bool compact;
        bool empty = true;
        bool expectValue = false; // inside an object: key() was written, its value is next
    };

    void open(char bracket, bool compact);
    void close(char bracket);
    void beforeValue();
    void newline();

    std::string m_out;
    std::vector<Level> m_levels;
};

} // namespace vmalab::report
