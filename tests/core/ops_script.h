#pragma once

// A tiny script language for the table-driven tests of mremap, madvise and mlock: each row
// runs a setup script on an empty window, then one operation, and compares the result, the
// VMAs (EngineFixture::picture()), the page states (pagePicture()) and where a flag is set.
#include "tests/core/engine_fixture.h"

#include <gtest/gtest.h>

#include <map>
#include <sstream>

namespace vmalab::test {

inline std::int64_t parseNumber(const std::string& s)
{
    static const std::map<std::string, std::int64_t> names = {
        { "MAYMOVE", 1 }, { "FIXED", 3 }, { "FIXED_ONLY", 2 }, { "DONTUNMAP", 5 }, { "DONTUNMAP_FIXED", 7 },
        { "NORMAL", 0 }, { "RANDOM", 1 }, { "SEQUENTIAL", 2 }, { "WILLNEED", 3 }, { "DONTNEED", 4 }, { "FREE", 8 },
        { "REMOVE", 9 }, { "DONTFORK", 10 }, { "DOFORK", 11 }, { "MERGEABLE", 12 }, { "UNMERGEABLE", 13 },
        { "HUGEPAGE", 14 }, { "NOHUGEPAGE", 15 }, { "DONTDUMP", 16 }, { "DODUMP", 17 }, { "WIPEONFORK", 18 },
        { "KEEPONFORK", 19 }, { "COLD", 20 }, { "PAGEOUT", 21 }, { "POPULATE_READ", 22 }, { "POPULATE_WRITE", 23 },
        { "DONTNEED_LOCKED", 24 },
    };
    auto it = names.find(s);
    return it != names.end() ? it->second : std::stoll(s, nullptr, 0);
}

inline std::int64_t parseProt(const std::string& s)
{
    return s == "rw" ? EngineFixture::rw : s == "r" ? abi::PROT_READ : s == "w" ? abi::PROT_WRITE : 0;
}

// One command: "map P N PROT [shared|file FD OFF]", "write P N", "read P N", "unmap P N",
// "prot P N PROT", "mremap P OLD NEW FLAGS [TARGET]", "madv P N ADVICE", "mlock P N",
// "onfault P N", "munlock P N", "memfd PAGES" (fd 3). Page numbers count from the window.
inline std::int64_t runCommand(EngineFixture& f, const std::string& cmd)
{
    std::stringstream in(cmd);
    std::string verb;
    in >> verb;
    std::vector<std::string> a;
    for (std::string w; in >> w;)
        a.push_back(w);
    auto num = [&](std::size_t i) { return i < a.size() ? static_cast<std::uint64_t>(parseNumber(a[i])) : 0; };
    auto page = [&](std::size_t i) { return EngineFixture::at(num(i)); };
    if (verb == "map") {
        if (a.size() > 3 && a[3] == "shared")
            return f.mmap(num(0), num(1), parseProt(a[2]), abi::MAP_SHARED | abi::MAP_ANONYMOUS | abi::MAP_FIXED);
        if (a.size() > 3 && a[3] == "file")
            return f.mmap(num(0), num(1), parseProt(a[2]), abi::MAP_SHARED | abi::MAP_FIXED, static_cast<std::int64_t>(num(4)), num(5));
        if (a.size() > 3 && a[3] == "pfile")
            return f.mmap(num(0), num(1), parseProt(a[2]), abi::MAP_PRIVATE | abi::MAP_FIXED, static_cast<std::int64_t>(num(4)), num(5));
        return f.mmap(num(0), num(1), parseProt(a[2]));
    }
    if (verb == "memfd")
        return f.memfd(num(0));
    if (verb == "write" || verb == "read")
        return f.touch(num(0), num(1), verb == "write");
    if (verb == "unmap")
        return f.munmap(num(0), num(1));
    if (verb == "prot")
        return f.mprotect(num(0), num(1), parseProt(a[2]));
    if (verb == "mremap")
        return f.op([&](OpContext& c) {
            return doMremap(c, page(0), num(1) * pageSize, num(2) * pageSize, static_cast<std::int64_t>(num(3)),
                            a.size() > 4 ? page(4) : 0);
        });
    if (verb == "madv")
        return f.op([&](OpContext& c) { return doMadvise(c, page(0), num(1) * pageSize, static_cast<std::int64_t>(num(2))); });
    if (verb == "mlock" || verb == "onfault")
        return f.op([&](OpContext& c) { return doMlock(c, page(0), num(1) * pageSize, verb == "onfault", verb == "onfault"); });
    if (verb == "munlock")
        return f.op([&](OpContext& c) { return doMunlock(c, page(0), num(1) * pageSize); });
    ADD_FAILURE() << "unknown script verb " << verb;
    return -1;
}

inline void runSetup(EngineFixture& f, const std::string& script)
{
    std::stringstream all(script);
    std::string cmd;
    while (std::getline(all, cmd, ';')) {
        const std::int64_t r = runCommand(f, cmd);
        ASSERT_GE(r, 0) << "setup step `" << cmd << "` failed";
    }
}

// "x" where the VMA covering the page has `flag`, "." elsewhere (holes included).
inline std::string flagPicture(EngineFixture& f, std::uint64_t pages, VmFlags flag)
{
    std::string out(pages, '.');
    for (std::uint64_t i = 0; i < pages; ++i) {
        const Vma* v = f.mm().vmaAt(EngineFixture::at(i));
        if (v && (v->vm_flags & flag))
            out[i] = 'x';
    }
    return out;
}

// A row: setup, the operation, what it returns ("0", "-12", "@40" = the address of page 40),
// then the VMA picture, page picture and (when flagPic is not empty) where `flag` is set,
// each as long as the picture.
struct OpCase
{
    const char* name;
    const char* setup;
    const char* op;
    const char* ret;
    const char* vmas;
    const char* pages;
    VmFlags flag = 0;
    const char* flagPic = "";
};

inline void runCase(const OpCase& tc, EngineFixture& f)
{
    runSetup(f, tc.setup);
    const std::int64_t r = runCommand(f, tc.op);
    const std::string want = tc.ret;
    const std::int64_t expected = want[0] == '@' ? static_cast<std::int64_t>(EngineFixture::at(std::stoull(want.substr(1))))
                                                 : std::stoll(want);
    EXPECT_EQ(r, expected) << formatTrace(f.last, "main", "");
    const std::uint64_t n = std::string(tc.vmas).size();
    EXPECT_EQ(f.picture(n), tc.vmas);
    EXPECT_EQ(f.pagePicture(n), tc.pages);
    if (*tc.flagPic) {
        EXPECT_EQ(flagPicture(f, n, tc.flag), tc.flagPic);
    }
}

} // namespace vmalab::test
