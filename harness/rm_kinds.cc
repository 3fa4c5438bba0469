// The RM-kind catalog (see rm_kinds.h) and its built-in entries.
#include "harness/rm_kinds.h"

#include <map>
#include <mutex>
#include <utility>

#include "absl/strings/str_cat.h"
#include "ktm/assert.h"

namespace harness {
namespace {

struct Catalog {
  std::mutex mutex;
  std::map<std::string, std::unique_ptr<RmKindInfo>, std::less<>> kinds;
};

// The built-in kinds' factories live with their adapters (rm_adapter.cc).
Catalog& TheCatalog() {
  static Catalog* const catalog = [] {
    auto* c = new Catalog;
    for (RmKindInfo& kind : BuiltInRmKinds()) {
      std::string name = kind.name;
      c->kinds.emplace(std::move(name), std::make_unique<RmKindInfo>(std::move(kind)));
    }
    return c;
  }();
  return *catalog;
}

}  // namespace

absl::Status RegisterRmKind(RmKindInfo kind) {
  if (kind.name.empty()) return absl::InvalidArgumentError("an RM kind needs a name");
  if (!kind.make) return absl::InvalidArgumentError(absl::StrCat("RM kind \"", kind.name, "\" has no factory"));
  Catalog& catalog = TheCatalog();
  std::lock_guard<std::mutex> lock(catalog.mutex);
  if (catalog.kinds.count(kind.name) != 0) {
    return absl::AlreadyExistsError(absl::StrCat("RM kind \"", kind.name, "\" is registered twice"));
  }
  std::string name = kind.name;
  catalog.kinds.emplace(std::move(name), std::make_unique<RmKindInfo>(std::move(kind)));
  return absl::OkStatus();
}

const RmKindInfo* FindRmKind(std::string_view name) {
  Catalog& catalog = TheCatalog();
  std::lock_guard<std::mutex> lock(catalog.mutex);
  auto it = catalog.kinds.find(name);
  return it == catalog.kinds.end() ? nullptr : it->second.get();
}

std::vector<std::string> RmKindNames() {
  Catalog& catalog = TheCatalog();
  std::lock_guard<std::mutex> lock(catalog.mutex);
  std::vector<std::string> names;
  for (const auto& [name, kind] : catalog.kinds) names.push_back(name);
  return names;
}

std::unique_ptr<RmAdapter> MakeRmAdapter(const RmSpec& spec, const ktm::Guid& rm_id, ktm::Kernel* kernel,
                                         sim::Host* host, sim::Disk* disk, ktm::HANDLE tm,
                                         ktm::RmObserver* observer) {
  const RmKindInfo* kind = FindRmKind(spec.kind);
  KTM_ASSERT(kind != nullptr, "RM kind \"" + spec.kind + "\" was validated but is not in the catalog");
  return kind->make(RmKindContext{.spec = &spec, .rm_id = rm_id, .kernel = kernel, .host = host, .disk = disk,
                                  .tm = tm, .observer = observer});
}

ktm::RmOptions RmOptionsFor(const RmKindContext& context) {
  const RmSpec& spec = *context.spec;
  ktm::RmOptions o;
  o.name = spec.name;
  o.rm_id = context.rm_id;
  o.durable = spec.durable;
  o.single_phase = spec.single_phase;
  o.vote_no_probability = spec.vote_no_probability;
  o.reject_single_phase_probability = spec.reject_single_phase_probability;
  o.response_delay_ns = spec.response_delay_ns;
  o.request_outcome_after_ns = spec.request_outcome_after_ns;
  o.snapshot_log_bytes = spec.snapshot_log_bytes;
  o.observer = context.observer;
  return o;
}

}  // namespace harness
