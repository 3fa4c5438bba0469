// Graphviz rendering (see graphviz.h). Graphviz reports errors through a
// callback (agseterrf) that we point at a buffer while the mutex is held,
// so messages reach the caller's Status instead of stderr.
#include "reports/graphviz.h"

#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>

#include <mutex>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace reports {
namespace {

std::mutex& GraphvizMutex() {
  static std::mutex* const mutex = new std::mutex();
  return *mutex;
}

// Graphviz messages of the render in progress (guarded by GraphvizMutex).
std::string& Messages() {
  static std::string* const messages = new std::string();
  return *messages;
}

int CollectMessage(char* message) {
  Messages() += message;
  return 0;
}

GVC_t* Context() {
  static GVC_t* const context = gvContext();
  return context;
}

std::string MessagesOr(const char* fallback) {
  std::string text(absl::StripAsciiWhitespace(Messages()));
  return text.empty() ? fallback : text;
}

}  // namespace

absl::StatusOr<std::string> RenderSvg(const std::string& dot) {
  std::lock_guard<std::mutex> lock(GraphvizMutex());
  Messages().clear();
  agseterrf(CollectMessage);
  agseterr(AGWARN);
  GVC_t* context = Context();
  Agraph_t* graph = agmemread(dot.c_str());
  if (graph == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("graphviz: cannot read the DOT text: ",
                                                   MessagesOr("syntax error")));
  }
  if (gvLayout(context, graph, "dot") != 0) {
    agclose(graph);
    return absl::InternalError(absl::StrCat("graphviz: layout failed: ", MessagesOr("no detail")));
  }
  char* data = nullptr;
  unsigned int length = 0;
  const int rendered = gvRenderData(context, graph, "svg", &data, &length);
  std::string svg;
  if (rendered == 0 && data != nullptr) svg.assign(data, length);
  if (data != nullptr) gvFreeRenderData(data);
  gvFreeLayout(context, graph);
  agclose(graph);
  if (rendered != 0 || svg.empty()) {
    return absl::InternalError(absl::StrCat("graphviz: SVG rendering failed: ", MessagesOr("no detail")));
  }
  return svg;
}

std::string DotQuote(const std::string& text) {
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      quoted.push_back('\\');
      quoted.push_back(c);
    } else if (c == '\n') {
      quoted += "\\n";
    } else if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f) {
      quoted.push_back(c);
    }
  }
  return quoted + "\"";
}

}  // namespace reports

// LeakSanitizer: fontconfig and Graphviz keep process-wide caches and plugin
// state that they never free; LSan calls this hook at start-up to learn what
// to ignore. Compiled into every binary that renders (ktmsim, the tests), so
// a sanitizer build needs no LSAN_OPTIONS for them (tests/lsan.supp lists the
// same three for everything else). Harmless without sanitizers.
extern "C" const char* __lsan_default_suppressions() {
  return "leak:libfontconfig.so\nleak:libgvc.so\nleak:libcgraph.so\n";
}
