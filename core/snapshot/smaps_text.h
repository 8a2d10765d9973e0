#pragma once

#include "core/result.h"
#include "core/snapshot/snapshot.h"

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// Pure parsers for the /proc files a capture reads, fed strings so that tests and fuzzers
// reach every path (kernel-model.md §15).
namespace vmalab::snapshot {

// /proc/PID/smaps into VMAs, in file order. The header of each block is the maps line;
// the name is kept exactly as printed. "N kB" fields go to vma.smapsKb, every other field
// (THPeligible, ProtectionKey, fields of future kernels) to textFields verbatim, and
// VmFlags keeps every mnemonic, known or not. Truncated or malformed text gives
// diagnostics at sourceName:LINE:COL (at most 20), never a partial result.
Result<std::vector<SnapshotVma>> parseSmapsText(std::string_view text, const std::string& sourceName);

// The smaps text of one VMA, as parseSmapsText() reads it back: the kernel's layout (the name
// at column 73) without its padding of field values. smapsTextRoundTrips() says whether the
// text reads back to exactly `vma`; what a capture reads always does, a VMA built by hand
// (a name with a newline, a field name with a colon, a text value that reads as "N kB") may not.
bool smapsTextRoundTrips(const SnapshotVma& vma);
void appendSmapsText(std::string& out, const SnapshotVma& vma);

// parseSmapsText() in pieces, so that a capture parses each read() while it is still in the
// cache instead of holding the whole file: feed() parses the complete lines at the start of
// `text` and returns the bytes it used (up to and including the last newline); finish()
// takes what was left over (empty, or a last line without its newline).
class SmapsTextParser
{
public:
    explicit SmapsTextParser(const std::string& sourceName);
    ~SmapsTextParser();
    std::size_t feed(std::string_view text);
    Result<std::vector<SnapshotVma>> finish(std::string_view rest);

private:
    class Impl;
    std::unique_ptr<Impl> m_impl;
    int m_lineNo = 0;
};

// /proc/PID/status as "Key: value" pairs in order, values trimmed.
Result<std::vector<std::pair<std::string, std::string>>> parseStatusText(
    std::string_view text, const std::string& sourceName);

// What a printed VMA name says.
enum class NameKind
{
    None, // no name: anonymous memory
    File, // a path
    DeletedFile, // a path with " (deleted)"
    Heap, // [heap]
    Stack, // [stack]
    AnonNamed, // [anon:NAME] (PR_SET_VMA_ANON_NAME)
    AnonShmemNamed, // [anon_shmem:NAME]
    Special, // another [label]: [vdso], [vvar], [vvar_vclock], [vsyscall], [uprobes]...
};

struct VmaName
{
    NameKind kind = NameKind::None;
    // File kinds: the path with "\012" turned back into newlines and " (deleted)" removed;
    // named anonymous memory: the name; Special, Heap, Stack: the label with brackets.
    std::string text;
    bool operator==(const VmaName&) const = default;
};

// The kernel prints a file name with each newline written as "\012" (seq_file_path()), so a
// name with a newline stays on one line. A name that really contains "\012" reads the same:
// maps cannot tell them apart.
std::string unescapeName(std::string_view printed);
VmaName classifyName(std::string_view printed);

} // namespace vmalab::snapshot
