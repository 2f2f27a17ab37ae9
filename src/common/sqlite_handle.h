#pragma once
// Owning handles for SQLite connections and prepared statements (closed and finalized on
// destruction), shared by the task queue and the gateway's spend ledger.

#include <sqlite3.h>

#include <memory>

namespace llmpool {

struct SqliteCloser {
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
struct StatementFinalizer {
  void operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); }
};
using SqliteHandle = std::unique_ptr<sqlite3, SqliteCloser>;
using Statement = std::unique_ptr<sqlite3_stmt, StatementFinalizer>;

}  // namespace llmpool
