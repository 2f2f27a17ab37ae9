#include "mock/reply.h"

#include <algorithm>
#include <climits>
#include <cmath>

#include "common/json_depth.h"
#include "llmpool/chat.h"
#include "mock/mock_random.h"

namespace llmpool::mock {

namespace {

bool isSpace(char c) {
  return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

}  // namespace

int64_t countChars(std::string_view text) {
  int64_t n = 0;
  for (char c : text) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

std::string_view firstChars(std::string_view text, std::size_t n) {
  std::size_t seen = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      if (seen == n) return text.substr(0, i);
      ++seen;
    }
  }
  return text;
}

int64_t tokensForChars(int64_t chars) { return chars <= 0 ? 1 : (chars + 3) / 4; }

std::vector<std::size_t> splitWordPieces(std::string_view text) {
  std::vector<std::size_t> ends;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && isSpace(text[i])) ++i;
    if (i == text.size()) {  // only whitespace left: it belongs to the previous piece
      if (ends.empty())
        ends.push_back(i);
      else
        ends.back() = i;
      break;
    }
    while (i < text.size() && !isSpace(text[i])) ++i;
    ends.push_back(i);
  }
  return ends;
}

std::string_view MockReply::piece(std::size_t i) const {
  const std::size_t begin = i == 0 ? 0 : piece_ends[i - 1];
  return std::string_view(text).substr(begin, piece_ends[i] - begin);
}

namespace {

// Reads a chat request in one SAX pass, keeping only what the mock needs: no JSON tree is built,
// which makes parsing several times cheaper (this is the mock's hot path).
class ChatRequestReader {
 public:
  using string_t = std::string;
  using binary_t = Json::binary_t;

  explicit ChatRequestReader(Endpoint endpoint) : anthropic_(endpoint == Endpoint::Messages) {}

  bool null() { return true; }
  bool boolean(bool value) {
    if (top() == Ctx::Root && key() == "stream") out_.stream = value;
    if (top() == Ctx::StreamOptions && key() == "include_usage") out_.include_usage = value;
    if (top() == Ctx::Root && key() == "logprobs" && !anthropic_) out_.logprobs = value;
    return true;
  }
  bool number_integer(int64_t value) {
    if (top() == Ctx::Root) {
      if (key() == "max_completion_tokens") max_completion_tokens_ = value;
      if (key() == "max_tokens") max_tokens_ = value;
    }
    return true;
  }
  bool number_unsigned(uint64_t value) {
    return number_integer(static_cast<int64_t>(std::min<uint64_t>(value, INT64_MAX)));
  }
  bool number_float(double, const string_t&) { return true; }
  bool binary(binary_t&) { return true; }
  bool string(string_t& value) {
    switch (top()) {
      case Ctx::Root:
        if (key() == "model") {
          out_.model = value;
          saw_model_ = true;
        } else if (key() == "system" && anthropic_) {
          out_.prompt_chars += countChars(value);
        }
        break;
      case Ctx::Message:
        if (key() == "role") role_user_ = value == "user";
        if (key() == "content") content_ = value;
        break;
      case Ctx::Content:  // a bare string part
        content_ += value;
        break;
      case Ctx::Part:
        if (key() == "text") content_ += value;
        if (key() == "type" && anthropic_ && (value == "thinking" || value == "redacted_thinking"))
          ++out_.thinking_blocks;
        break;
      case Ctx::Thinking:
        if (key() == "type" && anthropic_) out_.thinking = value == "enabled";
        break;
      case Ctx::System:
        if (anthropic_) out_.prompt_chars += countChars(value);
        break;
      case Ctx::SystemPart:
        if (key() == "text" && anthropic_) out_.prompt_chars += countChars(value);
        break;
      default:
        break;
    }
    return true;
  }
  bool key(string_t& name) {
    frames_.back().key = name;
    return true;
  }
  bool start_object(std::size_t) {
    Ctx next = Ctx::Other;
    if (frames_.empty()) {
      next = Ctx::Root;
    } else if (top() == Ctx::Root && key() == "stream_options") {
      next = Ctx::StreamOptions;
    } else if (top() == Ctx::Root && key() == "thinking") {
      next = Ctx::Thinking;
    } else if (top() == Ctx::Messages) {
      next = Ctx::Message;
      content_.clear();
      role_user_ = false;
    } else if (top() == Ctx::Content) {
      next = Ctx::Part;
    } else if (top() == Ctx::System) {
      next = Ctx::SystemPart;
    }
    frames_.push_back({next, {}});
    return true;
  }
  bool end_object() {
    if (top() == Ctx::Message) {
      out_.prompt_chars += countChars(content_);
      if (role_user_) last_user_ = content_;
    }
    frames_.pop_back();
    return true;
  }
  bool start_array(std::size_t) {
    Ctx next = Ctx::Other;
    if (frames_.empty()) {
      next = Ctx::Other;
    } else if (top() == Ctx::Root && key() == "messages") {
      next = Ctx::Messages;
      saw_messages_ = true;
    } else if (top() == Ctx::Message && key() == "content") {
      next = Ctx::Content;
      content_.clear();
    } else if (top() == Ctx::Root && key() == "system") {
      next = Ctx::System;
    }
    frames_.push_back({next, {}});
    return true;
  }
  bool end_array() {
    frames_.pop_back();
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) {
    return false;
  }

  Result<ChatPrompt> finish(bool parsed) {
    if (!parsed) {
      return fail(ErrorCode::InvalidRequest, "request body is not a JSON object");
    }
    if (!saw_model_) return fail(ErrorCode::InvalidRequest, "model: required (a string)");
    if (!saw_messages_) return fail(ErrorCode::InvalidRequest, "messages: required (an array)");
    out_.last_user = std::string(firstChars(last_user_, PromptEchoChars));
    out_.max_tokens = max_completion_tokens_ ? max_completion_tokens_ : max_tokens_;
    return std::move(out_);
  }

 private:
  enum class Ctx {
    Root,
    Messages,
    Message,
    Content,
    Part,
    System,
    SystemPart,
    StreamOptions,
    Thinking,
    Other
  };
  struct Frame {
    Ctx ctx;
    std::string key;  // the key of the value being read (objects only)
  };

  Ctx top() const { return frames_.empty() ? Ctx::Other : frames_.back().ctx; }
  const std::string& key() const { return frames_.back().key; }

  bool anthropic_;
  std::vector<Frame> frames_;
  ChatPrompt out_;
  std::string content_;    // text of the message being read
  std::string last_user_;  // text of the last user message so far
  std::optional<int64_t> max_tokens_;
  std::optional<int64_t> max_completion_tokens_;
  bool role_user_ = false;
  bool saw_model_ = false;
  bool saw_messages_ = false;
};

}  // namespace

Result<ChatPrompt> parseChatRequest(std::string_view body, Endpoint endpoint) {
  ChatRequestReader reader(endpoint);
  // The body must be an object: check the first non-blank character (SAX accepts any value).
  const auto first = body.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos || body[first] != '{') {
    return fail(ErrorCode::InvalidRequest, "request body is not a JSON object");
  }
  const bool parsed = Json::sax_parse(body.begin(), body.end(), &reader);
  return reader.finish(parsed);
}

MockReply deriveReply(const ChatPrompt& prompt) {
  MockReply reply;
  reply.text.reserve(ReplyPrefix.size() + prompt.last_user.size());
  reply.text.append(ReplyPrefix).append(prompt.last_user);
  reply.piece_ends = splitWordPieces(reply.text);
  if (prompt.max_tokens && *prompt.max_tokens >= 0 &&
      static_cast<std::size_t>(*prompt.max_tokens) < reply.piece_ends.size()) {
    const auto keep = static_cast<std::size_t>(*prompt.max_tokens);
    reply.piece_ends.resize(keep);
    reply.text.resize(keep == 0 ? 0 : reply.piece_ends.back());
    reply.cut = true;
  }
  reply.prompt_tokens = tokensForChars(prompt.prompt_chars);
  reply.completion_tokens = static_cast<int64_t>(reply.piece_ends.size());
  reply.logprobs = prompt.logprobs;
  if (prompt.thinking) {
    reply.thinking = thinkingText(prompt.thinking_blocks);
    reply.signature = ThinkingSignature;
    reply.completion_tokens += static_cast<int64_t>(splitWordPieces(reply.thinking).size());
  }
  return reply;
}

std::string thinkingText(int64_t thinking_blocks) {
  return "mock thinking (earlier thinking blocks: " + std::to_string(thinking_blocks) + ")";
}

Result<EmbeddingsPrompt> parseEmbeddingsRequest(std::string_view body) {
  Json json = parseJsonBounded(body);
  if (json.is_discarded() || !json.is_object()) {
    return fail(ErrorCode::InvalidRequest, "request body is not a JSON object");
  }
  EmbeddingsPrompt out;
  if (auto model = json.find("model"); model != json.end() && model->is_string()) {
    out.model = model->get<std::string>();
  } else {
    return fail(ErrorCode::InvalidRequest, "model: required (a string)");
  }
  auto input = json.find("input");
  if (input == json.end() || input->is_null()) {
    return fail(ErrorCode::InvalidRequest, "input: required");
  }
  auto asText = [](const Json& item) {
    return item.is_string() ? item.get<std::string>() : item.dump();
  };
  // A list of strings or of token arrays is many inputs; a string or one token array is one.
  const bool many =
      input->is_array() && !input->empty() && ((*input)[0].is_string() || (*input)[0].is_array());
  if (many) {
    for (const auto& item : *input) out.inputs.push_back(asText(item));
  } else {
    out.inputs.push_back(asText(*input));
  }
  int64_t tokens = 0;
  for (const auto& text : out.inputs) tokens += tokensForChars(countChars(text));
  out.prompt_tokens = tokens;
  if (auto format = json.find("encoding_format"); format != json.end() && *format == "base64") {
    out.base64 = true;
  }
  return out;
}

std::vector<float> embeddingVector(std::string_view input, int dim) {
  uint64_t hash = 0xcbf29ce484222325ull;  // FNV-1a
  for (char c : input) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ull;
  }
  MockRandom random(hash);
  std::vector<float> v(static_cast<std::size_t>(std::max(dim, 1)));
  double norm = 0;
  for (auto& x : v) {
    x = static_cast<float>(random.uniform() * 2.0 - 1.0);
    norm += static_cast<double>(x) * x;
  }
  norm = std::sqrt(norm);
  if (norm > 0) {
    for (auto& x : v) x = static_cast<float>(x / norm);
  }
  return v;
}

}  // namespace llmpool::mock
