#include "batch/embedding_completer.h"

#include "batch/input_line.h"
#include "providers/openai_inbound.h"

namespace llmpool::batch {

RequestHandle EmbeddingCompleter::complete(ChatRequest request, RequestOptions options,
                                           ChatCallback done) {
  auto url = options.metadata.find(kUrlKey);
  if (url == options.metadata.end() || url->second != kUrlEmbeddings) {
    return pool_->complete(std::move(request), std::move(options), std::move(done));
  }
  auto parsed = providers::parseOpenAIEmbeddingRequest(request.extra);
  if (!parsed) {
    // Only a damaged state file gets here (lines are validated when read). The processor does
    // not hold its lock while calling complete(), so answering inline is safe.
    done(std::unexpected(parsed.error()));
    return {};
  }
  parsed->model = request.model;
  const bool base64 = parsed->encoding_format == "base64";
  return pool_->embed(std::move(*parsed), std::move(options),
                      [done = std::move(done), base64](Result<EmbeddingResponse> r) {
                        if (!r) {
                          done(std::unexpected(std::move(r.error())));
                          return;
                        }
                        ChatResponse chat;
                        chat.model = r->model;
                        chat.usage = r->usage;
                        chat.deployment = r->deployment;
                        chat.attempts = r->attempts;
                        ChatChoice choice;
                        choice.content = providers::toOpenAIEmbeddingResponse(*r, base64).dump();
                        choice.finish_reason = "stop";
                        chat.choices.push_back(std::move(choice));
                        done(std::move(chat));
                      });
}

}  // namespace llmpool::batch
