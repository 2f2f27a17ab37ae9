// Starts `llmpool mock` and `llmpool serve` for the SDK tests and cleans them up. Every wait is
// bounded; every child is killed on exit, even when a test throws.

import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const children = new Set();

function killAll() {
  for (const child of children) {
    try { child.kill('SIGKILL'); } catch { /* already gone */ }
  }
  children.clear();
}
process.on('exit', killAll);

/** Spawns `binary args...` and resolves with {child, port} once it prints its port line. */
export function startWithPort(binary, args, timeoutMs = 15000) {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    children.add(child);
    child.on('exit', () => children.delete(child));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${args[0]} did not print its port within ${timeoutMs} ms`));
    }, timeoutMs);
    const lines = createInterface({ input: child.stdout });
    lines.once('line', (line) => {
      clearTimeout(timer);
      const port = Number.parseInt(line, 10);
      if (!Number.isInteger(port) || port <= 0) reject(new Error(`bad port line: ${line}`));
      else resolve({ child, port });
    });
    child.once('error', (err) => { clearTimeout(timer); reject(err); });
  });
}

export async function startMock(binary, extra = []) {
  return startWithPort(binary, ['mock', '--listen', '127.0.0.1:0', ...extra]);
}

/** Writes a config with one alias `chat` (and `embed`) on the given mock, as a provider of the
 *  given kind (openai or anthropic), and starts the gateway. */
export async function startGateway(
  binary, { mockPort, keys = [], pool = {}, logLevel = 'warn', kind = 'openai', budgetUsd },
) {
  const dir = mkdtempSync(join(tmpdir(), 'llmpool-node-'));
  const poolLines = Object.entries(pool).map(([k, v]) => `  ${k}: ${v}`).join('\n');
  // With budgetUsd, every key gets that budget and a chat prompt token costs $1.
  const keyLines = keys.map((k, i) => (budgetUsd === undefined ? `    - ${k}`
    : `    - {key: ${k}, name: key-${i}, max_budget: ${budgetUsd}}`)).join('\n');
  const price = budgetUsd === undefined ? '' : ', input_price_per_mtok: 1000000';
  const stateFile = budgetUsd === undefined ? '' : `  state_file: ${join(dir, 'spend.db')}\n`;
  const yaml = `pool:
  health_checks: false
${poolLines}
providers:
  - {name: mock, kind: ${kind}, base_url: "http://127.0.0.1:${mockPort}/v1"}
models:
  chat:
    - {provider: mock, model: mock-model${price}}
  embed:
    - {provider: mock, model: mock-embed}
gateway:
  listen: 127.0.0.1:0
  log_level: ${logLevel}
${stateFile}${keys.length ? `  keys:\n${keyLines}` : ''}
`;
  const path = join(dir, 'gateway.yaml');
  writeFileSync(path, yaml);
  return startWithPort(binary, ['serve', '--config', path]);
}

/** SIGTERM, then SIGKILL if it has not exited within `ms`. */
export function stop(child, ms = 5000) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.once('exit', (code) => { clearTimeout(timer); resolve(code); });
    child.kill('SIGTERM');
  });
}

export { killAll };
