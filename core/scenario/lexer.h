#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vmalab::scenario {

struct Token
{
    enum class Kind
    {
        Ident,
        Number, // value
        String, // text: the unescaped contents
        Punct, // text: ( ) { } , ; = == != + - * / % << >> & | ^ ~
        Newline, // a line end outside comments, or a comment spanning lines
        Narration, // text: a `///` comment's text, one leading space removed
        Error, // text: the message; the parser reports it and recovers
        End,
    };
    Kind kind = Kind::End;
    std::string text;
    std::int64_t value = 0;
    int line = 1; // 1-based
    int col = 1; // 1-based, in bytes (a tab is one column)
    std::size_t offset = 0; // into the source text
    std::size_t endOffset = 0;

    bool is(Kind k, std::string_view t) const { return kind == k && text == t; }
    bool isPunct(std::string_view t) const { return is(Kind::Punct, t); }
};

// Splits a scenario into tokens; always ends with one End token. Problems become Error
// tokens so that the parser reports them in order with its own and resumes at the next line.
std::vector<Token> lexScenario(std::string_view text);

} // namespace vmalab::scenario
