#pragma once

#include "ui/scenario_session.h"

#include <QString>

namespace vmalab::ui::test {

// A small scenario: reserve, map 8 pages, fault 2, split with mprotect, merge back, unmap
// a hole. Lines matter to the tests (1-based).
inline QString splitMergeScenario()
{
    return QStringLiteral(
        "/// Reserve a window.\n" // 1
        "arena = mmap(NULL, 512 * page_size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)\n" // 2
        "/// Map eight pages inside it.\n" // 3
        "a = mmap(arena + 16 * page_size, 8 * page_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | "
        "MAP_FIXED, -1, 0)\n" // 4
        "expect touch(a, 2 * page_size, PROT_WRITE) == 0\n" // 5
        "/// Split it in three.\n" // 6
        "expect mprotect(a + 2 * page_size, 2 * page_size, PROT_READ) == 0\n" // 7
        "expect mprotect(a + 2 * page_size, 2 * page_size, PROT_READ | PROT_WRITE) == 0\n" // 8
        "expect munmap(a + 5 * page_size, page_size) == 0\n"); // 9
}

// Runs it on a built-in profile on the reference machine, so results never depend on the host.
inline bool runReference(ScenarioSession& s, const QString& profile = QStringLiteral("maybe-guard-fixed"),
    const QString& text = splitMergeScenario())
{
    s.setReferenceMachine(true);
    s.setProfileName(profile);
    return s.run(text, QStringLiteral("test.vlab"));
}

} // namespace vmalab::ui::test
