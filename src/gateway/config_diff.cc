#include "gateway/config_diff.h"

#include <functional>
#include <map>
#include <set>

#include "config/config_loader.h"

namespace llmpool::gateway {

namespace {

// A comparable rendering of every field; the api key only as a hash (it never leaves here).
std::string fingerprint(const ProviderConfig& p) {
  std::string s = std::string(config::providerKindName(p.kind)) + "|" + p.base_url + "|" +
                  std::to_string(std::hash<std::string>{}(p.api_key)) + "|" + p.api_version + "|" +
                  std::to_string(p.max_connections.value_or(-1)) + "|" +
                  std::to_string(p.rpm.value_or(-1)) + "|" + std::to_string(p.tpm.value_or(-1)) +
                  "|" + std::to_string(p.timeout ? p.timeout->count() : -1) + "|" + p.ca_file +
                  "|" + (p.verify_tls ? "1" : "0") + "|" + p.health_path;
  for (const auto& [k, v] : p.headers)
    s += "|" + k + "=" + std::to_string(std::hash<std::string>{}(v));
  return s;
}

std::string fingerprint(const std::vector<DeploymentConfig>& deployments) {
  std::string s;
  for (const auto& d : deployments) {
    s += d.provider + "|" + d.model + "|" + std::to_string(d.priority) + "|" +
         std::to_string(d.weight) + "|" + std::to_string(d.rpm.value_or(-1)) + "|" +
         std::to_string(d.tpm.value_or(-1)) + "|" + std::to_string(d.input_price_per_mtok) + "|" +
         std::to_string(d.output_price_per_mtok) + ";";
  }
  return s;
}

std::string fingerprint(const std::vector<GatewayKey>& keys) {
  std::string s;
  for (const auto& k : keys) {
    s += std::to_string(std::hash<std::string>{}(k.key)) + "|" + k.name + "|" +
         std::to_string(k.rpm.value_or(-1)) + "|" + std::to_string(k.tpm.value_or(-1)) + "|" +
         std::to_string(k.max_concurrent.value_or(-1)) + "|" +
         std::to_string(k.max_budget.value_or(-1)) + "|" +
         std::to_string(static_cast<int>(k.budget_period)) + "|";
    for (const auto& m : k.models) s += m + ",";
    s += ";";
  }
  return s;
}

template <class Map>
void diffMaps(const Map& before, const Map& after, const std::string& what,
              std::vector<std::string>& out) {
  for (const auto& [name, value] : after) {
    auto it = before.find(name);
    if (it == before.end()) {
      out.push_back(what + " added: " + name);
    } else if (it->second != value) {
      out.push_back(what + " changed: " + name);
    }
  }
  for (const auto& [name, value] : before) {
    if (!after.contains(name)) out.push_back(what + " removed: " + name);
  }
}

}  // namespace

std::string ConfigDiff::summary() const {
  if (empty()) return "no changes";
  std::string out;
  for (const auto& c : changes) out += (out.empty() ? "" : "; ") + c;
  for (const auto& r : restart_required) {
    out += (out.empty() ? "" : "; ") + r + " changed (needs a restart; not applied)";
  }
  return out;
}

ConfigDiff diffConfigs(const PoolConfig& before, const PoolConfig& after) {
  ConfigDiff d;
  std::map<std::string, std::string> pb, pa, mb, ma;
  for (const auto& p : before.providers) pb[p.name] = fingerprint(p);
  for (const auto& p : after.providers) pa[p.name] = fingerprint(p);
  for (const auto& [alias, deps] : before.models) mb[alias] = fingerprint(deps);
  for (const auto& [alias, deps] : after.models) ma[alias] = fingerprint(deps);
  diffMaps(pb, pa, "provider", d.changes);
  diffMaps(mb, ma, "alias", d.changes);
  if (config::describeSettings(before) != config::describeSettings(after)) {
    d.changes.push_back("pool settings changed");
  }
  if (fingerprint(before.gateway.keys) != fingerprint(after.gateway.keys)) {
    d.changes.push_back("gateway keys changed");
  }
  const GatewayConfig& gb = before.gateway;
  const GatewayConfig& ga = after.gateway;
  if (gb.log_level != ga.log_level) d.changes.push_back("gateway.log_level changed");
  if (gb.shutdown_grace != ga.shutdown_grace) d.changes.push_back("gateway.shutdown_grace changed");
  // The listening socket and its limits belong to the server, built once at start.
  if (gb.listen != ga.listen) d.restart_required.push_back("gateway.listen");
  if (gb.threads != ga.threads) d.restart_required.push_back("gateway.threads");
  if (gb.thread_slice_us != ga.thread_slice_us) {
    d.restart_required.push_back("gateway.thread_slice_us");
  }
  if (gb.max_connections != ga.max_connections)
    d.restart_required.push_back("gateway.max_connections");
  if (gb.max_body_bytes != ga.max_body_bytes)
    d.restart_required.push_back("gateway.max_body_bytes");
  if (gb.max_buffered_bytes != ga.max_buffered_bytes)
    d.restart_required.push_back("gateway.max_buffered_bytes");
  if (gb.max_header_bytes != ga.max_header_bytes) {
    d.restart_required.push_back("gateway.max_header_bytes");
  }
  if (gb.read_timeout != ga.read_timeout) d.restart_required.push_back("gateway.read_timeout");
  // The spend ledger, once open, stays open (a reload that brings the first budget opens it).
  if (!gb.state_file.empty() && gb.state_file != ga.state_file) {
    d.restart_required.push_back("gateway.state_file");
  }
  if (gb.cache != ga.cache) d.changes.push_back("gateway.cache changed");
  if (gb.write_timeout != ga.write_timeout) d.restart_required.push_back("gateway.write_timeout");
  if (gb.allow_unauthenticated != ga.allow_unauthenticated) {
    d.restart_required.push_back("gateway.allow_unauthenticated");
  }
  return d;
}

}  // namespace llmpool::gateway
