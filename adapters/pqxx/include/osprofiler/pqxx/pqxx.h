// The libpqxx adapter in one include: traced connection (connection.h),
// transactions (transaction.h) and COPY streams (stream.h). See
// docs/adapters/pqxx.md. Thread-safety: as libpqxx, one thread at a time
// per connection.
#pragma once

#include "osprofiler/pqxx/connection.h"
#include "osprofiler/pqxx/stream.h"
#include "osprofiler/pqxx/transaction.h"
