// Private: the SQLite transaction points this thread has open. A transaction
// point stays on the trace stack from BEGIN to COMMIT/ROLLBACK; when one
// ends while another opened after it is still open (two connections'
// transactions interleaved), the inner one is ended first, so that both
// end as a transaction ends: inner first. (The profiler would also stop a
// point under open ones, leaving its place until they stop; statement runs
// need neither: they are off the stack after their first step, db::call::begin_held.)
//
// Thread-safety: thread-local; each thread sees only its own points.
#pragma once

#include <cstddef>
#include <memory>

namespace osprofiler::sqlite::detail {

// Ends an owner's point early (it was opened inside one now ending).
using settle_fn = void (*)(void* owner) noexcept;

// Registers `owner`'s point, open at profiler depth `depth`. `guard` keeps
// `owner` alive while it is settled and tells when it is gone (an owner
// destroyed on another thread cannot delist itself from this one's list).
void enlist(void* owner, std::size_t depth, settle_fn settle, std::weak_ptr<void> guard) noexcept;
// Forgets `owner` (its point ended or is about to end by itself).
void delist(void* owner) noexcept;
// Settles (and forgets) every point of this thread's profiler opened deeper
// than `depth`, innermost first.
void settle_above(std::size_t depth) noexcept;

}  // namespace osprofiler::sqlite::detail
