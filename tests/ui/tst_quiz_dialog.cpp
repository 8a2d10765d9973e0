// Quiz mode (issue 7 §6): the dialog's choices come from the engine (core/lesson/quiz.h), the
// answer is revealed and narrated, and the main window stops before a quiz point only.
#include "core/lesson/quiz.h"
#include "core/profile.h"
#include "core/scenario/parser.h"
#include "ui/main_window.h"
#include "ui/quiz_dialog.h"
#include "ui/scenario_session.h"

#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

using namespace vmalab;
using namespace vmalab::ui;

namespace {

const char* lessonPath = VMALAB_SOURCE_DIR "/resources/lessons/05_mremap.vlab";

QString lessonText()
{
    QFile f(QString::fromLatin1(lessonPath));
    if (!f.open(QIODevice::ReadOnly))
        qFatal("cannot read the lesson");
    return QString::fromUtf8(f.readAll());
}

lesson::Quiz firstQuiz()
{
    const std::string text = lessonText().toStdString();
    auto parsed = scenario::parseScenario(text, lessonPath);
    if (!parsed)
        qFatal("the lesson does not parse");
    const auto points = lesson::findQuizPoints(*parsed);
    if (points.empty())
        qFatal("the lesson has no quiz point");
    lesson::QuizOptions options;
    options.profile = *builtinProfile("maybe-guard-fixed");
    auto quiz = lesson::buildQuiz(*parsed, points.front(), options);
    if (!quiz)
        qFatal("the quiz does not build");
    return *quiz;
}

} // namespace

class TestQuizDialog : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void wrongAnswerRevealsAndNarrates()
    {
        const lesson::Quiz quiz = firstQuiz();
        QVERIFY(quiz.choices.size() >= 2);
        QuizDialog d(quiz);
        QCOMPARE(d.choiceCount(), static_cast<int>(quiz.choices.size()));
        QVERIFY(!d.answer()); // no choice yet: nothing revealed
        QVERIFY(!d.revealed());
        const int wrong = quiz.correctIndex == 0 ? 1 : 0;
        d.choose(wrong);
        QCOMPARE(d.chosen(), wrong);
        QVERIFY(!d.answer());
        QVERIFY(d.revealed());
        const QString text = d.revealText();
        QVERIFY(text.contains(QStringLiteral("Not quite")));
        QVERIFY(text.contains(QChar(u'A' + static_cast<int>(quiz.correctIndex))));
        // The statement's narration and what the wrong choice varied.
        QVERIFY(text.contains(QString::fromStdString(quiz.point.narration).left(30)));
        QVERIFY(text.contains(QString::fromStdString(quiz.choices[static_cast<std::size_t>(wrong)].varied)));
        QVERIFY(text.contains(QStringLiteral("your answer")));
        // VMALAB_QUIZ_SCREENSHOT=FILE.png keeps a picture of the revealed quiz (docs/images/gui-quiz.png).
        if (qEnvironmentVariableIsSet("VMALAB_QUIZ_SCREENSHOT")) {
            d.resize(1100, 760);
            d.show();
            QApplication::processEvents();
            QVERIFY(d.grab().save(qEnvironmentVariable("VMALAB_QUIZ_SCREENSHOT")));
        }
    }

    void rightAnswer()
    {
        const lesson::Quiz quiz = firstQuiz();
        QuizDialog d(quiz);
        d.choose(static_cast<int>(quiz.correctIndex));
        QVERIFY(d.answer());
        QVERIFY(d.revealText().startsWith(QStringLiteral("Right.")));
    }

    void windowAsksOnlyBeforeAQuizPoint()
    {
        QTemporaryDir dir;
        MainWindow w(dir.path());
        w.session()->setReferenceMachine(true);
        w.setProfile(QStringLiteral("maybe-guard-fixed"));
        w.openText(lessonText(), QStringLiteral("05_mremap.vlab"));
        QVERIFY(w.session()->hasRun());
        const lesson::Quiz expected = firstQuiz();
        const auto ops = w.session()->opsOfLine(expected.point.loc.line);
        QVERIFY(!ops.empty());
        QVERIFY(w.jumpToOperation(ops.front())); // just before the quiz statement
        QVERIFY(!w.quizForNextStep()); // quiz mode is off
        w.setQuizMode(true);
        const auto quiz = w.quizForNextStep();
        QVERIFY(quiz.has_value());
        QCOMPARE(quiz->point.question, expected.point.question);
        QCOMPARE(quiz->choices.size(), expected.choices.size());
        QVERIFY(w.jumpToOperation(0));
        QCOMPARE(w.quizForNextStep().has_value(), w.session()->lineOfOp(0) == expected.point.loc.line);
        QVERIFY(w.jumpToOperation(ops.front() + 1)); // after it: the next step is no quiz point
        QVERIFY(!w.quizForNextStep() || w.quizForNextStep()->point.loc.line != expected.point.loc.line);
    }
};

QTEST_MAIN(TestQuizDialog)
#include "tst_quiz_dialog.moc"
