// Private: the SQLite trace points this thread has open (statement runs, a
// transaction), so that one ending out of order first ends those opened
// inside it. The profiler only stops the point on top of its stack, so
// without this a statement reset while a later one is still running would
// leave its point open for good.
//
// Thread-safety: thread-local; each thread sees only its own points.
#pragma once

#include <cstddef>

namespace osprofiler::sqlite::detail {

// Ends an owner's point early (it was opened inside one now ending).
using settle_fn = void (*)(void* owner) noexcept;

// Registers `owner`'s point, open at profiler depth `depth`.
void enlist(void* owner, std::size_t depth, settle_fn settle) noexcept;
// Forgets `owner` (its point ended or is about to end by itself).
void delist(void* owner) noexcept;
// Settles (and forgets) every point of this thread's profiler opened deeper
// than `depth`, innermost first.
void settle_above(std::size_t depth) noexcept;
// `from` moved to `to`.
void relocate(void* from, void* to) noexcept;

}  // namespace osprofiler::sqlite::detail
