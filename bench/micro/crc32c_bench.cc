// CRC-32C (storage::Crc32c, software slicing-by-8): every WAL record and
// every snapshot byte goes through it. bytes/s is the figure to watch.
#include "storage/crc32c.h"
#include "support.h"

namespace aviary::microbench {
namespace {

void Crc32c(benchmark::State& state) {
  const std::string buf = Payload(static_cast<size_t>(state.range(0)));
  uint32_t crc = 0;
  for (auto _ : state) {
    crc = storage::Crc32c(crc, buf.data(), buf.size());
    benchmark::DoNotOptimize(crc);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(buf.size()));
}

}  // namespace

void RegisterCrc32c(const Scale& s) { Register("crc32c", Crc32c, "bytes", s.Pick({64, 4096, 1 << 20})); }

}  // namespace aviary::microbench
