#include "mock/reply.h"

#include <algorithm>
#include <climits>
#include <cmath>

#include "common/json_depth.h"
#include "llmpool/chat.h"
#include "mock/json_text.h"
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
  return streamed().substr(begin, piece_ends[i] - begin);
}

namespace {

// Reads a chat request in one SAX pass, keeping only what the mock needs: no JSON tree is built,
// which makes parsing several times cheaper (this is the mock's hot path).
//
// Function calling needs the tools offered, the tool_choice and whether the last message is a
// tool result. Keys may come in any order (`tools` after `messages`), so tool results are noted
// while the messages go by and only used in finish() when tools turn out to be offered. A request
// without tools pays a role or part-type comparison per message, and no allocation unless its
// messages carry tool results.
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
        } else if (key() == "tool_choice") {
          tool_choice_none_ = value == "none";
        } else if (key() == "reasoning_effort" && !anthropic_) {
          // As a reasoning model served OpenAI-style (DeepSeek, vLLM) answers: reasoning first.
          out_.thinking = value != "none" && value != "minimal";
        }
        break;
      case Ctx::Message:
        if (key() == "role") role_ = roleOf(value);
        if (key() == "content") content_ = value;
        break;
      case Ctx::Content:  // a bare string part
        content_ += value;
        break;
      case Ctx::Part:
        if (key() == "text") content_ += value;
        if (key() == "type" && anthropic_) {
          if (value == "thinking" || value == "redacted_thinking") ++out_.thinking_blocks;
          part_is_tool_result_ = value == "tool_result";
        }
        // Only tool_result blocks have `content`; `type` may come after it, so keep it anyway.
        if (key() == "content" && anthropic_) part_result_ = value;
        break;
      case Ctx::ToolResultPart:
        if (key() == "text") part_result_ += value;
        break;
      case Ctx::Tool:  // Anthropic: {"name":...}
        if (key() == "name" && anthropic_ && tool_count_ == 1) first_tool_ = value;
        break;
      case Ctx::ToolFunction:  // OpenAI: {"type":"function","function":{"name":...}}
        if (key() == "name" && !anthropic_ && tool_count_ == 1) first_tool_ = value;
        break;
      case Ctx::ToolChoice:  // OpenAI {"type":"function",...}; Anthropic {"type":"tool","name":X}
        if (key() == "type") tool_choice_none_ = value == "none";
        if (key() == "name") chosen_tool_ = value;
        break;
      case Ctx::ToolChoiceFunction:  // OpenAI {"type":"function","function":{"name":X}}
        if (key() == "name") chosen_tool_ = value;
        break;
      case Ctx::Thinking:
        // Anthropic's switch; OpenAI-compatible servers that reason on request take it too.
        if (key() == "type") out_.thinking = value == "enabled";
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
      role_ = Role::Other;
      message_has_tool_result_ = false;
    } else if (top() == Ctx::Content) {
      next = Ctx::Part;
      part_is_tool_result_ = false;
      part_result_.clear();
    } else if (top() == Ctx::System) {
      next = Ctx::SystemPart;
    } else {
      next = toolContextOfObject();
    }
    frames_.push_back({next, {}});
    return true;
  }
  bool end_object() {
    if (top() == Ctx::Message) endMessage();
    if (top() == Ctx::Part && part_is_tool_result_) {
      message_has_tool_result_ = true;
      message_tool_result_.swap(part_result_);  // the message's last tool_result block wins
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
    } else if (top() == Ctx::Root && key() == "tools") {
      next = Ctx::Tools;
    } else if (top() == Ctx::Part && key() == "content" && anthropic_) {
      next = Ctx::ToolResultContent;
      part_result_.clear();
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
    if (tool_count_ > 0) decideToolUse();
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
    Tools,               // `tools`
    Tool,                // tools[i]
    ToolFunction,        // tools[i].function (OpenAI)
    ToolChoice,          // `tool_choice` as an object
    ToolChoiceFunction,  // tool_choice.function (OpenAI)
    ToolResultContent,   // a tool_result block's `content` as an array (Anthropic)
    ToolResultPart,      // one of its blocks
    Other
  };
  struct Frame {
    Ctx ctx;
    std::string key;  // the key of the value being read (objects only)
  };
  enum class Role { User, Tool, Other };

  static Role roleOf(std::string_view role) {
    if (role == "user") return Role::User;
    if (role == "tool") return Role::Tool;
    return Role::Other;
  }

  Ctx top() const { return frames_.empty() ? Ctx::Other : frames_.back().ctx; }
  const std::string& key() const { return frames_.back().key; }

  // The context of an object that only function calling cares about (Other for the rest).
  Ctx toolContextOfObject() {
    switch (top()) {
      case Ctx::Root:
        return key() == "tool_choice" ? Ctx::ToolChoice : Ctx::Other;
      case Ctx::Tools:
        ++tool_count_;
        return Ctx::Tool;
      case Ctx::Tool:
        return key() == "function" ? Ctx::ToolFunction : Ctx::Other;
      case Ctx::ToolChoice:
        return key() == "function" ? Ctx::ToolChoiceFunction : Ctx::Other;
      case Ctx::ToolResultContent:
        return Ctx::ToolResultPart;
      default:
        return Ctx::Other;
    }
  }

  void endMessage() {
    out_.prompt_chars += countChars(content_);
    if (role_ == Role::User) last_user_ = content_;
    // OpenAI: a message of role "tool"; Anthropic: a user message with a tool_result block.
    last_is_tool_result_ =
        anthropic_ ? role_ == Role::User && message_has_tool_result_ : role_ == Role::Tool;
    if (last_is_tool_result_) last_tool_result_ = anthropic_ ? message_tool_result_ : content_;
  }

  // With tools offered: echo the tool result that ends the conversation, else call a tool unless
  // tool_choice says none.
  void decideToolUse() {
    if (last_is_tool_result_) {
      out_.tool_result = std::string(firstChars(last_tool_result_, PromptEchoChars));
    } else if (!tool_choice_none_) {
      out_.tool_name = chosen_tool_.empty() ? std::move(first_tool_) : std::move(chosen_tool_);
    }
  }

  bool anthropic_;
  std::vector<Frame> frames_;
  ChatPrompt out_;
  std::string content_;    // text of the message being read
  std::string last_user_;  // text of the last user message so far
  std::optional<int64_t> max_tokens_;
  std::optional<int64_t> max_completion_tokens_;
  Role role_ = Role::Other;  // of the message being read
  bool saw_model_ = false;
  bool saw_messages_ = false;

  // Function calling: all stay empty for a request without tools or tool results.
  int64_t tool_count_ = 0;   // entries of `tools` so far: 1 while tools[0] is read
  std::string first_tool_;   // the name of tools[0]
  std::string chosen_tool_;  // the tool tool_choice names
  bool tool_choice_none_ = false;
  bool part_is_tool_result_ = false;      // the content block being read is a tool_result
  std::string part_result_;               // its content's text
  bool message_has_tool_result_ = false;  // the message being read has a tool_result block
  std::string message_tool_result_;       // the content of its last tool_result block
  bool last_is_tool_result_ = false;      // the last message read so far is a tool result
  std::string last_tool_result_;          // and this is its text
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

namespace {

void setTextReply(MockReply& reply, const ChatPrompt& prompt) {
  const std::string_view echo = prompt.tool_result ? *prompt.tool_result : prompt.last_user;
  reply.text.reserve(ReplyPrefix.size() + echo.size());
  reply.text.append(ReplyPrefix).append(echo);
  reply.piece_ends = splitWordPieces(reply.text);
  if (prompt.max_tokens && *prompt.max_tokens >= 0 &&
      static_cast<std::size_t>(*prompt.max_tokens) < reply.piece_ends.size()) {
    const auto keep = static_cast<std::size_t>(*prompt.max_tokens);
    reply.piece_ends.resize(keep);
    reply.text.resize(keep == 0 ? 0 : reply.piece_ends.back());
    reply.cut = true;
  }
  reply.completion_tokens = static_cast<int64_t>(reply.piece_ends.size());
  reply.logprobs = prompt.logprobs;
}

// A tool call is whole: max_tokens never cuts it, and it carries no log probabilities (OpenAI's
// logprobs cover message content only). Its tokens are counted from the arguments' characters.
void setToolCallReply(MockReply& reply, const ChatPrompt& prompt) {
  reply.tool_call = MockToolCall{prompt.tool_name, toolArguments(prompt.last_user)};
  reply.piece_ends = splitToolArguments(reply.tool_call->arguments);
  reply.completion_tokens = tokensForChars(countChars(reply.tool_call->arguments));
}

constexpr std::string_view ToolArgumentsKey = R"({"input":)";

}  // namespace

std::string toolArguments(std::string_view echo) {
  std::string out;
  out.reserve(ToolArgumentsKey.size() + echo.size() + 3);
  out.append(ToolArgumentsKey);
  appendJsonString(out, echo);
  out.push_back('}');
  return out;
}

std::vector<std::size_t> splitToolArguments(std::string_view arguments) {
  const std::size_t key_end = arguments.starts_with(ToolArgumentsKey) ? ToolArgumentsKey.size() : 0;
  std::vector<std::size_t> ends = splitWordPieces(arguments.substr(key_end));
  for (std::size_t& end : ends) end += key_end;
  if (key_end > 0) ends.insert(ends.begin(), key_end);
  return ends;
}

MockReply deriveReply(const ChatPrompt& prompt) {
  MockReply reply;
  if (prompt.tool_name.empty()) {
    setTextReply(reply, prompt);
  } else {
    setToolCallReply(reply, prompt);
  }
  reply.prompt_tokens = tokensForChars(prompt.prompt_chars);
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
