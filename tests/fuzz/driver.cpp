// Standalone driver for the fuzz targets when they are not built as libFuzzer
// binaries (the g++ test suite, sanitizer builds). It replays every kept
// input (corpus and regressions), then runs a bounded, seeded random
// mutation loop over them, so each ctest run exercises a target for a few
// seconds. A crash or a broken invariant saves the input that caused it as
// crash-<target>-<n> (in $OSPROFILER_FUZZ_CRASH_DIR, else the working
// directory) so it can become a regression input.
//
//   fuzz_<target> [-seconds=N] [-seed=S] [-max_len=N] [-dict=FILE] [DIR|FILE]...
// Defaults: $OSPROFILER_FUZZ_SECONDS (else 3), $OSPROFILER_FUZZ_SEED (else 1).
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);
extern "C" void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

namespace {

using bytes = std::vector<std::uint8_t>;

// The input being run, for the crash handlers (plain globals: read from a
// signal handler).
const std::uint8_t* g_current = nullptr;
std::size_t g_current_size = 0;
char g_crash_path[4096] = "";

void save_current() {
  if (!g_current || g_crash_path[0] == '\0') return;
  const int fd = ::open(g_crash_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return;
  std::size_t off = 0;
  while (off < g_current_size) {
    const ssize_t n = ::write(fd, g_current + off, g_current_size - off);
    if (n <= 0) break;
    off += static_cast<std::size_t>(n);
  }
  ::close(fd);
  const char msg[] = "\nfuzz driver: the failing input was saved to ";
  (void)!::write(2, msg, sizeof msg - 1);
  (void)!::write(2, g_crash_path, std::strlen(g_crash_path));
  (void)!::write(2, "\n", 1);
}

void on_signal(int sig) {
  save_current();
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

void run_one(const bytes& input) {
  // A private copy of exactly `size` bytes, so reading past the end is
  // caught by ASan like under libFuzzer.
  std::unique_ptr<std::uint8_t[]> copy(new std::uint8_t[input.size() ? input.size() : 1]);
  std::copy(input.begin(), input.end(), copy.get());
  g_current = copy.get();
  g_current_size = input.size();
  LLVMFuzzerTestOneInput(copy.get(), input.size());
  g_current = nullptr;
}

bytes read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// libFuzzer's dictionary format: one "token" per line, \\, \" and \xNN escapes.
std::vector<bytes> read_dict(const std::filesystem::path& p) {
  std::vector<bytes> out;
  std::ifstream in(p);
  std::string line;
  while (std::getline(in, line)) {
    const auto q = line.find('"');
    const auto e = line.rfind('"');
    if (q == std::string::npos || e <= q) continue;
    bytes tok;
    for (std::size_t i = q + 1; i < e; ++i) {
      if (line[i] == '\\' && i + 1 < e) {
        if (line[i + 1] == 'x' && i + 3 < e) {
          tok.push_back(static_cast<std::uint8_t>(std::stoi(line.substr(i + 2, 2), nullptr, 16)));
          i += 3;
        } else {
          tok.push_back(static_cast<std::uint8_t>(line[++i]));
        }
      } else {
        tok.push_back(static_cast<std::uint8_t>(line[i]));
      }
    }
    out.push_back(std::move(tok));
  }
  return out;
}

class mutator {
 public:
  mutator(std::uint64_t seed, std::size_t max_len, const std::vector<bytes>& corpus, const std::vector<bytes>& dict)
      : rng_(seed), max_len_(max_len), corpus_(corpus), dict_(dict) {}

  bytes next() {
    bytes b = corpus_.empty() ? bytes{} : corpus_[pick(corpus_.size())];
    const int rounds = 1 + static_cast<int>(pick(4));
    for (int i = 0; i < rounds; ++i) mutate(b);
    if (b.size() > max_len_) b.resize(max_len_);
    return b;
  }

 private:
  std::size_t pick(std::size_t n) { return n == 0 ? 0 : std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_); }

  void mutate(bytes& b) {
    static const std::uint8_t interesting[] = {0,   1,   0x7f, 0x80, 0xff, 0xc0, 0xed, 0xf4, '"', '\\', '{', '}',
                                               '[', ']', ',',  ':',  '\n', '=',  '%',  '-',  '/', '@',  '.', 'e'};
    switch (pick(b.empty() ? 2 : 9)) {
      case 0: {  // insert random bytes
        const std::size_t at = pick(b.size() + 1), n = 1 + pick(8);
        for (std::size_t i = 0; i < n; ++i) b.insert(b.begin() + at, static_cast<std::uint8_t>(pick(256)));
        break;
      }
      case 1:  // insert a dictionary token
        if (!dict_.empty()) {
          const bytes& t = dict_[pick(dict_.size())];
          b.insert(b.begin() + pick(b.size() + 1), t.begin(), t.end());
        }
        break;
      case 2:
        b[pick(b.size())] ^= static_cast<std::uint8_t>(1u << pick(8));
        break;
      case 3:
        b[pick(b.size())] = interesting[pick(sizeof interesting)];
        break;
      case 4: {  // erase a range
        const std::size_t at = pick(b.size()), n = 1 + pick(std::min<std::size_t>(16, b.size() - at));
        b.erase(b.begin() + at, b.begin() + at + n);
        break;
      }
      case 5: {  // duplicate a range somewhere else
        const std::size_t at = pick(b.size()), n = 1 + pick(std::min<std::size_t>(64, b.size() - at));
        const bytes chunk(b.begin() + at, b.begin() + at + n);
        b.insert(b.begin() + pick(b.size() + 1), chunk.begin(), chunk.end());
        break;
      }
      case 6: {  // splice with another input
        if (corpus_.empty()) break;
        const bytes& o = corpus_[pick(corpus_.size())];
        if (o.empty()) break;
        const std::size_t cut = pick(b.size() + 1), from = pick(o.size());
        b.resize(cut);
        b.insert(b.end(), o.begin() + from, o.end());
        break;
      }
      case 7:
        b[pick(b.size())] = static_cast<std::uint8_t>(pick(256));
        break;
      default: {  // overwrite with a dictionary token
        if (dict_.empty()) break;
        const bytes& t = dict_[pick(dict_.size())];
        const std::size_t at = pick(b.size());
        for (std::size_t i = 0; i < t.size() && at + i < b.size(); ++i) b[at + i] = t[i];
        break;
      }
    }
  }

  std::mt19937_64 rng_;
  std::size_t max_len_;
  const std::vector<bytes>& corpus_;
  const std::vector<bytes>& dict_;
};

double env_number(const char* name, double fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtod(v, nullptr) : fallback;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = env_number("OSPROFILER_FUZZ_SECONDS", 3);
  auto seed = static_cast<std::uint64_t>(env_number("OSPROFILER_FUZZ_SEED", 1));
  std::size_t max_len = 4096;
  std::vector<bytes> corpus, dict;
  std::size_t replayed = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("-seconds=", 0) == 0) seconds = std::strtod(a.c_str() + 9, nullptr);
    else if (a.rfind("-seed=", 0) == 0) seed = std::strtoull(a.c_str() + 6, nullptr, 10);
    else if (a.rfind("-max_len=", 0) == 0) max_len = std::strtoull(a.c_str() + 9, nullptr, 10);
    else if (a.rfind("-dict=", 0) == 0) dict = read_dict(a.substr(6));
    else if (std::filesystem::is_directory(a)) {
      std::vector<std::filesystem::path> files;
      for (auto& e : std::filesystem::directory_iterator(a)) {
        if (e.is_regular_file() && e.path().filename().string()[0] != '.') files.push_back(e.path());
      }
      std::sort(files.begin(), files.end());
      for (auto& f : files) corpus.push_back(read_file(f));
    } else if (std::filesystem::is_regular_file(a)) {
      corpus.push_back(read_file(a));
    } else {
      std::fprintf(stderr, "fuzz driver: no such file or directory: %s\n", a.c_str());
      return 2;
    }
  }

  const char* crash_dir = std::getenv("OSPROFILER_FUZZ_CRASH_DIR");
  const std::string name = std::filesystem::path(argv[0]).filename().string();
  std::snprintf(g_crash_path, sizeof g_crash_path, "%s/crash-%s-%d", crash_dir && *crash_dir ? crash_dir : ".",
                name.c_str(), static_cast<int>(::getpid()));
  for (int sig : {SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL}) ::signal(sig, on_signal);
  if (__sanitizer_set_death_callback) __sanitizer_set_death_callback(save_current);

  for (const auto& input : corpus) {
    run_one(input);
    ++replayed;
  }
  run_one({});

  mutator m(seed, max_len, corpus, dict);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  std::uint64_t runs = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    run_one(m.next());
    ++runs;
  }
  std::printf("%s: replayed %zu kept inputs, ran %llu mutated inputs (seed %llu, %.1f s): no failure\n", name.c_str(),
              replayed, static_cast<unsigned long long>(runs), static_cast<unsigned long long>(seed), seconds);
  return 0;
}
