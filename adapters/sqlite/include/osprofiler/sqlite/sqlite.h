// osprofiler::sqlite, the SQLite3 adapter: everything in one include.
//   connection, statement, transaction  traced wrappers (connection.h)
//   error                                what they throw (error.h)
//   tracer                               trace a raw sqlite3* in place (tracer.h)
// Thread-safety: see each header.
#pragma once

#include "osprofiler/sqlite/connection.h"
#include "osprofiler/sqlite/error.h"
#include "osprofiler/sqlite/tracer.h"
