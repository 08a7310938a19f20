#include "placement.h"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace aviary::bench {

namespace {
constexpr int kMaxCpu = 1023;

bool ParseInt(std::string_view s, int* v) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
  return ec == std::errc() && p == s.data() + s.size() && !s.empty() && *v >= 0 && *v <= kMaxCpu;
}
}  // namespace

bool ParseCpuList(std::string_view s, std::vector<int>* out) {
  out->clear();
  if (s.empty()) return false;
  while (true) {
    const auto cut = s.find(',');
    const std::string_view item = s.substr(0, cut);
    const auto dash = item.find('-');
    int lo = 0, hi = 0;
    if (dash == std::string_view::npos) {
      if (!ParseInt(item, &lo)) return false;
      hi = lo;
    } else if (!ParseInt(item.substr(0, dash), &lo) || !ParseInt(item.substr(dash + 1), &hi) || hi < lo) {
      return false;
    }
    for (int c = lo; c <= hi; c++) out->push_back(c);
    if (cut == std::string_view::npos) break;
    s.remove_prefix(cut + 1);
  }
  std::sort(out->begin(), out->end());
  return std::adjacent_find(out->begin(), out->end()) == out->end();
}

std::string CpuListText(const std::vector<int>& cpus) {
  std::string s;
  for (size_t i = 0; i < cpus.size();) {
    size_t j = i;
    while (j + 1 < cpus.size() && cpus[j + 1] == cpus[j] + 1) j++;
    if (!s.empty()) s += ',';
    s += std::to_string(cpus[i]);
    if (j > i) s += "-" + std::to_string(cpus[j]);
    i = j + 1;
  }
  return s;
}

bool PlaceThread(const std::vector<int>& cpus, int rt_priority, std::string* error) {
  if (!cpus.empty()) {
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int c : cpus) CPU_SET(c, &set);
    if (int rc = pthread_setaffinity_np(pthread_self(), sizeof(set), &set); rc != 0) {
      *error = "--cpus " + CpuListText(cpus) + ": " + std::strerror(rc);
      return false;
    }
  }
  if (rt_priority > 0) {
    sched_param p{};
    p.sched_priority = rt_priority;
    if (int rc = pthread_setschedparam(pthread_self(), SCHED_FIFO, &p); rc != 0) {
      *error = "--rt-priority " + std::to_string(rt_priority) + " (SCHED_FIFO): " + std::strerror(rc);
      return false;
    }
  }
  return true;
}

}  // namespace aviary::bench
