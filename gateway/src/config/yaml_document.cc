// SPDX-License-Identifier: Apache-2.0
#include "config/yaml_document.h"

#include <yaml-cpp/anchor.h>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>

#include <sstream>

#include "config/reader.h"

namespace edgegw::config::detail {
namespace {

// Notes where each document starts, building nothing.
class DocumentStarts : public YAML::EventHandler {
 public:
  std::vector<YAML::Mark> starts;

  void OnDocumentStart(const YAML::Mark& mark) override { starts.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

YamlProblem problem_of(const YAML::Exception& e, std::string message) {
  Mark mark = mark_of(e.mark);
  if (mark.line == 0) mark = {1, 1};
  return {mark, std::move(message)};
}

}  // namespace

ParsedYaml parse_single_document(const std::string& text) {
  ParsedYaml result;
  try {
    // yaml-cpp's LoadAll loops forever, allocating, when its parser stops consuming input (a stray
    // ',' at the top level, jbeder/yaml-cpp#1040): so look at four documents at most, and take
    // one starting where the one before did as the parser being stuck there.
    std::istringstream stream(text);
    YAML::Parser parser(stream);
    DocumentStarts documents;
    for (int i = 0; i < 4 && parser.HandleNextDocument(documents); ++i) {
    }
    const std::vector<YAML::Mark>& starts = documents.starts;
    for (std::size_t i = 1; i < starts.size(); ++i) {
      if (starts[i].pos != starts[i - 1].pos) continue;
      Mark mark = mark_of(starts[i]);
      if (mark.line == 0) mark = {1, 1};
      result.problems.push_back({mark, "YAML syntax error: unexpected character"});
      return result;
    }
    if (starts.size() > 1) {
      Mark mark = mark_of(starts[1]);
      if (mark.line == 0) mark = {1, 1};
      result.problems.push_back(
          {mark, "the file holds more than one YAML document ('---'); only one is allowed"});
    }
    YAML::Node root = YAML::Load(text);
    if (root.IsNull() || !root.IsDefined()) {
      result.problems.push_back({{1, 1}, "the file is empty; it needs at least gateway.data_dir"});
      return result;
    }
    result.root = std::move(root);
  } catch (const YAML::DeepRecursion& e) {
    // yaml-cpp stops recursing at a fixed depth; its message for it says only "bad file".
    result.problems.push_back(problem_of(e, "YAML is nested too deeply"));
  } catch (const YAML::Exception& e) {
    result.problems.push_back(problem_of(e, "YAML syntax error: " + e.msg));
  }
  return result;
}

}  // namespace edgegw::config::detail
