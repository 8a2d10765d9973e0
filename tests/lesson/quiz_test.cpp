#include "core/engine/model_backend.h"
#include "core/engine/observe.h"
#include "core/lesson/quiz.h"
#include "core/report/emit.h"
#include "core/scenario/interpreter.h"
#include "core/scenario/parser.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace vmalab::lesson {
namespace {

const std::string lessonsDir = std::string(VMALAB_SOURCE_DIR) + "/resources/lessons";

std::string readFile(const std::string& path)
{
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::vector<std::string> lessonFiles()
{
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(lessonsDir))
        if (e.path().extension() == ".vlab")
            out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
}

scenario::Scenario parseLesson(const std::string& file)
{
    Result<scenario::Scenario> s = scenario::parseScenario(readFile(lessonsDir + "/" + file), file);
    EXPECT_TRUE(s.has_value()) << file << ": " << (s ? "" : s.error().front().format());
    return s ? *s : scenario::Scenario {};
}

// The reference machine, so the tests do not depend on this host's configuration.
Profile profile(const std::string& name)
{
    std::optional<Profile> p = builtinProfile(name, MachineConfig {});
    EXPECT_TRUE(p.has_value());
    return p.value_or(Profile {});
}

QuizOptions options(const std::string& name = "maybe-guard-fixed")
{
    QuizOptions o;
    o.profile = profile(name);
    return o;
}

// Everything observable of a whole world (every process, the whole address space) with a result.
std::string fullState(const World& world, std::int64_t ret)
{
    std::string out = "ret " + std::to_string(ret) + "\n";
    for (const ObservedProcess& p : observeWorld(world)) {
        for (const ObservedVma& v : p.vmas)
            out += report::smapsBlock(v);
        out += report::pagesBlock(p) + report::statsBlock(p);
    }
    return out;
}

QuizPoint pointAt(const scenario::Scenario& s, int line)
{
    for (const QuizPoint& p : findQuizPoints(s))
        if (p.loc.line == line)
            return p;
    ADD_FAILURE() << "no quiz point on line " << line;
    return {};
}

const QuizChoice* choiceOf(const Quiz& quiz, Variation v, const std::string& profileName = {})
{
    for (const QuizChoice& c : quiz.choices)
        if (c.variation == v && (profileName.empty() || c.profile == profileName))
            return &c;
    return nullptr;
}

int lineOf(const std::string& file, const std::string& needle)
{
    std::istringstream in(readFile(lessonsDir + "/" + file));
    std::string line;
    for (int n = 1; std::getline(in, line); ++n)
        if (line.find(needle) != std::string::npos && line.rfind("///", 0) != 0)
            return n;
    ADD_FAILURE() << needle << " not in " << file;
    return 0;
}

TEST(Narration, QuizLineIsTheQuestionTheRestIsRevealed)
{
    const LessonNarration n = splitNarration("First line.\nquiz: What happens?\nBecause.");
    EXPECT_EQ(n.question, "What happens?");
    EXPECT_EQ(n.text, "First line.\nBecause.");
    EXPECT_EQ(splitNarration("Just narration.").question, "");
    EXPECT_EQ(splitNarration("Just narration.").text, "Just narration.");
    EXPECT_EQ(splitNarration("quiz: one?\nquiz: two?").question, "one?");
    EXPECT_EQ(splitNarration("quiz: one?\nquiz: two?").text, "quiz: two?");
    EXPECT_EQ(splitNarration("A quiz: is not a marker mid-line").question, "");
}

TEST(Narration, LessonTitleFromTheFirstLine)
{
    EXPECT_EQ(lessonTitle("// Lesson: mremap grows and moves. More words.\nx = 1\n"), "mremap grows and moves");
    EXPECT_EQ(lessonTitle("// Lesson: fork and COW.\n"), "fork and COW");
    EXPECT_EQ(lessonTitle("// Not a lesson.\n"), "");
}

TEST(Lessons, TwelveOrMoreEachTitledNewOnesWithOneToThreeQuizPoints)
{
    const std::vector<std::string> files = lessonFiles();
    EXPECT_GE(files.size(), 12u);
    for (const std::string& f : files) {
        EXPECT_FALSE(lessonTitle(readFile(lessonsDir + "/" + f)).empty()) << f;
        const scenario::Scenario s = parseLesson(f);
        const std::size_t points = findQuizPoints(s).size();
        if (f >= "05") {
            EXPECT_GE(points, 1u) << f;
            EXPECT_LE(points, 3u) << f;
        }
    }
}

// Every quiz point of every lesson, as "FILE:LINE".
std::vector<std::string> allQuizPoints()
{
    std::vector<std::string> out;
    for (const std::string& f : lessonFiles()) {
        Result<scenario::Scenario> s = scenario::parseScenario(readFile(lessonsDir + "/" + f), f);
        if (s)
            for (const QuizPoint& p : findQuizPoints(*s))
                out.push_back(f + ":" + std::to_string(p.loc.line));
    }
    return out;
}

class EveryQuiz : public ::testing::TestWithParam<std::string>
{
};

TEST_P(EveryQuiz, RightChoiceIsTheRealRunAndWrongOnesAreRealAndDistinct)
{
    const std::string file = GetParam().substr(0, GetParam().find(':'));
    const int line = std::stoi(GetParam().substr(GetParam().find(':') + 1));
    const scenario::Scenario s = parseLesson(file);
    const QuizPoint point = pointAt(s, line);
    const Result<Quiz> quiz = buildQuiz(s, point, options());
    ASSERT_TRUE(quiz.has_value()) << quiz.error().front().format();
    ASSERT_GE(quiz->choices.size(), 2u) << "no wrong choice";
    ASSERT_LE(quiz->choices.size(), 4u);
    ASSERT_LT(quiz->correctIndex, quiz->choices.size());
    EXPECT_EQ(
        std::count_if(quiz->choices.begin(), quiz->choices.end(), [](const QuizChoice& c) { return c.correct; }), 1);
    const QuizChoice& right = quiz->choices[quiz->correctIndex];
    ASSERT_TRUE(right.correct);

    // The real run, with history: the operation written on the quiz line is the step.
    ModelBackend model(options().profile);
    model.keepHistory(true);
    scenario::runScenario(s, model);
    const History& h = *model.history();
    std::size_t op = 0;
    while (op < h.opCount() && h.op(op).line != line)
        ++op;
    ASSERT_LT(op, h.opCount());
    EXPECT_EQ(fullState(right.outcome.after, right.outcome.ret), fullState(h.afterOp(op), h.op(op).ret));
    std::vector<std::string> names;
    for (const ObservedProcess& p : right.outcome.processes)
        names.push_back(p.name);
    const std::string real = renderOutcome(observeRegion(h.afterOp(op), names, quiz->region),
        quiz->call.substr(0, quiz->call.find('(')), h.op(op).ret, "", quiz->region);
    EXPECT_EQ(right.outcome.text, real);

    for (std::size_t i = 0; i < quiz->choices.size(); ++i) {
        const QuizChoice& c = quiz->choices[i];
        if (!c.correct) {
            EXPECT_NE(c.variation, Variation::None);
            EXPECT_FALSE(c.varied.empty());
            EXPECT_NE(fullState(c.outcome.after, c.outcome.ret), fullState(right.outcome.after, right.outcome.ret))
                << c.varied;
        }
        for (std::size_t j = i + 1; j < quiz->choices.size(); ++j)
            EXPECT_NE(c.outcome.text, quiz->choices[j].outcome.text) << c.varied << " / " << quiz->choices[j].varied;
    }
}

std::string quizTestName(const ::testing::TestParamInfo<std::string>& point)
{
    std::string name = point.param;
    std::replace_if(
        name.begin(), name.end(), [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); }, '_');
    return name;
}

INSTANTIATE_TEST_SUITE_P(Lessons, EveryQuiz, ::testing::ValuesIn(allQuizPoints()), quizTestName);

// P6: under the fix, fork copies nothing; the series as posted copies 8 PTEs, and the quiz
// offers that outcome as a wrong choice computed under its profile.
TEST(Quiz, ForkRegressionOffersTheSeriesAsPosted)
{
    const std::string file = "11_vma_needs_copy_regression.vlab";
    const scenario::Scenario s = parseLesson(file);
    const Result<Quiz> quiz = buildQuiz(s, pointAt(s, lineOf(file, "child = fork()")), options());
    ASSERT_TRUE(quiz.has_value());
    EXPECT_NE(quiz->choices[quiz->correctIndex].outcome.text.find("fork.ptes_copied = 0"), std::string::npos);
    const QuizChoice* posted = choiceOf(*quiz, Variation::Profile, "maybe-guard");
    ASSERT_NE(posted, nullptr);
    EXPECT_NE(posted->outcome.text.find("fork.ptes_copied = 8"), std::string::npos) << posted->outcome.text;
    // v6.18 behaves as the fix here, so it renders the same and is not offered.
    EXPECT_EQ(choiceOf(*quiz, Variation::Profile, "v6.18"), nullptr);

    // Asked under the series as posted, the fix is the wrong choice.
    const Result<Quiz> asPosted = buildQuiz(s, pointAt(s, lineOf(file, "child = fork()")), options("maybe-guard"));
    ASSERT_TRUE(asPosted.has_value());
    EXPECT_NE(asPosted->choices[asPosted->correctIndex].outcome.text.find("fork.ptes_copied = 8"), std::string::npos);
}

// MADV_COLLAPSE over a guard: -EINVAL; without the marker the block would collapse.
TEST(Quiz, CollapseOverAGuardOffersTheBlockWithoutIt)
{
    const std::string file = "12_collapse_and_guards.vlab";
    const scenario::Scenario s = parseLesson(file);
    const Result<Quiz> quiz =
        buildQuiz(s, pointAt(s, lineOf(file, "expect madvise(big, 2M, MADV_COLLAPSE) == -EINVAL")), options());
    ASSERT_TRUE(quiz.has_value());
    EXPECT_EQ(quiz->choices[quiz->correctIndex].outcome.text.rfind("returns -EINVAL\n", 0), 0u);
    const QuizChoice* noGuard = choiceOf(*quiz, Variation::GuardMarkers);
    ASSERT_NE(noGuard, nullptr);
    EXPECT_EQ(noGuard->outcome.text.rfind("returns 0\n", 0), 0u) << noGuard->outcome.text;
    EXPECT_EQ(noGuard->outcome.text.find("guard"), std::string::npos) << noGuard->outcome.text;
}

// munlock leaves two VMAs because their anon_vmas differ; with one anon_vma they would merge.
TEST(Quiz, MunlockOffersTheMergeAnonVmaCompatibilityPrevents)
{
    const std::string file = "13_mlock_and_population.vlab";
    const scenario::Scenario s = parseLesson(file);
    const Result<Quiz> quiz =
        buildQuiz(s, pointAt(s, lineOf(file, "expect munlock(a, 8 * page_size) == 0")), options());
    ASSERT_TRUE(quiz.has_value());
    const QuizChoice& right = quiz->choices[quiz->correctIndex];
    const QuizChoice* shared = choiceOf(*quiz, Variation::SharedAnonVma);
    ASSERT_NE(shared, nullptr);
    ASSERT_EQ(right.outcome.processes.size(), 1u);
    ASSERT_EQ(shared->outcome.processes.size(), 1u);
    EXPECT_EQ(right.outcome.processes[0].vmas.size(), 2u) << right.outcome.text;
    EXPECT_EQ(shared->outcome.processes[0].vmas.size(), 1u) << shared->outcome.text;
    EXPECT_NE(shared->varied.find("anon_vma"), std::string::npos);
}

TEST(Quiz, RefusesStatementsWithoutExactlyOneCall)
{
    Result<scenario::Scenario> s =
        scenario::parseScenario("a = 1\n"
                                "p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)\n"
                                "expect touch(p, 1, PROT_READ) == touch(p, 1, PROT_READ)\n",
            "inline.vlab");
    ASSERT_TRUE(s.has_value());
    QuizPoint noCall { s->stmts[0].loc, "?", "" };
    QuizPoint twoCalls { s->stmts[2].loc, "?", "" };
    QuizPoint nowhere { { 40, 1 }, "?", "" };
    EXPECT_FALSE(buildQuiz(*s, noCall, options()).has_value());
    EXPECT_FALSE(buildQuiz(*s, twoCalls, options()).has_value());
    const Result<Quiz> missing = buildQuiz(*s, nowhere, options());
    ASSERT_FALSE(missing.has_value());
    EXPECT_EQ(missing.error().front().line, 40);
    const QuizPoint one { s->stmts[1].loc, "?", "" };
    EXPECT_TRUE(buildQuiz(*s, one, options()).has_value());
}

} // namespace
} // namespace vmalab::lesson
