#include "common/metrics.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace conclave::metrics {

template <class Metric>
Metric& Family<Metric>::with(const std::vector<std::string>& values) {
  if (values.size() != label_names_.size()) {
    throw std::logic_error("metric family used with the wrong number of label values");
  }
  std::lock_guard lock(mutex_);
  auto& slot = series_[values];
  if (!slot) slot = std::make_unique<Metric>();
  return *slot;
}

template class Family<Counter>;
template class Family<Gauge>;

Registry::Entry& Registry::add(std::string name, std::string help, Type type) {
  std::lock_guard lock(mutex_);
  for (const auto& e : entries_) {
    if (e->name == name) throw std::logic_error("metric registered twice: " + name);
  }
  auto entry = std::make_unique<Entry>();
  entry->name = std::move(name);
  entry->help = std::move(help);
  entry->type = type;
  entries_.push_back(std::move(entry));
  return *entries_.back();
}

Counter& Registry::counter(std::string name, std::string help) {
  return counter_family(std::move(name), std::move(help), {}).with({});
}

Gauge& Registry::gauge(std::string name, std::string help) {
  return gauge_family(std::move(name), std::move(help), {}).with({});
}

Family<Counter>& Registry::counter_family(std::string name, std::string help,
                                          std::vector<std::string> labels) {
  auto& e = add(std::move(name), std::move(help), Type::kCounter);
  e.counters = std::make_unique<Family<Counter>>(std::move(labels));
  return *e.counters;
}

Family<Counter>& Registry::shared_counter_family(std::string name, std::string help,
                                                 std::vector<std::string> labels) {
  {
    std::lock_guard lock(mutex_);
    for (const auto& e : entries_) {
      if (e->name != name) continue;
      if (!e->counters || e->counters->label_names() != labels)
        throw std::logic_error("metric registered twice, differently: " + name);
      return *e->counters;
    }
  }
  return counter_family(std::move(name), std::move(help), std::move(labels));
}

Family<Gauge>& Registry::gauge_family(std::string name, std::string help,
                                      std::vector<std::string> labels) {
  auto& e = add(std::move(name), std::move(help), Type::kGauge);
  e.gauges = std::make_unique<Family<Gauge>>(std::move(labels));
  return *e.gauges;
}

void Registry::callback(std::string name, std::string help, Type type,
                        std::function<double()> read) {
  add(std::move(name), std::move(help), type).read = std::move(read);
}

std::string escape_label_value(const std::string& value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
  return out;
}

namespace {

std::string labels_text(const std::vector<std::string>& names,
                        const std::vector<std::string>& values) {
  if (names.empty()) return {};
  std::string out = "{";
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i) out += ',';
    out += names[i];
    out += "=\"";
    out += escape_label_value(values[i]);
    out += '"';
  }
  out += '}';
  return out;
}

template <class Metric>
void render_family(std::string& out, const std::string& name, const Family<Metric>& family) {
  family.for_each([&](const std::vector<std::string>& values, const Metric& metric) {
    out +=
        fmt::format("{}{} {}\n", name, labels_text(family.label_names(), values), metric.value());
  });
}

}  // namespace

std::string Registry::render() const {
  std::lock_guard lock(mutex_);
  std::string out;
  for (const auto& e : entries_) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", e->name, e->help, e->name,
                       e->type == Type::kCounter ? "counter" : "gauge");
    if (e->counters) render_family(out, e->name, *e->counters);
    if (e->gauges) render_family(out, e->name, *e->gauges);
    if (e->read) out += fmt::format("{} {}\n", e->name, e->read());
  }
  return out;
}

namespace {

// Fields of /proc/self/stat after the command name (which may contain spaces).
std::vector<std::string> proc_stat_fields() {
  std::ifstream in("/proc/self/stat");
  std::string line;
  std::getline(in, line);
  std::vector<std::string> fields;
  const auto close = line.rfind(')');
  if (close == std::string::npos) return fields;
  std::istringstream rest(line.substr(close + 2));
  for (std::string f; rest >> f;) fields.push_back(f);
  return fields;  // fields[0] is field 3 (state) of proc(5)
}

double field(const std::vector<std::string>& f, std::size_t proc5_index) {
  const std::size_t i = proc5_index - 3;
  return i < f.size() ? std::stod(f[i]) : 0.0;
}

double boot_time_seconds() {
  std::ifstream in("/proc/stat");
  for (std::string key; in >> key;) {
    if (key == "btime") {
      double v = 0;
      in >> v;
      return v;
    }
    in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  return 0;
}

}  // namespace

void register_process_metrics(Registry& registry) {
  static const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  static const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  static const double start_time = boot_time_seconds() + field(proc_stat_fields(), 22) / ticks;

  registry.gauge_family("conclave_build_info", "Version of this conclave binary.", {"version"})
      .with({CONCLAVE_VERSION})
      .set(1);
  registry.callback("conclave_process_cpu_seconds_total", "User and system CPU time spent.",
                    Type::kCounter, [] {
                      const auto f = proc_stat_fields();
                      return (field(f, 14) + field(f, 15)) / ticks;
                    });
  registry.callback("conclave_process_resident_memory_bytes", "Resident memory size.", Type::kGauge,
                    [] { return field(proc_stat_fields(), 24) * page; });
  registry.callback("conclave_process_virtual_memory_bytes", "Virtual memory size.", Type::kGauge,
                    [] { return field(proc_stat_fields(), 23); });
  registry.callback("conclave_process_open_fds", "Open file descriptors.", Type::kGauge, [] {
    std::error_code ec;
    double n = 0;
    for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
      ++n;
    }
    return n;
  });
  registry.callback("conclave_process_start_time_seconds",
                    "Start time of the process since the Unix epoch.", Type::kGauge,
                    [] { return start_time; });
}

}  // namespace conclave::metrics
