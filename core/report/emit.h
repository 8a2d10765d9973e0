#pragma once

#include "core/observed.h"
#include "core/result.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vmalab::scenario {
struct ExpectRecord;
struct RunOutcome;
struct VarRecord;
} // namespace vmalab::scenario

namespace vmalab::report {

// The --emit kinds: the contract's maps, smaps, pages, stats, vars and the project's
// ascii and json (docs/output-formats.md).
enum class EmitKind : unsigned
{
    Maps,
    Smaps,
    Pages,
    Stats,
    Ascii,
    Vars,
    Json,
};

const char* emitKindName(EmitKind kind);

struct EmitOptions
{
    unsigned kinds = 0; // bit (1 << EmitKind)
    bool modelRun = true; // false for replay: `stats` prints nothing at all
    bool pageExtras = false; // `pages` adds ",excl" and ",file" after the contract's bits

    bool has(EmitKind kind) const { return kinds & (1u << static_cast<unsigned>(kind)); }
    void add(EmitKind kind) { kinds |= 1u << static_cast<unsigned>(kind); }
};

// "maps,smaps,vars" -> the kinds; order and repetition do not matter (output order is
// fixed). Fails on an empty item or an unknown kind, naming the known ones.
Result<EmitOptions> parseEmitList(std::string_view list);

// One /proc/PID/maps line without its newline, as show_map_vma() lays it out: the header
// `%08lx-%08lx perms %08llx %02x:%02x %lu ` and, for a named VMA, spaces up to column 72
// (0-based) plus one separator, so the name starts at the 74th character; a header that
// is already 72 characters or longer gets just the separator.
std::string mapsLine(const ObservedVma& vma);

// The smaps block of one VMA: maps line, every kB field of smapsKb in its order, the
// unit-less THPeligible/ProtectionKey if present, then `VmFlags: ` with each mnemonic
// followed by a space. Every line ends in '\n'.
std::string smapsBlock(const ObservedVma& vma);

// `%08lx-%08lx STATE[,uffd-wp]` per page run; with `extras` also ",excl" and ",file".
std::string pagesBlock(const ObservedProcess& process, bool extras = false);

// `# var NAME = 0xVALUE` per variable, negative values as 64-bit two's complement.
std::string varsBlock(const std::vector<scenario::VarRecord>& vars);

// `# stat NAME = N` per model statistic.
std::string statsBlock(const ObservedProcess& process);

// Everything asked for, in the contract's layout: per process `# process NAME` and a
// `## KIND` block for each of maps, smaps, pages, stats, ascii that was asked for, then
// `## vars`. With json among the kinds the output is the JSON document alone.
std::string emitRun(const scenario::RunOutcome& run, const EmitOptions& options);

// The contract's stderr line for a failed expect: `FILE:LINE: expect failed: LHS == RHS
// (0xVALUE vs 0xVALUE)`, prefixed by `PROCESS: ` when the expect ran outside main.
std::string expectFailureLine(const std::string& file, const scenario::ExpectRecord& expect);

// Lowercase hex with 0x, negative values as 64-bit two's complement: -22 -> 0xffffffffffffffea.
std::string hexValue(std::int64_t v);

} // namespace vmalab::report
