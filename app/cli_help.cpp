#include "app/cli_help.h"

#include "core/profile.h"

#include <cctype>

#ifndef VMALAB_VERSION
#define VMALAB_VERSION "0.1"
#endif

namespace vmalab::cli {

namespace {

const std::string kEmitHelp = "Print these blocks after the run, a comma-separated list of maps, smaps, pages, stats, "
                              "vars, ascii, json (json alone prints one JSON document).";
const std::string kLimitHelp = "Override a run limit (max-calls, max-processes, max-fault-pages, max-file-bytes); "
                               "may be repeated. See LIMITS.";

Program buildProgram()
{
    Program p;
    p.name = "vmalab-cli";
    p.summary = "model Linux process address spaces and check the model against the running kernel";
    p.description = "vmalab-cli runs scenarios (.vlab files: system calls on one or more processes, with expectations) "
                    "on vmalab's model of the kernel's memory management, replays them on the running kernel, "
                    "and compares both. The scenario language is described in the documentation shipped with "
                    "vmalab; example scenarios and lessons are installed under /usr/share/vmalab.";
    p.commands = {
        { "run", "FILE", "run a scenario on the model",
            "Runs FILE on the model of the kernel's memory management and prints what --emit asks for. The profile "
            "is the one given with --profile, else the scenario's `profile` statement, else host (the running "
            "kernel's behaviour and configuration).",
            { { "--profile", "P", "Kernel behaviour profile: host or a built-in one (see `vmalab-cli profiles`)." },
                { "--machine", "host|reference",
                    "Model this machine's configuration (host, the default) or the documented reference machine; "
                    "reference needs a built-in profile." },
                { "--emit", "KINDS", kEmitHelp },
                { "--trace", "", "Print each call's trace: the kernel functions the model stepped through and why." },
                { "--limit", "NAME=VALUE", kLimitHelp } } },
        { "replay", "FILE", "run a scenario for real on the running kernel",
            "Runs FILE's system calls in real processes on the running kernel and prints what --emit asks for "
            "(read from /proc).",
            { { "--emit", "KINDS", kEmitHelp }, { "--limit", "NAME=VALUE", kLimitHelp } } },
        { "check", "FILE", "run a scenario on the model and on the kernel and compare",
            "Runs FILE on the model (profile host) and on the running kernel and prints each difference inside the "
            "scenario's window (the mapping bound to `arena`). Exit status 1 when they differ.",
            { { "--limit", "NAME=VALUE", kLimitHelp } } },
        { "fuzz", "", "random differential testing of the model against the kernel",
            "Generates random call sequences, runs each with check, and shrinks every sequence that shows a "
            "difference to a small scenario written to the output directory.",
            { { "--seed", "S", "First seed (default 1); sequence N uses seed S+N." },
                { "--count", "N", "Number of sequences (default 100)." },
                { "--ops", "N", "Calls per sequence (default 12)." },
                { "--out", "DIR", "Where shrunk failures are written (default fuzz-failures)." },
                { "--profile", "P", "Profile the model runs (default host)." },
                { "--show", "", "Print the scenario of seed S instead of running anything." },
                { "--max-shrink", "N", "Shrink at most N failing sequences (default 3)." },
                { "--collapse", "", "Also generate MADV_COLLAPSE (the default)." },
                { "--no-collapse", "", "Generate no MADV_COLLAPSE: the sequences of older runs, seed for seed." } } },
        { "probe", "", "show which kernel behaviour profile the running kernel has",
            "Runs small experiments on the running kernel and reports the behaviour switches they show. Then replays "
            "one probe scenario per kernel-model.md profile row this kernel can run (P1, P3, P4, P6, P7), runs each "
            "under every built-in profile, and reports which profiles match the kernel on all of them.",
            {} },
        { "diff-profiles", "FILE P1 P2", "run a scenario under two profiles and show where they diverge",
            "Runs the scenario on the model under profile P1 and under P2, with history, and compares the two "
            "address spaces after every operation: VMAs, flags, pages, smaps fields, stats such as fork.ptes_copied, "
            "and return values. It prints each operation after which the differences change, so a divergence shows "
            "where it starts and where it ends. Exit status 0 when the profiles never differ, 1 when they do.",
            { { "--machine", "host|reference",
                "Model this machine's configuration (host, the default) or the documented reference machine; "
                "reference needs built-in profiles." } } },
        { "record", "-- PROG ARGS...", "record a real program's memory calls as a scenario",
            "Runs PROG under ptrace (or attaches to --pid PID, or imports --from-strace LOG) and writes its "
            "memory-related system calls, with the results the kernel gave and the page states seen around them, "
            "as a scenario, with snapshots of the start and of every process at its exit beside it "
            "(docs/recording.md). Ctrl-C detaches from an attached process and keeps what was recorded.",
            { { "-o", "FILE.vlab", "The scenario to write (default PROG.vlab); snapshots go beside it." },
                { "--pid", "PID", "Attach to a running process instead of starting one." },
                { "--from-strace", "LOG", "Import `strace -f -e trace=memory,process` output (no page states)." },
                { "--no-pages", "", "Do not sample page states (no observe lines)." } } },
        { "check-recording", "FILE.vlab", "compare a recording's run on the model with the program's real end state",
            "Runs the recording on the model (profile host, or the file's `profile`) from its start snapshot and "
            "compares every process's final VMAs (range, perms, offset, device and inode, name, VmFlags) and the "
            "page states the recording observed with its recorded_end snapshot. Prints per process the VMAs in the "
            "kernel, in the model and exactly right, the differences by kind, the divergences of recorded results "
            "and the calls not modelled (docs/recording.md). Exit status 0 when all match, 1 when they differ.",
            { { "--json", "", "Print the comparison as one JSON document." }, { "--limit", "NAME=VALUE", kLimitHelp } } },
        { "profiles", "", "list the kernel behaviour profiles", "", {} },
    };
    p.globalOptions = {
        { "--help", "", "Print this help, or with a command, that command's help, and exit." },
        { "--version", "", "Print the version and the kernel profiles built in, and exit." },
    };
    p.sections = {
        { "EXIT STATUS",
            "0 all well; 1 a failed expect or a difference; 2 a malformed scenario, a run-time error or a run "
            "limit reached; 77 skipped (the kernel or the profile lacks what the scenario requires)." },
        { "LIMITS",
            "So that no scenario can run for hours or exhaust memory, a run is bounded: max-calls (100000 calls "
            "in the file, counted before running), max-processes (256, main included), max-fault-pages (4194304 "
            "pages, 16 GiB, that touch, populating mmap, mlock and MADV_POPULATE_* may cover in all) and "
            "max-file-bytes (4 MiB of scenario file). A scenario over a limit is refused or stopped with "
            "FILE:LINE:COL: error: and exit status 2. Override them with --limit NAME=VALUE or the environment "
            "variable VMALAB_LIMITS=NAME=VALUE[,NAME=VALUE...]; VALUE takes a K, M or G suffix." },
        { "ENVIRONMENT",
            "VMALAB_LIMITS: run limits, as above. TMPDIR: where replay creates the files of open_file "
            "(default /tmp)." },
        { "FILES", "/usr/share/vmalab/scenarios, /usr/share/vmalab/lessons: example scenarios and lessons." },
        { "SEE ALSO", "vmalab(1)" },
    };
    return p;
}

// Wraps `text` to `width` columns, every line but the first indented by `indent` spaces.
std::string wrap(const std::string& text, std::size_t indent, std::size_t width, std::size_t firstColumn)
{
    std::string out;
    std::size_t column = firstColumn;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t end = text.find(' ', pos);
        if (end == std::string::npos)
            end = text.size();
        const std::string word = text.substr(pos, end - pos);
        pos = end + 1;
        if (word.empty())
            continue;
        if (column > indent && column + 1 + word.size() > width) {
            out += "\n" + std::string(indent, ' ');
            column = indent;
        } else if (column > indent || (column == indent && !out.empty() && out.back() != ' ')) {
            out += ' ';
            ++column;
        }
        out += word;
        column += word.size();
    }
    return out;
}

std::string optionLabel(const Option& o)
{
    return o.value.empty() ? o.name : o.name + " " + o.value;
}

void appendOptions(std::string& out, const std::vector<Option>& options, std::size_t indent)
{
    for (const Option& o : options) {
        const std::string label = std::string(indent, ' ') + optionLabel(o);
        const std::size_t helpColumn = indent + 22;
        out += label;
        if (label.size() + 2 > helpColumn)
            out += "\n" + std::string(helpColumn, ' ');
        else
            out += std::string(helpColumn - label.size(), ' ');
        out += wrap(o.help, helpColumn, 100, helpColumn) + "\n";
    }
}

// roff needs a backslash before a hyphen that must print as one, and a dot or quote at the
// start of a line protected.
std::string roff(const std::string& text)
{
    std::string out;
    for (char c : text) {
        if (c == '\\')
            out += "\\e";
        else if (c == '-')
            out += "\\-";
        else
            out += c;
    }
    if (!out.empty() && (out[0] == '.' || out[0] == '\''))
        out = "\\&" + out;
    return out;
}

std::string roffParagraphs(const std::string& text)
{
    std::string out;
    std::size_t pos = 0;
    while (pos <= text.size()) {
        std::size_t end = text.find("\n\n", pos);
        if (end == std::string::npos)
            end = text.size();
        if (!out.empty())
            out += ".PP\n";
        out += roff(text.substr(pos, end - pos)) + "\n";
        pos = end + 2;
    }
    return out;
}

std::string roffOption(const Option& o)
{
    // .BI alternates bold and italic: the option in bold, its value in italic.
    const std::string head =
        o.value.empty() ? ".B " + roff(o.name) : ".BI \"" + roff(o.name) + " \" \"" + roff(o.value) + "\"";
    return ".TP\n" + head + "\n" + roff(o.help) + "\n";
}

} // namespace

const Program& cliProgram()
{
    static const Program program = buildProgram();
    return program;
}

const Command* findCommand(const std::string& name)
{
    for (const Command& c : cliProgram().commands) {
        if (c.name == name)
            return &c;
    }
    return nullptr;
}

std::string usageText()
{
    const Program& p = cliProgram();
    std::string out = "usage: " + p.name + " COMMAND [OPTIONS]\n       " + p.name + " COMMAND --help\n\nCommands:\n";
    for (const Command& c : p.commands) {
        const std::string head = "  " + c.name + (c.operands.empty() ? "" : " " + c.operands);
        out += head + std::string(head.size() < 20 ? 20 - head.size() : 1, ' ') + c.summary + "\n";
        appendOptions(out, c.options, 6);
    }
    out += "\nOptions:\n";
    appendOptions(out, p.globalOptions, 2);
    for (const auto& [title, text] : p.sections) {
        if (title == "FILES" || title == "SEE ALSO")
            continue;
        std::string heading = title;
        for (std::size_t i = 1; i < heading.size(); ++i)
            heading[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(heading[i])));
        out += "\n" + heading + ":\n  " + wrap(text, 2, 100, 2) + "\n";
    }
    return out;
}

std::string commandHelp(const Command& c)
{
    const Program& p = cliProgram();
    std::string out = "usage: " + p.name + " " + c.name + (c.operands.empty() ? "" : " " + c.operands)
        + (c.options.empty() ? "" : " [OPTIONS]") + "\n\n" + c.summary + ".\n";
    if (!c.details.empty())
        out += "\n" + wrap(c.details, 0, 100, 0) + "\n";
    if (!c.options.empty()) {
        out += "\nOptions:\n";
        appendOptions(out, c.options, 2);
    }
    return out;
}

std::string versionText(const std::string& program)
{
    std::string out = program + " " VMALAB_VERSION "\nkernel profiles: host";
    for (const std::string& n : builtinProfileNames())
        out += ", " + n;
    return out + "\n";
}

const std::vector<std::string>& emitKinds()
{
    static const std::vector<std::string> kinds { "maps", "smaps", "pages", "stats", "ascii", "vars", "json" };
    return kinds;
}

std::string manPage(const Program& p, const std::string& section)
{
    std::string upper = p.name;
    for (char& c : upper)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    std::string out = ".\\\" Generated by vmalab-manpage from app/cli_help.cpp; do not edit.\n";
    out += ".TH " + upper + " " + section + " \"\" \"vmalab " VMALAB_VERSION "\" \"User Commands\"\n";
    out += ".SH NAME\n" + roff(p.name) + " \\- " + roff(p.summary) + "\n";
    out += ".SH SYNOPSIS\n";
    if (p.commands.empty()) {
        out += ".B " + roff(p.name) + "\n[\\fIOPTIONS\\fR] [\\fIFILE\\fR]\n";
    } else {
        for (const Command& c : p.commands) {
            out += ".B " + roff(p.name) + "\n.B " + roff(c.name) + "\n";
            if (!c.operands.empty())
                out += ".I " + roff(c.operands) + "\n";
            if (!c.options.empty())
                out += "[\\fIOPTIONS\\fR]\n";
            out += ".br\n";
        }
    }
    out += ".SH DESCRIPTION\n" + roffParagraphs(p.description);
    if (!p.commands.empty()) {
        out += ".SH COMMANDS\n";
        for (const Command& c : p.commands) {
            out += ".SS \"" + roff(c.name + (c.operands.empty() ? "" : " " + c.operands)) + "\"\n";
            out += roff(c.summary) + ".\n";
            if (!c.details.empty())
                out += ".PP\n" + roffParagraphs(c.details);
            for (const Option& o : c.options)
                out += roffOption(o);
        }
    }
    if (!p.globalOptions.empty()) {
        out += ".SH OPTIONS\n";
        for (const Option& o : p.globalOptions)
            out += roffOption(o);
    }
    for (const auto& [title, text] : p.sections)
        out += ".SH " + title + "\n" + roffParagraphs(text);
    return out;
}

} // namespace vmalab::cli
