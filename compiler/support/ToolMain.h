// The main() of every command-line tool: runs it, and turns an exception into one line
// "error: <message>" on stderr and exit code 1 (never a crash or an abort on bad input).
#pragma once
#include <cstdio>
#include <exception>
#include <iostream>

namespace bitnetc {

template <typename Run>
int runToolMain(Run run, int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cout.flush();
    std::fflush(stdout);
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace bitnetc
