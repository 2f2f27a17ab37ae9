#pragma once
// The background processor runs chat requests only. Batch lines for /v1/embeddings travel through
// it as a chat request whose `extra` holds the embeddings body and whose options carry
// batch.url=/v1/embeddings; this ChatCompleter sends those to ClientPool::embed() and returns the
// finished OpenAI embeddings object as the text of the first choice (so it survives the durable
// queue's result storage unchanged). Everything else goes to ClientPool::complete().

#include <memory>

#include "llmpool/pool.h"

namespace llmpool::batch {

class EmbeddingCompleter final : public ChatCompleter {
 public:
  explicit EmbeddingCompleter(std::shared_ptr<ClientPool> pool) : pool_(std::move(pool)) {}

  /** Thread-safe; never blocks; `done` runs once on a pool thread (ChatCompleter contract). */
  RequestHandle complete(ChatRequest request, RequestOptions options, ChatCallback done) override;

 private:
  std::shared_ptr<ClientPool> pool_;
};

}  // namespace llmpool::batch
