#pragma once

#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace vmalab {

// A problem in user input (scenario text, arguments, files), printed as
// FILE:LINE:COL: error: MESSAGE. line/col are 1-based; 0 means "unknown".
struct Diagnostic
{
    std::string file;
    int line = 0;
    int col = 0;
    std::string message;

    std::string format() const
    {
        std::string out = file.empty() ? std::string("vmalab") : file;
        if (line > 0) {
            out += ':' + std::to_string(line);
            if (col > 0)
                out += ':' + std::to_string(col);
        }
        return out + ": error: " + message;
    }
};

using Diagnostics = std::vector<Diagnostic>;

// Shaped like C++23 std::expected<T, Diagnostics> so it can become an alias later.
template <typename T>
class Result
{
public:
    Result(T value)
        : m_v(std::move(value))
    {
    }
    Result(Diagnostics errors)
        : m_v(std::move(errors))
    {
    }
    Result(Diagnostic error)
        : m_v(Diagnostics { std::move(error) })
    {
    }

    bool has_value() const { return m_v.index() == 0; }
    explicit operator bool() const { return has_value(); }
    T& value() { return std::get<0>(m_v); }
    const T& value() const { return std::get<0>(m_v); }
    T& operator*() { return value(); }
    const T& operator*() const { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    const Diagnostics& error() const { return std::get<1>(m_v); }

private:
    std::variant<T, Diagnostics> m_v;
};

} // namespace vmalab
