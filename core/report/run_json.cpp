#include "core/report/run_json.h"

#include "core/report/emit.h"
#include "core/report/json_writer.h"
#include "core/scenario/outcome.h"

#include <cstdio>

namespace vmalab::report {

namespace {

std::string hexAddr(std::uint64_t a)
{
    return hexValue(static_cast<std::int64_t>(a));
}

const char* varKindName(scenario::VarKind kind)
{
    switch (kind) {
    case scenario::VarKind::Plain:
        return "plain";
    case scenario::VarKind::Handle:
        return "handle";
    case scenario::VarKind::Pid:
        return "pid";
    }
    return "?";
}

void writeVma(JsonWriter& json, const ObservedVma& vma)
{
    char dev[16];
    std::snprintf(dev, sizeof dev, "%02x:%02x", vma.devMajor, vma.devMinor);
    json.beginObject();
    json.field("start", hexAddr(vma.start));
    json.field("end", hexAddr(vma.end));
    json.field("perms", vma.perms);
    json.field("offset", hexAddr(vma.offset));
    json.field("dev", dev);
    json.field("inode", static_cast<std::uint64_t>(vma.inode));
    json.field("name", vma.name);
    json.key("smaps");
    json.beginObject(true);
    for (const auto& [field, kb] : vma.smapsKb) {
        json.field(field, static_cast<std::uint64_t>(kb));
    }
    json.endObject();
    json.key("vmFlags");
    json.beginArray(true);
    for (const auto& flag : vma.vmFlags)
        json.value(flag);
    json.endArray();
    json.endObject();
}

void writePageRun(JsonWriter& json, const PageRun& run)
{
    json.beginObject(true);
    json.field("start", hexAddr(run.start));
    json.field("end", hexAddr(run.end));
    json.field("state", pageStateName(run.state));
    json.field("uffdWp", run.uffdWp);
    json.field("exclusive", run.exclusive);
    json.field("file", run.file);
    json.endObject();
}

void writeProcess(JsonWriter& json, const ObservedProcess& process)
{
    json.beginObject();
    json.field("name", process.name);
    json.field("pid", static_cast<std::int64_t>(process.pid));
    json.key("vmas");
    json.beginArray();
    for (const ObservedVma& vma : process.vmas)
        writeVma(json, vma);
    json.endArray();
    json.key("pages");
    json.beginArray();
    for (const PageRun& run : process.pages)
        writePageRun(json, run);
    json.endArray();
    json.key("stats");
    json.beginObject(true);
    for (const auto& [name, value] : process.stats) {
        json.field(name, static_cast<std::int64_t>(value));
    }
    json.endObject();
    json.endObject();
}

void writeVars(JsonWriter& json, const std::vector<scenario::VarRecord>& vars)
{
    json.beginArray();
    for (const auto& var : vars) {
        json.beginObject(true);
        json.field("name", var.name);
        json.field("value", hexValue(var.value));
        json.field("int", static_cast<std::int64_t>(var.value));
        json.field("kind", varKindName(var.kind));
        json.endObject();
    }
    json.endArray();
}

void writeExpects(JsonWriter& json, const std::vector<scenario::ExpectRecord>& expects)
{
    json.beginArray();
    for (const auto& e : expects) {
        json.beginObject(true);
        json.field("process", e.process);
        json.field("line", e.loc.line);
        json.field("col", e.loc.col);
        json.field("lhs", e.lhsText);
        json.field("op", e.equal ? "==" : "!=");
        json.field("rhs", e.rhsText);
        json.field("lhsValue", hexValue(e.lhs));
        json.field("rhsValue", hexValue(e.rhs));
        json.field("passed", e.passed);
        json.endObject();
    }
    json.endArray();
}

void writeStrings(JsonWriter& json, const std::vector<std::string>& strings)
{
    json.beginArray();
    for (const auto& s : strings)
        json.value(s);
    json.endArray();
}

} // namespace

std::string runJson(const scenario::RunOutcome& run, bool modelRun)
{
    JsonWriter json;
    json.beginObject();
    json.field("format", "vmalab-run");
    json.field("version", 1);
    json.field("side", modelRun ? "model" : "kernel");
    json.field("exitStatus", run.exitStatus);
    json.field("ran", run.ran);
    json.key("skipReason");
    if (run.skipReason.empty())
        json.null();
    else
        json.value(run.skipReason);
    json.key("errors");
    std::vector<std::string> errors;
    for (const Diagnostic& d : run.errors)
        errors.push_back(d.format());
    writeStrings(json, errors);
    json.key("notes");
    writeStrings(json, run.notes);
    json.key("processes");
    json.beginArray();
    for (const ObservedProcess& process : run.processes)
        writeProcess(json, process);
    json.endArray();
    json.key("vars");
    writeVars(json, run.vars);
    json.key("expects");
    writeExpects(json, run.expects);
    json.endObject();
    return json.text();
}

} // namespace vmalab::report
