// Private: how the notifier thread turns queued events into what collectors
// receive: notification objects for collectors in general, text views for
// text_collectors (the stores).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "clock.h"
#include "event.h"
#include "json_text.h"
#include "osprofiler/notifier.h"

namespace osprofiler::detail {

// Which of an event's notifications is meant (conversion.cpp).
struct part;

// Writes the 26 characters of an OSProfiler timestamp and a NUL.
void format_into(std::int64_t unix_us, char* out);

// Appends the notifications `e` holds (its info is moved out): one, or for
// a pair event its start and then its stop. `c` supplies project, service
// and host. On an exception `out` is as before.
void append_notifications(event& e, const collector* c, const stamp_converter& clock,
                          std::vector<notification>& out);

// The same notification as text: one batch at a time, in a buffer reused
// from batch to batch, so that a steady stream allocates nothing.
class view_builder {
 public:
  view_builder() = default;
  view_builder(const view_builder&) = delete;
  view_builder& operator=(const view_builder&) = delete;

  void clear() noexcept;
  // Adds `e` (both notifications of a pair); on an exception (out of
  // memory) the batch is as before.
  void add(const event& e, const stamp_converter& clock);
  std::size_t size() const noexcept { return spans_.size(); }
  // The views of everything added since clear(), valid until the next add()
  // or clear().
  const std::vector<notification_view>& views(const collector& c);

 private:
  struct span {
    std::size_t at = 0, size = 0;
  };
  struct spans {
    span name, base_id, parent_id, trace_id, timestamp, info;
  };
  void add_part(const event& e, const part& p, const stamp_converter& clock);

  std::string text_;
  json_text writer_{text_};
  std::vector<spans> spans_;
  std::vector<notification_view> views_;
};

}  // namespace osprofiler::detail
