// Graphviz rendering (see graphviz.h). Graphviz reports errors through a
// callback (agseterrf) that we point at a buffer while the mutex is held,
// so messages reach the caller's Status instead of stderr.
#include "reports/graphviz.h"

#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>

#include <map>
#include <mutex>
#include <string>

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

// Object ids in creation order. cgraph's default id discipline uses the
// address of the interned name as a named object's id, and orders subgraphs
// (clusters) and some layout choices by id: the same DOT text then came out
// differently depending on what the process had allocated before (states.svg
// differed between `run --jobs 1` and `--jobs 2`). Here a name's id is its
// number in order of first use (even), an anonymous object's the next odd one.
struct IdState {
  std::map<std::string, IDTYPE> ids;
  std::map<IDTYPE, std::string> names;
  IDTYPE next_named = 2;
  IDTYPE next_anonymous = 1;
};

void* IdOpen(Agraph_t*, Agdisc_t*) { return new IdState(); }

long IdMap(void* state, int, char* name, IDTYPE* id, int create) {
  IdState& ids = *static_cast<IdState*>(state);
  if (name == nullptr) {
    *id = ids.next_anonymous;
    ids.next_anonymous += 2;
    return 1;
  }
  auto it = ids.ids.find(name);
  if (it != ids.ids.end()) {
    *id = it->second;
    return 1;
  }
  if (!create) return 0;
  *id = ids.next_named;
  ids.next_named += 2;
  ids.ids.emplace(name, *id);
  ids.names.emplace(*id, name);
  return 1;
}

long IdAlloc(void*, int, IDTYPE) { return 0; }
void IdFree(void*, int, IDTYPE) {}

char* IdPrint(void* state, int, IDTYPE id) {
  IdState& ids = *static_cast<IdState*>(state);
  auto it = ids.names.find(id);
  return it == ids.names.end() ? nullptr : it->second.data();
}

void IdClose(void* state) { delete static_cast<IdState*>(state); }
void IdRegister(void*, int, void*) {}

Agiddisc_t kSequentialIds = {IdOpen, IdMap, IdAlloc, IdFree, IdPrint, IdClose, IdRegister};

// DOT text read one line at a time, as agmemread does.
struct TextReader {
  const std::string* text;
  size_t at = 0;
};

int ReadLine(void* channel, char* buffer, int size) {
  TextReader& reader = *static_cast<TextReader*>(channel);
  int length = 0;
  while (length < size && reader.at < reader.text->size()) {
    const char c = (*reader.text)[reader.at++];
    buffer[length++] = c;
    if (c == '\n') break;
  }
  return length;
}

Agraph_t* ReadDot(const std::string& dot) {
  static Agiodisc_t io = [] {
    Agiodisc_t disc = AgIoDisc;
    disc.afread = ReadLine;
    return disc;
  }();
  static Agdisc_t disc = {AgDefaultDisc.mem, &kSequentialIds, &io};
  TextReader reader{&dot};
  return agconcat(nullptr, &reader, &disc);
}

}  // namespace

absl::StatusOr<std::string> RenderSvg(const std::string& dot) {
  std::lock_guard<std::mutex> lock(GraphvizMutex());
  Messages().clear();
  agseterrf(CollectMessage);
  agseterr(AGWARN);
  GVC_t* context = Context();
  Agraph_t* graph = ReadDot(dot);
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
