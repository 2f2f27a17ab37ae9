#pragma once
// The mock's deterministic answers (the contract in docs/mock.md): what a request asked, and the
// reply derived from it. Pure functions, shared by both dialects.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "llmpool/error.h"
#include "mock/endpoint.h"

namespace llmpool::mock {

/** Reply text = ReplyPrefix + the first PromptEchoChars characters of the last user message. */
inline constexpr std::string_view ReplyPrefix = "mock reply: ";
inline constexpr std::size_t PromptEchoChars = 200;

/** What the mock needs from a chat request (OpenAI chat completions or Anthropic messages). */
struct ChatPrompt {
  std::string model;
  std::string last_user;     // text of the last user message, first PromptEchoChars characters
  int64_t prompt_chars = 0;  // characters of all message contents (Anthropic: plus `system`)
  std::optional<int64_t> max_tokens;  // max_completion_tokens, else max_tokens
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage (OpenAI)
  bool logprobs = false;       // logprobs: true (OpenAI): per-piece log probabilities
  bool thinking = false;  // thinking.type "enabled", or OpenAI reasoning_effort: reasoning first
  int64_t thinking_blocks = 0;  // thinking blocks handed back in the messages (Anthropic)
  // Function calling (docs/mock.md, "Tool calls"). Both stay empty unless the request offers
  // tools, so a request without tools is answered exactly as before they existed.
  std::string tool_name;                   // the tool the reply calls; empty: the reply is text
  std::optional<std::string> tool_result;  // the last message's tool result, first
                                           // PromptEchoChars characters: the reply echoes it
};

/** Parses a chat request body; InvalidRequest (naming the field) when it is not one. */
Result<ChatPrompt> parseChatRequest(std::string_view body, Endpoint endpoint);

/** A reply that calls a tool instead of answering with text. */
struct MockToolCall {
  std::string name;
  std::string arguments;  // a JSON object as text: {"input":"<the echoed text>"}
};

struct MockReply {
  std::string text;                     // the (possibly cut) reply; empty for a tool call
  std::vector<std::size_t> piece_ends;  // pieces of streamed(): streamed()[end[i-1], end[i])
  bool cut = false;                     // max_tokens cut it: finish_reason length / max_tokens
  int64_t prompt_tokens = 1;
  int64_t completion_tokens = 0;  // text: its pieces; a tool call: tokensForChars(arguments)
  bool logprobs = false;          // the reply carries a log probability per piece
  /** Anthropic extended thinking, when asked: the thinking block's text (ThinkingText) and its
   *  signature; empty otherwise. Its words count in completion_tokens, as Anthropic bills. */
  std::string thinking;
  std::string_view signature;
  std::optional<MockToolCall> tool_call;

  /** What a stream sends piece by piece: the text, or a tool call's arguments. */
  std::string_view streamed() const { return tool_call ? tool_call->arguments : text; }
  std::size_t pieceCount() const { return piece_ends.size(); }
  std::string_view piece(std::size_t i) const;
};

/** The thinking block's text: it says how many thinking blocks the request handed back, so a
 *  test can see that a conversation's earlier thinking reached the provider. */
std::string thinkingText(int64_t thinking_blocks);
inline constexpr std::string_view ThinkingSignature = "bW9jayB0aGlua2luZyBzaWduYXR1cmU=";

/** The reply to `prompt`: a tool call when prompt.tool_name is set, else text whose words are
 *  split as splitWordPieces() does, cut to max_tokens. */
MockReply deriveReply(const ChatPrompt& prompt);

/** A tool call's arguments for `echo`: the JSON object {"input":<echo as a JSON string>}. */
std::string toolArguments(std::string_view echo);

/** End offsets of the streamed pieces of toolArguments() text: `{"input":` first, then the rest
 *  split as splitWordPieces() does, so there are always at least two and none splits a JSON
 *  escape or a UTF-8 character (the only raw whitespace left in JSON-escaped text is spaces). */
std::vector<std::size_t> splitToolArguments(std::string_view arguments);

/** End offsets of the word pieces of `text`: each piece is a run of whitespace followed by a run
 *  of non-whitespace (so a word keeps its leading space); trailing whitespace joins the last
 *  piece. The pieces concatenate back to `text`. */
std::vector<std::size_t> splitWordPieces(std::string_view text);

/** Number of UTF-8 characters (code points) in `text`. */
int64_t countChars(std::string_view text);
/** The first `n` characters of UTF-8 `text` (never splitting a character). */
std::string_view firstChars(std::string_view text, std::size_t n);
/** ceil(chars / 4), at least 1. */
int64_t tokensForChars(int64_t chars);

struct EmbeddingsPrompt {
  std::string model;
  std::vector<std::string> inputs;  // each input as text (token arrays as their JSON text)
  bool base64 = false;              // encoding_format == "base64"
  int64_t prompt_tokens = 1;
};

Result<EmbeddingsPrompt> parseEmbeddingsRequest(std::string_view body);

/** A unit-length vector of `dim` values derived from a hash of `input` (same input, same vector).
 */
std::vector<float> embeddingVector(std::string_view input, int dim);

}  // namespace llmpool::mock
