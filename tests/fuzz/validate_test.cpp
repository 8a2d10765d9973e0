// validateWorld() (core/engine/validate.h): it finds what it is meant to find, and every
// shipped scenario keeps the model's world consistent after every call.
#include "core/engine/model_backend.h"
#include "core/engine/page_table.h"
#include "core/engine/validate.h"
#include "core/scenario/interpreter.h"
#include "core/scenario/parser.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace vmalab {
namespace {

// Runs every call on the model and validates the world after it; the first problems found
// are kept with the call's position.
class ValidatingBackend : public ModelBackend
{
public:
    using ModelBackend::ModelBackend;

    scenario::CallResult call(scenario::ProcIndex proc, const std::string& name,
        const std::vector<scenario::Value>& args, scenario::SourceLoc site) override
    {
        const scenario::CallResult r = ModelBackend::call(proc, name, args, site);
        check(name, site);
        return r;
    }
    scenario::CallResult fork(scenario::ProcIndex parent, scenario::ProcIndex child, scenario::SourceLoc site) override
    {
        const scenario::CallResult r = ModelBackend::fork(parent, child, site);
        check("fork", site);
        return r;
    }

    std::vector<std::string> problems;
    int calls = 0;

private:
    void check(const std::string& name, scenario::SourceLoc site)
    {
        ++calls;
        if (!problems.empty())
            return;
        for (const std::string& p : validateWorld(world()))
            problems.push_back("line " + std::to_string(site.line) + " " + name + ": " + p);
    }
};

World oneProcess()
{
    World w;
    Mm mm;
    mm.pid = 1;
    w.procs.push_back(mm);
    return w;
}

Vma anonVma(World& w, Addr start, Addr end)
{
    Vma v;
    v.id = w.newVmaId();
    v.vm_start = start;
    v.vm_end = end;
    v.vm_flags = 0x73; // read, write, mayread, maywrite
    return v;
}

TEST(Validate, EmptyAndSimpleWorldsAreConsistent)
{
    World w = oneProcess();
    EXPECT_TRUE(validateWorld(w).empty());
    w.procs[0].insert(anonVma(w, 0x10000, 0x20000));
    w.procs[0].insert(anonVma(w, 0x20000, 0x30000));
    EXPECT_TRUE(validateWorld(w).empty());
}

TEST(Validate, FindsOverlapEmptyAndMisalignedVmas)
{
    World w = oneProcess();
    w.procs[0].insert(anonVma(w, 0x10000, 0x20000));
    w.procs[0].insert(anonVma(w, 0x18000, 0x28000));
    const auto overlap = validateWorld(w);
    ASSERT_EQ(overlap.size(), 2u);
    EXPECT_NE(
        overlap[0].find("proc 0: VMA 0x18000-0x28000 overlaps the VMA before it, 0x10000-0x20000"), std::string::npos)
        << overlap[0];
    // The lookup inside the overlap finds the later VMA: the index no longer answers find_vma().
    EXPECT_NE(overlap[1].find("vma_lookup(0x1ffff) does not find VMA 0x10000-0x20000"), std::string::npos)
        << overlap[1];

    // Straight into the index: Mm::insert() itself refuses an empty VMA.
    World e = oneProcess();
    e.procs[0].vmas.emplace(0x10000, anonVma(e, 0x10000, 0x10000));
    e.procs[0].vmas.emplace(0x20800, anonVma(e, 0x20800, 0x30000));
    const auto bad = validateWorld(e);
    ASSERT_EQ(bad.size(), 2u);
    EXPECT_NE(bad[0].find("empty"), std::string::npos) << bad[0];
    EXPECT_NE(bad[1].find("not page-aligned"), std::string::npos) << bad[1];
}

TEST(Validate, FindsPagesOutsideVmasAndMissingPteTables)
{
    World w = oneProcess();
    Mm& mm = w.procs[0];
    Vma v = anonVma(w, 0x400000, 0x402000);
    v.anon_vma = w.newAnonVma();
    v.anonVmaChain = 1;
    mm.insert(v);
    mm.ptes.assign(0x400, 0x403, Pte {}); // one page past the VMA's end
    const auto problems = validateWorld(w);
    ASSERT_EQ(problems.size(), 2u);
    EXPECT_NE(problems[0].find("0x402000-0x403000 lies outside every VMA"), std::string::npos) << problems[0];
    EXPECT_NE(problems[1].find("no PTE table for the PMD at 0x400000"), std::string::npos) << problems[1];
    mm.pteTables.assign(2, 3, true);
    mm.ptes.erase(0x402, 0x403);
    const auto upper = validateWorld(w);
    ASSERT_EQ(upper.size(), 1u);
    EXPECT_NE(upper[0].find("PTE tables: no PMD table for the PUD at 0x0"), std::string::npos) << upper[0];
    mm.pmdTables.assign(0, 1, true);
    const auto top = validateWorld(w);
    ASSERT_EQ(top.size(), 1u);
    EXPECT_NE(top[0].find("PMD tables: no PUD table for the PGD entry at 0x0"), std::string::npos) << top[0];
    mm.pudTables.assign(0, 1, true);
    EXPECT_TRUE(validateWorld(w).empty());
}

TEST(Validate, PmdMappedPagesNeedAPmdTableNotAPteTable)
{
    World w = oneProcess();
    Mm& mm = w.procs[0];
    Vma v = anonVma(w, 0x40000000, 0x40200000);
    mm.insert(v);
    Pte huge { PageState::Present, Pte::Kind::Anon, false };
    huge.pmdMapped = true;
    mm.ptes.assign(0x40000, 0x40200, huge);
    const auto problems = validateWorld(w);
    ASSERT_FALSE(problems.empty());
    EXPECT_NE(problems.back().find("no PMD table for the PUD at 0x40000000"), std::string::npos) << problems.back();
    mm.ptes.erase(0x40000, 0x40200);
    setPmdLeaf(mm, 0x40000000, huge);
    EXPECT_TRUE(mm.pteTables.empty());
    EXPECT_EQ(mm.pmdTables.runCount(), 1u);
    // Anonymous pages in a VMA without anon_vma are still reported; no table problem is.
    for (const std::string& p : validateWorld(w))
        EXPECT_EQ(p.find("table"), std::string::npos) << p;
}

TEST(Validate, FindsDanglingFileAndAnonVmaReferences)
{
    World w = oneProcess();
    Vma v = anonVma(w, 0x10000, 0x20000);
    v.vm_file = 7;
    v.anon_vma = 99;
    v.anonVmaChain = 1;
    w.procs[0].insert(v);
    w.procs[0].fds[3] = 8;
    const auto problems = validateWorld(w);
    ASSERT_EQ(problems.size(), 3u);
    EXPECT_NE(problems[0].find("maps file 7, which does not exist"), std::string::npos) << problems[0];
    EXPECT_NE(problems[1].find("anon_vma 99, never handed out"), std::string::npos) << problems[1];
    EXPECT_NE(problems[2].find("fd 3 refers to file 8"), std::string::npos) << problems[2];
}

std::string readFile(const std::filesystem::path& p)
{
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

std::vector<std::filesystem::path> shippedScenarios()
{
    std::vector<std::filesystem::path> out;
    for (const char* dir : { "/resources/scenarios", "/resources/lessons", "/tests/scenarios" }) {
        for (const auto& e : std::filesystem::directory_iterator(std::string(VMALAB_SOURCE_DIR) + dir)) {
            if (e.path().extension() == ".vlab")
                out.push_back(e.path());
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

class ShippedScenario : public testing::TestWithParam<std::filesystem::path>
{
};

TEST_P(ShippedScenario, WorldIsConsistentAfterEveryCall)
{
    const std::filesystem::path path = GetParam();
    auto s = scenario::parseScenario(readFile(path), path.filename().string());
    ASSERT_TRUE(s) << s.error().front().format();
    const std::string profileName = scenario::scenarioProfile(*s).value_or("v6.18");
    const auto profile = builtinProfile(profileName == "host" ? "v6.18" : profileName);
    ASSERT_TRUE(profile) << profileName;
    ValidatingBackend backend(*profile);
    const scenario::RunOutcome o = scenario::runScenario(*s, backend);
    if (o.exitStatus == 77)
        GTEST_SKIP() << o.skipReason;
    ASSERT_TRUE(o.ran);
    EXPECT_GT(backend.calls, 0);
    for (const std::string& p : backend.problems)
        ADD_FAILURE() << path.filename().string() << ": " << p;
}

INSTANTIATE_TEST_SUITE_P(Scenarios, ShippedScenario, testing::ValuesIn(shippedScenarios()),
    [](const testing::TestParamInfo<std::filesystem::path>& scenario) {
        std::string name = scenario.param.parent_path().filename().string() + "_" + scenario.param.stem().string();
        for (char& c : name) {
            if (!std::isalnum(static_cast<unsigned char>(c)))
                c = '_';
        }
        return name;
    });

} // namespace
} // namespace vmalab
