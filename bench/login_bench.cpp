// Password logins per second: Identity::login (argon2id at 19 MiB, plus its audit and
// throttle writes) on a fresh SQLite database, on one thread and on every core.
// Usage: mvsp_bench_login [seconds per run]
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mvsp/identity/identity.hpp>
#include <thread>
#include <vector>

#include "app.hpp"

int main(int argc, char** argv) {
  double seconds = argc > 1 ? std::atof(argv[1]) : 5.0;
  char tmpl[] = "/tmp/mvsp-bench-login.XXXXXX";
  std::filesystem::path dir = mkdtemp(tmpl);
  mvsp::app::Settings s;
  s.database = "sqlite:" + (dir / "bench.db").string();
  s.data_dir = dir;
  s.job_workers = 0;
  {
    mvsp::app::App app(s);
    auto& identity = app.get<mvsp::identity::Identity>();
    if (!identity.accounts.create_account(
            {.email = "bench@example.org", .password = "ein langes Passwort", .verified = true},
            "bench")) {
      std::fprintf(stderr, "cannot create the account\n");
      return 1;
    }
    unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    for (unsigned threads : {1u, cores}) {
      std::atomic<long> done{0};
      std::atomic<bool> stop{false};
      std::vector<std::thread> pool;
      auto start = std::chrono::steady_clock::now();
      for (unsigned t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
          while (!stop) {
            auto r = identity.logins.login({.email = "bench@example.org",
                                            .password = "ein langes Passwort",
                                            .source_address = "10.0.0." + std::to_string(t)});
            if (r) ++done;
          }
        });
      }
      std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
      stop = true;
      for (auto& th : pool) th.join();
      double elapsed =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::printf("threads=%u logins=%ld per_second=%.1f per_core=%.1f\n", threads, done.load(),
                  done / elapsed, done / elapsed / threads);
    }
  }
  std::filesystem::remove_all(dir);
  return 0;
}
