#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace vmalab::snapshot {
struct Snapshot;
}

namespace vmalab::scenario {

struct SourceLoc
{
    int line = 0; // 1-based
    int col = 0;  // 1-based
};

struct Expr;
// Shared and immutable, so a Scenario copies cheaply (the differential tester's
// shrinker copies statement lists many times).
using ExprPtr = std::shared_ptr<const Expr>;

struct Expr
{
    enum class Kind
    {
        Number, // value
        String, // text (unescaped contents)
        Name,   // text: a variable or a built-in constant (page_size, NULL, PROT_READ, EINVAL...)
        Unary,  // op is one of "-", "~", "+"; args[0]
        Binary, // op is one of "* / % + - << >> & ^ |"; args[0] op args[1]
        Call,   // text = callee name; args
    };
    Kind kind = Kind::Number;
    SourceLoc loc;
    std::int64_t value = 0;
    std::string text;
    std::string op;
    std::vector<ExprPtr> args;
};

struct Stmt
{
    enum class Kind
    {
        Assign,   // name = expr   (expr may be a Call, including fork())
        Call,     // expr (a Kind::Call expression whose value is ignored)
        Expect,   // expect expr ==/!= rhs
        In,       // in name { body }
        Profile,  // profile "name"
        Require,  // require "feature"
        StartFrom,   // start_from "FILE.vsnap" (recordings: docs/recording.md)
        RecordedEnd, // recorded_end "FILE.vsnap"
    };
    Kind kind = Kind::Call;
    SourceLoc loc;
    std::string name;  // Assign target, In process, Profile/Require string
    ExprPtr expr;      // Assign value, Call expression, Expect left side
    ExprPtr rhs;       // Expect right side
    ExprPtr recorded;  // Call/Assign of a call: `-> EXPR`, the result the kernel gave (recordings)
    bool expectEqual = true; // Expect: true for ==, false for !=
    std::string lhsText; // Expect: the source text of each side, as written (trimmed)
    std::string rhsText;
    std::vector<Stmt> body;  // In
    std::string narration;   // text of the `///` comments just before this statement
};

struct Scenario
{
    std::string file; // as given on the command line; used in diagnostics
    std::vector<Stmt> stmts;
    // The snapshot files a recording names (start_from, recorded_end, exec, spawn), by the path
    // as written, each the file's timeline; filled by loadRecordingFiles().
    std::map<std::string, std::shared_ptr<const std::vector<snapshot::Snapshot>>> snapshotFiles;
};

} // namespace vmalab::scenario
