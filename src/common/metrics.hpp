// Prometheus metrics (text exposition format 0.0.4) without a client library: counters
// and gauges are single atomics, so any thread may update them without a lock; only
// creating a new label combination takes the family's mutex. Families must be created on
// the control thread at start-up; label values must come from a small fixed set (route
// names, status codes), never from what a client sends, or a client could grow the
// registry without bound.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace conclave::metrics {

class Counter {
 public:
  void inc(std::uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

class Gauge {
 public:
  void add(std::int64_t n) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  void set(std::int64_t n) noexcept { value_.store(n, std::memory_order_relaxed); }
  std::int64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> value_{0};
};

enum class Type { kCounter, kGauge };

// A metric name with labels; each distinct tuple of label values is one time series.
template <class Metric>
class Family {
 public:
  Family(std::vector<std::string> label_names) : label_names_(std::move(label_names)) {}

  // The series for these label values (same order as the label names), created on first use.
  Metric& with(const std::vector<std::string>& values);

  const std::vector<std::string>& label_names() const { return label_names_; }
  template <class Fn>
  void for_each(Fn&& fn) const {
    std::lock_guard lock(mutex_);
    for (const auto& [values, metric] : series_) fn(values, *metric);
  }

 private:
  std::vector<std::string> label_names_;
  mutable std::mutex mutex_;
  std::map<std::vector<std::string>, std::unique_ptr<Metric>> series_;
};

class Registry {
 public:
  Counter& counter(std::string name, std::string help);
  Gauge& gauge(std::string name, std::string help);
  Family<Counter>& counter_family(std::string name, std::string help,
                                  std::vector<std::string> labels);
  // The same family for every caller that names it (two libraries counting into one
  // family); the labels must agree.
  Family<Counter>& shared_counter_family(std::string name, std::string help,
                                         std::vector<std::string> labels);
  Family<Gauge>& gauge_family(std::string name, std::string help, std::vector<std::string> labels);
  // A value read at scrape time (process statistics).
  void callback(std::string name, std::string help, Type type, std::function<double()> read);

  // The whole registry in the Prometheus text format, in registration order.
  std::string render() const;

 private:
  struct Entry {
    std::string name;
    std::string help;
    Type type;
    std::unique_ptr<Family<Counter>> counters;
    std::unique_ptr<Family<Gauge>> gauges;
    std::function<double()> read;
  };
  Entry& add(std::string name, std::string help, Type type);

  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<Entry>> entries_;
};

// conclave_process_* (CPU, memory, file descriptors, start time) and conclave_build_info,
// read from /proc at scrape time.
void register_process_metrics(Registry& registry);

// Escapes a label value for the text format (backslash, double quote, newline).
std::string escape_label_value(const std::string& value);

}  // namespace conclave::metrics
