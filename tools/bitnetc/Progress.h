// What bitnetc prints while it works: with -v, one line per finished stage with its time; on a
// terminal without -v, one progress line rewritten in place for long stages, cleared at the end.
#pragma once
#include <string>

namespace bitnetc::driver {

class Progress {
 public:
  explicit Progress(bool verbose);
  // seconds < 0: the stage starts; otherwise it ended after `seconds`.
  void stage(const std::string& name, double seconds);
  void done();  // clears the progress line

 private:
  bool verbose_;
  bool terminal_;
  bool lineShown_ = false;
};

}  // namespace bitnetc::driver
