// A program outside the source tree, built against an installed osprofiler.
#include <cstdio>
#include <fstream>
#include <string>

#include <osprofiler/notifier.h>
#include <osprofiler/profiler.h>

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  osprofiler::set_enabled(true);
  osprofiler::notifier::set(osprofiler::notifier::create(std::string("file://") + argv[1]));
  osprofiler::init("k");
  {
    osprofiler::trace a("wsgi");
    osprofiler::trace b("db");
  }
  osprofiler::notifier::flush();
  std::ifstream in(argv[1]);
  int lines = 0;
  for (std::string line; std::getline(in, line);) ++lines;
  std::printf("notifications: %d\n", lines);
}
