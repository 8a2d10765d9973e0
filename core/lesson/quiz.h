#pragma once

#include "core/engine/world.h"
#include "core/observed.h"
#include "core/profile.h"
#include "core/result.h"
#include "core/scenario/ast.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

// Lessons and their quiz points (docs/lessons.md). A quiz stops before one statement of a lesson
// and offers what the address space looks like after it: the right outcome and a few wrong ones,
// every one computed by the engine. A wrong outcome is the same step under another kernel, with
// one rule of the world around it switched off, or with its arguments nudged; never text.
namespace vmalab::lesson {

// A statement's narration split into its quiz question and the rest. The question is the text of
// the narration line that starts with `quiz:` (the marker and the blank after it removed); the
// other lines are the explanation a quiz reveals after the answer.
struct LessonNarration
{
    std::string question; // empty: the statement is no quiz point
    std::string text; // the other narration lines, joined by '\n'
};

LessonNarration splitNarration(const std::string& narration);

// "mremap grows and moves" from a lesson whose first line is `// Lesson: mremap grows and moves.`;
// empty when the text has no such line first.
std::string lessonTitle(std::string_view lessonText);

struct QuizPoint
{
    scenario::SourceLoc loc; // the statement the quiz stops before
    std::string question;
    std::string narration; // revealed with the answer
};

// Every quiz point of a scenario in source order, `in` bodies included.
std::vector<QuizPoint> findQuizPoints(const scenario::Scenario& scenario);

// What a quiz shows of each outcome: [start, end) of the address space, the part the step or one
// of its variations changed, widened to whole VMAs (not over the window's PROT_NONE reservation).
struct QuizRegion
{
    Addr start = 0;
    Addr end = 0;
    Addr window = 0; // the scenario's `arena`: addresses render as its page numbers
    bool hasWindow = false; // false: addresses render in hex
};

// Which way a wrong outcome was computed.
enum class Variation
{
    None, // the right outcome: the step as written, under the quiz's profile
    Profile, // the scenario run under another behaviour profile up to and through the step
    SharedAnonVma, // the VMAs around the step given one anon_vma (anon_vma compatibility off)
    NeighbourFlags, // the VMAs next to the step's range given VM_SEQ_READ (flags no longer equal)
    ForkFlags, // VM_DONTCOPY and VM_WIPEONFORK cleared before a fork
    UffdEventFork, // UFFD_FEATURE_EVENT_FORK toggled on the process's userfaultfds before a fork
    GuardMarkers, // the guard markers in the step's range removed first
    Unwritten, // the private anonymous VMAs in the range without pages or anon_vma
    Length, // the length argument one page longer or shorter
    Address, // the address argument one page higher
    Prot, // PROT_WRITE toggled in the protection (or access) argument
};

const char* variationName(Variation v); // "profile", "shared-anon-vma", ...

struct QuizOutcome
{
    std::int64_t ret = 0; // what the step returned (the raw syscall value, fork: the pid)
    std::string runtimeError; // set when the step itself stopped the run
    World after; // the whole world after the step, for views that show more
    // Each process after the step, names filled, clipped to the region; stats only fork's. A
    // flag a variation set only as its means (NeighbourFlags: `sr`) is left out of vmFlags.
    std::vector<ObservedProcess> processes;
    std::string text; // what choices are compared by: renderOutcome() of the above
};

struct QuizChoice
{
    bool correct = false;
    Variation variation = Variation::None;
    std::string varied; // what was varied, as a sentence: "if the kernel ignored ..."; "" when correct
    std::string profile; // the profile the outcome was computed under
    QuizOutcome outcome;
};

struct Quiz
{
    QuizPoint point;
    std::string process; // where the step runs: "main", "child"...
    std::string call; // the step as the trace shows it: "mprotect(0x7ffff7a12000, 0x2000, PROT_READ)"
    QuizRegion region;
    std::vector<QuizChoice> choices; // every text distinct; exactly one correct
    std::size_t correctIndex = 0;
};

struct QuizOptions
{
    Profile profile; // the run the lesson shows (the GUI's profile box): the right outcome
    // Profiles for Variation::Profile; empty: every built-in profile but `profile`'s name, with
    // `profile`'s machine configuration.
    std::vector<Profile> otherProfiles;
    std::size_t maxWrong = 3;
};

// Builds the quiz of `point` (a statement of `scenario`, which must make exactly one call).
// Fails when the statement is not found, makes no call or several, or the run does not reach it
// (a `require` the profile lacks, an error before it).
Result<Quiz> buildQuiz(const scenario::Scenario& scenario, const QuizPoint& point, const QuizOptions& options);

// What /proc would show of `world` within the region: every process (named by `names`, in
// creation order), VMAs and page runs clipped to it, stats reduced to fork's for forked processes.
std::vector<ObservedProcess> observeRegion(
    const World& world, const std::vector<std::string>& names, const QuizRegion& region);

// The text of an outcome: the step's result, then per process its VMAs (range, perms, VmFlags,
// name) with their page runs, and fork's statistics. `callName` is the step's call (touch returns signals).
std::string renderOutcome(const std::vector<ObservedProcess>& processes, const std::string& callName, std::int64_t ret,
    const std::string& runtimeError, const QuizRegion& region);

} // namespace vmalab::lesson
