#include "core/report/json_writer.h"

#include "core/assert.h"

#include <cstdio>

namespace vmalab::report {

std::string jsonQuote(std::string_view s)
{
    std::string out;
    out.reserve(s.size() + 2);
    out += '"';
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        switch (c) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\t':
            out += "\\t";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\b':
            out += "\\b";
            break;
        case '\f':
            out += "\\f";
            break;
        default:
            if (u < 0x20) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", u);
                out += buf;
            } else {
                out += c;
            }
        }
    }
    out += '"';
    return out;
}

void JsonWriter::newline()
{
    m_out += '\n';
    m_out.append(2 * m_levels.size(), ' ');
}

void JsonWriter::beforeValue()
{
    if (m_levels.empty()) {
        VMALAB_ASSERT(m_out.empty(), "a JSON document holds one value");
        return;
    }
    Level& level = m_levels.back();
    if (level.close == '}') {
        VMALAB_ASSERT(level.expectValue, "a value inside a JSON object needs a key first");
        level.expectValue = false;
        return;
    }
    if (!level.empty)
        m_out += level.compact ? ", " : ",";
    if (!level.compact)
        newline();
    level.empty = false;
}

void JsonWriter::key(std::string_view name)
{
    VMALAB_ASSERT(!m_levels.empty() && m_levels.back().close == '}', "a JSON key outside an object");
    Level& level = m_levels.back();
    VMALAB_ASSERT(!level.expectValue, "two JSON keys in a row");
    if (!level.empty)
        m_out += level.compact ? ", " : ",";
    if (!level.compact)
        newline();
    level.empty = false;
    level.expectValue = true;
    m_out += jsonQuote(name);
    m_out += ": ";
}

void JsonWriter::open(char bracket, bool compact)
{
    beforeValue();
    const bool inCompact = !m_levels.empty() && m_levels.back().compact;
    m_out += bracket;
    m_levels.push_back(Level { bracket == '{' ? '}' : ']', compact || inCompact });
}

void JsonWriter::close(char bracket)
{
    VMALAB_ASSERT(!m_levels.empty() && m_levels.back().close == bracket, "unbalanced JSON containers");
    VMALAB_ASSERT(!m_levels.back().expectValue, "a JSON key without its value");
    const Level level = m_levels.back();
    m_levels.pop_back();
    if (!level.empty && !level.compact)
        newline();
    m_out += bracket;
    if (m_levels.empty())
        m_out += '\n';
}

void JsonWriter::value(std::string_view s)
{
    beforeValue();
    m_out += jsonQuote(s);
}

void JsonWriter::value(std::int64_t v)
{
    beforeValue();
    m_out += std::to_string(v);
}

void JsonWriter::value(std::uint64_t v)
{
    beforeValue();
    m_out += std::to_string(v);
}

void JsonWriter::value(bool v)
{
    beforeValue();
    m_out += v ? "true" : "false";
}

void JsonWriter::null()
{
    beforeValue();
    m_out += "null";
}

} // namespace vmalab::report
