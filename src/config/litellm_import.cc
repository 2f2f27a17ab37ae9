#include "config/litellm_import.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <set>
#include <tuple>

#include "config/native_reader.h"

namespace llmpool::config {

namespace {

// How a LiteLLM `provider/` prefix maps onto our provider kinds. OpenAI-compatible servers
// (vLLM, Ollama, LM Studio, hosted APIs with an OpenAI surface) all become kind openai.
struct PrefixRule {
  std::string_view prefix;
  ProviderKind kind;
  std::string_view default_base;  // empty: api_base is required
  bool wants_v1 = false;          // api_base is written without the /v1 the wire path needs
};

constexpr std::array<PrefixRule, 22> PrefixRules{{
    {"openai", ProviderKind::OpenAI, "https://api.openai.com/v1"},
    {"azure", ProviderKind::Azure, ""},
    {"azure_ai", ProviderKind::OpenAI, ""},
    {"anthropic", ProviderKind::Anthropic, "https://api.anthropic.com/v1", true},
    {"hosted_vllm", ProviderKind::OpenAI, ""},
    {"vllm", ProviderKind::OpenAI, ""},
    {"openai_like", ProviderKind::OpenAI, ""},
    {"openai_compatible", ProviderKind::OpenAI, ""},
    {"ollama", ProviderKind::OpenAI, "http://localhost:11434/v1", true},
    {"ollama_chat", ProviderKind::OpenAI, "http://localhost:11434/v1", true},
    {"lm_studio", ProviderKind::OpenAI, "http://localhost:1234/v1"},
    {"llamafile", ProviderKind::OpenAI, "http://127.0.0.1:8080/v1"},
    {"groq", ProviderKind::OpenAI, "https://api.groq.com/openai/v1"},
    {"together_ai", ProviderKind::OpenAI, "https://api.together.xyz/v1"},
    {"fireworks_ai", ProviderKind::OpenAI, "https://api.fireworks.ai/inference/v1"},
    {"mistral", ProviderKind::OpenAI, "https://api.mistral.ai/v1"},
    {"deepseek", ProviderKind::OpenAI, "https://api.deepseek.com/v1"},
    {"openrouter", ProviderKind::OpenAI, "https://openrouter.ai/api/v1"},
    {"perplexity", ProviderKind::OpenAI, "https://api.perplexity.ai"},
    {"deepinfra", ProviderKind::OpenAI, "https://api.deepinfra.com/v1/openai"},
    {"xai", ProviderKind::OpenAI, "https://api.x.ai/v1"},
    {"cerebras", ProviderKind::OpenAI, "https://api.cerebras.ai/v1"},
}};

const PrefixRule* findRule(std::string_view prefix) {
  for (const auto& rule : PrefixRules) {
    if (rule.prefix == prefix) return &rule;
  }
  return nullptr;
}

// LiteLLM routes bare well-known model names without a prefix; do the same for the common ones.
std::string_view inferPrefix(std::string_view model) {
  for (std::string_view p : {"gpt-", "o1", "o3", "o4", "chatgpt-", "text-embedding-", "davinci",
                             "babbage", "omni-moderation"}) {
    if (model.starts_with(p)) return "openai";
  }
  if (model.starts_with("claude")) return "anthropic";
  return "";
}

// One model_list entry, translated.
struct Imported {
  std::string alias;
  std::string prefix;
  ProviderConfig provider;  // name assigned later
  DeploymentConfig deployment;
  std::optional<double> weight;
  std::optional<int> order;
  std::string path;  // model_list[i]
  int line = 0;
};

// Identity of a synthesized provider: every field that lives on ProviderConfig.
using ProviderKey = std::tuple<int, std::string, std::string, std::string, long long,
                               std::map<std::string, std::string>>;

ProviderKey keyOf(const ProviderConfig& p) {
  return {static_cast<int>(p.kind),
          p.base_url,
          p.api_key,
          p.api_version,
          p.timeout ? p.timeout->count() : -1,
          p.headers};
}

std::string sanitize(std::string_view s) {
  std::string out;
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    out += (std::isalnum(u) || c == '_' || c == '-') ? static_cast<char>(std::tolower(u)) : '-';
  }
  return out;
}

// Stable, readable names: the prefix for a provider's default endpoint ("openai"), else the prefix
// and the host ("hosted_vllm-vllm-8000"). Collisions get -2, -3 in order of first appearance.
std::string baseNameFor(const Imported& item, const PrefixRule* rule) {
  if (rule && item.provider.base_url == rule->default_base) return item.prefix;
  std::string_view rest = item.provider.base_url;
  if (const auto scheme = rest.find("://"); scheme != std::string_view::npos) {
    rest.remove_prefix(scheme + 3);
  }
  std::string_view authority = rest.substr(0, rest.find('/'));
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    authority.remove_prefix(at + 1);
  }
  std::string_view host = authority;
  std::string_view port;
  if (const auto colon = authority.rfind(':');
      colon != std::string_view::npos && authority.find(']') == std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  const bool numeric = !host.empty() && std::all_of(host.begin(), host.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) || c == '.';
  });
  std::string label(numeric || host == "localhost" ? host : host.substr(0, host.find('.')));
  std::string name = item.prefix + "-" + sanitize(label);
  if (!port.empty()) name += "-" + sanitize(port);
  return name;
}

class Importer {
 public:
  Importer(YamlContext& ctx, PoolConfig& out) : ctx_(ctx), out_(out) {}

  void run(const YAML::Node& root) {
    MapReader top(ctx_, root, "");
    readModelList(top);
    // litellm_settings first: router_settings wins where both set the same knob.
    if (auto s = top.take("litellm_settings")) readSettings(*s, "litellm_settings");
    if (auto s = top.take("router_settings")) readSettings(*s, "router_settings");
    if (auto s = top.take("general_settings")) readGeneral(*s);
    top.allow("environment_variables");  // applied through the env lookup
    buildModels();
    applyFallbacks();
    applyGroupAliases();
    // Native sections layered on top, for llmpool-only knobs in the same file.
    if (auto s = top.take("pool")) readPoolSection(ctx_, *s, "pool", out_.pool);
    if (auto s = top.take("processor")) readProcessorSection(ctx_, *s, "processor", out_.processor);
    if (auto s = top.take("gateway")) readGatewaySection(ctx_, *s, "gateway", out_.gateway);
    for (const auto& key : top.keys()) {
      if (!isKnownTop(key)) ignored(key, lineOfKey(root, key));
    }
  }

 private:
  static bool isKnownTop(std::string_view key) {
    for (std::string_view k :
         {"model_list", "litellm_settings", "router_settings", "general_settings",
          "environment_variables", "pool", "processor", "gateway"}) {
      if (k == key) return true;
    }
    return false;
  }

  static int lineOfKey(const YAML::Node& map, std::string_view key) {
    if (!map.IsMap()) return 0;
    for (const auto& kv : map) {
      if (kv.first.IsScalar() && kv.first.Scalar() == key) return YamlContext::lineOf(kv.first);
    }
    return 0;
  }

  // A key without an llmpool equivalent: one warning per distinct key (list indexes folded).
  void ignored(const std::string& path, int line, std::string_view why = "") {
    std::string generic;
    for (size_t i = 0; i < path.size(); ++i) {
      if (path[i] == '[') {
        const size_t close = path.find(']', i);
        generic += "[*]";
        i = close == std::string::npos ? path.size() : close;
      } else {
        generic += path[i];
      }
    }
    if (!warned_.insert(generic).second) return;
    std::string message = "ignored: no llmpool equivalent";
    if (!why.empty()) message = "ignored: " + std::string(why);
    ctx_.warning(path, line, std::move(message));
  }

  // Reports the keys of `m` that are not in `known` as ignored (warnings, not errors).
  void warnRest(MapReader& m, std::initializer_list<std::string_view> known) {
    for (const auto& key : m.keys()) {
      if (std::find(known.begin(), known.end(), key) != known.end()) continue;
      m.take(key);  // records the line
      ignored(m.childPath(key), ctx_.sourceMap().find(m.childPath(key)).line);
    }
  }

  void readModelList(MapReader& top) {
    auto list = top.take("model_list");
    if (!list || list->IsNull()) {
      ctx_.error("model_list", top.line(), "is empty");
      return;
    }
    if (!list->IsSequence()) {
      ctx_.error("model_list", YamlContext::lineOf(*list), "expected a list of deployments");
      return;
    }
    for (size_t i = 0; i < list->size(); ++i) readEntry((*list)[i], i);
  }

  void readEntry(const YAML::Node& node, size_t index) {
    Imported item;
    item.path = "model_list[" + std::to_string(index) + "]";
    item.line = YamlContext::lineOf(node);
    MapReader e(ctx_, node, item.path);
    if (!e.isMap()) return;
    if (!e.has("model_name")) ctx_.error(item.path, item.line, "missing \"model_name\"");
    e.get("model_name", item.alias);
    auto params = e.take("litellm_params");
    warnRest(e, {"model_name", "litellm_params"});
    if (!params) {
      ctx_.error(item.path, item.line, "missing \"litellm_params\"");
      return;
    }
    const std::string params_path = item.path + ".litellm_params";
    MapReader p(ctx_, *params, params_path);
    if (!p.isMap()) return;
    std::string model;
    if (!p.has("model")) ctx_.error(params_path, p.line(), "missing \"model\"");
    if (!p.get("model", model)) return;
    std::string custom;
    p.get("custom_llm_provider", custom);

    // "openai/meta-llama/Llama-3.1-8B": the first segment is the provider, the rest the model.
    std::string prefix = custom;
    std::string upstream = model;
    if (const auto slash = model.find('/'); slash != std::string::npos) {
      const std::string head = model.substr(0, slash);
      if (custom.empty() || head == custom) {
        prefix = head;
        upstream = model.substr(slash + 1);
      }
    }
    if (prefix.empty()) prefix = std::string(inferPrefix(model));
    const std::string model_path = params_path + ".model";
    if (prefix.empty()) {
      ctx_.error(model_path, ctx_.sourceMap().find(model_path).line,
                 "cannot tell the provider of \"" + model +
                     "\"; write provider/model (e.g. openai/" + model + ")");
      return;
    }
    const PrefixRule* rule = findRule(prefix);
    if (!rule) {
      ctx_.warning(model_path, ctx_.sourceMap().find(model_path).line,
                   "provider \"" + prefix +
                       "\" is not supported (openai, azure, anthropic and OpenAI-compatible "
                       "servers are); this deployment is skipped");
      skipped_.insert(item.alias);
      return;
    }
    item.prefix = prefix;
    item.provider.kind = rule->kind;
    item.deployment.model = upstream;

    std::string base;
    const bool has_base = p.get("api_base", base) || p.get("base_url", base);
    if (has_base) {
      base = normalizeBaseUrl(base);
      // LiteLLM writes these without /v1 and appends it itself; our codecs expect it in the base.
      if (rule->wants_v1 && !base.ends_with("/v1")) base += "/v1";
    } else if (rule->default_base.empty()) {
      ctx_.error(params_path + ".api_base", p.line(),
                 "missing \"api_base\" (needed for " + prefix + "/ deployments)");
    } else {
      base = std::string(rule->default_base);
    }
    item.provider.base_url = base;
    p.get("api_key", item.provider.api_key, /*secret=*/true);
    p.get("api_version", item.provider.api_version);
    if (item.provider.kind == ProviderKind::Azure && item.provider.api_version.empty()) {
      item.provider.api_version = "2024-06-01";
      ctx_.warning(params_path + ".api_version", p.line(),
                   "not set; using \"2024-06-01\" (set it to the version your resource supports)");
    }
    if (auto t = p.take("timeout")) {
      if (auto v = ctx_.seconds(*t, p.childPath("timeout"))) item.provider.timeout = *v;
    }
    if (auto h = p.take("extra_headers")) {
      readHeaderMap(*h, p.childPath("extra_headers"), item.provider.headers);
    }
    if (auto h = p.take("headers"))
      readHeaderMap(*h, p.childPath("headers"), item.provider.headers);
    std::string organization;
    if (p.get("organization", organization)) {
      item.provider.headers["OpenAI-Organization"] = organization;
    }
    p.get("rpm", item.deployment.rpm);
    p.get("tpm", item.deployment.tpm);
    p.get("weight", item.weight);
    p.get("order", item.order);
    double cost = 0;
    // LiteLLM prices are per token; ours per million tokens.
    if (p.get("input_cost_per_token", cost)) item.deployment.input_price_per_mtok = cost * 1e6;
    if (p.get("output_cost_per_token", cost)) item.deployment.output_price_per_mtok = cost * 1e6;
    warnRest(p, {"model", "custom_llm_provider", "api_base", "base_url", "api_key", "api_version",
                 "timeout", "extra_headers", "headers", "organization", "rpm", "tpm", "weight",
                 "order", "input_cost_per_token", "output_cost_per_token"});

    // Range rules are checked here, where the user's own paths are known.
    if (item.weight && !(*item.weight > 0)) {
      ctx_.error(params_path + ".weight", ctx_.sourceMap().find(params_path + ".weight").line,
                 "must be greater than 0");
      item.weight.reset();
    }
    if (item.order && *item.order < 0) {
      ctx_.error(params_path + ".order", ctx_.sourceMap().find(params_path + ".order").line,
                 "must not be negative (1 = first tier)");
      item.order.reset();
    }
    if (!item.alias.empty()) imported_.push_back(std::move(item));
  }

  void readHeaderMap(const YAML::Node& node, const std::string& path,
                     std::map<std::string, std::string>& out) {
    MapReader m(ctx_, node, path);
    if (!m.isMap()) return;
    for (const auto& key : m.keys()) {
      std::string value;
      if (m.get(key, value, /*secret=*/true)) out[key] = std::move(value);
    }
  }

  void readSettings(const YAML::Node& node, const std::string& path) {
    MapReader m(ctx_, node, path);
    if (!m.isMap()) return;
    PoolSettings& pool = out_.pool;
    if (auto s = m.take("routing_strategy")) {
      if (auto name = ctx_.text(*s, m.childPath("routing_strategy"))) {
        if (*name == "simple-shuffle") {
          pool.strategy = BalancingStrategy::Weighted;
        } else if (*name == "least-busy") {
          pool.strategy = BalancingStrategy::LeastInFlight;
        } else if (*name == "latency-based-routing") {
          pool.strategy = BalancingStrategy::LowestLatency;
        } else {
          pool.strategy = BalancingStrategy::Weighted;
          ctx_.warning(m.childPath("routing_strategy"), YamlContext::lineOf(*s),
                       "\"" + *name + "\" has no llmpool equivalent; using weighted");
        }
      }
    }
    int n = 0;
    if (m.get("num_retries", n)) {
      if (n < 0) {
        ctx_.error(m.childPath("num_retries"),
                   ctx_.sourceMap().find(m.childPath("num_retries")).line, "must not be negative");
      } else {
        pool.retry.max_attempts = n + 1;
      }
    }
    if (m.get("allowed_fails", n)) {
      if (n < 0) {
        ctx_.error(m.childPath("allowed_fails"),
                   ctx_.sourceMap().find(m.childPath("allowed_fails")).line,
                   "must not be negative");
      } else {
        // LiteLLM cools a deployment down once its failures in a minute exceed allowed_fails,
        // whatever share of its calls they are.
        pool.circuit_breaker.failure_threshold = n + 1;
        pool.circuit_breaker.failure_threshold_min_rate = 0;
        pool.circuit_breaker.failure_window = Millis{60'000};
      }
    }
    if (auto s = m.take("cooldown_time")) {
      if (auto v = ctx_.seconds(*s, m.childPath("cooldown_time"))) {
        pool.circuit_breaker.recovery_timeout = *v;
        pool.circuit_breaker.max_recovery_timeout =
            std::max(pool.circuit_breaker.max_recovery_timeout, *v);
      }
    }
    if (auto s = m.take("timeout")) {
      if (auto v = ctx_.seconds(*s, m.childPath("timeout"))) pool.deadline = *v;
    }
    if (auto s = m.take("request_timeout")) {
      if (auto v = ctx_.seconds(*s, m.childPath("request_timeout"))) pool.request_timeout = *v;
    }
    if (auto s = m.take("fallbacks")) readFallbacks(*s, m.childPath("fallbacks"));
    if (auto s = m.take("default_fallbacks")) {
      default_fallbacks_.clear();
      readAliasList(*s, m.childPath("default_fallbacks"), default_fallbacks_);
      default_fallbacks_path_ = m.childPath("default_fallbacks");
    }
    if (auto s = m.take("model_group_alias"))
      readGroupAliases(*s, m.childPath("model_group_alias"));
    m.allow("enable_pre_call_checks");  // `order` is always honoured here
    warnRest(m, {"routing_strategy", "num_retries", "allowed_fails", "cooldown_time", "timeout",
                 "request_timeout", "fallbacks", "default_fallbacks", "model_group_alias",
                 "enable_pre_call_checks"});
  }

  void readGeneral(const YAML::Node& node) {
    MapReader m(ctx_, node, "general_settings");
    if (!m.isMap()) return;
    std::string master;
    if (m.get("master_key", master, /*secret=*/true)) {
      GatewayKey key;
      key.key = master;
      key.name = "master_key";
      out_.gateway.keys.push_back(std::move(key));
      ctx_.sourceMap().set("gateway.keys[" + std::to_string(out_.gateway.keys.size() - 1) + "]",
                           ctx_.sourceMap().find("general_settings.master_key").line,
                           "general_settings.master_key");
    }
    if (auto s = m.take("health_check_interval")) {
      if (auto v = ctx_.seconds(*s, m.childPath("health_check_interval"))) {
        out_.pool.health_check_interval = *v;
      }
    }
    m.get("background_health_checks", out_.pool.health_checks);
    warnRest(m, {"master_key", "health_check_interval", "background_health_checks"});
  }

  void readAliasList(const YAML::Node& node, const std::string& path,
                     std::vector<std::pair<std::string, int>>& out) {
    if (node.IsScalar()) {
      if (auto a = ctx_.text(node, path)) out.emplace_back(*a, YamlContext::lineOf(node));
      return;
    }
    if (!node.IsSequence()) {
      ctx_.error(path, YamlContext::lineOf(node), "expected a list of model names");
      return;
    }
    for (size_t i = 0; i < node.size(); ++i) {
      if (auto a = ctx_.text(node[i], path + "[" + std::to_string(i) + "]")) {
        out.emplace_back(*a, YamlContext::lineOf(node[i]));
      }
    }
  }

  void readFallbacks(const YAML::Node& node, const std::string& path) {
    if (!node.IsSequence()) {
      ctx_.error(path, YamlContext::lineOf(node),
                 "expected a list like [{\"gpt-4o\": [\"claude-sonnet\"]}]");
      return;
    }
    fallbacks_.clear();
    for (size_t i = 0; i < node.size(); ++i) {
      const std::string item_path = path + "[" + std::to_string(i) + "]";
      const YAML::Node& item = node[i];
      if (!item.IsMap()) {
        ctx_.error(item_path, YamlContext::lineOf(item), "expected {model_name: [fallbacks]}");
        continue;
      }
      for (const auto& kv : item) {
        Fallback f;
        f.alias = kv.first.Scalar();
        f.path = item_path + "." + f.alias;
        f.line = YamlContext::lineOf(kv.first);
        readAliasList(kv.second, f.path, f.targets);
        fallbacks_.push_back(std::move(f));
      }
    }
  }

  void readGroupAliases(const YAML::Node& node, const std::string& path) {
    MapReader m(ctx_, node, path);
    if (!m.isMap()) return;
    for (const auto& key : m.keys()) {
      auto value = m.take(key);
      if (value->IsScalar()) {
        group_aliases_.push_back(
            {key, value->Scalar(), m.childPath(key), YamlContext::lineOf(*value)});
      } else {
        ignored(m.childPath(key), YamlContext::lineOf(*value), "only the name form is supported");
      }
    }
  }

  void buildModels() {
    std::map<ProviderKey, std::string> names;
    std::set<std::string> taken;
    for (auto& item : imported_) {
      const ProviderKey key = keyOf(item.provider);
      auto it = names.find(key);
      if (it == names.end()) {
        std::string base = baseNameFor(item, findRule(item.prefix));
        std::string name = base;
        for (int n = 2; taken.contains(name); ++n) name = base + "-" + std::to_string(n);
        taken.insert(name);
        it = names.emplace(key, name).first;
        item.provider.name = name;
        const std::string ppath = "providers[" + std::to_string(out_.providers.size()) + "]";
        const std::string lp = item.path + ".litellm_params";
        ctx_.sourceMap().set(ppath, item.line, lp);
        for (auto [field, origin] : {std::pair{"base_url", "api_base"},
                                     {"api_key", "api_key"},
                                     {"api_version", "api_version"},
                                     {"timeout", "timeout"}}) {
          ctx_.sourceMap().set(ppath + "." + field, ctx_.sourceMap().find(lp + "." + origin).line,
                               lp + "." + origin);
        }
        out_.providers.push_back(item.provider);
      }
      item.deployment.provider = it->second;
    }

    // Group by alias in file order; weights follow LiteLLM's simple-shuffle: explicit weights,
    // else rpm when every deployment of the group has one, else tpm likewise, else equal.
    std::vector<std::string> order;
    std::map<std::string, std::vector<Imported*>> groups;
    for (auto& item : imported_) {
      if (!groups.contains(item.alias)) order.push_back(item.alias);
      groups[item.alias].push_back(&item);
    }
    for (const auto& alias : order) {
      auto& group = groups[alias];
      const bool any_weight =
          std::any_of(group.begin(), group.end(), [](auto* i) { return i->weight.has_value(); });
      const bool all_rpm = std::all_of(group.begin(), group.end(),
                                       [](auto* i) { return i->deployment.rpm.has_value(); });
      const bool all_tpm = std::all_of(group.begin(), group.end(),
                                       [](auto* i) { return i->deployment.tpm.has_value(); });
      auto& deployments = out_.models[alias];
      for (auto* item : group) {
        DeploymentConfig d = item->deployment;
        if (any_weight) {
          d.weight = item->weight.value_or(1.0);
        } else if (all_rpm) {
          d.weight = *d.rpm;
        } else if (all_tpm) {
          d.weight = *d.tpm;
        }
        // LiteLLM's order starts at 1 (tried first); our priority starts at 0.
        d.priority = item->order ? std::max(*item->order - 1, 0) : 0;
        const std::string dpath =
            "models." + alias + "[" + std::to_string(deployments.size()) + "]";
        const std::string lp = item->path + ".litellm_params";
        ctx_.sourceMap().set(dpath, item->line, item->path);
        for (auto [field, origin] : {std::pair{"model", "model"},
                                     {"provider", "model"},
                                     {"weight", "weight"},
                                     {"priority", "order"},
                                     {"rpm", "rpm"},
                                     {"tpm", "tpm"}}) {
          ctx_.sourceMap().set(dpath + "." + field, ctx_.sourceMap().find(lp + "." + origin).line,
                               lp + "." + origin);
        }
        deployments.push_back(std::move(d));
      }
    }
    for (const auto& alias : skipped_) {
      if (!out_.models.contains(alias)) {
        ctx_.error("model_list", 0,
                   "model_name \"" + alias + "\" has no supported deployment left (see warnings)");
      }
    }
  }

  // Appends `target`'s own deployments to `alias` as the next tiers, keeping target's tier order.
  void appendTier(const std::string& alias, const std::string& target,
                  const std::map<std::string, std::vector<DeploymentConfig>>& original,
                  const std::string& origin, int line) {
    auto& deployments = out_.models[alias];
    int next = 0;
    for (const auto& d : deployments) next = std::max(next, d.priority + 1);
    const auto& source = original.at(target);
    int lowest = source.front().priority;
    for (const auto& d : source) lowest = std::min(lowest, d.priority);
    for (DeploymentConfig d : source) {
      d.priority = d.priority - lowest + next;
      ctx_.sourceMap().set("models." + alias + "[" + std::to_string(deployments.size()) + "]", line,
                           origin);
      deployments.push_back(std::move(d));
    }
  }

  void applyFallbacks() {
    // Fallbacks use each target's own deployments, not its fallbacks (no chains, no cycles).
    const auto original = out_.models;
    std::set<std::string> with_explicit;
    for (const auto& f : fallbacks_) {
      if (!original.contains(f.alias)) {
        ctx_.error(f.path, f.line, "unknown model_name \"" + f.alias + "\"");
        continue;
      }
      with_explicit.insert(f.alias);
      for (size_t i = 0; i < f.targets.size(); ++i) {
        const auto& [target, line] = f.targets[i];
        const std::string tpath = f.path + "[" + std::to_string(i) + "]";
        if (!original.contains(target)) {
          ctx_.error(tpath, line, "unknown model_name \"" + target + "\"");
        } else if (target != f.alias) {
          appendTier(f.alias, target, original, tpath, line);
        }
      }
    }
    for (const auto& [alias, deployments] : original) {
      if (with_explicit.contains(alias)) continue;
      for (const auto& [target, line] : default_fallbacks_) {
        if (!original.contains(target)) continue;  // reported once below
        if (target != alias) appendTier(alias, target, original, default_fallbacks_path_, line);
      }
    }
    for (const auto& [target, line] : default_fallbacks_) {
      if (!original.contains(target)) {
        ctx_.error(default_fallbacks_path_, line, "unknown model_name \"" + target + "\"");
      }
    }
  }

  void applyGroupAliases() {
    for (const auto& g : group_aliases_) {
      if (out_.models.contains(g.alias)) {
        ctx_.error(g.path, g.line, "\"" + g.alias + "\" is already a model_name");
      } else if (!out_.models.contains(g.target)) {
        ctx_.error(g.path, g.line, "unknown model_name \"" + g.target + "\"");
      } else {
        out_.models[g.alias] = out_.models.at(g.target);
        const auto n = out_.models[g.alias].size();
        for (size_t i = 0; i < n; ++i) {
          ctx_.sourceMap().set("models." + g.alias + "[" + std::to_string(i) + "]", g.line, g.path);
        }
      }
    }
  }

  struct Fallback {
    std::string alias;
    std::vector<std::pair<std::string, int>> targets;
    std::string path;
    int line = 0;
  };
  struct GroupAlias {
    std::string alias;
    std::string target;
    std::string path;
    int line = 0;
  };

  YamlContext& ctx_;
  PoolConfig& out_;
  std::vector<Imported> imported_;
  std::set<std::string> skipped_;
  std::set<std::string> warned_;
  std::vector<Fallback> fallbacks_;
  std::vector<std::pair<std::string, int>> default_fallbacks_;
  std::string default_fallbacks_path_;
  std::vector<GroupAlias> group_aliases_;
};

}  // namespace

bool isLiteLlmDocument(const YAML::Node& root) {
  return root.IsMap() && root["model_list"].IsDefined();
}

void importLiteLlm(YamlContext& ctx, const YAML::Node& root, PoolConfig& out) {
  ctx.setLiteLlmEnvSyntax(true);
  Importer(ctx, out).run(root);
}

EnvLookup liteLlmEnvironment(const YAML::Node& root, EnvLookup base) {
  std::map<std::string, std::string> vars;
  YAML::Node section;
  if (root.IsMap()) {
    for (const auto& kv : root) {
      if (kv.first.IsScalar() && kv.first.Scalar() == "environment_variables") section = kv.second;
    }
  }
  if (section.IsDefined() && section.IsMap()) {
    for (const auto& kv : section) {
      if (kv.first.IsScalar() && kv.second.IsScalar()) vars[kv.first.Scalar()] = kv.second.Scalar();
    }
  }
  if (vars.empty()) return base;
  return [vars = std::move(vars), base = std::move(base)](const std::string& name) {
    if (auto it = vars.find(name); it != vars.end()) return std::optional<std::string>(it->second);
    return base ? base(name) : std::nullopt;
  };
}

}  // namespace llmpool::config
