#include "ui/scenario_highlighter.h"

#include <QTest>
#include <QTextDocument>

using namespace vmalab::ui;

namespace {

// "text:class" pairs of a line, for readable comparisons.
QStringList classes(const QString& line, bool* block = nullptr)
{
    bool local = false;
    QStringList out;
    for (const HighlightToken& t : classifyLine(line, block ? block : &local)) {
        static const char* names[] = { "keyword", "call", "constant", "number", "string", "comment", "narration" };
        out << line.mid(t.start, t.length) + QLatin1Char(':') + QLatin1String(names[static_cast<int>(t.cls)]);
    }
    return out;
}

} // namespace

class TestHighlighter : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void tokenClasses()
    {
        QCOMPARE(classes(QStringLiteral("a = mmap(NULL, 8 * page_size, PROT_READ, MAP_PRIVATE, -1, 0x10) // why")),
            QStringList({ QStringLiteral("mmap:call"), QStringLiteral("NULL:constant"), QStringLiteral("8:number"),
                QStringLiteral("page_size:constant"), QStringLiteral("PROT_READ:constant"),
                QStringLiteral("MAP_PRIVATE:constant"), QStringLiteral("1:number"), QStringLiteral("0x10:number"),
                QStringLiteral("// why:comment") }));
        QCOMPARE(classes(QStringLiteral("expect touch(a, page_size, PROT_WRITE) == SIGSEGV")),
            QStringList(
                { QStringLiteral("expect:keyword"), QStringLiteral("touch:call"), QStringLiteral("page_size:constant"),
                    QStringLiteral("PROT_WRITE:constant"), QStringLiteral("SIGSEGV:constant") }));
        QCOMPARE(classes(QStringLiteral("fd = memfd_create(\"a \\\" b\", 0)")),
            QStringList({ QStringLiteral("memfd_create:call"), QStringLiteral("\"a \\\" b\":string"),
                QStringLiteral("0:number") }));
        QCOMPARE(classes(QStringLiteral("/// The narration")),
            QStringList({ QStringLiteral("/// The narration:narration") }));
        QCOMPARE(classes(QStringLiteral("profile \"v6.18\"")),
            QStringList({ QStringLiteral("profile:keyword"), QStringLiteral("\"v6.18\":string") }));
        // A call name used as a variable is not a call; a variable is nothing.
        QCOMPARE(classes(QStringLiteral("mmap = arena")), QStringList());
    }

    void blockCommentsSpanLines()
    {
        bool block = false;
        QCOMPARE(classes(QStringLiteral("x = 1 /* starts"), &block),
            QStringList({ QStringLiteral("1:number"), QStringLiteral("/* starts:comment") }));
        QVERIFY(block);
        QCOMPARE(classes(QStringLiteral("still PROT_READ"), &block),
            QStringList({ QStringLiteral("still PROT_READ:comment") }));
        QVERIFY(block);
        QCOMPARE(classes(QStringLiteral("ends */ munmap(a, 1)"), &block),
            QStringList(
                { QStringLiteral("ends */:comment"), QStringLiteral("munmap:call"), QStringLiteral("1:number") }));
        QVERIFY(!block);
    }

    void highlighterFormatsDocument()
    {
        QTextDocument doc;
        ScenarioHighlighter h(&doc);
        doc.setPlainText(QStringLiteral("/// narration\nexpect munmap(a, page_size) == 0\n"));
        h.rehighlight();
        const auto narration = doc.firstBlock().layout()->formats();
        QVERIFY(!narration.isEmpty());
        QVERIFY(narration.first().format.background().style() != Qt::NoBrush);
        const auto code = doc.firstBlock().next().layout()->formats();
        QVERIFY(code.size() >= 4);
        QVERIFY(code.first().format.fontWeight() == QFont::Bold); // expect
    }
};

QTEST_MAIN(TestHighlighter)
#include "tst_highlighter.moc"
